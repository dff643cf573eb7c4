package strictyaml

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type inner struct {
	Rate  float64  `yaml:"rate_per_s"`
	Times []string `yaml:"times"`
}

type doc struct {
	Name  string           `yaml:"name"`
	Inner *inner           `yaml:"inner"`
	Items []inner          `yaml:"items"`
	ByKey map[string]inner `yaml:"by_key"`
	Skip  string           `yaml:"-"`
}

func TestDecodeNamesLineAndDottedField(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "name: a\ninner: {rate: 1}\n", "f.yaml: line 2: field inner.rate: unknown field; the known fields here are rate_per_s, times"},
		{"wrong kind in a list", "items:\n  - {rate_per_s: fast}\n", `f.yaml: line 2: field items[0].rate_per_s: got "fast", want a number`},
		{"map value", "by_key:\n  x: {times: 3}\n", "f.yaml: line 2: field by_key.x.times: got the integer 3, want a list"},
		{"scalar for a mapping", "inner: 5\n", "f.yaml: line 1: field inner: got the integer 5, want a mapping with keys rate_per_s, times"},
		{"a yaml:- field is unknown", "Skip: x\n", "field Skip: unknown field; the known fields here are name, inner, items, by_key"},
		{"repeated key", "name: a\nname: b\n", "f.yaml: line 2: field name: repeated key (first at line 1); keep one"},
		{"syntax", "name: [a\n", "f.yaml: line "},
		{"two documents", "name: a\n---\nname: b\n", "f.yaml: line 2: more than one YAML document"},
		{"empty", "# nothing\n", "f.yaml: empty file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			_, err := Decode("f.yaml", []byte(tt.yaml), &d)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "strictyaml.", "no Go type names")
		})
	}
	var d doc
	root, err := Decode("f.yaml", []byte("name: a\nitems:\n  - {rate_per_s: 2}\n  - rate_per_s: 3\n    times: [x]\n"), &d)
	require.NoError(t, err)
	assert.InDelta(t, 3, d.Items[1].Rate, 0)
	assert.Equal(t, 4, Line(root, []string{"items", "[1]", "rate_per_s"}))
	assert.Equal(t, 4, Line(root, []string{"items", "[1]", "missing"}), "a missing field points at its parent")
	assert.Equal(t, "items[1].rate_per_s", Path([]string{"items", "[1]", "rate_per_s"}))
}
