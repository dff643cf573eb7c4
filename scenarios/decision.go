package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
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

// Decisions parses the embedded decision specs (catalog/decisions/*.yaml), sorted by
// name, strictly: unknown fields and missing values are errors naming the file.
func Decisions() ([]*Decision, error) {
	out, err := parseCatalog("catalog/decisions/*.yaml", ParseDecision)
	slices.SortFunc(out, func(a, b *Decision) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

// ParseDecision reads one decision spec strictly.
func ParseDecision(file string, data []byte) (*Decision, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	d := &Decision{Source: file}
	if err := dec.Decode(d); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: more than one YAML document", file)
	}
	bad := func(field, format string, args ...any) error {
		return &SpecError{File: file, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case !namePattern.MatchString(d.Name):
		return nil, bad("name", "%q must be lower case letters, digits, '.', '_' or '-'", d.Name)
	case strings.TrimSpace(d.Description) == "":
		return nil, bad("description", "required: say what the decision is")
	case d.Scenario == "" || d.Target == "":
		return nil, bad("scenario", "scenario and target are required")
	case d.Setting == "":
		return nil, bad("setting", "required")
	case len(d.Points) < 2:
		return nil, bad("points", "%d points; a decision needs at least two", len(d.Points))
	case !(d.Bound > 0 && d.Bound < 10):
		return nil, bad("bound", "%v, want a positive fraction (0.2 = 20%%)", d.Bound)
	}
	if stem := strings.TrimSuffix(path.Base(file), ".yaml"); d.Name != stem {
		return nil, bad("name", "%q must match the file name %q", d.Name, stem)
	}
	for i, p := range d.Points {
		if p.Value == "" || p.Run == "" {
			return nil, bad(fmt.Sprintf("points[%d]", i), "value and run are required")
		}
	}
	return d, nil
}
