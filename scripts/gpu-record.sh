#!/usr/bin/env bash
# Run from the repository root on a GPU runner, with bin/simval built by
# `make gpu-binaries` and $OUT set to a writable folder. One lease, in three parts
# (each fits one 10-minute device command; run them back to back so they share the
# machine):
#   scripts/gpu-record.sh baselines   every catalog scenario: 5 repetitions with step
#                                     traces (warm ones after the replay warm-up in one
#                                     process; cold ones as fresh processes, no warm-up)
#   scripts/gpu-record.sh profile     the profile bundle (kernel tables, CPU table,
#                                     graph-capture costs), then the development cold runs
#                                     (targets/…/dev/*.jsonl, 3 fresh processes each)
#   scripts/gpu-record.sh decisions   the decision runs (one engine setting changed)
# Each part leaves $OUT/<part>.tgz.
set -u
export PYTHONUNBUFFERED=1
part=${1:?usage: gpu-record.sh baselines|profile|decisions}
T=h200-hfcb-qwen3-0.6b
P="$OUT/$part"; mkdir -p "$P"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > "$P/gpu.txt"
grep -m1 'model name' /proc/cpuinfo > "$P/cpu.txt"; nproc >> "$P/cpu.txt"
. "$(dirname "$0")/gpu-lib.sh"
case $part in
baselines)
  mkdir -p "$P/baselines"
  # First, and stop the part if it fails: it also proves the step instrumentation.
  real cold-start-burst 150 --scenario cold-start-burst --out "$P/baselines/cold-start-burst.json" \
    --repetitions 3 --fresh-process --warmup none || { tar czf "$OUT/$part.tgz" -C "$OUT" "$part"; exit 1; }
  for s in queue-free-spaced batched-burst long-prompt-mixed poisson-moderate; do
    real "$s" 150 --scenario "$s" --out "$P/baselines/$s.json" --repetitions 5
  done
  ;;
profile)
  start=$(date +%s)
  timeout 300 bin/simval profile --engine hfcb --target "$T" --out "$P/profile" > "$P/profile.log" 2>&1
  echo "profile rc=$? $(( $(date +%s) - start ))s"; tail -n 5 "$P/profile.log"
  mkdir -p "$P/dev"
  for d in cold-poisson cold-burst-tail; do
    real "dev-$d" 120 --trace "targets/catalog/$T/dev/$d.jsonl" --out "$P/dev/$d.json" \
      --repetitions 3 --fresh-process --warmup none
  done
  ;;
decisions)
  mkdir -p "$P/decisions"
  real budget-256 150 --scenario long-prompt-mixed --out "$P/decisions/long-prompt-mixed.budget-256.json" \
    --repetitions 3 --driver-arg=--max-batch-tokens=256
  real budget-1024 120 --scenario long-prompt-mixed --out "$P/decisions/long-prompt-mixed.budget-1024.json" \
    --repetitions 3 --driver-arg=--max-batch-tokens=1024
  real prefill-first 150 --scenario poisson-moderate --out "$P/decisions/poisson-moderate.prefill-first.json" \
    --repetitions 3 --driver-arg=--scheduler=prefill_first
  real blocks-24 120 --scenario batched-burst --out "$P/decisions/batched-burst.blocks-24.json" \
    --repetitions 3 --driver-arg=--num-blocks=24
  ;;
*) echo "unknown part $part"; exit 2 ;;
esac
tar czf "$OUT/$part.tgz" -C "$OUT" "$part" && rm -rf "$P"
ls -la "$OUT"
