#!/usr/bin/env bash
# Run from the repository root on a GPU runner (bin/simval from `make gpu-binaries`,
# $OUT writable). Does a fresh engine process's first-use cost follow the machine's
# compile speed of the moment? Alternates a compile probe (realkit/drivers/
# hfcb_compile_probe.py: a process of its own with an empty CUDA JIT cache, compiling
# the engine's two SDPA kernel variants) with fresh engine processes of the two
# development cold traces (simval real --fresh-process --step-phases: CPU, process CPU
# and steal time of each capture's eager forward), five rounds, after one profile
# check. Leaves $OUT/first-use-speed.tgz.
set -u
export PYTHONUNBUFFERED=1
T=h200-hfcb-qwen3-0.6b
D="targets/catalog/$T/dev"
P="$OUT/first-use-speed"; mkdir -p "$P"
grep -m1 'model name' /proc/cpuinfo > "$P/cpu.txt"; nproc >> "$P/cpu.txt"; head -1 /proc/stat >> "$P/cpu.txt"
probe() {
  local dir; dir=$(mktemp -d)
  (cd realkit/drivers && CUDA_CACHE_PATH="$dir/cache" timeout 90 python3 -u hfcb_compile_probe.py \
    --out "$P/probe-$1.json" > /dev/null 2> "$P/probe-$1.log")
  echo "probe $1 rc=$? $(cat "$P/probe-$1.json" 2>/dev/null | cut -c1-200)"
}
. "$(dirname "$0")/gpu-lib.sh"
drift_check
n=0
for k in 1 2 3 4 5; do
  for d in cold-burst-tail cold-poisson; do
    n=$((n + 1)); probe "$n"
    s=$(date +%s)
    timeout 60 bin/simval real --engine hfcb --target "$T" --trace "$D/$d.jsonl" --out "$P/$d-$k.json" \
      --repetitions 1 --fresh-process --warmup none --driver-arg=--step-phases 2> "$P/$d-$k.log"
    echo "$d $k rc=$? $(( $(date +%s) - s ))s"
  done
done
probe $((n + 1))
head -1 /proc/stat >> "$P/cpu.txt"
echo "total $(( $(date +%s) - start ))s"
tar czf "$OUT/first-use-speed.tgz" -C "$OUT" first-use-speed
