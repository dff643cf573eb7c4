package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/suite"
)

// extraCommands are the commands that need realkit (real runs, profiling).
func extraCommands() []*cobra.Command { return nil }

func writeVidurCSV(w io.Writer, reqs []scenarios.Request, out *suite.Outcome) error {
	return fmt.Errorf("--format vidur-csv: not available yet")
}
