package vidur

import (
	"fmt"
	"io/fs"
	"math"
	"path"

	"github.com/simval/simval/simkit/vidurfmt"
)

// ProfileExport is a simval profile bundle restated as the profile files Vidur reads
// (vidurfmt.PathsFor): mlp.csv, attention.csv and, where the bundle measured CPU
// overheads, cpu_overheads.csv. Notes say what was restated and what was left out.
type ProfileExport struct {
	MLP       *vidurfmt.MLPTable
	Attention *vidurfmt.AttentionTable
	CPU       []vidurfmt.CPUOverheadRow // nil when the bundle has no cpu_overheads.csv
	Notes     []string
}

// ExportProfile reads the profile bundle in dir of fsys (mlp.csv, attention.csv,
// cpu_overheads.csv) and restates it in Vidur's feature semantics for model at tensor
// parallelism tp. Every value is a measurement of the bundle, copied, never fitted:
//
//   - mlp.csv: the rows of model's shape and tp, Vidur's operations only (simval's
//     extra columns — qk-norm, final norm, LM head, sampler — have no Vidur term).
//   - attention.csv: prefill rows as measured (one request, prefill_chunk_size query
//     tokens over kv_cache_size cached ones). Decode rows: when packedDecode, the
//     bundle keys a decode row by the step's total cached tokens read (an engine that
//     packs every request into one attention call, as transformers' continuous
//     batching does), while Vidur keys it by each request's context; the row is
//     restated at kv_cache_size = total / batch_size, rounded.
//   - cpu_overheads.csv: Vidur's five columns; where the bundle also keys rows by the
//     step's query tokens (num_tokens), only the decode-only rows (num_tokens =
//     batch_size) are kept, since Vidur keys CPU overhead by batch size alone.
//
// Network files are not written: a bundle measured on one GPU has no collectives, and
// Vidur reads them only with tp or pp > 1 (a note says so when tp > 1).
func ExportProfile(fsys fs.FS, dir string, model vidurfmt.ModelConfig, tp int, packedDecode bool) (*ProfileExport, error) {
	open := func(name string) (fs.File, string, error) {
		p := path.Join(dir, name)
		f, err := fsys.Open(p)
		return f, p, err
	}
	f, name, err := open("mlp.csv")
	if err != nil {
		return nil, err
	}
	mlp, err := vidurfmt.ReadMLP(f, name)
	f.Close()
	if err != nil {
		return nil, err
	}
	f, name, err = open("attention.csv")
	if err != nil {
		return nil, err
	}
	attn, err := vidurfmt.ReadAttention(f, name)
	f.Close()
	if err != nil {
		return nil, err
	}
	var cpu []vidurfmt.CPUOverheadRow
	if f, name, err = open("cpu_overheads.csv"); err == nil {
		cpu, err = vidurfmt.ReadCPUOverheads(f, name)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return RestateProfile(mlp, attn, cpu, model, tp, packedDecode)
}

// RestateProfile is ExportProfile on tables already read.
func RestateProfile(mlp *vidurfmt.MLPTable, attn *vidurfmt.AttentionTable, cpu []vidurfmt.CPUOverheadRow,
	model vidurfmt.ModelConfig, tp int, packedDecode bool) (*ProfileExport, error) {
	out := &ProfileExport{
		MLP:       &vidurfmt.MLPTable{File: "mlp.csv"},
		Attention: &vidurfmt.AttentionTable{File: "attention.csv", HasKVCacheSave: attn.HasKVCacheSave},
	}
	for _, r := range mlp.Rows {
		if r.NHead == model.NumQHeads && r.NKVHead == model.NumKVHeads && r.NEmbd == model.EmbeddingDim &&
			r.NExpandedEmbd == model.MLPHiddenDim && r.VocabSize == model.VocabSize && r.UseGatedMLP == model.UseGatedMLP &&
			r.TP == tp {
			out.MLP.Rows = append(out.MLP.Rows, r)
		}
	}
	if len(out.MLP.Rows) == 0 {
		return nil, fmt.Errorf("%s: no row has %s's shape (n_head %d, n_kv_head %d, n_embd %d, n_expanded_embd %d, "+
			"vocab_size %d) at tp %d", mlp.File, model.Name, model.NumQHeads, model.NumKVHeads, model.EmbeddingDim,
			model.MLPHiddenDim, model.VocabSize, tp)
	}
	restated := 0
	for _, r := range attn.Rows {
		if r.NEmbd != model.EmbeddingDim || r.NQHead != model.NumQHeads || r.NKVHead != model.NumKVHeads || r.TP != tp {
			continue
		}
		if r.PrefillChunkSize == 0 && packedDecode && r.BatchSize > 1 {
			r.KVCacheSize = int(math.Round(float64(r.KVCacheSize) / float64(r.BatchSize)))
			restated++
		}
		out.Attention.Rows = append(out.Attention.Rows, r)
	}
	if len(out.Attention.Rows) == 0 {
		return nil, fmt.Errorf("%s: no row has %s's shape (n_embd %d, n_q_head %d, n_kv_head %d) at tp %d",
			attn.File, model.Name, model.EmbeddingDim, model.NumQHeads, model.NumKVHeads, tp)
	}
	if restated > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("attention.csv: %d decode rows restated from the step's total cached "+
			"tokens to Vidur's per-request kv_cache_size (total / batch_size)", restated))
	}
	if !attn.HasKVCacheSave {
		out.Notes = append(out.Notes, "attention.csv: no attn_kv_cache_save column (Vidur counts it as 0)")
	}
	if cpu != nil {
		decodeOnly := false
		for _, r := range cpu {
			decodeOnly = decodeOnly || r.NumTokens > 0
		}
		dropped := 0
		for _, r := range cpu {
			switch {
			case r.ModelName != model.Name || r.TP != tp:
			case decodeOnly && r.NumTokens != r.BatchSize:
				dropped++
			default:
				out.CPU = append(out.CPU, r)
			}
		}
		if len(out.CPU) == 0 {
			return nil, fmt.Errorf("cpu_overheads.csv: no decode-only row for model_name %q at tensor_parallel_degree %d",
				model.Name, tp)
		}
		if dropped > 0 {
			out.Notes = append(out.Notes, fmt.Sprintf("cpu_overheads.csv: %d decode-only rows kept, %d prefill and mixed "+
				"rows left out (Vidur keys CPU overhead by batch size alone)", len(out.CPU), dropped))
		}
	} else {
		out.Notes = append(out.Notes, "no cpu_overheads.csv in the bundle: Vidur can only run with CPU overhead skipped")
	}
	if tp > 1 {
		out.Notes = append(out.Notes, fmt.Sprintf("no network files written: Vidur needs all_reduce.csv at tp %d, "+
			"which a simval bundle does not measure", tp))
	}
	return out, nil
}
