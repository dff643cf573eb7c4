package scenarios

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTraceCSV(t *testing.T) {
	tests := []struct {
		name string
		csv  string
		want []Request
	}{
		{"vidur columns", "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,374,44\n1.5,10,2\n",
			[]Request{{ID: "r0000", PromptTokens: 374, OutputTokens: 44}, {ID: "r0001", ArrivalS: 1.5, PromptTokens: 10, OutputTokens: 2}}},
		{"any column order, extra columns ignored", "num_decode_tokens,extra,arrived_at,num_prefill_tokens,extra\n3,x,0.25,7,y\n",
			[]Request{{ID: "r0000", ArrivalS: 0.25, PromptTokens: 7, OutputTokens: 3}}},
		{"id column and spaces", "id, arrived_at ,num_prefill_tokens,num_decode_tokens\nreq-b, 0 ,1,1\nreq-a,0,2,2\n",
			[]Request{{ID: "req-b", PromptTokens: 1, OutputTokens: 1}, {ID: "req-a", PromptTokens: 2, OutputTokens: 2}}},
		{"byte order mark, CRLF", "\ufeffarrived_at,num_prefill_tokens,num_decode_tokens\r\n-0,5,6\r\n",
			[]Request{{ID: "r0000", PromptTokens: 5, OutputTokens: 6}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTraceCSV(strings.NewReader(tt.csv), "t.csv")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.False(t, math.Signbit(got[0].ArrivalS), "no negative zero")
		})
	}
}

func TestParseTraceCSVErrors(t *testing.T) {
	const header = "arrived_at,num_prefill_tokens,num_decode_tokens\n"
	tests := []struct {
		name string
		csv  string
		want string
	}{
		{"empty file", "", "t.csv: empty file: want a header arrived_at,num_prefill_tokens,num_decode_tokens"},
		{"header only", header, "t.csv: no requests after the header"},
		{"missing columns", "arrived_at,prompt\n0,1\n", "t.csv: line 1: missing column num_prefill_tokens, num_decode_tokens (header has arrived_at,prompt)"},
		{"duplicate column", "arrived_at,num_prefill_tokens,num_decode_tokens,arrived_at\n0,1,1,0\n", "t.csv: line 1: column arrived_at appears twice"},
		{"non-numeric time", header + "0,1,1\nsoon,1,1\n", `t.csv: line 3, column arrived_at: "soon" is not a number`},
		{"non-integer tokens", header + "0,1.5,1\n", `t.csv: line 2, column num_prefill_tokens: "1.5" is not an integer`},
		{"NaN time", header + "NaN,1,1\n", "t.csv: line 2, column arrived_at: must be a finite time ≥ 0, got NaN"},
		{"infinite time", header + "+Inf,1,1\n", "t.csv: line 2, column arrived_at: must be a finite time ≥ 0, got +Inf"},
		{"negative time", header + "-1,1,1\n", "t.csv: line 2, column arrived_at: must be a finite time ≥ 0, got -1"},
		{"absurd time", header + "0,1,1\n1e20,1,1\n", "t.csv: line 3, column arrived_at: 1e+20 s is beyond the arrival horizon of 1e+06 s (11.6 days"},
		{"far time", header + "1e12,1,1\n", "t.csv: line 2, column arrived_at: 1e+12 s is beyond the arrival horizon"},
		{"zero prompt", header + "0,0,1\n", "t.csv: line 2, column num_prefill_tokens: must be in [1, 10000000], got 0"},
		{"negative output", header + "0,1,-4\n", "t.csv: line 2, column num_decode_tokens: must be in [1, 10000000], got -4"},
		{"unsorted", header + "1,1,1\n0.5,1,1\n", "t.csv: line 3, column arrived_at: 0.5 is before the previous arrival 1: arrivals must be sorted"},
		{"duplicate id", "id,arrived_at,num_prefill_tokens,num_decode_tokens\na,0,1,1\nb,0,1,1\na,1,1,1\n", `t.csv: line 4, column id: duplicate id "a" (first at line 2)`},
		{"bad id", "id,arrived_at,num_prefill_tokens,num_decode_tokens\n,0,1,1\n", `t.csv: line 2, column id: "" must be 1–128 of letters`},
		{"ragged row", header + "0,1\n", "t.csv: record on line 2: wrong number of fields"},
		{"multi-line quoted cell", header + "0,1,1\n\"1\n\",x,1\n", `t.csv: line 4, column num_prefill_tokens: "x" is not an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTraceCSV(strings.NewReader(tt.csv), "t.csv")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParseTraceJSONL(t *testing.T) {
	in := `{"id":"a","arrival_s":0,"prompt_tokens":3,"output_tokens":4}

  {"output_tokens":1, "prompt_tokens":2, "arrival_s":1e-3, "id":"b"}  
{"id":"c","arrival_s":2.5,"prompt_tokens":1,"output_tokens":1}`
	got, err := ParseTraceJSONL(strings.NewReader(in), "t.jsonl")
	require.NoError(t, err)
	assert.Equal(t, []Request{
		{ID: "a", PromptTokens: 3, OutputTokens: 4},
		{ID: "b", ArrivalS: 0.001, PromptTokens: 2, OutputTokens: 1},
		{ID: "c", ArrivalS: 2.5, PromptTokens: 1, OutputTokens: 1},
	}, got)
}

func TestParseTraceJSONLErrors(t *testing.T) {
	const ok = `{"id":"a","arrival_s":1,"prompt_tokens":3,"output_tokens":4}` + "\n"
	tests := []struct {
		name  string
		jsonl string
		want  string
	}{
		{"empty", "\n\n", "t.jsonl: no requests"},
		{"unknown field", `{"id":"a","arrival_s":0,"prompt_tokens":3,"output_tokens":4,"prio":1}`, `t.jsonl: line 1: unknown field "prio"`},
		{"field name in other case", `{"ID":"a","arrival_s":0,"prompt_tokens":3,"output_tokens":4}`, `t.jsonl: line 1: unknown field "ID"`},
		{"missing field", ok + `{"id":"b","arrival_s":2,"prompt_tokens":3}`, "t.jsonl: line 2: missing field output_tokens"},
		{"null field", `{"id":null,"arrival_s":0,"prompt_tokens":3,"output_tokens":4}`, "t.jsonl: line 1: field id: null"},
		{"string tokens", `{"id":"a","arrival_s":0,"prompt_tokens":"3","output_tokens":4}`, "t.jsonl: line 1: field prompt_tokens: cannot unmarshal string"},
		{"fractional tokens", `{"id":"a","arrival_s":0,"prompt_tokens":3.5,"output_tokens":4}`, "t.jsonl: line 1: field prompt_tokens: cannot unmarshal number 3.5"},
		{"huge time", `{"id":"a","arrival_s":1e999,"prompt_tokens":3,"output_tokens":4}`, "t.jsonl: line 1: field arrival_s: cannot unmarshal number 1e999"},
		{"negative time", `{"id":"a","arrival_s":-0.5,"prompt_tokens":3,"output_tokens":4}`, "t.jsonl: line 1: field arrival_s: must be a finite time ≥ 0, got -0.5"},
		{"zero output", `{"id":"a","arrival_s":0,"prompt_tokens":3,"output_tokens":0}`, "t.jsonl: line 1: field output_tokens: must be in [1, 10000000], got 0"},
		{"unsorted", ok + `{"id":"b","arrival_s":0.5,"prompt_tokens":3,"output_tokens":4}`, "t.jsonl: line 2: field arrival_s: 0.5 is before the previous arrival 1"},
		{"duplicate id", ok + "\n" + ok, `t.jsonl: line 3: field id: duplicate id "a" (first at line 1)`},
		{"two objects on a line", strings.TrimSpace(ok) + ok, "t.jsonl: line 1: trailing data after the object"},
		{"not an object", "[1]", "t.jsonl: line 1: cannot unmarshal array"},
		{"null line", "null", "t.jsonl: line 1: want an object, got null"},
		{"syntax", `{"id":"a",`, "t.jsonl: line 1: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTraceJSONL(strings.NewReader(tt.jsonl), "t.jsonl")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestTraceRoundTrip(t *testing.T) {
	tenth, fifth := 0.1, 0.2
	reqs := []Request{
		{ID: "r0000", ArrivalS: 0, PromptTokens: 7, OutputTokens: 64},
		{ID: "r0001", ArrivalS: tenth + fifth, PromptTokens: 12000, OutputTokens: 1}, // needs 17 digits
		{ID: "x/y:z-1.2_3", ArrivalS: 999999.5, PromptTokens: MaxTokens, OutputTokens: 3},
	}
	var csvBuf, jsonBuf bytes.Buffer
	require.NoError(t, WriteTraceCSV(&csvBuf, reqs))
	require.NoError(t, WriteTraceJSONL(&jsonBuf, reqs))
	assert.Equal(t, "arrived_at,num_prefill_tokens,num_decode_tokens,id\n0,7,64,r0000\n0.30000000000000004,12000,1,r0001\n999999.5,10000000,3,x/y:z-1.2_3\n", csvBuf.String())
	assert.Equal(t, `{"id":"r0000","arrival_s":0,"prompt_tokens":7,"output_tokens":64}`+"\n", strings.SplitAfter(jsonBuf.String(), "\n")[0])

	fromCSV, err := ParseTraceCSV(&csvBuf, "t.csv")
	require.NoError(t, err)
	assert.Equal(t, reqs, fromCSV)
	fromJSON, err := ParseTraceJSONL(&jsonBuf, "t.jsonl")
	require.NoError(t, err)
	assert.Equal(t, reqs, fromJSON)
}

func TestWriteTraceRefusesInvalidRequests(t *testing.T) {
	bad := []Request{{ID: "a", ArrivalS: math.NaN(), PromptTokens: 1, OutputTokens: 1}}
	want := `request 0 (id "a"): arrival_s: must be a finite time ≥ 0, got NaN`
	assert.EqualError(t, WriteTraceCSV(&bytes.Buffer{}, bad), want)
	assert.EqualError(t, WriteTraceJSONL(&bytes.Buffer{}, bad), want)
}

func TestReadTraceChoosesFormatByExtension(t *testing.T) {
	dir := t.TempDir()
	want := []Request{{ID: "q1", ArrivalS: 0.5, PromptTokens: 9, OutputTokens: 2}}
	var buf bytes.Buffer
	require.NoError(t, WriteTraceJSONL(&buf, want))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "w.JSONL"), buf.Bytes(), 0o644))
	buf.Reset()
	require.NoError(t, WriteTraceCSV(&buf, want))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "w.csv"), buf.Bytes(), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "w.json"), buf.Bytes(), 0o644))

	for _, name := range []string{"w.JSONL", "w.csv"} {
		got, err := ReadTrace(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}
	_, err := ReadTrace(filepath.Join(dir, "w.json"))
	assert.ErrorContains(t, err, `w.json: unknown trace format ".json" (want .csv or .jsonl)`)
	_, err = ReadTrace(filepath.Join(dir, "absent.csv"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
