// Command simval runs simval's work outside `go test`: list scenarios and targets,
// simulate a scenario or a trace, validate the simulator against recorded real
// baselines, record a real baseline on a GPU, and profile an engine.
//
//	simval validate                       # every catalog scenario × target; exit 0 pass, 1 out of bounds, 2 error
//	simval sim --target T --scenario S    # one simulation, as a table or JSON
//	simval real --engine hfcb --scenario S --target T --out FILE
//	simval profile --engine hfcb --target T --out DIR
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// errOutOfBounds marks a validation that ran and found a comparison out of bounds.
var errOutOfBounds = errors.New("out of bounds")

func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errOutOfBounds):
		return 1
	default:
		fmt.Fprintln(stderr, "simval:", err)
		return 2
	}
}

// run is the whole CLI; main only wires the process to it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
