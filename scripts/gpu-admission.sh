#!/usr/bin/env bash
# Run from the repository root on a GPU runner, with bin/simval built by
# `make gpu-binaries` and $OUT writable. What a request waits for between its due time
# and its first step on an idle engine, once the replay driver builds prompt ids before
# t0 (EngineAdapter.prepare): the profile drift check, the kv-ladder development trace
# once (bursts of 8-64 prompts of 16-1,800 tokens), and the two catalog scenarios whose
# committed baselines carried the driver's prompt building (batched-burst,
# long-prompt-mixed; development evidence, not baselines). Leaves $OUT/admission.tgz.
set -u
export PYTHONUNBUFFERED=1
T=h200-hfcb-qwen3-0.6b
D="targets/catalog/$T/dev"
P="$OUT/admission"; mkdir -p "$P"
grep -m1 'model name' /proc/cpuinfo > "$P/cpu.txt"
. "$(dirname "$0")/gpu-lib.sh"
drift_check
real kv-ladder 150 --trace "$D/kv-ladder.jsonl" --out "$P/kv-ladder.json" --repetitions 1 --warmup replay
real batched-burst 90 --scenario batched-burst --out "$P/batched-burst.json" --repetitions 5
real long-prompt-mixed 90 --scenario long-prompt-mixed --out "$P/long-prompt-mixed.json" --repetitions 5
tar czf "$OUT/admission.tgz" -C "$OUT" admission && rm -rf "$P"
