#!/usr/bin/env bash
# Run from the repository root on a GPU runner (bin/ from `make gpu-binaries`, $OUT
# writable): does a fresh process's first-step cost grow with the first step's size?
# Two development probes, alternating, 3 fresh processes each (simval real
# --fresh-process, --step-phases): an 8000-token prompt first then a 16-token one 2 s
# later, and the reverse. Leaves $OUT/first-size.tgz.
set -u
export PYTHONUNBUFFERED=1
T=h200-hfcb-qwen3-0.6b
D="targets/catalog/$T/dev"
P="$OUT/first-size"; mkdir -p "$P"
for k in 1 2 3; do
  for d in probe-first-large probe-first-small; do
    timeout 60 bin/simval real --engine hfcb --target "$T" --trace "$D/$d.jsonl" --out "$P/$d-$k.json" \
      --repetitions 1 --fresh-process --warmup none --driver-arg=--step-phases 2> "$P/$d-$k.log"
    echo "$d $k rc=$?"
  done
done
tar czf "$OUT/first-size.tgz" -C "$OUT" first-size
