package vidurfmt

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/internal/paritykit"
)

// mlpCSV builds an mlp.csv with only medians (Vidur's files carry all five stats;
// the reader takes whichever are present).
func mlpCSV(rows ...string) string {
	head := []string{}
	for _, op := range MLPOps {
		head = append(head, "time_stats."+op+".median")
	}
	head = append(head, "n_head", "n_kv_head", "n_embd", "n_expanded_embd", "vocab_size", "use_gated_mlp", "num_tokens", "num_tensor_parallel_workers")
	return strings.Join(head, ",") + "\n" + strings.Join(rows, "\n") + "\n"
}

const mlpRow8 = "0.003,0.005,0.033,0.004,0.025,0.005,0.142,0.011,0.076,0.002,32,8,4096,14336,128256,True,8,1"

func TestReadMLP(t *testing.T) {
	tab, err := ReadMLP(strings.NewReader(mlpCSV(mlpRow8, strings.Replace(mlpRow8, ",8,1", ",16,2", 1))), "mlp.csv")
	require.NoError(t, err)
	require.Len(t, tab.Rows, 2)
	r := tab.Rows[0]
	assert.Equal(t, [8]int{32, 8, 4096, 14336, 128256, 8, 1, 1}, [8]int{r.NHead, r.NKVHead, r.NEmbd, r.NExpandedEmbd, r.VocabSize, r.NumTokens, r.TP, b2i(r.UseGatedMLP)})
	assert.Equal(t, 0.142, r.Op("mlp_up_proj").Median)
	assert.True(t, math.IsNaN(r.Op("mlp_up_proj").Mean), "absent stat columns are NaN")
	assert.Equal(t, 2, tab.Rows[1].TP)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestReadMLPErrors(t *testing.T) {
	tests := []struct{ name, csv, want string }{
		{"missing op", strings.Replace(mlpCSV(mlpRow8), "time_stats.mlp_act.median", "time_stats.mlp_gelu.median", 1), `mlp.csv:1: missing column "time_stats.mlp_act.median"`},
		{"missing key", strings.Replace(mlpCSV(mlpRow8), "num_tokens", "tokens", 1), `missing column "num_tokens"`},
		{"empty required median", mlpCSV(strings.Replace(mlpRow8, "0.142", "", 1)), `mlp.csv:2: column "time_stats.mlp_up_proj.median": empty, but this row needs it`},
		{"bad boolean", mlpCSV(strings.Replace(mlpRow8, "True", "yes", 1)), `column "use_gated_mlp": "yes" is not a boolean`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadMLP(strings.NewReader(tt.csv), "mlp.csv")
			assert.ErrorContains(t, err, tt.want)
		})
	}
	// Norms and add may be empty: Vidur counts them as 0.
	_, err := ReadMLP(strings.NewReader(mlpCSV(strings.Replace(mlpRow8, "0.003,0.005,", "0.003,,", 1))), "mlp.csv")
	assert.NoError(t, err)
}

// attentionCSV builds attention.csv in the current layout or, without kvSave, the
// older FlashAttention one.
func attentionCSV(kvSave bool, rows ...string) string {
	var head []string
	for _, op := range AttentionOps {
		if op == "attn_kv_cache_save" && !kvSave {
			continue
		}
		head = append(head, "time_stats."+op+".median")
	}
	head = append(head, "n_embd", "n_q_head", "n_kv_head", "block_size", "num_tensor_parallel_workers", "max_model_len",
		"batch_size", "prefill_chunk_size", "kv_cache_size", "is_prefill", "attention_backend")
	return strings.Join(head, ",") + "\n" + strings.Join(rows, "\n") + "\n"
}

func TestReadAttention(t *testing.T) {
	old, err := ReadAttention(strings.NewReader(attentionCSV(false,
		"0.0,,0.015,0.001,8192,64,8,16,2,4096,1,0,32,False,AttentionBackend.FLASH_ATTENTION",
		"0.0,1.164,,0.001,8192,64,8,16,2,4096,1,2624,352,True,AttentionBackend.FLASH_ATTENTION")), "attention.csv")
	require.NoError(t, err)
	assert.False(t, old.HasKVCacheSave)
	require.Len(t, old.Rows, 2)
	assert.Equal(t, 0.015, old.Rows[0].Op("attn_decode").Median)
	assert.True(t, math.IsNaN(old.Rows[0].Op("attn_kv_cache_save").Median))
	assert.Equal(t, 1.164, old.Rows[1].Op("attn_prefill").Median)
	assert.Equal(t, [3]int{1, 2624, 352}, [3]int{old.Rows[1].BatchSize, old.Rows[1].PrefillChunkSize, old.Rows[1].KVCacheSize})
	assert.Equal(t, "AttentionBackend.FLASH_ATTENTION", old.Rows[1].AttentionBackend)

	cur, err := ReadAttention(strings.NewReader(attentionCSV(true, "0.0,0.002,,0.015,0.001,4096,32,8,16,1,4096,1,0,64,False,FLASHINFER")), "attention.csv")
	require.NoError(t, err)
	assert.True(t, cur.HasKVCacheSave)
	assert.Equal(t, 0.002, cur.Rows[0].Op("attn_kv_cache_save").Median)

	_, err = ReadAttention(strings.NewReader(attentionCSV(false, "0.0,,,0.001,8192,64,8,16,2,4096,1,0,32,False,x")), "attention.csv")
	assert.ErrorContains(t, err, `attention.csv:2: column "time_stats.attn_decode.median": empty, but this row needs it`)
}

func TestReadCollectiveAndCPU(t *testing.T) {
	ar, err := ReadCollective(strings.NewReader(",time_stats.all_reduce.min,time_stats.all_reduce.max,time_stats.all_reduce.mean,"+
		"time_stats.all_reduce.median,time_stats.all_reduce.std,rank,num_workers,size,collective,devices_per_node,max_devices_per_node\n"+
		"0,0.01,0.06,0.03,0.02,0.01,0,2,2048,all_reduce,2,8\n"), "all_reduce.csv", "all_reduce")
	require.NoError(t, err)
	assert.Equal(t, CollectiveRow{Stats: OpStats{0.01, 0.06, 0.03, 0.02, 0.01}, NumWorkers: 2, SizeBytes: 2048, DevicesPerNode: 2, MaxDevices: 8}, ar.Rows[0])

	_, err = ReadCollective(strings.NewReader("time_stats.all_reduce.median,num_workers,size,collective,devices_per_node\n0.1,2,2048,send_recv,2\n"),
		"all_reduce.csv", "all_reduce")
	assert.ErrorContains(t, err, `all_reduce.csv:2: column "collective": "send_recv" in a all_reduce file`)

	cpu, err := ReadCPUOverheads(strings.NewReader("MODEL_NAME,TENSOR_PARALLEL_DEGREE,BATCH_SIZE,SCHEDULE_MEDIAN,SAMPLER_E2E_MEDIAN,"+
		"PREPARE_INPUTS_E2E_MEDIAN,PROCESS_MODEL_OUTPUTS_MEDIAN,RAY_COMM_TIME_MEAN\nm,1,8,0.25,0.5,0.25,0.5,0.5\n"), "cpu_overheads.csv")
	require.NoError(t, err)
	assert.Equal(t, 2.0, cpu[0].Total())
	_, err = ReadCPUOverheads(strings.NewReader("model_name,batch_size\nm,1\n"), "cpu_overheads.csv")
	assert.ErrorContains(t, err, `cpu_overheads.csv:1: missing column "tensor_parallel_degree"`)
}

func TestLoadProfileFolder(t *testing.T) {
	root := t.TempDir()
	paths := PathsFor(root, "a100", "meta-llama/Meta-Llama-3-8B", "a100_dgx")
	write := func(path, body string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	}
	write(paths.MLP, mlpCSV(mlpRow8))
	write(paths.Attention, attentionCSV(true, "0.0,0.002,,0.015,0.001,4096,32,8,16,1,4096,1,0,64,False,x"))
	p, err := LoadProfileFolder(root, "a100", "meta-llama/Meta-Llama-3-8B", "a100_dgx")
	require.NoError(t, err)
	assert.Nil(t, p.AllReduce)
	assert.Nil(t, p.CPUOverheads)
	m, err := LookupModel("meta-llama/Meta-Llama-3-8B")
	require.NoError(t, err)
	rows, err := p.MLPFor(m, 1)
	require.NoError(t, err)
	assert.Len(t, rows, 1)
	_, err = p.MLPFor(m, 2)
	assert.ErrorContains(t, err, "no rows for meta-llama/Meta-Llama-3-8B at tp 2")
	_, err = p.AllReduceFor(2)
	assert.ErrorContains(t, err, "no all_reduce.csv")

	write(filepath.Join(filepath.Dir(paths.MLP), "cpu_overheads.csv"), "model_name,tensor_parallel_degree,batch_size,schedule_median,"+
		"sampler_e2e_median,prepare_inputs_e2e_median,process_model_outputs_median,ray_comm_time_mean\nmeta-llama/Meta-Llama-3-8B,1,1,1,1,1,1,1\n")
	p, err = LoadProfileFolder(root, "a100", "meta-llama/Meta-Llama-3-8B", "a100_dgx")
	require.NoError(t, err)
	cpu, err := p.CPUFor("meta-llama/Meta-Llama-3-8B", 1)
	require.NoError(t, err)
	assert.Equal(t, 5.0, cpu[0].Total())

	_, err = LoadProfileFolder(root, "h100", "meta-llama/Meta-Llama-3-8B", "a100_dgx")
	assert.ErrorContains(t, err, filepath.Join("compute", "h100", "meta-llama", "Meta-Llama-3-8B", "mlp.csv"))
}

// TestProfileFolderOfParityKit loads the real profiles the parity runs used: the
// current mlp.csv and the older attention.csv without kv-cache save.
func TestProfileFolderOfParityKit(t *testing.T) {
	kit := paritykit.Dir(t)
	p, err := LoadProfileFolder(filepath.Join(kit, "profiles"), "a100", "codellama/CodeLlama-34b-Instruct-hf", "a100_pairwise_nvlink")
	require.NoError(t, err)
	assert.False(t, p.Attention.HasKVCacheSave)
	m, err := LookupModel("codellama/CodeLlama-34b-Instruct-hf")
	require.NoError(t, err)
	mlp, err := p.MLPFor(m, 2)
	require.NoError(t, err)
	assert.NotEmpty(t, mlp)
	attn, err := p.AttentionFor(m, 16, 2)
	require.NoError(t, err)
	assert.NotEmpty(t, attn)
	ar, err := p.AllReduceFor(2)
	require.NoError(t, err)
	assert.NotEmpty(t, ar)
	sr, err := p.SendRecvFor(true)
	require.NoError(t, err)
	assert.NotEmpty(t, sr)
}
