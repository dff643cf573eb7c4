package vidurfmt

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// CollectiveRow is one row of all_reduce.csv or send_recv.csv.
type CollectiveRow struct {
	Stats          OpStats
	Rank           int
	NumWorkers     int
	SizeBytes      int // bytes; 2 per fp16 element
	DevicesPerNode int
	MaxDevices     int // max_devices_per_node
}

// CollectiveTable is a loaded all_reduce.csv or send_recv.csv.
type CollectiveTable struct {
	File       string
	Collective string // all_reduce or send_recv
	Rows       []CollectiveRow
}

// ReadCollective reads a network profile of collective ("all_reduce" or
// "send_recv"): an unnamed index column, time_stats.<collective>.*, rank,
// num_workers, size, collective, devices_per_node, max_devices_per_node.
func ReadCollective(r io.Reader, name, collective string) (*CollectiveTable, error) {
	f, err := openCSV(r, name)
	if err != nil {
		return nil, err
	}
	keys, err := f.index("num_workers", "size", "devices_per_node")
	if err != nil {
		return nil, err
	}
	ops, err := f.statColumns([]string{collective}, []string{collective})
	if err != nil {
		return nil, err
	}
	rank, hasRank := f.cols["rank"]
	maxDev, hasMax := f.cols["max_devices_per_node"]
	coll, hasColl := f.cols["collective"]
	t := &CollectiveTable{File: name, Collective: collective}
	for {
		rec, err := f.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if hasColl && rec[coll] != collective {
			return nil, f.errf("collective", "%q in a %s file", rec[coll], collective)
		}
		var row CollectiveRow
		for i, dst := range []*int{&row.NumWorkers, &row.SizeBytes, &row.DevicesPerNode} {
			if *dst, err = f.integer(rec, keys[i]); err != nil {
				return nil, err
			}
		}
		if hasRank {
			if row.Rank, err = f.integer(rec, rank); err != nil {
				return nil, err
			}
		}
		if hasMax {
			if row.MaxDevices, err = f.integer(rec, maxDev); err != nil {
				return nil, err
			}
		}
		st, err := f.stats(rec, ops, []string{collective})
		if err != nil {
			return nil, err
		}
		row.Stats = st[0]
		t.Rows = append(t.Rows, row)
	}
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("%s: no rows", name)
	}
	return t, nil
}

// CPUOverheadRow is one row of cpu_overheads.csv, in ms.
type CPUOverheadRow struct {
	ModelName           string
	TP                  int // tensor_parallel_degree
	BatchSize           int
	Schedule            float64 // schedule_median
	SamplerE2E          float64 // sampler_e2e_median
	PrepareInputsE2E    float64 // prepare_inputs_e2e_median
	ProcessModelOutputs float64 // process_model_outputs_median
	RayCommTime         float64 // ray_comm_time_mean
	// NumTokens is the step's query tokens where the file has a num_tokens column
	// (simval's profile bundles, which also hold prefill and mixed steps); else 0.
	// Vidur itself keys CPU overhead on the batch size alone.
	NumTokens int
}

// Total is the CPU time Vidur adds per step: the sum of the five terms.
func (r CPUOverheadRow) Total() float64 {
	return r.Schedule + r.SamplerE2E + r.PrepareInputsE2E + r.ProcessModelOutputs + r.RayCommTime
}

// CPUOverheadColumns are cpu_overheads.csv's columns; header names match in any
// case (the historical file is upper-case).
var CPUOverheadColumns = []string{"model_name", "tensor_parallel_degree", "batch_size", "schedule_median",
	"sampler_e2e_median", "prepare_inputs_e2e_median", "process_model_outputs_median", "ray_comm_time_mean"}

// ReadCPUOverheads reads Vidur's cpu_overheads.csv (or the profiler's
// cpu_overhead.csv, whose extra index column is ignored).
func ReadCPUOverheads(r io.Reader, name string) ([]CPUOverheadRow, error) {
	f, err := openCSV(r, name)
	if err != nil {
		return nil, err
	}
	lower := map[string]int{}
	for h, i := range f.cols {
		lower[strings.ToLower(h)] = i
	}
	idx := make([]int, len(CPUOverheadColumns))
	for i, c := range CPUOverheadColumns {
		j, ok := lower[c]
		if !ok {
			return nil, fmt.Errorf("%s:1: missing column %q", name, c)
		}
		idx[i] = j
	}
	numTokens, hasNumTokens := lower["num_tokens"]
	var rows []CPUOverheadRow
	for {
		rec, err := f.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		row := CPUOverheadRow{ModelName: rec[idx[0]]}
		if row.TP, err = f.integer(rec, idx[1]); err != nil {
			return nil, err
		}
		if row.BatchSize, err = f.integer(rec, idx[2]); err != nil {
			return nil, err
		}
		for i, dst := range []*float64{&row.Schedule, &row.SamplerE2E, &row.PrepareInputsE2E, &row.ProcessModelOutputs, &row.RayCommTime} {
			if *dst, err = f.float(rec, idx[3+i]); err != nil {
				return nil, err
			}
		}
		if hasNumTokens {
			if row.NumTokens, err = f.integer(rec, numTokens); err != nil {
				return nil, err
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no rows", name)
	}
	return rows, nil
}
