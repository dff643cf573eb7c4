package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/sebdah/goldie/v2"
)

// Dir is the folder, relative to a test's package, that holds its goldens.
const Dir = "testdata/golden"

// Updating reports whether goldens are being rewritten: GOLDIE_UPDATE=1 or goldie's
// -update flag, read through the flag goldie registers (never redefined here).
func Updating() bool {
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		return true
	}
	switch os.Getenv("GOLDIE_UPDATE") {
	case "1", "true", "t":
		return true
	}
	return false
}

// guard fails the test when CI tries to rewrite goldens.
func guard(t testing.TB) {
	t.Helper()
	if Updating() && os.Getenv("CI") != "" {
		t.Fatal("golden: refusing to update goldens under CI; run GOLDIE_UPDATE=1 locally and commit the reviewed diff")
	}
}

func newGoldie(t testing.TB, sub string) *goldie.Goldie {
	return newGoldieAt(t, filepath.Join(Dir, sub))
}

func newGoldieAt(t testing.TB, dir string) *goldie.Goldie {
	return goldie.New(t,
		goldie.WithFixtureDir(dir),
		goldie.WithNameSuffix(""),
		goldie.WithDiffEngine(goldie.ClassicDiff),
	)
}

// AssertJSON compares the canonical JSON of v with testdata/golden/<sub>/<name>
// (name carries its extension, e.g. "h200-hfcb-qwen3-0.6b.json"). The diff is a
// unified diff, '-' golden and '+' actual.
func AssertJSON(t testing.TB, sub, name string, v any) {
	t.Helper()
	guard(t)
	data, err := Canonical(v)
	if err != nil {
		t.Fatalf("golden %s/%s: %v", sub, name, err)
	}
	newGoldie(t, sub).Assert(t, name, data)
}

// AssertJSONAt is AssertJSON with the golden in dir/name, for goldens kept outside
// the package (a user catalog folder's).
func AssertJSONAt(t testing.TB, dir, name string, v any) {
	t.Helper()
	guard(t)
	data, err := Canonical(v)
	if err != nil {
		t.Fatalf("golden %s: %v", filepath.Join(dir, name), err)
	}
	newGoldieAt(t, dir).Assert(t, name, data)
}

// AssertText compares raw bytes (a Markdown report, say) with a golden file.
func AssertText(t testing.TB, sub, name string, data []byte) {
	t.Helper()
	guard(t)
	newGoldie(t, sub).Assert(t, name, data)
}
