package main

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/realkit/benchfmt"
	"github.com/simval/simval/targets"
)

// importClock is when an import happens; tests set it so that a run's bytes do not
// depend on the wall clock.
var importClock = time.Now

type importFlags struct {
	from, target, out, engine, engineVersion string
	benchmark                                int
}

func newImportCmd() *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import --from vllm-bench|aiperf|guidellm FILE --target T --out run.json",
		Short: "read another benchmark tool's per-request results into a run file (judge it with validate --run)",
		Long: "Reads per-request results measured by another tool into a run in the format `simval real` writes:\n" +
			"  vllm-bench  `vllm bench serve --save-result --save-detailed` result JSON\n" +
			"  aiperf      AIPerf's profile_export.jsonl\n" +
			"  guidellm    GuideLLM's benchmarks.json (--benchmark N for one of a sweep)\n" +
			"Their times are client-side (the run says so, and validate warns that TTFT then includes network,\n" +
			"HTTP and tokenizer time); what a format lacks (per-token times, arrivals) is reconstructed and said\n" +
			"in the run's warnings; failed requests are counted and named there.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runImport(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "the tool that wrote FILE: vllm-bench, aiperf or guidellm")
	fl.StringVar(&f.target, "target", "", "target the run was made on")
	fl.StringVar(&f.out, "out", "", "run file to write")
	fl.StringVar(&f.engine, "engine", "", "engine that served the run (default: the target's)")
	fl.StringVar(&f.engineVersion, "engine-version", "", "its version, where known (then compared with the profile's)")
	fl.IntVar(&f.benchmark, "benchmark", -1, "guidellm: which benchmark of a sweep (0-based)")
	for _, n := range []string{"from", "target", "out"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func runImport(cmd *cobra.Command, f importFlags, file string) error {
	tool, err := benchfmt.ParseTool(f.from)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	tgt, err := targets.Lookup(f.target)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	engine := f.engine
	if engine == "" {
		engine = tgt.Engine
	}
	b, err := benchfmt.Import(tool, data, file, benchfmt.Options{Target: tgt.Name, Engine: engine,
		EngineVersion: f.engineVersion, Settings: tgt.Settings, ImportedAt: importClock(), Benchmark: f.benchmark})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := realkit.WriteBaseline(&buf, b); err != nil {
		return err
	}
	if err := os.WriteFile(f.out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	rep := b.Repetitions[0]
	fmt.Fprintf(stderr, "wrote %s: %d of %d requests from %s %s, for target %s\n", f.out, rep.Summary.Finished,
		rep.Summary.Requests, tool, file, tgt.Name)
	for _, w := range b.Warnings {
		fmt.Fprintln(stderr, "note:", w)
	}
	return nil
}
