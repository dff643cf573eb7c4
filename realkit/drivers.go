package realkit

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// driverFiles are the Python drivers, shipped inside the Go binary so that a test
// binary or simval carried to a GPU machine needs nothing else.
//
//go:embed drivers/*.py
var driverFiles embed.FS

// Engines lists the engines with an embedded driver (drivers/<engine>_driver.py).
func Engines() []string {
	entries, _ := fs.ReadDir(driverFiles, "drivers")
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), "_driver.py"); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// WriteDrivers writes the embedded drivers into dir/drivers and returns the path
// of engine's driver script.
func WriteDrivers(dir, engine string) (string, error) {
	if !slices.Contains(Engines(), engine) {
		return "", fmt.Errorf("realkit: no driver for engine %q (have %s)", engine, strings.Join(Engines(), ", "))
	}
	dst := filepath.Join(dir, "drivers")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", fmt.Errorf("realkit: %w", err)
	}
	entries, err := fs.ReadDir(driverFiles, "drivers")
	if err != nil {
		return "", fmt.Errorf("realkit: embedded drivers: %w", err)
	}
	for _, e := range entries {
		data, err := driverFiles.ReadFile("drivers/" + e.Name())
		if err != nil {
			return "", fmt.Errorf("realkit: embedded driver %s: %w", e.Name(), err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			return "", fmt.Errorf("realkit: %w", err)
		}
	}
	return filepath.Join(dst, engine+"_driver.py"), nil
}
