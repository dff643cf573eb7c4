package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/simkit/vidur"
	"github.com/simval/simval/suite"
	"github.com/simval/simval/targets"
)

func newVidurCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vidur",
		Short: "run microsoft/vidur beside simval: record its runs on a target, compare it in a scorecard",
	}
	cmd.AddCommand(newVidurRecordCmd(), newVidurScorecardCmd())
	return cmd
}

type vidurRecordFlags struct {
	target, out, python, home string
	scenarios, systems        []string
}

func newVidurRecordCmd() *cobra.Command {
	var f vidurRecordFlags
	cmd := &cobra.Command{
		Use:   "record --target T [--scenario S]... [--system vidur|vidur-cpu]...",
		Short: "run the installed Vidur (make vidur) on catalog scenarios and record its runs under the target",
		Long: "Exports the target's profile in Vidur's layout (simval profile export --vidur) into the install, runs " +
			"Vidur through simval's launcher on each scenario (as released, and with CPU-overhead modelling), and " +
			"writes each run with its provenance to <out>/<system>/<scenario>.json, where `simval validate --system` " +
			"reads them. The first run of a profile trains Vidur's predictors (about 20 minutes on 2 cores).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVidurRecord(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "", "target to run Vidur for")
	fl.StringArrayVar(&f.scenarios, "scenario", nil, "catalog scenario (repeatable; default all)")
	fl.StringArrayVar(&f.systems, "system", nil, "vidur (as released) or vidur-cpu (CPU overhead modelled); repeatable, default both")
	fl.StringVar(&f.out, "out", "", "folder of the records (default targets/catalog/<target>/simruns, from the repository root)")
	fl.StringVar(&f.python, "python", "", "interpreter (default $"+realkit.EnvVidurPython+", then "+realkit.DefaultVidurPython+")")
	fl.StringVar(&f.home, "home", "", "Vidur install (default $"+realkit.EnvVidurHome+", then "+realkit.DefaultVidurHome()+")")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}

func runVidurRecord(cmd *cobra.Command, f vidurRecordFlags) error {
	tgt, err := targets.Lookup(f.target)
	if err != nil {
		return err
	}
	if len(f.systems) == 0 {
		f.systems = []string{suite.SystemVidur, suite.SystemVidurCPU}
	}
	for _, s := range f.systems {
		if s != suite.SystemVidur && s != suite.SystemVidurCPU {
			return fmt.Errorf("--system %q: want %s or %s", s, suite.SystemVidur, suite.SystemVidurCPU)
		}
	}
	scs, _, err := selectWork(f.scenarios, []string{tgt.Name})
	if err != nil {
		return err
	}
	out := f.out
	if out == "" {
		out = filepath.Join("targets", "catalog", tgt.Name, "simruns")
		if _, err := os.Stat(filepath.Dir(out)); err != nil {
			return fmt.Errorf("--out not given and %s is not here (run from the repository root): %w", filepath.Dir(out), err)
		}
	}
	in, err := realkit.FindVidur(cmd.Context(), f.python, f.home)
	if err != nil {
		return err
	}
	exportFP, err := vidurExport(tgt, &in)
	if err != nil {
		return err
	}
	profileFP, err := tgt.ProfileFingerprint()
	if err != nil {
		return err
	}
	launcher, err := realkit.VidurLauncherSource()
	if err != nil {
		return err
	}
	launcherSum := sha256.Sum256(launcher)
	in.Stderr = cmd.ErrOrStderr()
	for _, sc := range scs {
		reqs, err := sc.Requests(tgt.Name)
		if err != nil {
			return err
		}
		for _, system := range f.systems {
			s, err := suite.VidurScenario(tgt, reqs, system == suite.SystemVidurCPU)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "vidur: %s on %s (%s), profile export %s\n", sc.Name, tgt.Name, system, exportFP)
			run, err := vidur.Simulate(cmd.Context(), in, s)
			if err != nil {
				return fmt.Errorf("%s on %s (%s): %w", sc.Name, tgt.Name, system, err)
			}
			if !json.Valid(run.Output.Config) {
				return fmt.Errorf("%s on %s (%s): Vidur's config.json is not JSON", sc.Name, tgt.Name, system)
			}
			args, _ := s.Args()
			rec := &suite.VidurRun{
				System: system, Target: tgt.Name, Scenario: sc.Name,
				Provenance: suite.VidurProvenance{
					Simulator: "microsoft/vidur", Commit: vidur.VidurCommit,
					Launcher: "realkit/drivers/vidur_launch.py", LauncherSHA256: hex.EncodeToString(launcherSum[:]),
					ProfileFingerprint: profileFP, ExportFingerprint: exportFP,
					Args: args, Config: run.Output.Config, PredictorCacheKeys: run.Output.CacheKeys,
					WallS:      float64(run.Output.Wall.Milliseconds()) / 1e3,
					RecordedAt: time.Now().UTC().Format(time.RFC3339), Host: hostDescription(),
				},
				Records:           run.Records,
				RequestMetricsCSV: string(run.Output.RequestMetrics),
			}
			var buf bytes.Buffer
			if err := suite.WriteVidurRun(&buf, rec); err != nil {
				return err
			}
			file := filepath.Join(out, system, sc.Name+".json")
			if err := writeFileMkdir(file, buf.Bytes()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\t%.1f s\n", file, rec.Provenance.WallS)
		}
	}
	return nil
}

// vidurExport writes tgt's profile in Vidur's layout into the install's exports/
// folder, named by its content's fingerprint, and points in at it: Vidur runs there and
// caches its predictors in cache/<fingerprint>. It returns the fingerprint.
func vidurExport(tgt *targets.Target, in *realkit.VidurInstall) (string, error) {
	tmp, err := os.MkdirTemp(in.Home, "export-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if _, err := exportVidurProfile(tgt, tmp); err != nil {
		return "", err
	}
	fp, err := dirFingerprint(os.DirFS(tmp), "data")
	if err != nil {
		return "", err
	}
	dst := filepath.Join(in.Home, "exports", fp)
	if _, err := os.Stat(dst); err != nil {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, dst); err != nil {
			return "", err
		}
	}
	in.WorkDir = dst
	return fp, nil
}

// dirFingerprint hashes every file under root of fsys (its slash path, size and
// bytes, in path order) into 12 hex digits.
func dirFingerprint(fsys fs.FS, root string) (string, error) {
	var paths []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	slices.Sort(paths)
	h := sha256.New()
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", p, len(data))
		h.Write(data)
	}
	return targets.Fingerprint(h.Sum(nil)), nil
}

// hostDescription is the CPU model and core count, where a run's wall time was taken.
func hostDescription() string {
	model := runtime.GOARCH
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores", model, runtime.NumCPU())
}
