package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit/vidur"
	"github.com/simval/simval/simkit/vidurfmt"
	"github.com/simval/simval/suite"
	"github.com/simval/simval/targets"
)

// TestVidurRecordReproduces runs the installed Vidur (make vidur) through the adapter on
// queue-free-spaced, in both modes, and requires its recorded run byte for byte:
// Vidur's request_metrics.csv and the predictor tables it used. It skips with the
// reason where Vidur is not installed, and where the install's predictor cache lacks
// the recorded tables (training them takes about 20 minutes on 2 cores: run `simval
// vidur record --target h200-hfcb-qwen3-0.6b` once; random forests are not seeded, so a
// fresh training reproduces the record only to about 1e-3).
func TestVidurRecordReproduces(t *testing.T) {
	in := requireVidur(t)
	tgt, err := targets.Lookup(h200)
	require.NoError(t, err)
	sc, err := scenarios.Lookup("queue-free-spaced")
	require.NoError(t, err)
	reqs, err := sc.Requests(tgt.Name)
	require.NoError(t, err)
	fp, err := vidurExport(tgt, &in)
	require.NoError(t, err)
	for _, system := range []string{suite.SystemVidur, suite.SystemVidurCPU} {
		t.Run(system, func(t *testing.T) {
			data, name, err := tgt.SimRunData(system, sc.Name)
			require.NoError(t, err)
			rec, err := suite.ReadVidurRun(data, name)
			require.NoError(t, err)
			require.Equal(t, rec.Provenance.ExportFingerprint, fp,
				"the target's profile exports differently from when %s was recorded: record it again", name)
			for op, hash := range rec.Provenance.PredictorCacheKeys {
				table := filepath.Join(in.CacheDir(), op+"_"+hash+"_predictions.pkl")
				if _, err := os.Stat(table); err != nil {
					t.Skipf("the predictor cache lacks the recorded table %s (%v): train it once with "+
						"`simval vidur record --target %s` (about 20 minutes on 2 cores)", table, err, tgt.Name)
				}
			}
			s, err := suite.VidurScenario(tgt, reqs, system == suite.SystemVidurCPU)
			require.NoError(t, err)
			run, err := vidur.Simulate(context.Background(), in, s)
			require.NoError(t, err)
			assert.Equal(t, rec.Provenance.PredictorCacheKeys, run.Output.CacheKeys)
			assert.Equal(t, rec.RequestMetricsCSV, string(run.Output.RequestMetrics), "Vidur's request_metrics.csv")
			assert.Equal(t, rec.Records, run.Records)
			t.Logf("%s: Vidur ran in %v (recorded: %.1f s)", system, run.Output.Wall, rec.Provenance.WallS)
		})
	}
}

// TestParityMatchesRecordedVidurRuns replays every recorded Vidur run of the H200
// target in simval's parity mode, from the run's own config.json and the prediction
// tables it used (the install's predictor cache; skipped without them): same
// completion order, restarts and prompt lengths, and TTFT and E2E equal to 1e-12.
// Not byte for byte: the adapter writes arrivals as 17-digit decimals, and pandas'
// default CSV parser reads a few of them one unit in the last place off, which moves
// the times that depend on the arrival by about 1e-17 s.
func TestParityMatchesRecordedVidurRuns(t *testing.T) {
	in := requireVidur(t)
	tgt, err := targets.Lookup(h200)
	require.NoError(t, err)
	fp, err := vidurExport(tgt, &in)
	require.NoError(t, err)
	all, err := scenarios.Catalog()
	require.NoError(t, err)
	for _, sc := range all {
		for _, system := range []string{suite.SystemVidur, suite.SystemVidurCPU} {
			t.Run(sc.Name+"/"+system, func(t *testing.T) {
				data, name, err := tgt.SimRunData(system, sc.Name)
				require.NoError(t, err)
				rec, err := suite.ReadVidurRun(data, name)
				require.NoError(t, err)
				require.Equal(t, rec.Provenance.ExportFingerprint, fp, "record %s again", name)
				preds, err := vidurfmt.LoadPredictions(in.CacheDir())
				if err != nil {
					t.Skipf("no prediction tables in %s (%v): train them once with `simval vidur record`", in.CacheDir(), err)
				}
				for op, hash := range rec.Provenance.PredictorCacheKeys {
					if _, err := os.Stat(filepath.Join(in.CacheDir(), op+"_"+hash+"_predictions.csv")); err != nil {
						t.Skipf("the cache lacks the recorded table of %s: %v", op, err)
					}
				}
				cfg, err := vidurfmt.ParseRunConfig(bytes.NewReader(rec.Provenance.Config), name+" config")
				require.NoError(t, err)
				var trace bytes.Buffer
				reqs, err := sc.Requests(tgt.Name)
				require.NoError(t, err)
				require.NoError(t, vidurfmt.WriteTrace(&trace, reqs))
				rows, err := vidurfmt.ParseTrace(&trace, "trace", cfg.Trace)
				require.NoError(t, err)
				run, err := vidur.RunParity(cfg, preds, rows, false)
				require.NoError(t, err)
				want, err := vidurfmt.ReadRequestMetrics(strings.NewReader(rec.RequestMetricsCSV), name)
				require.NoError(t, err)
				require.Len(t, run.Metrics, len(want))
				for i, w := range want {
					g := run.Metrics[i]
					require.Equal(t, w.ID, g.ID, "completion order at %d", i)
					assert.Equal(t, w.Restarts, g.Restarts)
					assert.Equal(t, w.Prefill, g.Prefill)
					for _, col := range []int{vidurfmt.ColPrefillE2E, vidurfmt.ColE2E} {
						assert.InEpsilon(t, w.Times[col], g.Times[col], 1e-12, "request %d column %d", w.ID, col)
					}
				}
			})
		}
	}
}

// requireVidur is the installed Vidur, or skips the test saying why there is none (any
// other failure to find it fails the test).
func requireVidur(t *testing.T) realkit.VidurInstall {
	t.Helper()
	in, err := realkit.FindVidur(context.Background(), "", "")
	if err != nil {
		require.ErrorIs(t, err, realkit.ErrNoVidur)
		t.Skip(err.Error())
	}
	return in
}
