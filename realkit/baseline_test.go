package realkit

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/validation"
)

func sampleBaseline() *Baseline {
	a, b := 0.1, 0.2
	sched := a + b // 0.30000000000000004: must survive the round trip exactly
	return &Baseline{
		Target: "h200-hfcb-qwen3-0.6b", Scenario: "queue-free-8",
		RecordedAt: time.Date(2026, 11, 28, 12, 30, 0, 123456789, time.UTC),
		Command:    "python3 -u drivers/hfcb_driver.py --trace trace.jsonl --repetitions 2",
		Meta: Meta{
			Protocol: 1, Engine: "hfcb", EngineVersion: "5.17.0", Driver: "hfcb_driver.py",
			Versions: map[string]string{"python": "3.12.3", "torch": "2.11.0", "transformers": "5.17.0"},
			GPU:      GPUInfo{Name: "NVIDIA H200", Driver: "580.159.03", CUDA: "13.0", Count: 1},
			Settings: validation.EngineSettings{Scheduler: "hfcb:fifo", TokenBudget: 8192, BlockSize: 256,
				NumBlocks: 4321, TP: 1, PP: 1, AttentionBackend: "paged|sdpa", DType: "bfloat16", CUDAGraphs: true,
				Model: "Qwen/Qwen3-0.6B"},
			SettingsUnknown: []string{"max_seqs"},
			EngineConfig:    json.RawMessage(`{"block_size":256,"use_cuda_graph":true}`),
			Clock:           "perf_counter", Timestamps: "engine", WarmupPolicy: "shapes: …",
			Model: json.RawMessage(`{"num_hidden_layers":28}`), Host: "gpu-1", Seed: 7, Repetitions: 2,
		},
		Repetitions: []Repetition{
			{Index: 0, Records: []validation.Record{
				{ID: "0", ArrivalS: 0, PromptTokens: 7, OutputTokens: 2, FirstTokenS: 0.017301234567891234,
					TokenTimesS: []float64{0.017301234567891234, 0.030912345678901234}, CompletionS: 0.030912345678901234,
					FirstScheduledS: &sched},
				{ID: "1", ArrivalS: 2, PromptTokens: 14, OutputTokens: 1, FirstTokenS: 2.0000000001,
					TokenTimesS: []float64{2.0000000001}, CompletionS: 2.0000000001, Restarts: 1},
			}, SubmittedS: []float64{1e-6, 2.000001}, Lateness: Lateness{Count: 2, MaxS: 1e-6, MeanS: 1e-6,
				P99S: 1e-6, WorstID: "1"},
				Steps: []Step{{Index: 0, StartS: -0.5, DurationS: 0.2, Warmup: true, Captured: true, Graphs: 1},
					{Index: 0, StartS: 0.001, DurationS: 0.0231, Items: []validation.StepItem{{ID: "0", Prefill: 7}},
						QTokens: 7, QPad: 64, KVPad: 16384, SeqKPad: 1024, Graphs: 1}},
				Summary: &Summary{Requests: 2, Finished: 2, T0Unix: 1795889391.4644957, T0Clock: 1411.90414364, DurationS: 2.1}},
			{Index: 1, Records: []validation.Record{}, SubmittedS: []float64{}},
		},
	}
}

func TestBaselineRoundTripsExactly(t *testing.T) {
	want := sampleBaseline()
	var first bytes.Buffer
	require.NoError(t, WriteBaseline(&first, want))
	assert.True(t, bytes.HasSuffix(first.Bytes(), []byte("}\n")), "ends with a newline")
	assert.Contains(t, first.String(), "\n  \"target\": \"h200-hfcb-qwen3-0.6b\",\n", "indented")

	got, err := ReadBaseline(bytes.NewReader(first.Bytes()), "b.json")
	require.NoError(t, err)
	rawJSON := cmp.Transformer("raw", func(r json.RawMessage) string {
		var b bytes.Buffer
		_ = json.Compact(&b, r)
		return b.String()
	})
	assert.Empty(t, cmp.Diff(want, got, rawJSON), "(-want +got)")
	assert.Equal(t, 0.30000000000000004, *got.Repetitions[0].Records[0].FirstScheduledS)

	var second bytes.Buffer
	require.NoError(t, WriteBaseline(&second, got))
	assert.Equal(t, first.String(), second.String(), "write → read → write is byte-identical")
}

func TestReadBaselineIsStrict(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteBaseline(&buf, sampleBaseline()))
	good := buf.String()
	tests := []struct {
		name string
		edit func(string) string
		want string
	}{
		{"unknown field", func(s string) string { return strings.Replace(s, "{\n", "{\n  \"bogus\": 1,\n", 1) },
			`baseline b.json: line 2, column 3: unknown field "bogus"`},
		{"unknown nested field", func(s string) string {
			return strings.Replace(s, `"tp": 1,`, `"tp": 1, "chunk": 512,`, 1)
		}, `unknown field "chunk"`},
		{"wrong type", func(s string) string { return strings.Replace(s, `"seed": 7`, `"seed": "7"`, 1) },
			"field meta.seed: cannot use JSON string as int64"},
		{"syntax", func(s string) string { return strings.Replace(s, `"scenario":`, `"scenario"`, 1) },
			"baseline b.json: line 3, column"},
		{"trailing data", func(s string) string { return s + "{}\n" }, "trailing data after the baseline object"},
		{"token count", func(s string) string {
			return strings.Replace(s, `"output_tokens":1,`, `"output_tokens":3,`, 1)
		}, "field repetitions[0].records[1]: request 1: 1 token times for 3 output tokens"},
		{"empty target", func(s string) string {
			return strings.Replace(s, `"target": "h200-hfcb-qwen3-0.6b"`, `"target": ""`, 1)
		}, "baseline b.json: field target: empty"},
		{"timestamps kind", func(s string) string {
			return strings.Replace(s, `"timestamps": "engine"`, `"timestamps": "wall"`, 1)
		}, `field meta.timestamps: "wall"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edited := tt.edit(good)
			require.NotEqual(t, good, edited, "the edit must apply")
			_, err := ReadBaseline(strings.NewReader(edited), "b.json")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestWriteBaselineRefusesABrokenBaseline(t *testing.T) {
	b := sampleBaseline()
	b.Repetitions[0].SubmittedS = b.Repetitions[0].SubmittedS[:1]
	err := WriteBaseline(&bytes.Buffer{}, b)
	assert.EqualError(t, err, "realkit: baseline not written: field repetitions[0].submitted_s: 1 values for 2 records")
}

func TestNewBaselineTakesTheRunAsIs(t *testing.T) {
	s := sampleBaseline()
	run := &Run{Meta: s.Meta, Repetitions: s.Repetitions, Command: s.Command, Warnings: []string{"w"}}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	b := NewBaseline("t", "s", run, at)
	assert.Equal(t, at.UTC(), b.RecordedAt)
	assert.Equal(t, s.Command, b.Command)
	assert.Equal(t, []string{"w"}, b.Warnings)
	assert.Equal(t, s.Repetitions, b.Repetitions)
}

func TestReadBaselineFileNamesTheFile(t *testing.T) {
	_, err := ReadBaselineFile("testdata/does-not-exist.json")
	assert.ErrorContains(t, err, "testdata/does-not-exist.json")
}

func TestReadBaselineFileReadsGzip(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteBaseline(&buf, sampleBaseline()))
	dir := t.TempDir()
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, err := w.Write(buf.Bytes())
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "run.json.gz"), z.Bytes(), 0o644))
	got, err := ReadBaselineFile(filepath.Join(dir, "run.json.gz"))
	require.NoError(t, err)
	assert.Equal(t, sampleBaseline().Repetitions, got.Repetitions)

	// Not gzip: said with the file's name.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plain.json.gz"), buf.Bytes(), 0o644))
	_, err = ReadBaselineFile(filepath.Join(dir, "plain.json.gz"))
	assert.ErrorContains(t, err, "plain.json.gz")
}

func TestBaselineFileHasOneLinePerRecordAndStep(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteBaseline(&buf, sampleBaseline()))
	lines := strings.Split(buf.String(), "\n")
	count := func(prefix string) int {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), prefix) {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 2, count(`{"id":`), "one line per record")
	assert.Equal(t, 2, count(`{"index":0,"start_s"`), "one line per step")
	assert.Equal(t, 1, count(`"target": "h200-hfcb-qwen3-0.6b",`), "the head stays indented")
}
