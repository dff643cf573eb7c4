package simkit

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// FuzzLoadProfile feeds arbitrary CSV text in place of one table of the fixture
// bundle: the loader must return a profile or an error, never panic, and an accepted
// profile must predict a small batch without panicking either.
func FuzzLoadProfile(f *testing.F) {
	files := []string{"mlp.csv", "attention.csv", "cpu_overheads.csv"}
	base := fstest.MapFS{}
	for _, name := range append([]string{"provenance.yaml"}, files...) {
		data, err := os.ReadFile(filepath.Join("testdata", "fixture-profile", name))
		if err != nil {
			f.Fatal(err)
		}
		base["p/"+name] = &fstest.MapFile{Data: data}
	}
	for i, name := range files {
		f.Add(uint8(i), string(base["p/"+name].Data))
	}
	f.Add(uint8(0), "num_tokens,time_stats.add.median\n1,NaN\n")
	f.Add(uint8(2), "batch_size,cpu_total_median,num_tokens\n1,1,1\n2,1\n")
	f.Fuzz(func(t *testing.T, which uint8, text string) {
		fsys := fstest.MapFS{}
		for k, v := range base {
			fsys[k] = v
		}
		fsys["p/"+files[int(which)%len(files)]] = &fstest.MapFile{Data: []byte(text)}
		p, err := LoadProfile(fsys, "p")
		if err != nil {
			return
		}
		opts := Options{Model: p.Provenance.Model, Profile: p, CPUOverhead: true, Extrapolate: true}
		pr, err := NewProfilePredictor(p, opts)
		if err != nil {
			return
		}
		r := &SimRequest{Prompt: 10, Decode: 2}
		_, _ = pr.Predict(Batch{Items: []BatchItem{{Req: r, Tokens: 10}}})
	})
}
