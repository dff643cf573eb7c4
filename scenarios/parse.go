package scenarios

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SpecError is one problem with a scenario spec. Line is 0 when unknown (a Scenario
// built in Go, or a field whose position could not be found).
type SpecError struct {
	File  string
	Line  int
	Field string // dotted path, e.g. "workload.arrivals.spacing_s"; "" for syntax errors
	Msg   string
}

func (e *SpecError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Field != "" {
		b.WriteString("field " + e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

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

// parse decodes strictly (unknown fields, duplicate keys, type mismatches and
// trailing documents are errors), then validates values, mapping each bad field back
// to its line in the document.
func parse(name string, data []byte, fsys fs.FS) (*Scenario, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, &SpecError{File: name, Msg: "empty scenario spec"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	s := &Scenario{source: name, fsys: fsys}
	if err := dec.Decode(s); err != nil {
		return nil, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &SpecError{File: name, Line: extra.Line, Msg: "more than one YAML document; a spec file holds one scenario"}
	}
	s.cacheTraces()
	if errs := s.check(); len(errs) > 0 {
		return nil, locate(name, root.Content[0], errs)
	}
	return s, nil
}

// Validate checks a Scenario's values (as Parse does after decoding) and that its
// trace files, if any, can be read and are valid.
func (s *Scenario) Validate() error {
	if errs := s.check(); len(errs) > 0 {
		return locate(s.source, nil, errs)
	}
	return nil
}

// fieldError is a validation problem at a path of YAML keys (and "[i]" indices).
type fieldError struct {
	path []string
	msg  string
}

func (e fieldError) field() string {
	var b strings.Builder
	for i, p := range e.path {
		if i > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// locate turns field errors into SpecErrors with the line of the field, or of its
// nearest ancestor present in the document (a missing required field points at the
// mapping that should hold it).
func locate(file string, doc *yaml.Node, errs []fieldError) error {
	out := make([]error, 0, len(errs))
	for _, fe := range errs {
		out = append(out, &SpecError{File: file, Line: lineOf(doc, fe.path), Field: fe.field(), Msg: fe.msg})
	}
	return errors.Join(out...)
}

func lineOf(n *yaml.Node, path []string) int {
	if n == nil {
		return 0
	}
	line := n.Line
	for _, p := range path {
		key, value := child(n, p)
		if value == nil {
			break
		}
		n, line = value, key.Line
	}
	return line
}

// child finds key p in a mapping node, or index "[i]" in a sequence node. It returns
// the node that names the step (the key, or the element itself) and the value.
func child(n *yaml.Node, p string) (key, value *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				return n.Content[i], n.Content[i+1]
			}
		}
	case yaml.SequenceNode:
		if idx, ok := strings.CutPrefix(p, "["); ok {
			if i, err := strconv.Atoi(strings.TrimSuffix(idx, "]")); err == nil && i >= 0 && i < len(n.Content) {
				return n.Content[i], n.Content[i]
			}
		}
	}
	return nil, nil
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlError rewrites yaml/v3's errors ("yaml: line 3: …", or a TypeError listing
// "line 4: field typo not found in type …") as one SpecError per problem.
func yamlError(file string, err error) error {
	var te *yaml.TypeError
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]error, 0, len(msgs))
	for _, m := range msgs {
		se := &SpecError{File: file, Msg: m}
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			se.Line, _ = strconv.Atoi(g[1])
			se.Msg = g[2]
		}
		out = append(out, se)
	}
	return errors.Join(out...)
}
