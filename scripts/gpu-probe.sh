#!/usr/bin/env bash
# Run from the repository root on a GPU runner (bin/ from `make gpu-binaries`, $OUT
# writable): which step of a fresh engine process pays the second first-use cost?
# Two development probes, 2 fresh processes each: one request, then 8 together 3 s
# later; 8 together, then one 3 s later. Leaves $OUT/probe.tgz.
set -u
export PYTHONUNBUFFERED=1
T=h200-hfcb-qwen3-0.6b
P="$OUT/probe"; mkdir -p "$P"
for d in probe-single-then-burst probe-burst-then-single; do
  start=$(date +%s)
  timeout 90 bin/simval real --engine hfcb --target "$T" --trace "targets/catalog/$T/dev/$d.jsonl" \
    --out "$P/$d.json" --repetitions 2 --fresh-process --warmup none 2> "$P/real-$d.log"
  echo "$d rc=$? $(( $(date +%s) - start ))s"
done
tar czf "$OUT/probe.tgz" -C "$OUT" probe
