package vidurfmt

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/simval/simval/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTraceReplayRules(t *testing.T) {
	def := DefaultTraceReplay()
	tests := []struct {
		name string
		cfg  TraceReplay
		csv  string
		want []TraceRow
	}{
		{
			name: "plain rows keep their order",
			cfg:  def, csv: "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,300,40\n3.271828,200,100\n1.5,5,5\n",
			want: []TraceRow{{0, 300, 40, 0}, {3.271828, 200, 100, 0}, {1.5, 5, 5, 0}},
		},
		{
			name: "columns by name, extras ignored",
			cfg:  def, csv: "id,num_decode_tokens,x,arrived_at,num_prefill_tokens\nq,7,zz,2.5,9\n",
			want: []TraceRow{{2.5, 9, 7, 0}},
		},
		{
			// 10·0.35 = 3.5 → 3; 3·0.35 = 1.05 → 1; 2·0.35 = 0.7 → 0 → clipped to 1;
			// floats truncate towards zero; 0 and negatives clip to 1.
			name: "scale, truncate, clip",
			cfg:  TraceReplay{PrefillScale: 0.35, DecodeScale: 0.35, TimeScale: 2, MaxTokens: 4096},
			csv:  "arrived_at,num_prefill_tokens,num_decode_tokens\n1.25,10,3\n2,2,-4\n3,12.9,0\n",
			want: []TraceRow{{2.5, 3, 1, 0}, {4, 1, 1, 0}, {6, 4, 1, 0}},
		},
		{
			name: "prompt trimmed to max_tokens",
			cfg:  TraceReplay{PrefillScale: 1, DecodeScale: 1, TimeScale: 1, MaxTokens: 100},
			csv:  "arrived_at,num_prefill_tokens,num_decode_tokens\n0,90,20\n0,80,20\n",
			want: []TraceRow{{0, 80, 20, 10}, {0, 80, 20, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTrace(strings.NewReader(tt.csv), "t.csv", tt.cfg)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseTraceErrors(t *testing.T) {
	head := "arrived_at,num_prefill_tokens,num_decode_tokens\n"
	tests := []struct {
		name, csv string
		cfg       TraceReplay
		want      string
	}{
		{"missing column", "arrived_at,num_prefill_tokens\n0,1\n", DefaultTraceReplay(), `t.csv:1: missing column "num_decode_tokens"`},
		{"not a number", head + "0,5,5\n1,five,5\n", DefaultTraceReplay(), `t.csv:3: column "num_prefill_tokens": "five" is not a number`},
		{"empty cell", head + "0,5,\n", DefaultTraceReplay(), `t.csv:2: column "num_decode_tokens": "" is not a number`},
		{"infinite arrival", head + "inf,5,5\n", DefaultTraceReplay(), `t.csv:2: column "arrived_at": "inf" is not a finite number`},
		{"no prompt left", head + "0,5,4096\n", DefaultTraceReplay(), `t.csv:2: column "num_decode_tokens": output 4096 leaves no prompt under max_tokens 4096`},
		{"no rows", head, DefaultTraceReplay(), "t.csv: no requests"},
		{"empty file", "", DefaultTraceReplay(), "t.csv: empty file"},
		{"bad scale", head + "0,1,1\n", TraceReplay{PrefillScale: 0, DecodeScale: 1, TimeScale: 1, MaxTokens: 10}, "prefill_scale_factor must be finite and > 0"},
		{"ragged row", head + "0,1\n", DefaultTraceReplay(), "t.csv: record on line 2: wrong number of fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTrace(strings.NewReader(tt.csv), "t.csv", tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestWriteTraceRoundTrip(t *testing.T) {
	tenth := 0.1 // a variable, so that 0.1 + 0.2 is float64 arithmetic (0.30000000000000004)
	reqs := []scenarios.Request{
		{ID: "x", ArrivalS: 0, PromptTokens: 7, OutputTokens: 64},
		{ID: "y", ArrivalS: 3.271828, PromptTokens: 200, OutputTokens: 100},
		{ID: "z", ArrivalS: tenth + 0.2, PromptTokens: 1, OutputTokens: 1},
	}
	var b bytes.Buffer
	require.NoError(t, WriteTrace(&b, reqs))
	assert.Equal(t, "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,7,64\n3.271828,200,100\n0.30000000000000004,1,1\n", b.String())
	rows, err := ParseTrace(&b, "round-trip", DefaultTraceReplay())
	require.NoError(t, err)
	got := Requests(rows)
	for i := range reqs {
		assert.Equal(t, reqs[i].ArrivalS, got[i].ArrivalS, "arrival %d round-trips exactly", i)
		assert.Equal(t, reqs[i].PromptTokens, got[i].PromptTokens)
		assert.Equal(t, reqs[i].OutputTokens, got[i].OutputTokens)
	}
	assert.Equal(t, []string{"0", "1", "2"}, []string{got[0].ID, got[1].ID, got[2].ID}, "ids are Vidur's row ids")
	assert.ErrorContains(t, WriteTrace(&b, []scenarios.Request{{ID: "bad", PromptTokens: 0, OutputTokens: 1}}), `request "bad"`)
}

// TestPyFloat pins Python's repr of floats, which Vidur's files use.
func TestPyFloat(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0.0", 2: "2.0", -3: "-3.0", 1234567: "1234567.0", 123.456: "123.456", 1e16: "1e+16",
		1.5e16: "1.5e+16", 1e-5: "1e-05", 0.0001: "0.0001", 1e22: "1e+22", 0.02996693727451113: "0.02996693727451113",
	} {
		assert.Equal(t, want, pyFloat(v), "%v", v)
	}
}

// pyFloatTwoPass is the straightforward form of pyFloat (format twice, pick), kept to
// check the single-pass one against.
func pyFloatTwoPass(v float64) string {
	sci := strconv.FormatFloat(v, 'e', -1, 64)
	exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return sci
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func TestPyFloatMatchesTwoPass(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var v float64
		switch rng.IntN(3) {
		case 0: // any finite double
			v = math.Float64frombits(rng.Uint64())
			if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
				continue
			}
		case 1: // latencies and token counts: 1e-6 … 1e6 s
			v = math.Pow(10, rng.Float64()*12-6)
		default: // integral values around the positional/scientific switch at 1e16
			v = math.Trunc(math.Pow(10, rng.Float64()*18))
		}
		if rng.IntN(2) == 0 {
			v = -v
		}
		require.Equal(t, pyFloatTwoPass(v), pyFloat(v), "%b", v)
	}
}
