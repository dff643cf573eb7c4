package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/targets"
)

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "simval",
		Short:         "keep LLM-inference simulators honest against real GPU serving engines",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newScenariosCmd(), newTargetsCmd(), newSimCmd(), newValidateCmd())
	for _, c := range extraCommands() {
		root.AddCommand(c)
	}
	return root
}

func newScenariosCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "list the embedded scenario catalog",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := scenarios.Catalog()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tREGIME\tREQUESTS\tDESCRIPTION")
			for _, sc := range all {
				reqs, err := sc.Requests("")
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", sc.Name, sc.Regime, len(reqs), firstSentence(sc.Description))
			}
			return w.Flush()
		},
	}
}

func newTargetsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "targets",
		Short: "list the embedded targets, their profiles and recorded baselines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := targets.All()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tKIND\tENGINE\tGPU\tSCHEDULER\tPROFILE\tBASELINES")
			for _, t := range all {
				kind := "real"
				if t.Fixture() {
					kind = "fixture"
				}
				prof := "none"
				if t.Profile != "" {
					if p, err := t.LoadProfile(); err != nil {
						prof = "invalid: " + err.Error()
					} else {
						prof = p.Provenance.Source + " " + p.Provenance.Date
					}
				}
				bl, err := t.Baselines()
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", t.Name, kind, t.Engine, t.GPU, t.Settings.Scheduler, prof, len(bl))
			}
			return w.Flush()
		},
	}
}

func firstSentence(s string) string {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '.' && (s[i+1] == ' ' || s[i+1] == '\n') {
			return s[:i+1]
		}
	}
	return s
}
