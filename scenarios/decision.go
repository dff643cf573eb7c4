package scenarios

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/simval/simval/internal/strictyaml"
)

// Decision is a pair or a sweep of recorded real runs of one scenario on one target
// that differ in one engine setting: what a user decides with a simulator (token
// budget, scheduler policy, memory). The judge checks that the simulator moves each
// statistic the way the engine did: the same sign, a size within Bound, and a sweep's
// ranking kept.
type Decision struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Scenario    string `yaml:"scenario"`
	Target      string `yaml:"target"`
	// Setting is the engine setting that differs (validation.SettableSettings).
	Setting string `yaml:"setting"`
	// Points are the settings' values with their runs, the reference first.
	Points []DecisionPoint `yaml:"points"`
	// Bound is the largest |predicted ratio / real ratio − 1| allowed for a change
	// (a ratio is a statistic at a point over the reference's).
	Bound float64 `yaml:"bound"`
	// Reported, when set, says why the decision is computed and shown but not judged
	// (a mechanism the simulator does not model yet); like a scenario's gate: false.
	Reported string `yaml:"reported,omitempty"`
	// Source is the spec's file.
	Source string `yaml:"-"`
}

// DecisionPoint is one value of the setting and the run recorded with it.
type DecisionPoint struct {
	Value string `yaml:"value"`
	// Run is the recorded run, relative to the target's folder (baselines/… or
	// decisions/…).
	Run string `yaml:"run"`
}

// Decisions parses the decision specs of the embedded catalog
// (catalog/decisions/*.yaml) and of each user catalog folder
// (DIR/scenarios/decisions/*.yaml), sorted by name, strictly: unknown fields and
// missing values are errors naming the file, line and field. Like Catalog, it returns
// every decision that parsed and, beside it, every broken file's error, each a
// *DecisionFileError saying which scenario and target the file names where a lenient
// read can tell (so that a caller judging other scenarios may pass it by).
func Decisions() ([]*Decision, error) {
	srcs, err := sources("decisions")
	errs := []error{err}
	byName, lerrs := listing(srcs)
	errs = append(errs, lerrs...)
	var out []*Decision
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		f := byName[name]
		data, err := f.src.read(f.base)
		if err == nil {
			var d *Decision
			if d, err = ParseDecision(f.file(), data); err == nil {
				out = append(out, d)
				continue
			}
		}
		fe := &DecisionFileError{File: f.file(), Err: err}
		var names struct{ Scenario, Target string }
		if yaml.Unmarshal(data, &names) == nil {
			fe.Scenario, fe.Target = names.Scenario, names.Target
		}
		errs = append(errs, fe)
	}
	return out, errors.Join(errs...)
}

// DecisionFileError is a decision spec that could not be used. Scenario and Target
// are what the file names, where a lenient read found them ("" otherwise).
type DecisionFileError struct {
	File             string
	Scenario, Target string
	Err              error
}

func (e *DecisionFileError) Error() string { return e.Err.Error() }

func (e *DecisionFileError) Unwrap() error { return e.Err }

// ParseDecision reads one decision spec strictly.
func ParseDecision(file string, data []byte) (*Decision, error) {
	d := &Decision{Source: file}
	doc, err := strictyaml.Decode(file, data, d)
	if err != nil {
		return nil, err
	}
	bad := func(field, format string, args ...any) error {
		at := []string{field}
		if i := strings.Index(field, "["); i > 0 {
			at = []string{field[:i], field[i:]}
		}
		return &SpecError{File: file, Line: strictyaml.Line(doc, at), Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case !namePattern.MatchString(d.Name):
		return nil, bad("name", "%q must be lower case letters, digits, '.', '_' or '-'", d.Name)
	case strings.TrimSpace(d.Description) == "":
		return nil, bad("description", "required: say what the decision is")
	case d.Scenario == "":
		return nil, bad("scenario", "required: the scenario the runs replayed")
	case d.Target == "":
		return nil, bad("target", "required: the target the runs were recorded on")
	case d.Setting == "":
		return nil, bad("setting", "required")
	case len(d.Points) < 2:
		return nil, bad("points", "%d points; a decision needs at least two", len(d.Points))
	case !(d.Bound > 0 && d.Bound < 10):
		return nil, bad("bound", "%v, want a positive fraction (0.2 = 20%%)", d.Bound)
	}
	if stem := strings.TrimSuffix(path.Base(filepath.ToSlash(file)), ".yaml"); d.Name != stem {
		return nil, bad("name", "%q must match the file name %q", d.Name, stem)
	}
	for i, p := range d.Points {
		if p.Value == "" || p.Run == "" {
			return nil, bad(fmt.Sprintf("points[%d]", i), "value and run are required")
		}
	}
	return d, nil
}
