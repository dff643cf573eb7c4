#!/usr/bin/env bash
# Run from the repository root on a GPU runner, with bin/simval built by
# `make gpu-binaries` and $OUT writable. The hfcb engine's host cost per cached token,
# in one device command: the profile drift check, then the development trace of
# scripts/make-kv-ladder-trace.py (waves at fixed batch and graph key whose cached
# tokens differ) replayed after the driver's replay warm-up, twice plain and once with
# --step-phases (where the step's host time goes). Leaves $OUT/kv-ladder.tgz.
set -u
export PYTHONUNBUFFERED=1
T=h200-hfcb-qwen3-0.6b
D="targets/catalog/$T/dev"
P="$OUT/kv-ladder"; mkdir -p "$P"
grep -m1 'model name' /proc/cpuinfo > "$P/cpu.txt"
. "$(dirname "$0")/gpu-lib.sh"
drift_check
real kv-ladder 240 --trace "$D/kv-ladder.jsonl" --out "$P/kv-ladder.json" --repetitions 2 --warmup replay
real kv-ladder-phases 200 --trace "$D/kv-ladder.jsonl" --out "$P/kv-ladder.phases.json" --repetitions 1 \
  --warmup replay --driver-arg=--step-phases
tar czf "$OUT/kv-ladder.tgz" -C "$OUT" kv-ladder && rm -rf "$P"
