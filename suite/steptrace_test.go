package suite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

// TestStepTranscripts renders recorded (real) and simulated step traces of the same
// workloads in validation.WriteStepText's notation, as datadriven transcripts
// (testdata/steps; `go test ./suite -run TestStepTranscripts -rewrite` rewrites them
// after a reviewed change). Commands, paths relative to the target's folder:
//
//	real target=T run=FILE rep=N [ids]      a recorded repetition's steps
//	sim target=T trace=FILE state=S [ids]   the simulator's steps for a JSON-lines trace
func TestStepTranscripts(t *testing.T) {
	datadriven.Walk(t, "testdata/steps", func(t *testing.T, file string) {
		datadriven.RunTest(t, file, func(t *testing.T, d *datadriven.TestData) string {
			var name string
			d.ScanArgs(t, "target", &name)
			tgt, err := targets.Lookup(name)
			if err != nil {
				d.Fatalf(t, "%v", err)
			}
			var steps []validation.Step
			switch d.Cmd {
			case "real":
				var file string
				var rep int
				d.ScanArgs(t, "run", &file)
				d.ScanArgs(t, "rep", &rep)
				data, err := readTargetFile(tgt, file)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				b, err := realkit.ReadBaseline(bytes.NewReader(data), file)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				if rep >= len(b.Repetitions) {
					d.Fatalf(t, "%s has %d repetitions", file, len(b.Repetitions))
				}
				steps = b.Repetitions[rep].Steps
			case "sim":
				var file, state string
				d.ScanArgs(t, "trace", &file)
				d.ScanArgs(t, "state", &state)
				data, err := readTargetFile(tgt, file)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				reqs, err := scenarios.ParseTraceJSONL(bytes.NewReader(data), file)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				es, err := simkit.ParseEngineState(state)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				out, err := Simulator{EngineState: es}.Run(context.Background(), tgt, reqs)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				steps = out.StepTrace
			default:
				d.Fatalf(t, "unknown command %q", d.Cmd)
			}
			var sb strings.Builder
			if err := validation.WriteStepText(&sb, steps, d.HasArg("ids")); err != nil {
				d.Fatalf(t, "%v", err)
			}
			fmt.Fprintf(&sb, "%d steps, %d captures\n", len(steps), captures(steps))
			return sb.String()
		})
	})
}

func captures(steps []validation.Step) int {
	n := 0
	for _, s := range steps {
		if s.Captured {
			n++
		}
	}
	return n
}

// readTargetFile reads a file of a catalog target's folder from the repository: the
// development runs and traces (dev/) stay out of the binary's embedded catalog.
func readTargetFile(tgt *targets.Target, file string) ([]byte, error) {
	if dir := tgt.UserDir(); dir != "" {
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
	}
	return os.ReadFile(filepath.Join("..", "targets", filepath.FromSlash(path.Join(tgt.Dir(), file))))
}
