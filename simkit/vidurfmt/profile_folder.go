package vidurfmt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Profiles is a Vidur profile folder as read for one device, model and network
// device. Network and CPU tables are nil where the folder has none (Vidur needs
// all_reduce only with tp > 1, send_recv only with pp > 1, and CPU overheads only
// when it models them; no CPU file ships with Vidur).
type Profiles struct {
	MLP          *MLPTable
	Attention    *AttentionTable
	AllReduce    *CollectiveTable
	SendRecv     *CollectiveTable
	CPUOverheads []CPUOverheadRow
	CPUFile      string
}

// ProfilePaths are the files Vidur reads for a device, model and network device
// (reference §6, default input paths), under root (Vidur's data/profiling).
type ProfilePaths struct {
	MLP, Attention, AllReduce, SendRecv, CPUOverheads string
}

// PathsFor returns Vidur's default profile paths under root. model is Vidur's model
// name, which includes its organisation ("codellama/CodeLlama-34b-Instruct-hf").
func PathsFor(root, device, model, networkDevice string) ProfilePaths {
	compute := filepath.Join(root, "compute", device, filepath.FromSlash(model))
	network := filepath.Join(root, "network", networkDevice)
	return ProfilePaths{
		MLP:          filepath.Join(compute, "mlp.csv"),
		Attention:    filepath.Join(compute, "attention.csv"),
		AllReduce:    filepath.Join(network, "all_reduce.csv"),
		SendRecv:     filepath.Join(network, "send_recv.csv"),
		CPUOverheads: filepath.Join(root, "cpu_overhead", networkDevice, filepath.FromSlash(model), "cpu_overheads.csv"),
	}
}

// LoadProfileFolder reads the profiles Vidur would read for device, model and
// networkDevice under root. mlp.csv and attention.csv are required; the network
// files and cpu_overheads.csv are optional (also looked for beside mlp.csv).
func LoadProfileFolder(root, device, model, networkDevice string) (*Profiles, error) {
	paths := PathsFor(root, device, model, networkDevice)
	p := &Profiles{}
	if err := readFile(paths.MLP, func(f *os.File) (err error) {
		p.MLP, err = ReadMLP(f, paths.MLP)
		return err
	}); err != nil {
		return nil, err
	}
	if err := readFile(paths.Attention, func(f *os.File) (err error) {
		p.Attention, err = ReadAttention(f, paths.Attention)
		return err
	}); err != nil {
		return nil, err
	}
	optional := []struct {
		path string
		read func(*os.File) error
	}{
		{paths.AllReduce, func(f *os.File) (err error) {
			p.AllReduce, err = ReadCollective(f, paths.AllReduce, "all_reduce")
			return err
		}},
		{paths.SendRecv, func(f *os.File) (err error) {
			p.SendRecv, err = ReadCollective(f, paths.SendRecv, "send_recv")
			return err
		}},
	}
	for _, o := range optional {
		if err := readFile(o.path, o.read); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	for _, cpu := range []string{paths.CPUOverheads, filepath.Join(filepath.Dir(paths.MLP), "cpu_overheads.csv")} {
		err := readFile(cpu, func(f *os.File) (err error) {
			p.CPUOverheads, err = ReadCPUOverheads(f, cpu)
			return err
		})
		if err == nil {
			p.CPUFile = cpu
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return p, nil
}

func readFile(path string, read func(*os.File) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return read(f)
}

// MLPFor returns the mlp.csv rows Vidur trains on for model m at tensor parallelism
// tp (matching heads, dims, gating, vocabulary and tp), or an error saying none do.
func (p *Profiles) MLPFor(m ModelConfig, tp int) ([]MLPRow, error) {
	var out []MLPRow
	for _, r := range p.MLP.Rows {
		if r.NHead == m.NumQHeads && r.NKVHead == m.NumKVHeads && r.NEmbd == m.EmbeddingDim &&
			r.NExpandedEmbd == m.MLPHiddenDim && r.UseGatedMLP == m.UseGatedMLP && r.VocabSize == m.VocabSize && r.TP == tp {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no rows for %s at tp %d", p.MLP.File, m.Name, tp)
	}
	return out, nil
}

// AttentionFor returns the attention.csv rows Vidur trains on for model m with
// blockSize and tp.
func (p *Profiles) AttentionFor(m ModelConfig, blockSize, tp int) ([]AttentionRow, error) {
	var out []AttentionRow
	for _, r := range p.Attention.Rows {
		if r.NEmbd == m.EmbeddingDim && r.NQHead == m.NumQHeads && r.NKVHead == m.NumKVHeads &&
			r.BlockSize == blockSize && r.TP == tp {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no rows for %s, block size %d, tp %d", p.Attention.File, m.Name, blockSize, tp)
	}
	return out, nil
}

// AllReduceFor returns the all_reduce rows Vidur uses at tp: num_workers and
// devices_per_node both equal to tp.
func (p *Profiles) AllReduceFor(tp int) ([]CollectiveRow, error) {
	if p.AllReduce == nil {
		return nil, errors.New("no all_reduce.csv in the profile folder")
	}
	var out []CollectiveRow
	for _, r := range p.AllReduce.Rows {
		if r.NumWorkers == tp && r.DevicesPerNode == tp {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no rows with num_workers = devices_per_node = %d", p.AllReduce.File, tp)
	}
	return out, nil
}

// SendRecvFor returns the send_recv rows Vidur uses: devices_per_node 1 across
// nodes, 2 within one.
func (p *Profiles) SendRecvFor(multiNode bool) ([]CollectiveRow, error) {
	if p.SendRecv == nil {
		return nil, errors.New("no send_recv.csv in the profile folder")
	}
	want := 2
	if multiNode {
		want = 1
	}
	var out []CollectiveRow
	for _, r := range p.SendRecv.Rows {
		if r.DevicesPerNode == want {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no rows with devices_per_node %d", p.SendRecv.File, want)
	}
	return out, nil
}

// CPUFor returns the CPU-overhead rows of a model at tp.
func (p *Profiles) CPUFor(model string, tp int) ([]CPUOverheadRow, error) {
	if p.CPUOverheads == nil {
		return nil, errors.New("no cpu_overheads.csv in the profile folder (Vidur ships none)")
	}
	var out []CPUOverheadRow
	for _, r := range p.CPUOverheads {
		if r.ModelName == model && r.TP == tp {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no rows for %s at tp %d", p.CPUFile, model, tp)
	}
	return out, nil
}
