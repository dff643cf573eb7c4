package targets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/simval/simval/internal/catalogdirs"
	"github.com/simval/simval/internal/strictyaml"
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/validation"
)

// The binary carries what the judge reads: each target's definition, profile bundle,
// baselines, decision runs and simulator records. dev/, logs/ and measured/ are
// evidence kept in the repository for people and for the profile builders, which read
// them from disk; embedding them only made the binary larger (38 MB, and the GPU
// runner's carry limit is 64 MiB with the tree).
//
//go:embed catalog/*/target.yaml catalog/*/profile catalog/*/baselines catalog/*/decisions catalog/*/simruns
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

	fsys    fs.FS      // the file system holding dir
	dir     string     // the target's folder in fsys
	root    string     // what fsys's root is called in messages
	userDir string     // the user catalog folder; "" for the embedded catalog
	doc     *yaml.Node // the parsed target.yaml, for the lines of errors
}

// source is one folder of target folders: the embedded catalog, or a user catalog
// folder's targets/ (package catalogdirs).
type source struct {
	fsys    fs.FS
	dir     string // the folder holding target folders, in fsys
	root    string // what fsys's root is called in messages
	userDir string // the user catalog folder; "" for the embedded catalog
}

func sources() ([]source, error) {
	dirs, err := catalogdirs.Dirs()
	out := []source{{fsys: catalogFS, dir: "catalog", root: "targets"}}
	for _, d := range dirs {
		out = append(out, source{fsys: os.DirFS(d), dir: catalogdirs.Targets, root: d, userDir: d})
	}
	return out, err
}

// names lists the target folders of the source (a folder without targets/ has none).
func (s source) names() ([]string, error) {
	entries, err := fs.ReadDir(s.fsys, s.dir)
	if errors.Is(err, fs.ErrNotExist) && s.userDir != "" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

func (s source) display(p string) string {
	if s.userDir == "" {
		return path.Join(s.root, p)
	}
	return filepath.Join(s.root, filepath.FromSlash(p))
}

// All returns every target, sorted by name: the embedded ones and those of each user
// catalog folder (DIR/targets/<name>/target.yaml). A broken target does not hide the
// others: All returns every target that loaded and, beside it, an error joining each
// broken file's errors (file, line, field) and each name defined twice.
func All() ([]*Target, error) {
	srcs, err := sources()
	errs := []error{err}
	var out []*Target
	seen := map[string]string{}
	for _, s := range srcs {
		names, err := s.names()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, n := range names {
			file := s.display(path.Join(s.dir, n, "target.yaml"))
			if first, dup := seen[n]; dup {
				errs = append(errs, clash(n, first, file))
				continue
			}
			seen[n] = file
			t, err := loadNamed(s, n)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *Target) int { return strings.Compare(a.Name, b.Name) })
	return out, errors.Join(errs...)
}

func clash(name, a, b string) error {
	return fmt.Errorf("target %q is defined twice, in %s and in %s: names must be unique across the embedded "+
		"catalog and every catalog folder; rename one (its folder and its name)", name, a, b)
}

// Names lists every target's name (its folder's), sorted, reading no target file.
func Names() ([]string, error) {
	srcs, err := sources()
	var out []string
	for _, s := range srcs {
		names, nerr := s.names()
		err = errors.Join(err, nerr)
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out, err
}

// Lookup returns the target with the given name, reading only its own folder: a
// broken target elsewhere does not stop it. An unknown name is an error listing the
// targets there are.
func Lookup(name string) (*Target, error) {
	srcs, err := sources()
	if err != nil {
		return nil, err
	}
	var hits []source
	for _, s := range srcs {
		names, err := s.names()
		if err != nil {
			return nil, err
		}
		if slices.Contains(names, name) {
			hits = append(hits, s)
		}
	}
	switch len(hits) {
	case 0:
		known, _ := Names()
		return nil, fmt.Errorf("unknown target %q (known: %s); list them with `simval targets`, or add a "+
			"folder DIR/targets/%s/ with --catalog DIR", name, strings.Join(known, ", "), name)
	case 1:
		return loadNamed(hits[0], name)
	}
	return nil, clash(name, hits[0].display(path.Join(hits[0].dir, name, "target.yaml")),
		hits[1].display(path.Join(hits[1].dir, name, "target.yaml")))
}

func loadNamed(s source, name string) (*Target, error) {
	t, err := loadOne(s, path.Join(s.dir, name))
	if err != nil {
		return nil, err
	}
	if t.Name != name {
		return nil, &strictyaml.Error{File: t.file(), Line: strictyaml.Line(t.doc, []string{"name"}), Field: "name",
			Msg: fmt.Sprintf("%q differs from its folder %q; the folder names the target", t.Name, name)}
	}
	return t, nil
}

// Load reads every <dir>/<name>/target.yaml of fsys, sorted by name; like All, it
// returns the targets that loaded beside the errors of those that did not.
func Load(fsys fs.FS, dir string) ([]*Target, error) {
	s := source{fsys: fsys, dir: dir}
	names, err := s.names()
	if err != nil {
		return nil, err
	}
	var out []*Target
	var errs []error
	for _, n := range names {
		t, err := loadNamed(s, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Target) int { return strings.Compare(a.Name, b.Name) })
	return out, errors.Join(errs...)
}

func loadOne(s source, dir string) (*Target, error) {
	t := &Target{fsys: s.fsys, dir: dir, root: s.root, userDir: s.userDir}
	file := t.file()
	data, err := fs.ReadFile(s.fsys, path.Join(dir, "target.yaml"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w (a target folder holds target.yaml)", file, err)
	}
	doc, err := strictyaml.Decode(file, data, t)
	if err != nil {
		return nil, err
	}
	t.doc = doc
	var problems []error
	bad := func(field, format string, args ...any) {
		problems = append(problems, &strictyaml.Error{File: file, Line: strictyaml.Line(doc, strings.Split(field, ".")),
			Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	need := func(field, v string) {
		if v == "" {
			bad(field, "required")
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
		bad("timestamps", "must be engine or client, got %q", t.Timestamps)
	}
	if t.Model.Layers <= 0 || t.Model.HeadDim <= 0 || t.Model.QHeads <= 0 || t.Model.KVHeads <= 0 {
		bad("model", "needs positive layers, head_dim, q_heads and kv_heads")
	}
	if t.Model.MaxContext <= 0 {
		bad("model.max_context", "required: the longest prompt + output the model takes, in tokens "+
			"(max_position_embeddings in its config.json; 40960 for Qwen3-0.6B)")
	}
	return t, errors.Join(problems...)
}

// file is the target's target.yaml as messages name it.
func (t *Target) file() string { return t.path(path.Join(t.dir, "target.yaml")) }

// path names a file of the target's file system as messages do.
func (t *Target) path(p string) string {
	return source{root: t.root, userDir: t.userDir}.display(p)
}

// UserDir is the user catalog folder the target came from; "" for the embedded one.
func (t *Target) UserDir() string { return t.userDir }

// CheckRequests refuses a request the target's model cannot hold: prompt plus output
// longer than its context (model.max_context), naming the request and the fix.
func (t *Target) CheckRequests(reqs []scenarios.Request) error {
	limit := t.Model.MaxContext
	for i, r := range reqs {
		if n := r.PromptTokens + r.OutputTokens; limit > 0 && n > limit {
			return fmt.Errorf("request %q (request %d of the workload): prompt_tokens %d + output_tokens %d = %d tokens "+
				"exceed the %d-token context of %s (model.max_context in %s); shorten the prompt or the output",
				r.ID, i+1, r.PromptTokens, r.OutputTokens, n, limit, t.Model.Name, t.file())
		}
	}
	return nil
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
	return data, t.path(p), err
}
