#!/usr/bin/env bash
# Run from the repository root on a GPU runner (bin/ from `make gpu-binaries`, $OUT
# writable). A fresh engine process's large first-use costs are the CUDA driver's JIT
# compilation of cuDNN's generated attention kernels, which the driver caches in
# ~/.nv/ComputeCache (scripts/gpu-cache-probe.sh: a second process started from the same
# directory skips them, one started from another directory does not). Here:
#  B: simval real --fresh-process, 2 processes (each in a new temporary directory);
#  R: restarts: development traces replayed by driver processes started one after the
#     other from one directory whose first process warmed the cache (cold-poisson x2,
#     cold-burst-tail x2, probe-decode-burst x1), raw protocol lines kept.
# Leaves $OUT/restart.tgz.
set -u
export PYTHONUNBUFFERED=1
T=h200-hfcb-qwen3-0.6b
D="$PWD/targets/catalog/$T/dev"
P="$OUT/restart"; mkdir -p "$P"
timeout 100 bin/simval real --engine hfcb --target "$T" --trace "$D/probe-decode-burst.jsonl" --out "$P/B.json" \
  --repetitions 2 --fresh-process --warmup none 2> "$P/B.err"; echo "B rc=$?"
W=$(mktemp -d); cp realkit/drivers/*.py "$W/"
run() { # label trace
  (cd "$W" && timeout 90 python3 -u hfcb_driver.py --trace "$D/$2.jsonl" --warmup none --steps --repetitions 1) \
    > "$P/$1.jsonl" 2> "$P/$1.err"; echo "$1 rc=$?"
}
run warm-cache probe-decode-burst
for k in 1 2; do run "restart-cold-poisson-$k" cold-poisson; run "restart-cold-burst-tail-$k" cold-burst-tail; done
run restart-probe-decode-burst probe-decode-burst
tar czf "$OUT/restart.tgz" -C "$OUT" restart
