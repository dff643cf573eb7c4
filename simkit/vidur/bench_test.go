package vidur_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simval/simval/internal/paritykit"
	"github.com/simval/simval/simkit/vidur"
	"github.com/simval/simval/simkit/vidurfmt"
)

// BenchmarkSplitwiseConvParity runs Vidur's whole splitwise_conv trace (19,366
// requests) through parity mode under the conv2000-sarathi configuration. Vidur
// needs about 24 s for its simulation loop and 7 s to start on a 2-core machine; the
// "load" variant includes reading the config, trace and prediction tables (the
// equivalent of Vidur's warm start-up).
func BenchmarkSplitwiseConvParity(b *testing.B) {
	kit := paritykit.Dir(b)
	load := func() (vidurfmt.RunConfig, *vidurfmt.Predictions, []vidurfmt.TraceRow) {
		cfg, err := vidurfmt.ReadRunConfigFile(filepath.Join(kit, "runs", "conv2000-sarathi", "config.json"))
		require.NoError(b, err)
		preds, err := vidurfmt.LoadPredictions(filepath.Join(kit, "predictions"))
		require.NoError(b, err)
		rows, err := vidurfmt.ReadTraceFile(filepath.Join(kit, "traces", "splitwise_conv.csv"), cfg.Trace)
		require.NoError(b, err)
		require.Len(b, rows, 19366)
		return cfg, preds, rows
	}
	b.Run("simulate", func(b *testing.B) {
		cfg, preds, rows := load()
		b.ReportAllocs()
		for b.Loop() {
			run, err := vidur.RunParity(cfg, preds, rows, false)
			require.NoError(b, err)
			require.Len(b, run.Metrics, len(rows))
		}
	})
	b.Run("load+simulate", func(b *testing.B) {
		for b.Loop() {
			cfg, preds, rows := load()
			_, err := vidur.RunParity(cfg, preds, rows, false)
			require.NoError(b, err)
		}
	})
}
