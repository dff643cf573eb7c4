package main

import (
	"errors"
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
	addCatalogFlag(root)
	for _, c := range extraCommands() {
		root.AddCommand(c)
	}
	return root
}

func newScenariosCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "list the scenario catalog (embedded, and --catalog folders)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Broken files do not hide the others: list what loaded, then fail naming them.
			all, broken := scenarios.Catalog()
			known, err := targets.Names()
			broken = errors.Join(broken, err)
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tREGIME\tREQUESTS\tDESCRIPTION")
			for _, sc := range all {
				reqs, err := sc.Requests("")
				if err == nil {
					err = sc.CheckTargetNames(known)
				}
				if err != nil {
					broken = errors.Join(broken, err)
					continue
				}
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", sc.Name, sc.Regime, len(reqs), firstSentence(sc.Description))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			return broken
		},
	}
}

func newTargetsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "targets",
		Short: "list the targets (embedded, and --catalog folders), their profiles and recorded baselines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, broken := targets.All() // listed as far as they load; broken ones named after
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
			if err := w.Flush(); err != nil {
				return err
			}
			return broken
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
