// Package benchfmt reads the per-request results of other LLM-serving benchmark tools
// into a run in simval's own format (a realkit.Baseline, as `simval real` writes), and
// writes simulated records in vLLM's benchmark-result shape.
//
// Formats, as the tools define them (see testdata/README.md for the sources):
//   - vllm-bench: `vllm bench serve --save-result --save-detailed` JSON: parallel
//     lists input_lens, output_lens, ttfts, itls, start_times, latencies, errors.
//   - aiperf: AIPerf's profile_export.jsonl, one record per request with metadata
//     (request_start_ns …), metrics ({value, unit}) and error.
//   - guidellm: GuideLLM's benchmarks.json, benchmarks[].requests.{successful,
//     errored, incomplete}[] per-request statistics.
//
// Every time these tools record is the client's: when a request was sent and when a
// streamed chunk arrived, so an imported run's meta says timestamps "client". What a
// format lacks is reconstructed and said in the run's warnings: arrivals are the
// send times shifted to start at 0; token times are the chunk arrival times where
// there is one chunk per token, and spread evenly between the first and the last
// token otherwise. A request the tool saw fail is counted and named in the
// warnings, never silently dropped; a successful request missing a field is an error
// naming the file, the record and the field.
//
// Parsing is pure: it takes the file's bytes and name. Reading the file and writing
// the run are the CLI's (cmd/simval import).
package benchfmt
