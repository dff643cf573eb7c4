package simkit

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
)

// hfcbReq is one request of a hand-checked trace: it is handed to the scheduler just
// before step addAt (1-based).
type hfcbReq struct {
	id             string
	prompt, output int
	addAt          int
}

// runHFCBSteps drives the scheduler directly, one unit-time step after another, and
// renders each step's batch as "id:tokens" items in batch order ("-" when idle).
func runHFCBSteps(t *testing.T, settings validation.EngineSettings, reqs []hfcbReq, steps int) ([]string, map[string]*SimRequest) {
	t.Helper()
	var warns []string
	s, err := NewScheduler(SchedulerConfig{Settings: settings, Warn: func(w string) { warns = append(warns, w) }})
	require.NoError(t, err)
	byID := map[string]*SimRequest{}
	var out []string
	for step := 1; step <= steps; step++ {
		for i, q := range reqs {
			if q.addAt == step {
				r := NewSimRequest(i, scenarios.Request{ID: q.id, PromptTokens: q.prompt, OutputTokens: q.output}, true)
				byID[q.id] = r
				s.Add(r)
			}
		}
		b, ok := s.NextBatch(float64(step))
		if !ok {
			out = append(out, "-")
			continue
		}
		parts := make([]string, len(b.Items))
		for i, it := range b.Items {
			parts[i] = fmt.Sprintf("%s:%d", it.Req.Request.ID, it.Tokens)
			it.Req.OnBatchSchedule(float64(step))
			it.Req.OnBatchEnd(float64(step), it.Tokens)
		}
		s.OnBatchEnd(b, float64(step))
		out = append(out, strings.Join(parts, " "))
	}
	require.Empty(t, warns)
	return out, byID
}

func hfcbSettings(sched string, budget, maxSeqs, blockSize, numBlocks int) validation.EngineSettings {
	return validation.EngineSettings{Scheduler: sched, TokenBudget: budget, MaxSeqs: maxSeqs,
		BlockSize: blockSize, NumBlocks: numBlocks, TP: 1, PP: 1}
}

// repeatStep is n copies of one step's rendering.
func repeatStep(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestHFCBBatchCompositions(t *testing.T) {
	h200 := hfcbSettings("hfcb", 8192, 1024, 256, 3823)
	six := "a:1 b:1 c:1 d:1 e:1 f:1"
	tests := []struct {
		name     string
		settings validation.EngineSettings
		reqs     []hfcbReq
		want     []string
	}{
		{
			// The explore run: six short prompts then a 9000-token one, submitted together.
			// Step 1 gives the long prompt what is left of the 8192 budget (8192 − 60).
			name:     "six short and one long, H200 settings",
			settings: h200,
			reqs: []hfcbReq{{"a", 10, 20, 1}, {"b", 10, 20, 1}, {"c", 10, 20, 1}, {"d", 10, 20, 1},
				{"e", 10, 20, 1}, {"f", 10, 20, 1}, {"g", 9000, 4, 1}},
			want: append(append([]string{
				"a:10 b:10 c:10 d:10 e:10 f:10 g:8132",
				six + " g:868"},
				repeatStep(six+" g:1", 3)...), // g's tokens 2..4
				append(repeatStep(six, 15), "-")...), // a–f end at step 20
		},
		{
			// Decodes first, then the split prefill, then new prompts, from one budget.
			name:     "budget split across prompts",
			settings: hfcbSettings("hfcb", 16, 1024, 256, 100),
			reqs:     []hfcbReq{{"a", 10, 3, 1}, {"b", 10, 3, 1}, {"c", 10, 2, 1}},
			want:     []string{"a:10 b:6", "a:1 b:4 c:10", "a:1 b:1 c:1", "b:1", "-"},
		},
		{
			name:     "max requests per batch",
			settings: hfcbSettings("hfcb:fifo", 8192, 2, 256, 100),
			reqs:     []hfcbReq{{"a", 5, 2, 1}, {"b", 5, 2, 1}, {"c", 5, 1, 1}},
			want:     []string{"a:5 b:5", "a:1 b:1", "c:5", "-"},
		},
		{
			name:     "fifo: decodes before a split prefill",
			settings: hfcbSettings("hfcb:fifo", 16, 1024, 256, 100),
			reqs:     []hfcbReq{{"a", 4, 5, 1}, {"b", 40, 2, 2}},
			want:     []string{"a:4", "a:1 b:15", "a:1 b:15", "a:1 b:10", "a:1 b:1", "-"},
		},
		{
			name:     "prefill_first: a split prefill before decodes",
			settings: hfcbSettings("hfcb:prefill_first", 16, 1024, 256, 100),
			reqs:     []hfcbReq{{"a", 4, 5, 1}, {"b", 40, 2, 2}},
			want:     []string{"a:4", "a:1 b:15", "b:16", "b:9 a:1", "a:1 b:1", "a:1", "-"},
		},
		{
			// 10 blocks of 4, margin 0.15 → 1.5 blocks. a takes (30+1)//4+1 = 8; b's 2 tokens
			// take 1 more; c finds 1 free block (< 1.5) behind a scheduled item and waits
			// until a and b finish.
			name:     "safety margin holds back new prompts",
			settings: hfcbSettings("hfcb", 8192, 1024, 4, 10),
			reqs:     []hfcbReq{{"a", 30, 3, 1}, {"b", 2, 2, 2}, {"c", 2, 1, 2}},
			want:     []string{"a:30", "a:1 b:2", "a:1 b:1", "c:2", "-"},
		},
		{
			// 4 blocks of 4: each 3-token prompt takes (3+1)//4+1 = 2 blocks. At step 7 both
			// decoders need a fifth block; b (newest) is soft-reset with prompt 3+6 and 4
			// tokens to go, and waits (block_new_requests) until a finishes.
			name:     "out of blocks: soft reset of the newest starved request",
			settings: hfcbSettings("hfcb", 8192, 1024, 4, 4),
			reqs:     []hfcbReq{{"a", 3, 10, 1}, {"b", 3, 10, 1}},
			want: append(append(append([]string{"a:3 b:3"}, repeatStep("a:1 b:1", 5)...),
				repeatStep("a:1", 4)...), "b:9", "b:1", "b:1", "b:1", "-"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := runHFCBSteps(t, tc.settings, tc.reqs, len(tc.want))
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestHFCBBlockFormulaAndRestartRecord(t *testing.T) {
	// Block size 4: a 7-token prompt takes (7+1)//4+1 = 3 blocks (one more than needed);
	// decodes fit in them up to KV length 11, and the decode at KV length 12 takes
	// (1+1)//4+1 = 1 more.
	_, reqs := runHFCBSteps(t, hfcbSettings("hfcb", 8192, 1024, 4, 100),
		[]hfcbReq{{"a", 7, 10, 1}}, 1)
	assert.Equal(t, 3, reqs["a"].Blocks, "after the prefill")
	_, reqs = runHFCBSteps(t, hfcbSettings("hfcb", 8192, 1024, 4, 100),
		[]hfcbReq{{"a", 7, 10, 1}}, 6)
	assert.Equal(t, 3, reqs["a"].Blocks, "after decodes at KV lengths 7..11")
	_, reqs = runHFCBSteps(t, hfcbSettings("hfcb", 8192, 1024, 4, 100),
		[]hfcbReq{{"a", 7, 10, 1}}, 7)
	assert.Equal(t, 4, reqs["a"].Blocks, "the decode at KV length 12 needs a fourth block")

	_, reqs = runHFCBSteps(t, hfcbSettings("hfcb", 8192, 1024, 4, 4),
		[]hfcbReq{{"a", 3, 10, 1}, {"b", 3, 10, 1}}, 15)
	b := reqs["b"]
	require.True(t, b.Completed)
	assert.Equal(t, 1, b.Restarts)
	assert.Equal(t, []float64{1, 2, 3, 4, 5, 6, 11, 12, 13, 14}, b.TokenTimesS,
		"tokens 1–6 before the reset keep their times; the re-prefill yields token 7")
	assert.Equal(t, 0, reqs["a"].Restarts)
}

func TestHFCBConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings validation.EngineSettings
		wantErr  string
	}{
		{"unknown sub-policy", hfcbSettings("hfcb:lifo", 8192, 1024, 256, 10), `sub-policy "lifo"`},
		{"pipeline parallel", validation.EngineSettings{Scheduler: "hfcb", PP: 2, NumBlocks: 10}, "pp 2"},
		{"negative budget", hfcbSettings("hfcb", -1, 1024, 256, 10), "must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewScheduler(SchedulerConfig{Settings: tc.settings, NumStages: max(tc.settings.PP, 1)})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestHFCBDefaultsWarn(t *testing.T) {
	var warns []string
	_, err := NewScheduler(SchedulerConfig{
		Settings: validation.EngineSettings{Scheduler: "hfcb", NumBlocks: 3823},
		Warn:     func(w string) { warns = append(warns, w) },
	})
	require.NoError(t, err)
	assert.Len(t, warns, 3, "token_budget, max_seqs and block_size each fall back with a warning")
}
