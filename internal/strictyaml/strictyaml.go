// Package strictyaml decodes simval's catalog files (scenario, decision and target
// YAML) strictly, and says what is wrong in the file's own words: the line and the
// dotted field path (workload.arrivals.rate_per_s), never a Go type name.
//
// It walks the document beside the Go type before decoding: an unknown key lists the
// keys that are known there, a value of the wrong kind says what was wanted, and a
// repeated key names both lines. It owns no catalog and checks no values beyond their
// YAML kind; callers check values and report them with Line and Error.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a YAML file. Line is 0 when unknown; Field is a dotted path
// with [i] for list elements ("bounds[2].max"), "" for a problem of the whole file.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
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

// Decode decodes the single YAML document in data into v (a pointer) strictly: an
// unknown or repeated key, a value of the wrong kind, an empty file or a second
// document is an error naming file, line and field. It returns the document's root
// node, for Line.
func Decode(file string, data []byte, v any) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "empty file"}
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &Error{File: file, Line: extra.Line, Msg: "more than one YAML document; the file holds one"}
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Msg: "empty file"}
	}
	root := doc.Content[0]
	w := walker{file: file}
	w.walk(root, reflect.TypeOf(v).Elem(), nil)
	if len(w.errs) > 0 {
		return nil, errors.Join(w.errs...)
	}
	if err := root.Decode(v); err != nil {
		// The walk above should have caught it; keep yaml's words rather than lose it.
		return nil, syntaxError(file, err)
	}
	return root, nil
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// syntaxError rewrites yaml's "yaml: line 3: …" as an Error with the line.
func syntaxError(file string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	out := make([]error, 0, len(msgs))
	for _, m := range msgs {
		e := &Error{File: file, Msg: m}
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			e.Line, _ = strconv.Atoi(g[1])
			e.Msg = g[2]
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

type walker struct {
	file string
	errs []error
}

func (w *walker) fail(n *yaml.Node, path []string, format string, args ...any) {
	w.errs = append(w.errs, &Error{File: w.file, Line: n.Line, Field: Path(path), Msg: fmt.Sprintf(format, args...)})
}

var unmarshaler = reflect.TypeFor[yaml.Unmarshaler]()

// walk checks node n against type t at path.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path []string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // yaml leaves the zero value; callers check required fields
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			w.fail(n, path, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.fail(n, path, "got %s, want a mapping with keys %s", describeNode(n), strings.Join(Keys(t), ", "))
			return
		}
		fields := fieldsByKey(t)
		w.mapping(n, path, func(key *yaml.Node, value *yaml.Node) {
			f, ok := fields[key.Value]
			if !ok {
				w.fail(key, append(slices.Clone(path), key.Value), "unknown field; the known fields here are %s", strings.Join(Keys(t), ", "))
				return
			}
			w.walk(value, f.Type, append(slices.Clone(path), key.Value))
		})
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.fail(n, path, "got %s, want a mapping", describeNode(n))
			return
		}
		w.mapping(n, path, func(key *yaml.Node, value *yaml.Node) {
			w.walk(value, t.Elem(), append(slices.Clone(path), key.Value))
		})
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			w.fail(n, path, "got %s, want a list (- item per line, or [a, b])", describeNode(n))
			return
		}
		for i, el := range n.Content {
			w.walk(el, t.Elem(), append(slices.Clone(path), "["+strconv.Itoa(i)+"]"))
		}
	default:
		if n.Kind != yaml.ScalarNode {
			w.fail(n, path, "got %s, want %s", describeNode(n), describeType(t))
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			w.fail(n, path, "got %s, want %s", describeNode(n), describeType(t))
		}
	}
}

// mapping calls each for every key of mapping n, reporting repeated keys.
func (w *walker) mapping(n *yaml.Node, path []string, each func(key, value *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if first, dup := seen[key.Value]; dup {
			w.fail(key, append(slices.Clone(path), key.Value), "repeated key (first at line %d); keep one", first)
			continue
		}
		seen[key.Value] = key.Line
		each(key, value)
	}
}

// fieldsByKey maps the YAML keys of struct t to its fields.
func fieldsByKey(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if key, ok := yamlKey(f); ok {
			out[key] = f
		}
	}
	return out
}

// Keys lists the YAML keys of struct type t, in field order.
func Keys(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		if key, ok := yamlKey(t.Field(i)); ok {
			out = append(out, key)
		}
	}
	return out
}

func yamlKey(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("yaml")
	if tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = strings.ToLower(f.Name) // yaml.v3's default
	}
	return name, true
}

func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return "a " + t.Kind().String()
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	switch n.ShortTag() {
	case "!!int":
		return "the integer " + v
	case "!!float":
		return "the number " + v
	case "!!bool":
		return "the boolean " + v
	}
	return strconv.Quote(v)
}

// Path renders a field path: keys joined by dots, indices ("[2]") attached.
func Path(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// Line returns the line of the field at path in doc, or of its nearest ancestor in
// the document (a missing field points at the mapping that should hold it); 0 for a
// nil doc.
func Line(doc *yaml.Node, path []string) int {
	if doc == nil {
		return 0
	}
	n, line := doc, doc.Line
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
