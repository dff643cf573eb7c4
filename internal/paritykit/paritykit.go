// Package paritykit finds the folder of real Vidur runs that the parity tests read
// (../shared/vidur-parity beside the repository, or SIMVAL_VIDUR_PARITY). It is
// test support only: nothing from that folder is copied into the repository.
package paritykit

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the folder of real Vidur runs (SIMVAL_VIDUR_PARITY, default
// ../shared/vidur-parity beside the repository), skipping the test when it is absent.
// Nothing from it is copied into the repository.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SIMVAL_VIDUR_PARITY")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			t.Skipf("Vidur parity kit not found: %v", err)
		}
		dir = filepath.Join(root, "..", "shared", "vidur-parity")
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Skipf("Vidur parity kit absent (%v); set SIMVAL_VIDUR_PARITY to its folder to run this test", err)
	}
	return dir
}

// repoRoot is the nearest folder above the working directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
