package simkit

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Profile sources (Provenance.Source). Only measured and fixture profiles may drive a
// prediction that is compared with a real engine.
const (
	SourceMeasured = "measured"
	SourceFixture  = "fixture"
	SourceTemplate = "template"
	SourceFallback = "fallback"
)

// Provenance says where a profile's numbers come from (provenance.yaml).
type Provenance struct {
	GPU       string `json:"gpu" yaml:"gpu"`
	GPUDriver string `json:"gpu_driver" yaml:"gpu_driver"`
	// HostCPU is the host's CPU model and logical CPU count: CPU-side step costs (and
	// so a profile's CPU table) differ between hosts of the same GPU.
	HostCPU          string    `json:"host_cpu,omitempty" yaml:"host_cpu,omitempty"`
	Engine           string    `json:"engine" yaml:"engine"`
	EngineVersion    string    `json:"engine_version" yaml:"engine_version"`
	AttentionBackend string    `json:"attention_backend" yaml:"attention_backend"`
	DType            string    `json:"dtype" yaml:"dtype"`
	CUDAGraphs       bool      `json:"cuda_graphs" yaml:"cuda_graphs"`
	Model            ModelSpec `json:"model" yaml:"model"`
	Date             string    `json:"date" yaml:"date"`
	Method           string    `json:"method" yaml:"method"`
	Grid             string    `json:"grid" yaml:"grid"`
	Source           string    `json:"source" yaml:"source"`
	TP               int       `json:"tp" yaml:"tp"`
}

// Profile is a loaded profile bundle: measured operation and CPU times (ms in the
// files) as interpolation tables. It is immutable and may be shared.
type Profile struct {
	Dir        string
	Provenance Provenance

	mlp       map[string]*table1 // op → median by num_tokens
	prefill   *table2            // attn_prefill by (prefill_chunk_size, kv_cache_size)
	decode    *table2            // attn_decode by (batch_size, kv_cache_size)
	kvSave    *table1            // attn_kv_cache_save by max(chunk, batch_size); nil if absent
	cpu       *table1            // CPU per step by batch_size (1-D layout)
	launch    *table1            // launch_median by batch_size; nil if absent
	cpu2      *table2            // CPU per step by (batch_size, num_tokens) (2-D layout)
	launch2   *table2
	allReduce *table1 // by size in bytes; nil if absent
	sendRecv  *table1
}

// Operations read from mlp.csv (time_stats.<op>.median): Vidur's, then simval's
// extensions.
var mlpOps = []string{
	"emb", "input_layernorm", "attn_pre_proj", "attn_rope", "attn_post_proj",
	"post_attention_layernorm", "mlp_up_proj", "mlp_act", "mlp_down_proj", "add",
	"attn_qk_norm", "final_norm", "lm_head", "sampler",
}

func medianCol(op string) string { return "time_stats." + op + ".median" }

// LoadProfile reads the bundle in directory dir of fsys: provenance.yaml, mlp.csv,
// attention.csv, and optionally cpu_overheads.csv, all_reduce.csv and send_recv.csv.
// Errors name the file, and the line and column where one is at fault.
func LoadProfile(fsys fs.FS, dir string) (*Profile, error) {
	p := &Profile{Dir: dir}
	var err error
	if p.Provenance, err = loadProvenance(fsys, path.Join(dir, "provenance.yaml")); err != nil {
		return nil, err
	}
	if err := p.loadMLP(fsys); err != nil {
		return nil, err
	}
	if err := p.loadAttention(fsys); err != nil {
		return nil, err
	}
	if err := p.loadCPU(fsys); err != nil {
		return nil, err
	}
	if p.allReduce, err = p.loadCollective(fsys, "all_reduce"); err != nil {
		return nil, err
	}
	if p.sendRecv, err = p.loadCollective(fsys, "send_recv"); err != nil {
		return nil, err
	}
	return p, nil
}

func loadProvenance(fsys fs.FS, file string) (Provenance, error) {
	var pv Provenance
	f, err := fsys.Open(file)
	if err != nil {
		return pv, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&pv); err != nil {
		return pv, fmt.Errorf("%s: %w", file, err)
	}
	m := pv.Model
	for _, req := range []struct {
		field string
		ok    bool
	}{
		{"gpu", pv.GPU != ""}, {"engine", pv.Engine != ""},
		{"attention_backend", pv.AttentionBackend != ""}, {"tp", pv.TP >= 1},
		{"model.name", m.Name != ""}, {"model.layers", m.Layers > 0}, {"model.hidden", m.Hidden > 0},
		{"model.q_heads", m.QHeads > 0}, {"model.kv_heads", m.KVHeads > 0}, {"model.head_dim", m.HeadDim > 0},
	} {
		if !req.ok {
			return pv, fmt.Errorf("%s: %s is missing or not positive", file, req.field)
		}
	}
	switch pv.Source {
	case SourceMeasured, SourceFixture, SourceTemplate, SourceFallback:
	default:
		return pv, fmt.Errorf("%s: source %q is not one of measured, fixture, template, fallback", file, pv.Source)
	}
	return pv, nil
}

// CheckFor refuses a profile that must not predict the given target: one produced from
// a template or a fallback, or one whose model, GPU or attention backend differ (the
// model's LMHead switch is a simulation choice and not compared).
func (p *Profile) CheckFor(model ModelSpec, gpu, attentionBackend string) error {
	if err := p.checkSource(); err != nil {
		return err
	}
	if err := p.checkModel(model); err != nil {
		return err
	}
	if !strings.EqualFold(strings.TrimSpace(p.Provenance.GPU), strings.TrimSpace(gpu)) {
		return fmt.Errorf("profile %s: gpu %q differs from the target's %q", p.Dir, p.Provenance.GPU, gpu)
	}
	return p.checkBackend(attentionBackend)
}

func (p *Profile) checkSource() error {
	if s := p.Provenance.Source; s == SourceTemplate || s == SourceFallback {
		return fmt.Errorf("profile %s: source is %q; a profile made from a %s is refused", p.Dir, s, s)
	}
	return nil
}

func (p *Profile) checkBackend(backend string) error {
	if p.Provenance.AttentionBackend != backend {
		return fmt.Errorf("profile %s: attention_backend %q differs from the target's %q",
			p.Dir, p.Provenance.AttentionBackend, backend)
	}
	return nil
}

func (p *Profile) checkModel(m ModelSpec) error {
	pm := p.Provenance.Model
	for _, f := range []struct {
		name       string
		have, want any
	}{
		{"name", pm.Name, m.Name}, {"layers", pm.Layers, m.Layers}, {"hidden", pm.Hidden, m.Hidden},
		{"q_heads", pm.QHeads, m.QHeads}, {"kv_heads", pm.KVHeads, m.KVHeads},
		{"head_dim", pm.HeadDim, m.HeadDim}, {"intermediate", pm.Intermediate, m.Intermediate},
		{"vocab", pm.Vocab, m.Vocab}, {"tied_embeddings", pm.TiedEmbeddings, m.TiedEmbeddings},
		{"gated_mlp", pm.GatedMLP, m.GatedMLP}, {"post_attn_norm", pm.PostAttnNorm, m.PostAttnNorm},
		{"dtype", pm.DType, m.DType},
	} {
		if f.have != f.want {
			return fmt.Errorf("profile %s: model.%s %v differs from the target's %v", p.Dir, f.name, f.have, f.want)
		}
	}
	return nil
}

// MLPOps lists the operations mlp.csv profiles, sorted.
func (p *Profile) MLPOps() []string {
	ops := make([]string, 0, len(p.mlp))
	for op := range p.mlp {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}

// HasCPU says whether the bundle has cpu_overheads.csv.
func (p *Profile) HasCPU() bool { return p.cpu != nil || p.cpu2 != nil }

// openOptional reads an optional CSV; nil when it does not exist.
func openOptional(fsys fs.FS, file string) (*csvTable, error) {
	t, err := readCSV(fsys, file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return t, err
}
