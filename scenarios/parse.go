package scenarios

import (
	"errors"
	"io/fs"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/simval/simval/internal/strictyaml"
)

// SpecError is one problem with a scenario spec: file, line (0 when unknown: a
// Scenario built in Go, or a field whose position could not be found), dotted field
// path (e.g. "workload.arrivals.spacing_s"; "" for syntax errors) and message.
type SpecError = strictyaml.Error

// Load reads and validates the scenario spec at path. Trace paths in it are relative
// to path's directory.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse decodes and validates a scenario spec. name is the file name used in errors
// and the base that trace paths are resolved against on the OS file system.
func Parse(name string, data []byte) (*Scenario, error) {
	return parse(name, data, nil)
}

// parse decodes strictly (unknown fields, repeated keys, values of the wrong kind and
// trailing documents are errors naming line and dotted field), then validates values,
// mapping each bad field back to its line in the document.
func parse(name string, data []byte, fsys fs.FS) (*Scenario, error) {
	s := &Scenario{source: name, fsys: fsys}
	doc, err := strictyaml.Decode(name, data, s)
	if err != nil {
		return nil, err
	}
	s.doc = doc
	s.cacheTraces()
	if errs := s.check(); len(errs) > 0 {
		return nil, locate(name, doc, errs)
	}
	return s, nil
}

// Validate checks a Scenario's values (as Parse does after decoding) and that its
// trace files, if any, can be read and are valid.
func (s *Scenario) Validate() error {
	if errs := s.check(); len(errs) > 0 {
		return locate(s.source, s.doc, errs)
	}
	return nil
}

// fieldError is a validation problem at a path of YAML keys (and "[i]" indices).
type fieldError struct {
	path []string
	msg  string
}

func (e fieldError) field() string { return strictyaml.Path(e.path) }

// locate turns field errors into SpecErrors with the line of the field, or of its
// nearest ancestor present in the document (a missing required field points at the
// mapping that should hold it).
func locate(file string, doc *yaml.Node, errs []fieldError) error {
	out := make([]error, 0, len(errs))
	for _, fe := range errs {
		out = append(out, &SpecError{File: file, Line: strictyaml.Line(doc, fe.path), Field: fe.field(), Msg: fe.msg})
	}
	return errors.Join(out...)
}
