package scenarios

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"
)

// Each fuzz target checks that parsing never panics and that whatever it accepts
// survives a write and a re-read unchanged. Under plain `go test` only the seeds run.

func FuzzParseTraceCSV(f *testing.F) {
	f.Add("arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,374,44\n1.5,10,2\n")
	f.Add("id,num_decode_tokens,arrived_at,num_prefill_tokens,x\na,3,0.25,7,y\nb,1,0x1p-2,2,\n")
	f.Add("arrived_at,num_prefill_tokens,num_decode_tokens\n1,1,1\n0,1,1\n")
	f.Add("arrived_at,num_prefill_tokens,num_decode_tokens\n\"1\n\",+5,007\n")
	f.Add("arrived_at,num_prefill_tokens\nNaN,1\n")
	f.Fuzz(func(t *testing.T, in string) {
		reqs, err := ParseTraceCSV(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		roundTrip(t, reqs)
	})
}

func FuzzParseTraceJSONL(f *testing.F) {
	f.Add(`{"id":"a","arrival_s":0,"prompt_tokens":3,"output_tokens":4}` + "\n\n" + `{"id":"b","arrival_s":1e-3,"prompt_tokens":2,"output_tokens":1}`)
	f.Add(`{"id":"a","arrival_s":0,"prompt_tokens":3,"output_tokens":4,"x":1}`)
	f.Add(`{"id":"a","arrival_s":-0,"prompt_tokens":3,"output_tokens":4}{}`)
	f.Add(`{"id":"\u00e9","arrival_s":5e-324,"prompt_tokens":1,"output_tokens":10000000}`)
	f.Add("null\n[1]\n")
	f.Fuzz(func(t *testing.T, in string) {
		reqs, err := ParseTraceJSONL(strings.NewReader(in), "fuzz.jsonl")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.jsonl: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		roundTrip(t, reqs)
	})
}

// roundTrip writes accepted requests in both formats and reads them back.
func roundTrip(t *testing.T, reqs []Request) {
	t.Helper()
	var csvBuf, jsonBuf bytes.Buffer
	if err := WriteTraceCSV(&csvBuf, reqs); err != nil {
		t.Fatalf("accepted requests refused by WriteTraceCSV: %v", err)
	}
	if err := WriteTraceJSONL(&jsonBuf, reqs); err != nil {
		t.Fatalf("accepted requests refused by WriteTraceJSONL: %v", err)
	}
	for name, buf := range map[string]*bytes.Buffer{"csv": &csvBuf, "jsonl": &jsonBuf} {
		got, err := parseTrace(buf, "again."+name)
		if err != nil {
			t.Fatalf("%s written trace does not read back: %v", name, err)
		}
		if diff := cmp.Diff(reqs, got); diff != "" {
			t.Fatalf("%s round trip changed the requests (-want +got):\n%s", name, diff)
		}
	}
}

func FuzzParseScenario(f *testing.F) {
	f.Add(specWith(okWorkload))
	f.Add(specWith(okWorkload) + "targets:\n  h200-x:\n    arrivals: {kind: gamma, rate_per_s: 2, cv: 3}\n    count: 2\n" +
		"bounds:\n  - {metric: ttft, stat: p99, max: 0.15, reason: few samples}\n")
	f.Add(specWith("  arrivals: {kind: explicit, times_s: [0, 0, 1.5]}\n  prompt_tokens: {kind: list, values: [1, 2], cycle: true}\n  output_tokens: {kind: fixed, value: 3}\n"))
	f.Add(specWith("  count: 5\n  arrivals: {kind: burst, at_s: 1, size: 2, spacing_s: 0.5}\n  prompt_tokens: {kind: fixed, value: 1}\n  output_tokens: {kind: fixed, value: 1}\n"))
	f.Add(specWith("  count: many\n"))
	f.Add("name: a\nname: b\n")
	f.Add("{")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse("fuzz.yaml", []byte(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		out, err := yaml.Marshal(s)
		if err != nil {
			t.Fatalf("accepted scenario does not marshal: %v", err)
		}
		again, err := Parse("fuzz.yaml", out)
		if err != nil {
			t.Fatalf("re-marshalled scenario refused: %v\n%s", err, out)
		}
		if diff := cmp.Diff(s, again, cmpopts.IgnoreUnexported(Scenario{}), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip changed the scenario (-want +got):\n%s", diff)
		}
		// Generate small workloads too: an accepted spec must not panic there.
		for target, w := range s.Targets {
			if resolve(s.Workload, w).Count <= 10_000 {
				_, _ = s.Requests(target)
			}
		}
		if s.Workload.Count <= 10_000 {
			_, _ = s.Requests("")
		}
	})
}
