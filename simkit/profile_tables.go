package simkit

import (
	"fmt"
	"io/fs"
	"path"
)

// Vidur's CPU-overhead columns (cpu_overheads.csv), summed when cpu_total_median is
// absent.
var cpuColumns = []string{
	"schedule_median", "sampler_e2e_median", "prepare_inputs_e2e_median",
	"process_model_outputs_median", "ray_comm_time_mean",
}

// loadMLP reads mlp.csv: for each known operation with a median column, its time by
// num_tokens. Rows for another tensor-parallel degree are skipped.
func (p *Profile) loadMLP(fsys fs.FS) error {
	t, err := readCSV(fsys, path.Join(p.Dir, "mlp.csv"))
	if err != nil {
		return err
	}
	if err := t.require("num_tokens"); err != nil {
		return err
	}
	m := p.Provenance.Model
	pts := map[string][]point{}
	for row := range t.rows {
		if keep, err := t.keepRow(row, "num_tensor_parallel_workers", p.Provenance.TP); err != nil || !keep {
			if err != nil {
				return err
			}
			continue
		}
		for _, c := range []struct {
			col, field string
			want       int
		}{
			{"n_head", "q_heads", m.QHeads}, {"n_kv_head", "kv_heads", m.KVHeads}, {"n_embd", "hidden", m.Hidden},
			{"n_expanded_embd", "intermediate", m.Intermediate}, {"vocab_size", "vocab", m.Vocab},
		} {
			if err := t.checkModelColumn(row, c.col, c.field, c.want); err != nil {
				return err
			}
		}
		n, err := t.num(row, "num_tokens")
		if err != nil {
			return err
		}
		for _, op := range mlpOps {
			if !t.has(medianCol(op)) {
				continue
			}
			v, err := t.num(row, medianCol(op))
			if err != nil {
				return err
			}
			pts[op] = append(pts[op], point{x: n, v: v})
		}
	}
	if len(pts) == 0 {
		return fmt.Errorf("%s: no rows for tp %d with a known time_stats.<op>.median column", t.path, p.Provenance.TP)
	}
	p.mlp = map[string]*table1{}
	for op, ps := range pts {
		p.mlp[op] = newTable1("mlp.csv", "num_tokens", ps)
	}
	return nil
}

// loadAttention reads attention.csv: decode rows (prefill_chunk_size 0) by
// (batch_size, kv_cache_size), prefill rows (batch_size 1) by (prefill_chunk_size,
// kv_cache_size), and the KV-cache save, where profiled, by max(chunk, batch_size).
func (p *Profile) loadAttention(fsys fs.FS) error {
	t, err := readCSV(fsys, path.Join(p.Dir, "attention.csv"))
	if err != nil {
		return err
	}
	p.prefill, p.decode, p.kvSave, err = p.attentionTables(t)
	return err
}

// attentionTables reads a table in attention.csv's layout (attention.csv, or an hfcb
// bundle's attention_unaligned_mask.csv): its prefill and decode tables and the KV-cache
// save where profiled (else nil).
func (p *Profile) attentionTables(t *csvTable) (prefill, decode *table2, kvSave *table1, err error) {
	if err := t.require("batch_size", "prefill_chunk_size", "kv_cache_size"); err != nil {
		return nil, nil, nil, err
	}
	m := p.Provenance.Model
	hasSave := t.has(medianCol("attn_kv_cache_save"))
	var pre, dec, save []point
	for row := range t.rows {
		if keep, err := t.keepRow(row, "num_tensor_parallel_workers", p.Provenance.TP); err != nil || !keep {
			if err != nil {
				return nil, nil, nil, err
			}
			continue
		}
		for _, c := range []struct {
			col, field string
			want       int
		}{{"n_embd", "hidden", m.Hidden}, {"n_q_head", "q_heads", m.QHeads}, {"n_kv_head", "kv_heads", m.KVHeads}} {
			if err := t.checkModelColumn(row, c.col, c.field, c.want); err != nil {
				return nil, nil, nil, err
			}
		}
		var k [3]float64
		for i, col := range []string{"batch_size", "prefill_chunk_size", "kv_cache_size"} {
			if k[i], err = t.num(row, col); err != nil {
				return nil, nil, nil, err
			}
		}
		bs, chunk, kv := k[0], k[1], k[2]
		col := medianCol("attn_decode")
		if chunk > 0 {
			col = medianCol("attn_prefill")
			if bs != 1 {
				return nil, nil, nil, t.cellErr(row, "batch_size", "%g in a prefill row; prefill attention is profiled one request at a time", bs)
			}
		}
		if err := t.require(col); err != nil {
			return nil, nil, nil, err
		}
		v, err := t.num(row, col)
		if err != nil {
			return nil, nil, nil, err
		}
		if chunk > 0 {
			pre = append(pre, point{x: chunk, y: kv, v: v})
		} else {
			dec = append(dec, point{x: bs, y: kv, v: v})
		}
		if hasSave {
			s, err := t.num(row, medianCol("attn_kv_cache_save"))
			if err != nil {
				return nil, nil, nil, err
			}
			save = append(save, point{x: max(chunk, bs), v: s})
		}
	}
	if len(pre) == 0 || len(dec) == 0 {
		return nil, nil, nil, fmt.Errorf("%s: needs both prefill rows (prefill_chunk_size > 0) and decode rows "+
			"(prefill_chunk_size 0) for tp %d; found %d and %d", t.path, p.Provenance.TP, len(pre), len(dec))
	}
	name := path.Base(t.path)
	prefill = newTable2(name+" prefill", "prefill_chunk_size", "kv_cache_size", pre)
	decode = newTable2(name+" decode", "batch_size", "kv_cache_size", dec)
	if hasSave {
		kvSave = newTable1(name+" kv_cache_save", "num_tokens", save)
	}
	return prefill, decode, kvSave, nil
}

// loadCPU reads the optional cpu_overheads.csv: the CPU time of a step (cpu_total_median,
// or the sum of Vidur's columns) and the optional launch_median, by batch_size, or by
// (batch_size, num_tokens) when a num_tokens column is present.
func (p *Profile) loadCPU(fsys fs.FS) error {
	t, err := openOptional(fsys, path.Join(p.Dir, "cpu_overheads.csv"))
	if err != nil || t == nil {
		return err
	}
	if err := t.require("batch_size"); err != nil {
		return err
	}
	valueCols := []string{"cpu_total_median"}
	if !t.has("cpu_total_median") {
		if err := t.require(cpuColumns...); err != nil {
			return fmt.Errorf("%w (or give cpu_total_median)", err)
		}
		valueCols = cpuColumns
	}
	twoD, hasLaunch := t.has("num_tokens"), t.has("launch_median")
	var cpu, launch []point
	for row := range t.rows {
		if keep, err := t.keepRow(row, "tensor_parallel_degree", p.Provenance.TP); err != nil || !keep {
			if err != nil {
				return err
			}
			continue
		}
		if t.has("model_name") && t.str(row, "model_name") != p.Provenance.Model.Name {
			return t.cellErr(row, "model_name", "%q, but provenance model.name is %q",
				t.str(row, "model_name"), p.Provenance.Model.Name)
		}
		var pt point
		if pt.x, err = t.num(row, "batch_size"); err != nil {
			return err
		}
		if twoD {
			if pt.y, err = t.num(row, "num_tokens"); err != nil {
				return err
			}
		}
		for _, c := range valueCols {
			v, err := t.num(row, c)
			if err != nil {
				return err
			}
			pt.v += v
		}
		cpu = append(cpu, pt)
		if hasLaunch {
			if pt.v, err = t.num(row, "launch_median"); err != nil {
				return err
			}
			launch = append(launch, pt)
		}
	}
	if len(cpu) == 0 {
		return fmt.Errorf("%s: no rows for tp %d", t.path, p.Provenance.TP)
	}
	if twoD {
		p.cpu2 = newTable2("cpu_overheads.csv", "batch_size", "num_tokens", cpu)
		if hasLaunch {
			p.launch2 = newTable2("cpu_overheads.csv launch", "batch_size", "num_tokens", launch)
		}
		return nil
	}
	p.cpu = newTable1("cpu_overheads.csv", "batch_size", cpu)
	if hasLaunch {
		p.launch = newTable1("cpu_overheads.csv launch", "batch_size", launch)
	}
	return nil
}

// loadCollective reads the optional all_reduce.csv or send_recv.csv (Vidur's layout):
// the median time by message size in bytes, for this bundle's tp where num_workers is
// given (all_reduce only).
func (p *Profile) loadCollective(fsys fs.FS, name string) (*table1, error) {
	t, err := openOptional(fsys, path.Join(p.Dir, name+".csv"))
	if err != nil || t == nil {
		return nil, err
	}
	col := medianCol(name)
	if err := t.require(col, "size"); err != nil {
		return nil, err
	}
	var pts []point
	for row := range t.rows {
		if name == "all_reduce" {
			keep, err := t.keepRow(row, "num_workers", p.Provenance.TP)
			if err != nil {
				return nil, err
			}
			if !keep {
				continue
			}
		}
		var pt point
		if pt.x, err = t.num(row, "size"); err != nil {
			return nil, err
		}
		if pt.v, err = t.num(row, col); err != nil {
			return nil, err
		}
		pts = append(pts, pt)
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("%s: no rows for tp %d", t.path, p.Provenance.TP)
	}
	return newTable1(name+".csv", "size", pts), nil
}
