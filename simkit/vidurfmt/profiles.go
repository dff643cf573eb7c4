package vidurfmt

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// OpStats are one operation's timing statistics in ms; NaN where the cell is empty
// or the column absent.
type OpStats struct{ Min, Max, Mean, Median, Std float64 }

var statNames = [5]string{"min", "max", "mean", "median", "std"}

func nanStats() OpStats { return OpStats{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()} }

// MLPOps are mlp.csv's operations, in the file's order; requiredMLPOps are those
// Vidur cannot predict without (norms and add count as 0 when missing).
var (
	MLPOps = []string{"emb", "input_layernorm", "attn_pre_proj", "attn_rope", "attn_post_proj",
		"post_attention_layernorm", "mlp_up_proj", "mlp_act", "mlp_down_proj", "add"}
	requiredMLPOps = []string{"attn_pre_proj", "attn_rope", "attn_post_proj", "mlp_up_proj", "mlp_act", "mlp_down_proj"}
)

// AttentionOps are attention.csv's operations; attn_kv_cache_save is absent from the
// older FlashAttention-era files (Vidur then counts it as 0).
var AttentionOps = []string{"attn_input_reshape", "attn_kv_cache_save", "attn_prefill", "attn_decode", "attn_output_reshape"}

// MLPRow is one row of mlp.csv: one model shape, tensor parallelism and token count.
type MLPRow struct {
	NHead, NKVHead, NEmbd, NExpandedEmbd, VocabSize int
	UseGatedMLP                                     bool
	NumTokens                                       int
	TP                                              int       // num_tensor_parallel_workers
	Ops                                             []OpStats // by MLPOps position
}

// Op returns the statistics of operation name (NaN if the file lacks it).
func (r MLPRow) Op(name string) OpStats { return opByName(MLPOps, r.Ops, name) }

// AttentionRow is one row of attention.csv: a decode (PrefillChunkSize 0) or a
// prefill chunk over a KV cache.
type AttentionRow struct {
	NEmbd, NQHead, NKVHead, BlockSize, TP, MaxModelLen int
	BatchSize, PrefillChunkSize, KVCacheSize           int
	IsPrefill                                          bool
	AttentionBackend                                   string
	Ops                                                []OpStats // by AttentionOps position
}

// Op returns the statistics of operation name (NaN if the file lacks it).
func (r AttentionRow) Op(name string) OpStats { return opByName(AttentionOps, r.Ops, name) }

func opByName(names []string, ops []OpStats, name string) OpStats {
	for i, n := range names {
		if n == name {
			return ops[i]
		}
	}
	return nanStats()
}

// MLPTable is a loaded mlp.csv.
type MLPTable struct {
	File string
	Rows []MLPRow
}

// AttentionTable is a loaded attention.csv.
type AttentionTable struct {
	File string
	// HasKVCacheSave is false for the older format without attn_kv_cache_save.
	HasKVCacheSave bool
	Rows           []AttentionRow
}

// ReadMLP reads Vidur's mlp.csv.
func ReadMLP(r io.Reader, name string) (*MLPTable, error) {
	f, err := openCSV(r, name)
	if err != nil {
		return nil, err
	}
	keys, err := f.index("n_head", "n_kv_head", "n_embd", "n_expanded_embd", "vocab_size", "use_gated_mlp",
		"num_tokens", "num_tensor_parallel_workers")
	if err != nil {
		return nil, err
	}
	ops, err := f.statColumns(MLPOps, requiredMLPOps)
	if err != nil {
		return nil, err
	}
	t := &MLPTable{File: name}
	for {
		rec, err := f.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var row MLPRow
		for i, dst := range []*int{&row.NHead, &row.NKVHead, &row.NEmbd, &row.NExpandedEmbd, &row.VocabSize} {
			if *dst, err = f.integer(rec, keys[i]); err != nil {
				return nil, err
			}
		}
		if row.UseGatedMLP, err = f.boolean(rec, keys[5]); err != nil {
			return nil, err
		}
		if row.NumTokens, err = f.integer(rec, keys[6]); err != nil {
			return nil, err
		}
		if row.TP, err = f.integer(rec, keys[7]); err != nil {
			return nil, err
		}
		if row.Ops, err = f.stats(rec, ops, requiredMLPOps); err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, row)
	}
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("%s: no rows", name)
	}
	return t, nil
}

// ReadAttention reads Vidur's attention.csv, current or older format. A prefill row
// (prefill_chunk_size > 0) must have an attn_prefill median, a decode row an
// attn_decode median.
func ReadAttention(r io.Reader, name string) (*AttentionTable, error) {
	f, err := openCSV(r, name)
	if err != nil {
		return nil, err
	}
	keys, err := f.index("n_embd", "n_q_head", "n_kv_head", "block_size", "num_tensor_parallel_workers",
		"max_model_len", "batch_size", "prefill_chunk_size", "kv_cache_size", "is_prefill")
	if err != nil {
		return nil, err
	}
	backend, hasBackend := f.cols["attention_backend"]
	ops, err := f.statColumns(AttentionOps, []string{"attn_prefill", "attn_decode"})
	if err != nil {
		return nil, err
	}
	t := &AttentionTable{File: name, HasKVCacheSave: f.has("time_stats.attn_kv_cache_save.median")}
	for {
		rec, err := f.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var row AttentionRow
		for i, dst := range []*int{&row.NEmbd, &row.NQHead, &row.NKVHead, &row.BlockSize, &row.TP, &row.MaxModelLen,
			&row.BatchSize, &row.PrefillChunkSize, &row.KVCacheSize} {
			if *dst, err = f.integer(rec, keys[i]); err != nil {
				return nil, err
			}
		}
		if row.IsPrefill, err = f.boolean(rec, keys[9]); err != nil {
			return nil, err
		}
		if hasBackend {
			row.AttentionBackend = rec[backend]
		}
		need := "attn_decode"
		if row.PrefillChunkSize > 0 {
			need = "attn_prefill"
		}
		if row.Ops, err = f.stats(rec, ops, []string{need}); err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, row)
	}
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("%s: no rows", name)
	}
	return t, nil
}

// statColumns finds time_stats.<op>.<stat> for every op (-1 where absent) and
// requires the median of each required op.
func (f *csvFile) statColumns(ops, required []string) ([][5]int, error) {
	out := make([][5]int, len(ops))
	for i, op := range ops {
		for j, st := range statNames {
			out[i][j] = -1
			if c, ok := f.cols["time_stats."+op+"."+st]; ok {
				out[i][j] = c
			}
		}
	}
	for _, op := range required {
		if _, err := f.index("time_stats." + op + ".median"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// stats parses one row's statistics; the medians of the ops in required must be
// numbers, every other cell may be empty.
func (f *csvFile) stats(rec []string, cols [][5]int, required []string) ([]OpStats, error) {
	out := make([]OpStats, len(cols))
	for i, c := range cols {
		vals := [5]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()}
		for j, col := range c {
			if col < 0 {
				continue
			}
			v, err := f.floatOrNaN(rec, col)
			if err != nil {
				return nil, err
			}
			vals[j] = v
		}
		out[i] = OpStats{vals[0], vals[1], vals[2], vals[3], vals[4]}
	}
	for _, op := range required {
		col := "time_stats." + op + ".median"
		if v := rec[f.cols[col]]; strings.TrimSpace(v) == "" {
			return nil, f.errf(col, "empty, but this row needs it")
		}
	}
	return out, nil
}
