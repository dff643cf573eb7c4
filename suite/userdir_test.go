package suite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/internal/catalogdirs"
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/targets"
)

// A user's scenario finds its recorded run in its own catalog folder
// (DIR/baselines/<target>/<scenario>.json) and is judged against it on an embedded
// target, with no copy of the target. The run here is the embedded queue-free
// baseline under the user scenario's name, so the verdict is known: pass.
func TestUserScenarioIsJudgedAgainstItsFoldersBaseline(t *testing.T) {
	const h200 = "h200-hfcb-qwen3-0.6b"
	dir := t.TempDir()
	spec, err := os.ReadFile("../scenarios/catalog/queue-free-spaced.yaml")
	require.NoError(t, err)
	run, err := os.ReadFile("../targets/catalog/" + h200 + "/baselines/queue-free-spaced.json")
	require.NoError(t, err)
	write := func(rel, data string) {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	write("scenarios/my-qf.yaml", strings.Replace(string(spec), "name: queue-free-spaced", "name: my-qf", 1))
	write("baselines/"+h200+"/my-qf.json", strings.Replace(string(run), `"scenario": "queue-free-spaced"`, `"scenario": "my-qf"`, 1))
	t.Setenv(catalogdirs.Env, dir)

	sc, err := scenarios.Lookup("my-qf")
	require.NoError(t, err)
	tgt, err := targets.Lookup(h200)
	require.NoError(t, err)
	real, why, err := RecordedBaselines(sc, tgt)
	require.NoError(t, err)
	require.NotNil(t, real, why)
	assert.Equal(t, filepath.Join(dir, "baselines", h200, "my-qf.json"), real.Source)
	ev, err := Evaluate(context.Background(), sc, tgt, Simulator{}, real)
	require.NoError(t, err)
	assert.True(t, ev.Comparison.Pass(), "the embedded queue-free baseline passes under any name")

	fixture, err := targets.Lookup("fixture-sarathi-qwen3-0.6b")
	require.NoError(t, err)
	real, why, err = RecordedBaselines(sc, fixture)
	require.NoError(t, err)
	assert.Nil(t, real)
	assert.Equal(t, "no baseline recorded at "+filepath.Join(dir, "baselines", "fixture-sarathi-qwen3-0.6b", "my-qf.json")+
		" or targets/catalog/fixture-sarathi-qwen3-0.6b/baselines/my-qf.json", why)
}

func TestEvaluateRefusesAMisspelledTargetOverride(t *testing.T) {
	sc, err := scenarios.Parse("s.yaml", []byte("name: s\nregime: batched\ndescription: d\nworkload:\n  count: 1\n"+
		"  arrivals: {kind: constant, spacing_s: 1}\n  prompt_tokens: {kind: fixed, value: 4}\n  output_tokens: {kind: fixed, value: 4}\n"+
		"targets:\n  h200-hfcb-qwen3-06b: {count: 2}\n"))
	require.NoError(t, err)
	tgt, err := targets.Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	_, err = Evaluate(context.Background(), sc, tgt, Simulator{}, nil)
	assert.ErrorContains(t, err, `s.yaml: line 10: field targets.h200-hfcb-qwen3-06b: no target "h200-hfcb-qwen3-06b"`)
	assert.ErrorContains(t, err, "known targets: fixture-sarathi-qwen3-0.6b, h200-hfcb-qwen3-0.6b")
}

func TestSimulatorRefusesARequestLongerThanTheContext(t *testing.T) {
	tgt, err := targets.Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	_, err = Simulator{}.Run(context.Background(), tgt, []scenarios.Request{{ID: "huge", PromptTokens: 40960, OutputTokens: 1}})
	assert.ErrorContains(t, err, `request "huge" (request 1 of the workload): prompt_tokens 40960 + output_tokens 1 = 40961 tokens exceed the 40960-token context`)
}
