package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/simval/simval/internal/catalogdirs"
	"github.com/simval/simval/internal/strictyaml"
)

// catalogFS holds the catalog specs and any trace files they name (so a catalog
// scenario may use a trace next to it without another embed pattern).
//
//go:embed catalog
var catalogFS embed.FS

// source is one folder spec files come from: the embedded catalog, or a user catalog
// folder (catalogdirs) on the OS file system.
type source struct {
	embedded bool
	dir      string // the folder of the specs: in catalogFS, or on the OS
	userDir  string // the user catalog folder; "" for the embedded catalog
}

// sources lists the embedded folder sub ("" or "decisions") and the matching folder
// of every user catalog folder.
func sources(sub string) ([]source, error) {
	dirs, err := catalogdirs.Dirs()
	out := []source{{embedded: true, dir: path.Join("catalog", sub)}}
	for _, d := range dirs {
		out = append(out, source{dir: filepath.Join(d, catalogdirs.Scenarios, sub), userDir: d})
	}
	return out, err
}

// file is where a spec file is: its source and its display name (the name errors
// and Source use: "catalog/x.yaml" embedded, the OS path otherwise).
func (s source) file(base string) string {
	if s.embedded {
		return path.Join(s.dir, base)
	}
	return filepath.Join(s.dir, base)
}

// names lists the base names of the *.yaml files in the source; a user folder without
// the sub-folder has none.
func (s source) names() ([]string, error) {
	var entries []fs.DirEntry
	var err error
	if s.embedded {
		entries, err = fs.ReadDir(catalogFS, s.dir)
	} else {
		entries, err = os.ReadDir(s.dir)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".yaml") {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

func (s source) read(base string) ([]byte, error) {
	if s.embedded {
		return catalogFS.ReadFile(s.file(base))
	}
	return os.ReadFile(s.file(base))
}

// found is one spec file in one source.
type found struct {
	src  source
	base string
}

func (f found) file() string { return f.src.file(f.base) }

// listing finds every spec file of the sources by name (the file's stem). A name in
// two sources is an error naming both files; the first one is kept.
func listing(srcs []source) (map[string]found, []error) {
	byName := map[string]found{}
	var errs []error
	for _, s := range srcs {
		bases, err := s.names()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, b := range bases {
			name := strings.TrimSuffix(b, ".yaml")
			if first, dup := byName[name]; dup {
				errs = append(errs, clash(name, first, found{s, b}))
				continue
			}
			byName[name] = found{s, b}
		}
	}
	return byName, errs
}

func clash(name string, a, b found) error {
	return fmt.Errorf("%q is defined twice, in %s and in %s: names must be unique across the embedded catalog "+
		"and every catalog folder; rename one (its file and its name)", name, a.file(), b.file())
}

// lookupFile finds the spec file called name (name.yaml) without reading any other
// file, so that a broken file elsewhere does not stop it.
func lookupFile(srcs []source, name, what string) (found, error) {
	var hits []found
	for _, s := range srcs {
		bases, err := s.names()
		if err != nil {
			return found{}, err
		}
		if slices.Contains(bases, name+".yaml") {
			hits = append(hits, found{s, name + ".yaml"})
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		known, _ := listing(srcs)
		names := make([]string, 0, len(known))
		for n := range known {
			names = append(names, n)
		}
		slices.Sort(names)
		return found{}, fmt.Errorf("no %s %q in the catalog (have %s); a scenario of your own goes in "+
			"DIR/scenarios/%s.yaml with --catalog DIR or SIMVAL_CATALOG=DIR", what, name, strings.Join(names, ", "), name)
	}
	return found{}, clash(name, hits[0], hits[1])
}

// Catalog parses every scenario of the embedded catalog (catalog/*.yaml) and of each
// user catalog folder (DIR/scenarios/*.yaml, see package catalogdirs), sorted by name.
// Each call returns fresh Scenarios, so callers may not disturb one another. A spec
// whose name differs from its file's base name is an error: names must find their
// files.
//
// A broken file does not hide the others: Catalog returns every scenario that parsed
// and, beside it, an error joining every broken file's errors (each naming its file,
// line and field) and every name defined twice.
func Catalog() ([]*Scenario, error) {
	srcs, err := sources("")
	errs := []error{err}
	byName, lerrs := listing(srcs)
	errs = append(errs, lerrs...)
	var out []*Scenario
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		s, err := parseFound(byName[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}

// Embedded parses the embedded catalog only (no user folders); every file must parse.
func Embedded() ([]*Scenario, error) {
	byName, errs := listing([]source{{embedded: true, dir: "catalog"}})
	var out []*Scenario
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		s, err := parseFound(byName[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// parseFound parses one scenario spec of a source.
func parseFound(f found) (*Scenario, error) {
	data, err := f.src.read(f.base)
	if err != nil {
		return nil, err
	}
	var fsys fs.FS
	if f.src.embedded {
		fsys = catalogFS
	}
	s, err := parse(f.file(), data, fsys)
	if err != nil {
		return nil, err
	}
	if stem := strings.TrimSuffix(f.base, ".yaml"); s.Name != stem {
		return nil, &SpecError{File: f.file(), Line: strictyaml.Line(s.doc, []string{"name"}), Field: "name",
			Msg: fmt.Sprintf("%q must match the file name %q", s.Name, stem)}
	}
	s.userDir = f.src.userDir
	return s, nil
}

// Lookup returns the catalog scenario called name (the embedded catalog's, or a user
// catalog folder's), or an error listing the names there are. It reads only that
// scenario's file: another broken file does not stop it.
func Lookup(name string) (*Scenario, error) {
	srcs, err := sources("")
	if err != nil {
		return nil, err
	}
	f, err := lookupFile(srcs, name, "scenario")
	if err != nil {
		return nil, err
	}
	return parseFound(f)
}

// CatalogDir is the user catalog folder the scenario came from; "" for the embedded
// catalog and for a scenario read from elsewhere.
func (s *Scenario) CatalogDir() string { return s.userDir }
