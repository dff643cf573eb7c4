package vidurfmt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
// The files are read concurrently (attn_prefill's grid alone has hundreds of
// thousands of rows).
func LoadPredictions(dir string) (*Predictions, error) {
	type job struct {
		op, path string
		load     func(path string) error
	}
	p := &Predictions{Dir: dir, Token: map[string]*Table1D{}, CPU: map[string]*Table1D{}}
	one := make([]*Table1D, len(TokenOps)+len(CPUOps))
	var jobs []job
	for i, op := range append(slices.Clone(TokenOps), CPUOps...) {
		feature := "num_tokens"
		if i >= len(TokenOps) {
			feature = "batch_size"
		}
		jobs = append(jobs, job{op: op, load: func(path string) (err error) {
			one[i], err = readTable1DFile(path, op, feature)
			return err
		}})
	}
	for _, spec := range []struct {
		op   string
		feat [2]string
		into **Table2D
	}{
		{OpAttnDecode, [2]string{"batch_size", "kv_cache_size"}, &p.AttnDecode},
		{OpAttnPrefill, [2]string{"kv_cache_size", "prefill_chunk_size_squared"}, &p.AttnPrefill},
	} {
		jobs = append(jobs, job{op: spec.op, load: func(path string) (err error) {
			*spec.into, err = readTable2DFile(path, spec.op, spec.feat)
			return err
		}})
	}
	found := 0
	for i := range jobs {
		path, err := predictionFile(dir, jobs[i].op)
		if err != nil {
			return nil, err
		}
		if jobs[i].path = path; path != "" {
			found++
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("%s: no prediction tables (want files like attn_pre_proj_predictions.csv)", dir)
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		if j.path != "" {
			wg.Go(func() { errs[i] = j.load(j.path) })
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, op := range TokenOps {
		if one[i] != nil {
			p.Token[op] = one[i]
		}
	}
	for i, op := range CPUOps {
		if t := one[len(TokenOps)+i]; t != nil {
			p.CPU[op] = t
		}
	}
	return p, nil
}

func readTable1DFile(path, op, feature string) (*Table1D, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseTable1D(data, path, op, feature)
}

func readTable2DFile(path, op string, features [2]string) (*Table2D, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseTable2D(data, path, op, features)
}

// maxTable1DKey bounds the keys of a one-feature table (Orca's token grid is
// 4096 × 128 = 524,288), so that a corrupt key cannot allocate without limit.
const maxTable1DKey = 1 << 22

// ReadTable1D reads a prediction CSV whose columns are feature then prediction (ms).
// Keys must be non-negative integers, unique; predictions finite.
func ReadTable1D(r io.Reader, name, op, feature string) (*Table1D, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return parseTable1D(data, name, op, feature)
}

func parseTable1D(data []byte, name, op, feature string) (*Table1D, error) {
	t := &Table1D{Op: op, Feature: feature}
	err := scanNumericCSV(data, name, []string{feature, "prediction"}, func(f *numericRow) error {
		k, err := f.integer(0)
		if err != nil {
			return err
		}
		if k < 0 || k > maxTable1DKey {
			return f.errf(0, "key %d outside [0, %d]", k, maxTable1DKey)
		}
		v, err := f.prediction(1)
		if err != nil {
			return err
		}
		for len(t.vals) <= k {
			t.vals = append(t.vals, math.NaN())
		}
		if !math.IsNaN(t.vals[k]) {
			return f.errf(0, "key %d appears twice", k)
		}
		t.vals[k] = v
		t.n++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if t.n == 0 {
		return nil, fmt.Errorf("%s: no rows", name)
	}
	return t, nil
}

// ReadTable2D reads a prediction CSV whose columns are the two features then
// prediction (ms).
func ReadTable2D(r io.Reader, name, op string, features [2]string) (*Table2D, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return parseTable2D(data, name, op, features)
}

// parallelParseBytes is the size from which a two-feature table is parsed in two
// halves at once (Vidur's attn_prefill grid is about 7 MB).
const parallelParseBytes = 1 << 20

func parseTable2D(data []byte, name, op string, features [2]string) (*Table2D, error) {
	cols := []string{features[0], features[1], "prediction"}
	body, err := numericBody(data, name, cols)
	if err != nil {
		return nil, err
	}
	type entry struct {
		a, b int
		v    float64
	}
	parts := 1
	if len(body) >= parallelParseBytes {
		parts = 2
	}
	pieces, lines := splitLines(body, parts, 1)
	entries := make([][]entry, len(pieces))
	errs := make([]error, len(pieces))
	var wg sync.WaitGroup
	for i, piece := range pieces {
		wg.Go(func() {
			out := make([]entry, 0, bytes.Count(piece, []byte{'\n'})+1)
			errs[i] = scanNumericLines(piece, name, cols, lines[i], func(f *numericRow) error {
				var key [2]int
				for i := range key {
					var err error
					if key[i], err = f.integer(i); err != nil {
						return err
					}
				}
				if !validKeys2D(key[0], key[1]) {
					return f.errf(0, "key (%d, %d) outside [0, %d] × [0, %d]", key[0], key[1], maxTable2DFirstKey, uint32(math.MaxUint32))
				}
				v, err := f.prediction(2)
				if err != nil {
					return err
				}
				out = append(out, entry{key[0], key[1], v})
				return nil
			})
			entries[i] = out
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	bld := newTable2DBuilder(op, features)
	for _, part := range entries {
		for _, e := range part {
			bld.add(e.a, e.b, e.v)
		}
	}
	t, a, b, ok := bld.finish()
	if !ok {
		return nil, fmt.Errorf("%s: column %q: key (%d, %d) appears twice", name, features[0], a, b)
	}
	if t.n == 0 {
		return nil, fmt.Errorf("%s: no rows", name)
	}
	return t, nil
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
	bld := newTable2DBuilder(op, features)
	for _, a := range as {
		for _, b := range bs {
			v := f(a, b)
			if !validKeys2D(a, b) || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: bad key (%d, %d) or value %v", op, a, b, v)
			}
			bld.add(a, b, v)
		}
	}
	t, a, b, ok := bld.finish()
	if !ok {
		return nil, fmt.Errorf("%s: key (%d, %d) appears twice", op, a, b)
	}
	if t.n == 0 {
		return nil, fmt.Errorf("%s: empty grid", op)
	}
	return t, nil
}
