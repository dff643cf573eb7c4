#!/usr/bin/env bash
# Run from the repository root on a GPU runner (bin/ from `make gpu-binaries`, $OUT
# writable): the restart-burst baseline, 3 restarted engine processes (simval real
# --restart: one directory, after one discarded process that fills the CUDA driver's
# JIT cache). Leaves $OUT/restart-baseline.tgz.
set -u
export PYTHONUNBUFFERED=1
T=h200-hfcb-qwen3-0.6b
P="$OUT/restart-baseline"; mkdir -p "$P"
grep -m1 'model name' /proc/cpuinfo > "$P/cpu.txt"
start=$(date +%s)
timeout 200 bin/simval real --engine hfcb --target "$T" --scenario restart-burst --out "$P/restart-burst.json" \
  --repetitions 3 --restart --warmup none 2> "$P/real-restart-burst.log"
echo "restart-burst rc=$? $(( $(date +%s) - start ))s"; tail -n 2 "$P/real-restart-burst.log"
tar czf "$OUT/restart-baseline.tgz" -C "$OUT" restart-baseline
