package simkit

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
	"github.com/stretchr/testify/require"
)

// stubPredictor charges a fixed time per step plus a time per token, and logs every
// batch it sees as "A:8 B:1" (request id:tokens), prefixed "R1 S0 " when the test
// asks for replica and stage.
type stubPredictor struct {
	perStep, perToken float64
	withPlace         bool
	log               []string
}

func (p *stubPredictor) Predict(b Batch) (StepTime, error) {
	parts := make([]string, 0, len(b.Items))
	for _, it := range b.Items {
		parts = append(parts, fmt.Sprintf("%s:%d", it.Req.Request.ID, it.Tokens))
	}
	line := strings.Join(parts, " ")
	if p.withPlace {
		line = fmt.Sprintf("R%d S%d %s", b.Replica, b.Stage, line)
	}
	p.log = append(p.log, line)
	t := p.perStep + p.perToken*float64(b.NumTokens())
	return StepTime{KernelS: t, TotalS: t}, nil
}

func req(id string, arrival float64, prompt, output int) scenarios.Request {
	return scenarios.Request{ID: id, ArrivalS: arrival, PromptTokens: prompt, OutputTokens: output}
}

// sarathiSettings is a Sarathi configuration with everything set (no defaults, no
// warnings).
func sarathiSettings(chunk, maxSeqs, blockSize, numBlocks int) validation.EngineSettings {
	return validation.EngineSettings{Scheduler: "sarathi", TokenBudget: chunk, MaxSeqs: maxSeqs,
		BlockSize: blockSize, NumBlocks: numBlocks, TP: 1, PP: 1}
}

// runStub simulates reqs with a 1 s per-step stub predictor and returns the result and
// the batch log.
func runStub(t *testing.T, opts Options, reqs []scenarios.Request) (*Result, []string) {
	t.Helper()
	stub := &stubPredictor{perStep: 1, withPlace: opts.Replicas > 1 || opts.Settings.PP > 1}
	opts.Predictor = stub
	res, err := Simulate(opts, reqs)
	require.NoError(t, err)
	return res, stub.log
}

func qwen3() ModelSpec {
	return ModelSpec{Name: "Qwen/Qwen3-0.6B", Layers: 28, Hidden: 1024, QHeads: 16, KVHeads: 8,
		HeadDim: 128, Intermediate: 3072, Vocab: 151936, TiedEmbeddings: true, GatedMLP: true,
		PostAttnNorm: true, LMHead: true, DType: "bfloat16"}
}

func loadFixture(t testing.TB) *Profile {
	t.Helper()
	p, err := LoadProfile(os.DirFS("testdata"), "fixture-profile")
	require.NoError(t, err)
	return p
}

func tokenTimes(res *Result) map[string][]float64 {
	out := map[string][]float64{}
	for _, r := range res.Records {
		out[r.ID] = r.TokenTimesS
	}
	return out
}
