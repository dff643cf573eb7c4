#!/usr/bin/env bash
# Run from the repository root on a GPU runner, with bin/simval built by
# `make gpu-binaries` and $OUT writable. Lukewarm engines, in one device command: each
# development trace of scripts/make-lukewarm-traces.py replayed several times in ONE
# engine process, so a repetition starts with the graphs the warm-up and the earlier
# repetitions captured (validate --run judges each from that state, suite.RecordedRuns):
#   - without a warm-up (the first repetition is a cold process start), and
#   - after the driver's own warm-up (shapes, replay).
# The profile drift check first (simval profile --check, about 25 s), so that what the
# lease's own step speed explains is told apart from the engine-state model.
# Leaves $OUT/lukewarm.tgz.
set -u
export PYTHONUNBUFFERED=1
T=h200-hfcb-qwen3-0.6b
D="targets/catalog/$T/dev"
P="$OUT/lukewarm"; mkdir -p "$P"
grep -m1 'model name' /proc/cpuinfo > "$P/cpu.txt"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv > "$P/gpu.txt" 2>&1
. "$(dirname "$0")/gpu-lib.sh"
drift_check
real poisson-none 150 --trace "$D/lukewarm-poisson.jsonl" --out "$P/lukewarm-poisson.none.json" \
  --repetitions 3 --warmup none
real long-none 120 --trace "$D/lukewarm-long.jsonl" --out "$P/lukewarm-long.none.json" \
  --repetitions 3 --warmup none
real poisson-shapes 150 --trace "$D/lukewarm-poisson.jsonl" --out "$P/lukewarm-poisson.shapes.json" \
  --repetitions 3 --warmup shapes
real long-replay 120 --trace "$D/lukewarm-long.jsonl" --out "$P/lukewarm-long.replay.json" \
  --repetitions 2 --warmup replay
tar czf "$OUT/lukewarm.tgz" -C "$OUT" lukewarm && rm -rf "$P"
