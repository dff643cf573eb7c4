// Package catalogdirs owns where a user's catalog folders come from and how they are
// laid out. The process's catalog is the one embedded in the binary plus every folder
// named in SIMVAL_CATALOG (a path list, separated like PATH) plus every folder the
// CLI's --catalog flags add (Set). A folder holds, all optional:
//
//	DIR/scenarios/<name>.yaml              scenario specs (traces relative to the spec)
//	DIR/scenarios/decisions/<name>.yaml    decision specs
//	DIR/targets/<name>/target.yaml         targets, laid out like targets/catalog/<name>/
//	DIR/baselines/<target>/<scenario>.json recorded runs of DIR's scenarios on any target
//	DIR/golden/<scenario>/<target>.json    golden summaries of DIR's scenarios
//
// It reads no file beyond checking that each folder exists and has the layout;
// packages scenarios and targets parse what is in it.
package catalogdirs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Env is the environment variable holding user catalog folders.
const Env = "SIMVAL_CATALOG"

// The layout of a user catalog folder, relative to it.
const (
	Scenarios = "scenarios"
	Decisions = "scenarios/decisions"
	Targets   = "targets"
	Baselines = "baselines"
	Golden    = "golden"
)

var (
	mu    sync.Mutex
	extra []string
)

// Set replaces the folders added on top of SIMVAL_CATALOG (the CLI's --catalog flags);
// nil leaves SIMVAL_CATALOG's alone.
func Set(dirs []string) {
	mu.Lock()
	defer mu.Unlock()
	extra = slices.Clone(dirs)
}

// Dirs returns the user catalog folders in order (SIMVAL_CATALOG's, then Set's), each
// cleaned and named once. A folder that does not exist, is not a folder, or holds
// neither scenarios/ nor targets/ is an error saying so and what the layout is.
func Dirs() ([]string, error) {
	mu.Lock()
	set := slices.Clone(extra)
	mu.Unlock()
	type origin struct{ dir, from string }
	var all []origin
	for _, d := range filepath.SplitList(os.Getenv(Env)) {
		if d != "" {
			all = append(all, origin{d, Env})
		}
	}
	for _, d := range set {
		all = append(all, origin{d, "--catalog"})
	}
	var out []string
	var errs []error
	for _, o := range all {
		d := filepath.Clean(o.dir)
		if slices.Contains(out, d) {
			continue
		}
		if err := check(d); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", o.from, o.dir, err))
			continue
		}
		out = append(out, d)
	}
	return out, errors.Join(errs...)
}

func check(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("cannot use it as a catalog folder: %w", err)
	case !fi.IsDir():
		return errors.New("not a folder; a catalog folder holds scenarios/*.yaml and/or targets/<name>/target.yaml")
	}
	for _, sub := range []string{Scenarios, Targets} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err == nil && fi.IsDir() {
			return nil
		}
	}
	return errors.New("holds neither scenarios/ nor targets/: name the folder above them " +
		"(DIR/scenarios/<name>.yaml, DIR/targets/<name>/target.yaml; see `simval help catalog`)")
}
