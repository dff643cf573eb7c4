package targets

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/simval/simval/simkit"
	"github.com/simval/simval/validation"
)

//go:embed catalog
var catalogFS embed.FS

// Target is one real deployment the simulator must predict.
type Target struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
	GPU         string `yaml:"gpu" json:"gpu"`
	// Engine names the real engine's driver: hfcb, sarathi or openai.
	Engine string `yaml:"engine" json:"engine"`
	// Timestamps says which clock the baselines hold: "engine" (the engine's own clock
	// when a token is appended) or "client" (when a streamed chunk arrives).
	Timestamps string                    `yaml:"timestamps" json:"timestamps"`
	Model      simkit.ModelSpec          `yaml:"model" json:"model"`
	Settings   validation.EngineSettings `yaml:"settings" json:"settings"`
	// Profile is the profile bundle's folder, relative to the target's folder; empty
	// when the target has none yet.
	Profile string `yaml:"profile" json:"profile,omitempty"`

	fsys fs.FS  // the file system holding dir
	dir  string // the target's folder in fsys
}

// All returns the embedded targets sorted by name.
func All() ([]*Target, error) { return Load(catalogFS, "catalog") }

// Lookup returns the embedded target with the given name.
func Lookup(name string) (*Target, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	for _, t := range all {
		if t.Name == name {
			return t, nil
		}
	}
	names := make([]string, len(all))
	for i, t := range all {
		names[i] = t.Name
	}
	return nil, fmt.Errorf("unknown target %q (known: %v)", name, names)
}

// Load reads every <dir>/<name>/target.yaml of fsys, sorted by name.
func Load(fsys fs.FS, dir string) ([]*Target, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	var out []*Target
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		t, err := loadOne(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if t.Name != e.Name() {
			return nil, fmt.Errorf("%s/target.yaml: name %q differs from its folder %q", t.dir, t.Name, e.Name())
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Target) int { return cmpString(a.Name, b.Name) })
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func loadOne(fsys fs.FS, dir string) (*Target, error) {
	file := path.Join(dir, "target.yaml")
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	t := &Target{fsys: fsys, dir: dir}
	if err := dec.Decode(t); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var problems []error
	need := func(field, v string) {
		if v == "" {
			problems = append(problems, fmt.Errorf("%s: field %s is required", file, field))
		}
	}
	need("name", t.Name)
	need("gpu", t.GPU)
	need("engine", t.Engine)
	need("settings.scheduler", t.Settings.Scheduler)
	need("model.name", t.Model.Name)
	switch t.Timestamps {
	case "engine", "client":
	default:
		problems = append(problems, fmt.Errorf("%s: field timestamps must be engine or client, got %q", file, t.Timestamps))
	}
	if t.Model.Layers <= 0 || t.Model.HeadDim <= 0 || t.Model.QHeads <= 0 || t.Model.KVHeads <= 0 {
		problems = append(problems, fmt.Errorf("%s: model needs positive layers, head_dim, q_heads and kv_heads", file))
	}
	return t, errors.Join(problems...)
}

// Dir is the target's folder inside its file system.
func (t *Target) Dir() string { return t.dir }

// ProfileFingerprint is a short hash of the target's profile bundle (every file's name
// and bytes, in name order), "" when it has none: a golden that records it shows
// whether a changed prediction came with a changed profile.
func (t *Target) ProfileFingerprint() (string, error) {
	if t.Profile == "" {
		return "", nil
	}
	dir := path.Join(t.dir, t.Profile)
	h := sha256.New()
	err := fs.WalkDir(t.fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(t.fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", strings.TrimPrefix(p, dir+"/"), len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("target %s: profile fingerprint: %w", t.Name, err)
	}
	return Fingerprint(h.Sum(nil)), nil
}

// Fingerprint renders a digest as the 12 hex digits goldens record.
func Fingerprint(sum []byte) string { return hex.EncodeToString(sum)[:12] }

// Fixture reports whether the target is a test fixture (gpu: fixture), not a real
// deployment: it exercises the suite and is never judged against real runs.
func (t *Target) Fixture() bool { return t.GPU == "fixture" }

// FS is the file system the target was read from.
func (t *Target) FS() fs.FS { return t.fsys }

// LoadProfile reads the target's profile bundle and checks that its provenance
// matches the target (model, GPU, attention backend) and that it was measured or is
// a declared fixture, never a template or fallback.
func (t *Target) LoadProfile() (*simkit.Profile, error) {
	if t.Profile == "" {
		return nil, fmt.Errorf("target %s has no profile bundle yet (field profile in %s/target.yaml)", t.Name, t.dir)
	}
	p, err := simkit.LoadProfile(t.fsys, path.Join(t.dir, t.Profile))
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	if err := p.CheckFor(t.Model, t.GPU, t.Settings.AttentionBackend); err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	return p, nil
}

// SimOptions are the simulator options that predict this target: its model, its
// resolved engine settings, its profile and the predictor the profile's engine needs
// (simkit.LoadPredictor); CPU overhead and extrapolation as asked. The profile must
// match the target (model, GPU, attention backend).
func (t *Target) SimOptions(cpuOverhead, extrapolate bool) (simkit.Options, error) {
	if t.Profile == "" {
		return simkit.Options{}, fmt.Errorf("target %s has no profile bundle yet (field profile in %s/target.yaml)", t.Name, t.dir)
	}
	opts := simkit.Options{
		Model:       t.Model,
		Settings:    t.Settings,
		CPUOverhead: cpuOverhead,
		Extrapolate: extrapolate,
	}
	pred, p, err := simkit.LoadPredictor(t.fsys, path.Join(t.dir, t.Profile), opts)
	if err != nil {
		return simkit.Options{}, fmt.Errorf("target %s: %w", t.Name, err)
	}
	if err := p.CheckFor(t.Model, t.GPU, t.Settings.AttentionBackend); err != nil {
		return simkit.Options{}, fmt.Errorf("target %s: %w", t.Name, err)
	}
	opts.Profile, opts.Predictor = p, pred
	return opts, nil
}

// Baselines lists the scenarios with a recorded baseline for this target, sorted.
func (t *Target) Baselines() ([]string, error) {
	entries, err := fs.ReadDir(t.fsys, path.Join(t.dir, "baselines"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
			out = append(out, name)
		}
	}
	return out, nil
}

// BaselineData returns the recorded baseline file of scenario for this target and its
// path, or fs.ErrNotExist when there is none.
func (t *Target) BaselineData(scenario string) ([]byte, string, error) {
	p := path.Join(t.dir, "baselines", scenario+".json")
	data, err := fs.ReadFile(t.fsys, p)
	return data, "targets/" + p, err
}
