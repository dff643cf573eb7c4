// Package vidurfmt reads and writes Vidur's file formats (microsoft/vidur @ 7d47513;
// reference/vidur-semantics.md §5–§9), so that simval can run on Vidur's inputs and
// be compared number for number with Vidur's outputs:
//
//   - profile folders: compute/<device>/<org>/<model>/{mlp,attention}.csv (the older
//     attention format without attn_kv_cache_save included), network/<device>/
//     {all_reduce,send_recv}.csv and cpu_overheads.csv;
//   - Vidur's model configurations (a built-in table of model_config.py entries, with
//     explicit fields, plus Qwen/Qwen3-0.6B as reference §10 defines it);
//   - trace CSVs, read with trace_replay's rules (scale, truncate to int, clip ≥ 1,
//     trim the prompt so prompt + output ≤ max_tokens), and written for Vidur to read;
//   - the predictor's cached prediction tables (<op>_predictions.csv, or Vidur's own
//     <op>_<hash>_predictions.csv names) as exact look-up maps;
//   - a run's config.json (only the fields a simulation needs);
//   - request_metrics.csv, written with Vidur's columns and definitions and read back.
//
// Every reader is strict: a bad or partial file fails with the file, line and column
// named. The package only moves data between files and Go values: it does not
// simulate, predict or judge (simkit and validation do), and it imports neither.
package vidurfmt
