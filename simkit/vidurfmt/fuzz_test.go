package vidurfmt

import (
	"bytes"
	"strings"
	"testing"
)

// The fuzz targets feed arbitrary bytes to every CSV reader. Properties: no panic; an
// error names the file; what is accepted obeys the reader's contract.

const fuzzName = "fuzz.csv"

func checkErr(t *testing.T, err error) {
	t.Helper()
	if err != nil && !strings.HasPrefix(err.Error(), fuzzName) {
		t.Fatalf("error does not name the file: %v", err)
	}
}

func FuzzParseTrace(f *testing.F) {
	f.Add("arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,300,40\n1.5,5,5\n", 1.0, 4096)
	f.Add("num_decode_tokens,arrived_at,num_prefill_tokens,x\n3,0,1e3,q\n", 0.5, 100)
	f.Add("arrived_at,num_prefill_tokens,num_decode_tokens\n-1,-5,1e300\n", 2.0, 10)
	f.Fuzz(func(t *testing.T, src string, scale float64, maxTokens int) {
		cfg := TraceReplay{PrefillScale: scale, DecodeScale: 1, TimeScale: 1, MaxTokens: maxTokens}
		rows, err := ParseTrace(strings.NewReader(src), fuzzName, cfg)
		checkErr(t, err)
		for i, r := range rows {
			if r.Prefill < 1 || r.Decode < 1 || r.Prefill+r.Decode > maxTokens {
				t.Fatalf("row %d breaks trace_replay's bounds: %+v (max %d)", i, r, maxTokens)
			}
		}
	})
}

func FuzzReadTable1D(f *testing.F) {
	f.Add("num_tokens,prediction\n1,0.5\n8,0.25\n")
	f.Add("num_tokens,prediction\n1,\n")
	f.Add("num_tokens,prediction\n4194304,1\n")
	f.Fuzz(func(t *testing.T, src string) {
		tab, err := ReadTable1D(strings.NewReader(src), fuzzName, "add", "num_tokens")
		checkErr(t, err)
		if err == nil && tab.Len() == 0 {
			t.Fatal("accepted a table with no rows")
		}
	})
}

func FuzzReadTable2D(f *testing.F) {
	f.Add("kv_cache_size,prefill_chunk_size_squared,prediction\n0,1,0.015\n64,4,0.02\n")
	f.Add("kv_cache_size,prefill_chunk_size_squared,prediction\n0,1,0.015\n0,1,0.02\n")
	f.Fuzz(func(t *testing.T, src string) {
		_, err := ReadTable2D(strings.NewReader(src), fuzzName, OpAttnPrefill, [2]string{"kv_cache_size", "prefill_chunk_size_squared"})
		checkErr(t, err)
	})
}

// FuzzRequestMetrics: what the reader accepts, the writer writes back and the reader
// reads again unchanged.
func FuzzRequestMetrics(f *testing.F) {
	head := strings.Join(RequestMetricsColumns, ",")
	f.Add(head + "\n0,2.0,0.5,2.0,0.5,2.0,0.5,0.0,0.0,2.0,0.5,0.5,0.5,0.05,0.375,,14.0,10.0,4.0,2.5,0\n")
	f.Add(head + "\n3,1e-05,,,,,,,,,,,,,,2.0,7,3,4,0.75,2\n")
	f.Fuzz(func(t *testing.T, src string) {
		rows, err := ReadRequestMetrics(strings.NewReader(src), fuzzName)
		checkErr(t, err)
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteRequestMetrics(&b, rows); err != nil {
			t.Fatal(err)
		}
		again, err := ReadRequestMetrics(&b, fuzzName)
		if err != nil {
			t.Fatalf("cannot read back what was written: %v\n%s", err, b.String())
		}
		if len(again) != len(rows) {
			t.Fatalf("%d rows became %d", len(rows), len(again))
		}
		for i := range rows {
			a, b := rows[i], again[i]
			for j := range a.Times {
				if a.Times[j] != b.Times[j] && !(a.Times[j] != a.Times[j] && b.Times[j] != b.Times[j]) {
					t.Fatalf("row %d column %d: %v became %v", i, j, a.Times[j], b.Times[j])
				}
			}
			if a.ID != b.ID || a.Tokens != b.Tokens || a.Restarts != b.Restarts {
				t.Fatalf("row %d changed: %+v → %+v", i, a, b)
			}
		}
	})
}

func FuzzReadProfiles(f *testing.F) {
	f.Add(mlpCSV(mlpRow8), 0)
	f.Add(attentionCSV(false, "0.0,,0.015,0.001,8192,64,8,16,2,4096,1,0,32,False,x"), 1)
	f.Add(",time_stats.all_reduce.median,num_workers,size,collective,devices_per_node\n0,0.02,2,2048,all_reduce,2\n", 2)
	f.Add("model_name,tensor_parallel_degree,batch_size,schedule_median,sampler_e2e_median,prepare_inputs_e2e_median,"+
		"process_model_outputs_median,ray_comm_time_mean\nm,1,8,0.25,0.5,0.25,0.5,0.5\n", 3)
	f.Fuzz(func(t *testing.T, src string, kind int) {
		r := strings.NewReader(src)
		var err error
		switch kind & 3 {
		case 0:
			_, err = ReadMLP(r, fuzzName)
		case 1:
			_, err = ReadAttention(r, fuzzName)
		case 2:
			_, err = ReadCollective(r, fuzzName, "all_reduce")
		case 3:
			_, err = ReadCPUOverheads(r, fuzzName)
		}
		checkErr(t, err)
	})
}

func FuzzParseRunConfig(f *testing.F) {
	f.Add(minimalConfig)
	f.Add(`{"seed": 1}`)
	f.Fuzz(func(t *testing.T, src string) {
		_, err := ParseRunConfig(strings.NewReader(src), fuzzName)
		checkErr(t, err)
	})
}
