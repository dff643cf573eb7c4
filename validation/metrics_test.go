package validation

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValues(t *testing.T) {
	withSched := rec("s", 1, 1.5, 1.7)
	withSched.FirstScheduledS = ptr(1.25)
	tests := []struct {
		name   string
		metric Metric
		recs   []Record
		want   []float64
	}{
		{"empty ttft", TTFT, nil, nil},
		{"empty itl", ITL, nil, nil},
		{"ttft per request", TTFT, []Record{rec("a", 0, 0.5, 1), rec("b", 2, 2.25)}, []float64{0.5, 0.25}},
		{"e2e per request", E2E, []Record{rec("a", 0, 0.5, 1), rec("b", 2, 2.25)}, []float64{1, 0.25}},
		{"itl pooled in record order", ITL, []Record{rec("a", 0, 0.5, 1, 2), rec("b", 2, 2.25, 2.5)}, []float64{0.5, 1, 0.25}},
		{"tpot skips D=1", TPOT, []Record{rec("a", 0, 0.5, 1, 2), rec("b", 2, 2.25)}, []float64{0.75}},
		{"single D=1 request has no itl", ITL, []Record{rec("b", 2, 2.25)}, nil},
		{"sched delay only where known", SchedDelay, []Record{rec("a", 0, 0.5), withSched}, []float64{0.25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDeltaSlice(t, tt.want, Values(tt.metric, tt.recs), 1e-12)
			assert.Len(t, Values(tt.metric, tt.recs), len(tt.want))
		})
	}
}

func TestValuesPanicsOnUnknownMetric(t *testing.T) {
	assert.Panics(t, func() { Values("latency", []Record{rec("a", 0, 1)}) })
}

func TestParseMetric(t *testing.T) {
	m, err := ParseMetric("sched_delay")
	require.NoError(t, err)
	assert.Equal(t, SchedDelay, m)
	_, err = ParseMetric("TTFT")
	assert.ErrorContains(t, err, `unknown metric "TTFT"`)
}

func TestValidateRecords(t *testing.T) {
	good := func() Record { return rec("r7", 1, 1.5, 1.6, 1.8) }
	tests := []struct {
		name  string
		edit  func(r *Record)
		field string // "" = valid
		msg   string
	}{
		{"valid", func(*Record) {}, "", ""},
		{"valid with sched", func(r *Record) { r.FirstScheduledS = ptr(1.2) }, "", ""},
		{"NaN arrival", func(r *Record) { r.ArrivalS = math.NaN() }, "arrival_s", "NaN"},
		{"NaN token time", func(r *Record) { r.TokenTimesS[1] = math.NaN() }, "token_times_s[1]", "NaN"},
		{"Inf completion", func(r *Record) { r.CompletionS = math.Inf(1) }, "completion_s", "infinite"},
		{"negative arrival", func(r *Record) { r.ArrivalS = -1 }, "arrival_s", "negative"},
		{"negative prompt tokens", func(r *Record) { r.PromptTokens = -3 }, "prompt_tokens", "negative"},
		{"negative restarts", func(r *Record) { r.Restarts = -1 }, "restarts", "negative"},
		{"zero output tokens", func(r *Record) { r.OutputTokens, r.TokenTimesS = 0, nil }, "output_tokens", "want ≥ 1"},
		{"token count mismatch", func(r *Record) { r.OutputTokens = 4 }, "token_times_s", "3 token times for output_tokens 4"},
		{"token times decreasing", func(r *Record) { r.TokenTimesS[2] = 1.55 }, "token_times_s[2]", "decreasing"},
		{"first token differs", func(r *Record) { r.FirstTokenS = 1.4 }, "first_token_s", "differs from token_times_s[0]"},
		{"completion differs", func(r *Record) { r.CompletionS = 1.9 }, "completion_s", "differs from the last token time"},
		{"first token before arrival", func(r *Record) { r.ArrivalS = 1.55 }, "first_token_s", "before arrival_s"},
		{"NaN first scheduled", func(r *Record) { r.FirstScheduledS = ptr(math.NaN()) }, "first_scheduled_s", "NaN"},
		{"scheduled after first token", func(r *Record) { r.FirstScheduledS = ptr(1.7) }, "first_scheduled_s", "outside"},
		{"empty id", func(r *Record) { r.ID = "" }, "id", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.edit(&r)
			err := ValidateRecords([]Record{rec("r0", 0, 0.1), r})
			if tt.field == "" {
				assert.NoError(t, err)
				return
			}
			var re *RecordError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, 1, re.Index)
			assert.Equal(t, tt.field, re.Field)
			assert.Contains(t, re.Problem, tt.msg)
			assert.Contains(t, err.Error(), "record 1 (id \""+r.ID+"\"): "+tt.field+": ")
		})
	}
}

func TestValidateRecordsDuplicateID(t *testing.T) {
	err := ValidateRecords([]Record{rec("a", 0, 1), rec("b", 1, 2), rec("a", 2, 3)})
	assert.EqualError(t, err, `record 2 (id "a"): id: duplicate of record 0`)
}

func TestValidateRecordsEmpty(t *testing.T) {
	assert.NoError(t, ValidateRecords(nil))
}
