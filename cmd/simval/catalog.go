package main

import (
	"github.com/spf13/cobra"

	"github.com/simval/simval/internal/catalogdirs"
)

// addCatalogFlag gives every command --catalog DIR (repeatable, added to
// $SIMVAL_CATALOG) and the `simval help catalog` topic. The folders are checked
// before any command runs, so a mistyped one fails at once, named.
func addCatalogFlag(root *cobra.Command) {
	var dirs []string
	root.PersistentFlags().StringArrayVar(&dirs, "catalog", nil, "a catalog `folder` of your own, added to the "+
		"embedded catalog and $"+catalogdirs.Env+" (repeatable; layout: simval help catalog)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		catalogdirs.Set(dirs)
		_, err := catalogdirs.Dirs()
		return err
	}
	root.AddCommand(&cobra.Command{
		Use:   "catalog",
		Short: "bring your own scenarios, targets and runs: catalog folders (--catalog DIR, $" + catalogdirs.Env + ")",
		Long:  catalogHelp,
	})
}

const catalogHelp = `Your own scenarios, targets and recorded runs join the embedded catalog from catalog
folders, with no rebuild: name a folder with --catalog DIR (repeatable, on every command)
or in $SIMVAL_CATALOG (a path list, separated like PATH; --catalog adds to it). A folder
holds, all optional, in the same strict formats as the embedded catalog:

  DIR/scenarios/<name>.yaml               a scenario (scenarios/catalog/README.md); traces
                                          relative to the file; the name equals the file's
  DIR/scenarios/decisions/<name>.yaml     a decision (runs relative to its target's folder)
  DIR/targets/<name>/target.yaml          a target, laid out like targets/catalog/<name>/
                                          (profile/, baselines/<scenario>.json)
  DIR/baselines/<target>/<scenario>.json  a recorded run (simval real --out) of DIR's
                                          scenario on any target, the embedded ones too
  DIR/golden/<scenario>/<target>.json     goldens of DIR's scenarios (GOLDIE_UPDATE=1)

A name must be unique across the embedded catalog and every folder: a clash is an error
naming both files. A broken file breaks only what needs it: sim, real and validate
--scenario S --target T read only S's and T's files; the lists (simval scenarios,
simval targets) show what loaded and then fail naming each broken file's line and field;
validate with no --scenario needs every scenario and fails naming the broken files.

The scenario tests pick the folders up too: with SIMVAL_CATALOG=DIR (an absolute
path), go test ./scenarios runs DIR's scenarios as subtests (TestBatched/<name>, …).

Workflow: simval real --trace T.jsonl --target T --out run.json records a run;
simval validate --run run.json judges it; copy the trace and a scenario naming it into
DIR/scenarios/, the run into DIR/baselines/<target>/<scenario>.json (its "scenario"
field must be the scenario's name), and it is judged with every validate and go test.`
