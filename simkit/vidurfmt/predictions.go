package vidurfmt

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Operation names of Vidur's predictor (reference §6), as its prediction files name them.
const (
	OpAttnPreProj            = "attn_pre_proj"
	OpAttnPostProj           = "attn_post_proj"
	OpAttnRope               = "attn_rope"
	OpAttnKVCacheSave        = "attn_kv_cache_save"
	OpAttnDecode             = "attn_decode"
	OpAttnPrefill            = "attn_prefill"
	OpMLPUpProj              = "mlp_up_proj"
	OpMLPDownProj            = "mlp_down_proj"
	OpMLPAct                 = "mlp_act"
	OpInputLayernorm         = "input_layernorm"
	OpPostAttentionLayernorm = "post_attention_layernorm"
	OpAdd                    = "add"
	OpAllReduce              = "all_reduce"
	OpSendRecv               = "send_recv"
	OpSchedule               = "schedule"
	OpSamplerE2E             = "sampler_e2e"
	OpPrepareInputsE2E       = "prepare_inputs_e2e"
	OpProcessModelOutputs    = "process_model_outputs"
	OpRayCommTime            = "ray_comm_time"
)

// TokenOps are the operations predicted from the batch's token count (num_tokens).
var TokenOps = []string{
	OpAttnPreProj, OpAttnPostProj, OpAttnRope, OpAttnKVCacheSave, OpMLPUpProj, OpMLPDownProj,
	OpMLPAct, OpInputLayernorm, OpPostAttentionLayernorm, OpAdd, OpAllReduce, OpSendRecv,
}

// CPUOps are the CPU-overhead operations predicted from the batch size (batch_size).
var CPUOps = []string{OpSchedule, OpSamplerE2E, OpPrepareInputsE2E, OpProcessModelOutputs, OpRayCommTime}

// Table1D is one prediction table with one integer feature: Vidur's dict from
// (key,) to the predicted milliseconds. Look-ups are exact, as Vidur's are.
type Table1D struct {
	Op      string
	Feature string
	vals    []float64 // by key; NaN where the file has no row
	n       int
}

// At returns the prediction for key, and false where the table has no such key
// (where Vidur raises a KeyError).
func (t *Table1D) At(key int) (float64, bool) {
	if key < 0 || key >= len(t.vals) {
		return 0, false
	}
	v := t.vals[key]
	return v, !math.IsNaN(v)
}

// Len is the number of keys the table holds.
func (t *Table1D) Len() int { return t.n }

// MaxKey is the largest key the table holds.
func (t *Table1D) MaxKey() int { return len(t.vals) - 1 }

// Table2D is one prediction table with two integer features, e.g. attn_decode's
// (batch_size, kv_cache_size).
type Table2D struct {
	Op       string
	Features [2]string
	m        map[uint64]float64
}

// At returns the prediction for (a, b), and false where the table has no such key.
func (t *Table2D) At(a, b int) (float64, bool) {
	if a < 0 || b < 0 || a > math.MaxUint32 || b > math.MaxUint32 {
		return 0, false
	}
	v, ok := t.m[uint64(a)<<32|uint64(b)]
	return v, ok
}

// Len is the number of keys the table holds.
func (t *Table2D) Len() int { return len(t.m) }

// Predictions are the prediction tables of one Vidur predictor, by operation.
type Predictions struct {
	// Dir is the folder they were read from.
	Dir string
	// Token holds the num_tokens tables (TokenOps), CPU the batch_size tables (CPUOps).
	Token map[string]*Table1D
	CPU   map[string]*Table1D
	// AttnDecode is keyed by (batch_size, kv_cache_size), AttnPrefill by
	// (kv_cache_size, prefill_chunk_size_squared). Nil when the folder has none.
	AttnDecode, AttnPrefill *Table2D
}

// predictionFile finds the file of op in dir: <op>_predictions.csv, or Vidur's cache
// name <op>_<8 hex digits>_predictions.csv when it is the only one. "" when absent.
func predictionFile(dir, op string) (string, error) {
	exact := filepath.Join(dir, op+"_predictions.csv")
	if _, err := os.Stat(exact); err == nil {
		return exact, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	matches, err := filepath.Glob(filepath.Join(dir, op+"_????????_predictions.csv"))
	if err != nil {
		return "", err
	}
	switch len(matches) {
	case 0:
		return "", nil
	case 1:
		return matches[0], nil
	}
	return "", fmt.Errorf("%s: %d prediction files for %s (%s); keep one", dir, len(matches), op, strings.Join(matches, ", "))
}

// LoadPredictions reads every known prediction table in dir. Tables that are absent
// stay nil; which ones a simulation needs depends on its TP, PP and CPU settings and
// is checked by the predictor that uses them. A folder with no table is an error.
func LoadPredictions(dir string) (*Predictions, error) {
	p := &Predictions{Dir: dir, Token: map[string]*Table1D{}, CPU: map[string]*Table1D{}}
	found := 0
	load1 := func(op, feature string, into map[string]*Table1D) error {
		path, err := predictionFile(dir, op)
		if err != nil || path == "" {
			return err
		}
		t, err := readTable1DFile(path, op, feature)
		if err != nil {
			return err
		}
		into[op] = t
		found++
		return nil
	}
	for _, op := range TokenOps {
		if err := load1(op, "num_tokens", p.Token); err != nil {
			return nil, err
		}
	}
	for _, op := range CPUOps {
		if err := load1(op, "batch_size", p.CPU); err != nil {
			return nil, err
		}
	}
	for _, spec := range []struct {
		op   string
		feat [2]string
		into **Table2D
	}{
		{OpAttnDecode, [2]string{"batch_size", "kv_cache_size"}, &p.AttnDecode},
		{OpAttnPrefill, [2]string{"kv_cache_size", "prefill_chunk_size_squared"}, &p.AttnPrefill},
	} {
		path, err := predictionFile(dir, spec.op)
		if err != nil {
			return nil, err
		}
		if path == "" {
			continue
		}
		t, err := readTable2DFile(path, spec.op, spec.feat)
		if err != nil {
			return nil, err
		}
		*spec.into = t
		found++
	}
	if found == 0 {
		return nil, fmt.Errorf("%s: no prediction tables (want files like attn_pre_proj_predictions.csv)", dir)
	}
	return p, nil
}

func readTable1DFile(path, op, feature string) (*Table1D, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadTable1D(f, path, op, feature)
}

func readTable2DFile(path, op string, features [2]string) (*Table2D, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadTable2D(f, path, op, features)
}

// maxTable1DKey bounds the keys of a one-feature table (Orca's token grid is
// 4096 × 128 = 524,288), so that a corrupt key cannot allocate without limit.
const maxTable1DKey = 1 << 22

// ReadTable1D reads a prediction CSV whose columns are feature then prediction (ms).
// Keys must be non-negative integers, unique; predictions finite.
func ReadTable1D(r io.Reader, name, op, feature string) (*Table1D, error) {
	f, err := openCSV(r, name)
	if err != nil {
		return nil, err
	}
	if err := f.exactHeader(feature, "prediction"); err != nil {
		return nil, err
	}
	t := &Table1D{Op: op, Feature: feature}
	for {
		rec, err := f.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		k, err := f.integer(rec, 0)
		if err != nil {
			return nil, err
		}
		if k < 0 || k > maxTable1DKey {
			return nil, f.errf(feature, "key %d outside [0, %d]", k, maxTable1DKey)
		}
		v, err := f.prediction(rec, 1)
		if err != nil {
			return nil, err
		}
		for len(t.vals) <= k {
			t.vals = append(t.vals, math.NaN())
		}
		if !math.IsNaN(t.vals[k]) {
			return nil, f.errf(feature, "key %d appears twice", k)
		}
		t.vals[k] = v
		t.n++
	}
	if t.n == 0 {
		return nil, fmt.Errorf("%s: no rows", name)
	}
	return t, nil
}

// ReadTable2D reads a prediction CSV whose columns are the two features then
// prediction (ms).
func ReadTable2D(r io.Reader, name, op string, features [2]string) (*Table2D, error) {
	f, err := openCSV(r, name)
	if err != nil {
		return nil, err
	}
	if err := f.exactHeader(features[0], features[1], "prediction"); err != nil {
		return nil, err
	}
	t := &Table2D{Op: op, Features: features, m: map[uint64]float64{}}
	for {
		rec, err := f.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var key [2]int
		for i := range key {
			if key[i], err = f.integer(rec, i); err != nil {
				return nil, err
			}
			if key[i] < 0 || key[i] > math.MaxUint32 {
				return nil, f.errf(features[i], "key %d outside [0, %d]", key[i], uint32(math.MaxUint32))
			}
		}
		v, err := f.prediction(rec, 2)
		if err != nil {
			return nil, err
		}
		packed := uint64(key[0])<<32 | uint64(key[1])
		if _, dup := t.m[packed]; dup {
			return nil, f.errf(features[0], "key (%d, %d) appears twice", key[0], key[1])
		}
		t.m[packed] = v
	}
	if len(t.m) == 0 {
		return nil, fmt.Errorf("%s: no rows", name)
	}
	return t, nil
}

// exactHeader requires the header to be exactly cols, in order.
func (f *csvFile) exactHeader(cols ...string) error {
	if !slices.Equal(f.header, cols) {
		return fmt.Errorf("%s:1: header is %q, want %q", f.name, strings.Join(f.header, ","), strings.Join(cols, ","))
	}
	return nil
}

// prediction parses a predicted time in milliseconds: finite. A negative value is
// kept, since Vidur's polynomial predictor can produce one and uses it as it is.
func (f *csvFile) prediction(rec []string, i int) (float64, error) {
	v, err := f.float(rec, i)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, f.errf(f.header[i], "%v is not a finite time", v)
	}
	return v, nil
}

// NewTable1D builds a one-feature table in memory from parallel keys and values
// (for tests and synthetic tables); keys must be unique and in [0, 2^22].
func NewTable1D(op, feature string, keys []int, vals []float64) (*Table1D, error) {
	if len(keys) != len(vals) || len(keys) == 0 {
		return nil, fmt.Errorf("%s: %d keys and %d values", op, len(keys), len(vals))
	}
	t := &Table1D{Op: op, Feature: feature}
	for i, k := range keys {
		if k < 0 || k > maxTable1DKey || math.IsNaN(vals[i]) || math.IsInf(vals[i], 0) {
			return nil, fmt.Errorf("%s: bad key %d or value %v", op, k, vals[i])
		}
		for len(t.vals) <= k {
			t.vals = append(t.vals, math.NaN())
		}
		if !math.IsNaN(t.vals[k]) {
			return nil, fmt.Errorf("%s: key %d appears twice", op, k)
		}
		t.vals[k] = vals[i]
		t.n++
	}
	return t, nil
}

// NewTable2D builds a two-feature table in memory from a function over the grid
// as × bs (for tests and synthetic tables).
func NewTable2D(op string, features [2]string, as, bs []int, f func(a, b int) float64) (*Table2D, error) {
	t := &Table2D{Op: op, Features: features, m: map[uint64]float64{}}
	for _, a := range as {
		for _, b := range bs {
			v := f(a, b)
			if a < 0 || b < 0 || a > math.MaxUint32 || b > math.MaxUint32 || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: bad key (%d, %d) or value %v", op, a, b, v)
			}
			t.m[uint64(a)<<32|uint64(b)] = v
		}
	}
	if len(t.m) == 0 {
		return nil, fmt.Errorf("%s: empty grid", op)
	}
	return t, nil
}
