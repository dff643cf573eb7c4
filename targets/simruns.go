package targets

import (
	"io/fs"
	"path"
)

// SimRunData returns a recorded run of another simulator (system, e.g. "vidur") on a
// catalog scenario for this target, stored at simruns/<system>/<scenario>.json, and its
// path; fs.ErrNotExist when there is none. Such records let sim-only CI judge a
// simulator that is not installed there.
func (t *Target) SimRunData(system, scenario string) ([]byte, string, error) {
	p := path.Join(t.dir, "simruns", system, scenario+".json")
	data, err := fs.ReadFile(t.fsys, p)
	return data, "targets/" + p, err
}
