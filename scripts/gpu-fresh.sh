#!/usr/bin/env bash
# Run from the repository root on a GPU runner, with bin/simval built by
# `make gpu-binaries`, $OUT writable, and the target's committed profile bundle in the
# tree. Cold starts, in one device command: the profile's fresh-process rows
# (simval profile --fresh-only: one-request traces of 16, 1000 and 4000 prompt tokens,
# 2 fresh engine processes each), then the catalog's cold scenario and the development
# cold traces, 3 fresh processes each. Leaves $OUT/fresh.tgz.
set -u
export PYTHONUNBUFFERED=1
T=h200-hfcb-qwen3-0.6b
P="$OUT/fresh"; mkdir -p "$P/baselines" "$P/dev"
cp -r "targets/catalog/$T/profile" "$P/profile"
grep -m1 'model name' /proc/cpuinfo > "$P/cpu.txt"
start=$(date +%s)
timeout 240 bin/simval profile --engine hfcb --target "$T" --out "$P/profile" --fresh-only > "$P/profile-fresh.log" 2>&1
echo "profile --fresh-only rc=$? $(( $(date +%s) - start ))s"; tail -n 8 "$P/profile-fresh.log"
. "$(dirname "$0")/gpu-lib.sh"
real cold-start-burst 150 --scenario cold-start-burst --out "$P/baselines/cold-start-burst.json" \
  --repetitions 3 --fresh-process --warmup none
for d in cold-poisson cold-burst-tail; do
  real "dev-$d" 120 --trace "targets/catalog/$T/dev/$d.jsonl" --out "$P/dev/$d.json" \
    --repetitions 3 --fresh-process --warmup none
done
tar czf "$OUT/fresh.tgz" -C "$OUT" fresh && rm -rf "$P"
