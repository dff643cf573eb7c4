package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// catalogFS holds the catalog specs and any trace files they name (so a catalog
// scenario may use a trace next to it without another embed pattern).
//
//go:embed catalog
var catalogFS embed.FS

// Catalog parses every embedded scenario (catalog/*.yaml), sorted by name. Each call
// returns fresh Scenarios, so callers may not disturb one another. A spec whose name
// differs from its file's base name is an error: names must find their files.
func Catalog() ([]*Scenario, error) {
	out, err := parseCatalog("catalog/*.yaml", func(f string, data []byte) (*Scenario, error) {
		s, err := parse(f, data, catalogFS)
		if err != nil {
			return nil, err
		}
		if stem := strings.TrimSuffix(path.Base(f), ".yaml"); s.Name != stem {
			return nil, &SpecError{File: f, Field: "name", Msg: fmt.Sprintf("%q must match the file name %q", s.Name, stem)}
		}
		return s, nil
	})
	slices.SortFunc(out, func(a, b *Scenario) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

// parseCatalog parses every embedded file matching pattern, in file order, and joins
// every file's error: one bad file is reported with all the others.
func parseCatalog[T any](pattern string, parseOne func(file string, data []byte) (T, error)) ([]T, error) {
	files, err := fs.Glob(catalogFS, pattern)
	if err != nil {
		return nil, err
	}
	var out []T
	var errs []error
	for _, f := range files {
		data, err := catalogFS.ReadFile(f)
		if err == nil {
			var v T
			if v, err = parseOne(f, data); err == nil {
				out = append(out, v)
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Lookup returns the catalog scenario called name, or an error listing the names
// there are.
func Lookup(name string) (*Scenario, error) {
	all, err := Catalog()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(all))
	for _, s := range all {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return nil, fmt.Errorf("no scenario %q in the catalog (have %s)", name, strings.Join(names, ", "))
}
