package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeFile writes data to dir/rel (folders made) and returns the path.
func writeFile(t *testing.T, dir, rel, data string) string {
	t.Helper()
	p := filepath.Join(dir, rel)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	return p
}

const traceHeader = "arrived_at,num_prefill_tokens,num_decode_tokens\n"

// Each bad input is refused with the file, line, field or request id, and the fix.
func TestBadInputsAreRefusedWithWhereAndWhy(t *testing.T) {
	dir := t.TempDir()
	trace := func(rows string) string { return writeFile(t, dir, t.Name()+".csv", traceHeader+rows) }
	tests := []struct {
		name string
		args func() []string
		want []string
	}{
		{"absurd arrival", func() []string { return []string{"sim", "--target", h200, "--trace", trace("0,10,4\n1e20,10,4\n")} },
			[]string{"line 3, column arrived_at: 1e+20 s is beyond the arrival horizon of 1e+06 s (11.6 days", "start the times near 0"}},
		{"far arrival", func() []string { return []string{"sim", "--target", h200, "--trace", trace("1e12,10,4\n")} },
			[]string{"line 2, column arrived_at: 1e+12 s is beyond the arrival horizon"}},
		{"negative arrival", func() []string { return []string{"sim", "--target", h200, "--trace", trace("-1,10,4\n")} },
			[]string{"line 2, column arrived_at: must be a finite time ≥ 0, got -1"}},
		{"NaN arrival", func() []string { return []string{"sim", "--target", h200, "--trace", trace("NaN,10,4\n")} },
			[]string{"line 2, column arrived_at: must be a finite time ≥ 0, got NaN"}},
		{"longer than the context", func() []string {
			return []string{"sim", "--target", h200, "--trace", trace("0,10,4\n1,40000,961\n")}
		}, []string{`request "r0001" (request 2 of the workload): prompt_tokens 40000 + output_tokens 961 = 40961 tokens exceed the 40960-token context of Qwen/Qwen3-0.6B (model.max_context in targets/catalog/h200-hfcb-qwen3-0.6b/target.yaml); shorten`}},
		{"real: longer than the context, refused before any engine starts", func() []string {
			return []string{"real", "--engine", "fake", "--target", h200, "--trace", trace("0,40960,1\n"), "--out", filepath.Join(dir, "never.json")}
		}, []string{`request "r0000" (request 1 of the workload)`, "exceed the 40960-token context"}},
		{"out of grid", func() []string {
			return []string{"sim", "--target", "fixture-sarathi-qwen3-0.6b", "--trace", trace("0,30000,100\n")}
		}, []string{"batch of 1 requests (r0000, request 1 of the workload, 512 tokens)", "outside the profiled grid", "rerun with --extrapolate"}},
		{"zero replicas", func() []string {
			return []string{"sim", "--target", h200, "--scenario", "batched-burst", "--replicas", "0"}
		},
			[]string{"--replicas 0: want at least 1"}},
		{"negative replicas", func() []string {
			return []string{"sim", "--target", h200, "--scenario", "batched-burst", "--replicas", "-2"}
		},
			[]string{"--replicas -2: want at least 1"}},
		{"validate: unknown target", func() []string { return []string{"validate", "--target", "nope"} },
			[]string{`unknown target "nope" (known: fixture-sarathi-qwen3-0.6b, h200-hfcb-qwen3-0.6b, h200x2-hfcb-tp2-qwen3-0.6b)`}},
		{"validate: unknown scenario", func() []string { return []string{"validate", "--scenario", "nope"} },
			[]string{`no scenario "nope" in the catalog (have batched-burst, cold-start-burst, long-prompt-mixed, poisson-moderate, queue-free-spaced)`}},
		{"sim: unknown target", func() []string { return []string{"sim", "--target", "h200", "--scenario", "batched-burst"} },
			[]string{`unknown target "h200" (known: fixture-sarathi-qwen3-0.6b, h200-hfcb-qwen3-0.6b, h200x2-hfcb-tp2-qwen3-0.6b)`}},
		{"real: unknown target", func() []string {
			return []string{"real", "--engine", "fake", "--target", "h100", "--scenario", "batched-burst", "--out", filepath.Join(dir, "x.json")}
		}, []string{`unknown target "h100" (known: fixture-sarathi-qwen3-0.6b, h200-hfcb-qwen3-0.6b, h200x2-hfcb-tp2-qwen3-0.6b)`}},
		{"missing catalog folder", func() []string {
			return []string{"scenarios", "--catalog", filepath.Join(dir, "nope")}
		}, []string{"--catalog " + filepath.Join(dir, "nope") + ": cannot use it as a catalog folder"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, tt.args()...)
			assert.Equal(t, 2, code, errOut)
			for _, w := range tt.want {
				assert.Contains(t, errOut, w)
			}
		})
	}
}

func TestHelpShowsFlagNamesNotBackquotedCommands(t *testing.T) {
	out, _, code := runCLI(t, "sim", "--help")
	require.Equal(t, 0, code)
	assert.NotContains(t, out, "--scenario simval scenarios")
	assert.NotContains(t, out, "--target simval targets")
	assert.Contains(t, out, "--scenario name")
	assert.Contains(t, out, "--catalog folder")
	out, _, code = runCLI(t, "help", "catalog")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "DIR/scenarios/<name>.yaml")
	assert.Contains(t, out, "DIR/baselines/<target>/<scenario>.json")
}

// An OpenAI replay against a port where nothing listens finishes nothing: it says
// so once, and writes no file, partial or complete.
func TestRealOpenAIAgainstAClosedPortWritesNothing(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	dir := t.TempDir()
	out := filepath.Join(dir, "b.json")
	trace := writeFile(t, t.TempDir(), "t.csv", traceHeader+strings.Repeat("0,10,4\n", 6))
	_, errOut, code := runCLI(t, "real", "--engine", "openai", "--base-url", "http://"+addr, "--api-model", "m",
		"--trace", trace, "--target", h200, "--out", out)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "6 of 6 requests failed (nothing listens at http://"+addr+"/v1/completions")
	assert.Contains(t, errOut, "(requests r0000, r0001, r0002, r0003, … 2 more)", "one line for the one cause")
	assert.NotContains(t, errOut, "wrote")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "no file when nothing finished")
}

// A driver that refuses its arguments is one clear error: which engine, which
// argument, where its flags are; not its usage block and "no stdout line seen".
func TestRealReportsADriversRefusedArguments(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3: the sarathi driver's argument parser needs it")
	}
	out := filepath.Join(t.TempDir(), "b.json")
	_, errOut, code := runCLI(t, "real", "--engine", "sarathi", "--scenario", "queue-free-spaced",
		"--target", "fixture-sarathi-qwen3-0.6b", "--out", out, "--warmup", "none")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "the sarathi driver refused its arguments: the following arguments are required: --model")
	assert.Contains(t, errOut, "--model DIR and --driver-arg")
	assert.NotContains(t, errOut, "usage:")
	assert.NotContains(t, errOut, "no stdout line seen")
	assert.Len(t, strings.Split(strings.TrimSpace(errOut), "\n"), 2, "two lines: the error and its fix\n%s", errOut)
}
