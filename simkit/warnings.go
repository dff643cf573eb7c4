package simkit

import "slices"

// warnings collects non-fatal findings once each; list returns them sorted so that
// output does not depend on the order they were found in.
type warnings struct {
	seen map[string]bool
}

func newWarnings() *warnings { return &warnings{seen: map[string]bool{}} }

func (w *warnings) add(msg string) { w.seen[msg] = true }

func (w *warnings) list() []string {
	if len(w.seen) == 0 {
		return nil
	}
	out := make([]string, 0, len(w.seen))
	for m := range w.seen {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}
