package vidurfmt

import (
	"encoding/csv"
	"io"
	"math"
	"strconv"
)

// WriteMLP writes t as Vidur's mlp.csv: the statistics of every operation in
// MLPOps, then the model and token columns, as Vidur's profiler lays them out.
func WriteMLP(w io.Writer, t *MLPTable) error {
	head := statHeader(MLPOps)
	head = append(head, "n_head", "n_kv_head", "n_embd", "n_expanded_embd", "vocab_size", "use_gated_mlp",
		"num_tokens", "num_tensor_parallel_workers")
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range t.Rows {
		rec := statCells(r.Ops)
		rec = append(rec, itoa(r.NHead), itoa(r.NKVHead), itoa(r.NEmbd), itoa(r.NExpandedEmbd), itoa(r.VocabSize),
			pyBool(r.UseGatedMLP), itoa(r.NumTokens), itoa(r.TP))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteAttention writes t as Vidur's attention.csv (the current format: with
// attn_kv_cache_save, empty where unmeasured, which Vidur reads as 0).
func WriteAttention(w io.Writer, t *AttentionTable) error {
	head := statHeader(AttentionOps)
	head = append(head, "n_embd", "n_q_head", "n_kv_head", "block_size", "num_tensor_parallel_workers",
		"max_model_len", "batch_size", "prefill_chunk_size", "kv_cache_size", "is_prefill", "attention_backend")
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range t.Rows {
		rec := statCells(r.Ops)
		rec = append(rec, itoa(r.NEmbd), itoa(r.NQHead), itoa(r.NKVHead), itoa(r.BlockSize), itoa(r.TP),
			itoa(r.MaxModelLen), itoa(r.BatchSize), itoa(r.PrefillChunkSize), itoa(r.KVCacheSize),
			pyBool(r.IsPrefill), r.AttentionBackend)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteCPUOverheads writes rows as Vidur's cpu_overheads.csv (CPUOverheadColumns).
func WriteCPUOverheads(w io.Writer, rows []CPUOverheadRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CPUOverheadColumns); err != nil {
		return err
	}
	for _, r := range rows {
		rec := []string{r.ModelName, itoa(r.TP), itoa(r.BatchSize), ftoa(r.Schedule), ftoa(r.SamplerE2E),
			ftoa(r.PrepareInputsE2E), ftoa(r.ProcessModelOutputs), ftoa(r.RayCommTime)}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func statHeader(ops []string) []string {
	out := make([]string, 0, 5*len(ops))
	for _, op := range ops {
		for _, st := range statNames {
			out = append(out, "time_stats."+op+"."+st)
		}
	}
	return out
}

func statCells(ops []OpStats) []string {
	out := make([]string, 0, 5*len(ops))
	for _, s := range ops {
		out = append(out, ftoa(s.Min), ftoa(s.Max), ftoa(s.Mean), ftoa(s.Median), ftoa(s.Std))
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// ftoa is the shortest decimal that parses back to v; NaN is an empty cell, as
// pandas writes it.
func ftoa(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
