package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/simval/simval/simkit/vidur"
	"github.com/simval/simval/simkit/vidurfmt"
	"github.com/simval/simval/targets"
)

// vidurExportManifest is simval-export.json, written beside Vidur's data/ folder: where
// the files came from and what was restated.
type vidurExportManifest struct {
	Target             string   `json:"target"`
	ProfileFingerprint string   `json:"profile_fingerprint"`
	Model              string   `json:"model"`
	Device             string   `json:"device"`
	NetworkDevice      string   `json:"network_device"`
	TP                 int      `json:"tp"`
	Files              []string `json:"files"`
	Notes              []string `json:"notes"`
}

func newProfileExportCmd() *cobra.Command {
	var dir, target string
	cmd := &cobra.Command{
		Use:   "export --vidur DIR --target T",
		Short: "write the target's measured profile as Vidur's profile folders (run Vidur with DIR as its working folder)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tgt, err := targets.Lookup(target)
			if err != nil {
				return err
			}
			m, err := exportVidurProfile(tgt, dir)
			if err != nil {
				return err
			}
			for _, f := range m.Files {
				fmt.Fprintln(cmd.OutOrStdout(), filepath.Join(dir, f))
			}
			for _, n := range m.Notes {
				fmt.Fprintln(cmd.ErrOrStderr(), "note:", n)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "vidur", "", "folder to write: DIR/data/profiling/{compute,cpu_overhead}/… and DIR/simval-export.json")
	cmd.Flags().StringVar(&target, "target", "", "target whose profile bundle to export")
	_ = cmd.MarkFlagRequired("vidur")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}

// exportVidurProfile writes tgt's profile bundle under dir in Vidur's layout (the
// paths Vidur's default flags name, relative to its working folder).
func exportVidurProfile(tgt *targets.Target, dir string) (*vidurExportManifest, error) {
	if tgt.Profile == "" {
		return nil, fmt.Errorf("target %s has no profile bundle to export", tgt.Name)
	}
	model, err := vidurfmt.LookupModel(tgt.Model.Name)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", tgt.Name, err)
	}
	dev, err := vidur.DeviceFor(tgt.GPU)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", tgt.Name, err)
	}
	prof, err := tgt.LoadProfile()
	if err != nil {
		return nil, err
	}
	tp := max(tgt.Settings.TP, 1)
	ex, err := vidur.ExportProfile(tgt.FS(), path.Join(tgt.Dir(), tgt.Profile), model, tp, prof.Provenance.Engine == "hfcb")
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", tgt.Name, err)
	}
	fp, err := tgt.ProfileFingerprint()
	if err != nil {
		return nil, err
	}
	paths := vidurfmt.PathsFor(filepath.Join("data", "profiling"), dev.Device, model.Name, dev.Network)
	m := &vidurExportManifest{Target: tgt.Name, ProfileFingerprint: fp, Model: model.Name, Device: dev.Device,
		NetworkDevice: dev.Network, TP: tp, Notes: ex.Notes}
	files := []struct {
		rel   string
		write func(io.Writer) error
	}{
		{paths.MLP, func(w io.Writer) error { return vidurfmt.WriteMLP(w, ex.MLP) }},
		{paths.Attention, func(w io.Writer) error { return vidurfmt.WriteAttention(w, ex.Attention) }},
	}
	if ex.CPU != nil {
		files = append(files, struct {
			rel   string
			write func(io.Writer) error
		}{paths.CPUOverheads, func(w io.Writer) error { return vidurfmt.WriteCPUOverheads(w, ex.CPU) }})
	}
	for _, f := range files {
		var buf bytes.Buffer
		if err := f.write(&buf); err != nil {
			return nil, fmt.Errorf("%s: %w", f.rel, err)
		}
		if err := writeFileMkdir(filepath.Join(dir, f.rel), buf.Bytes()); err != nil {
			return nil, err
		}
		m.Files = append(m.Files, filepath.ToSlash(f.rel))
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileMkdir(filepath.Join(dir, "simval-export.json"), append(data, '\n')); err != nil {
		return nil, err
	}
	return m, nil
}

func writeFileMkdir(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}
