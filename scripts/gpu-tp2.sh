#!/usr/bin/env bash
# The tensor-parallel target on nvidia-h200-x2 (two H200s of one host), as
# scripts/gpu-record.sh is for one GPU. Run from the repository root with $OUT writable
# and bin/simval from `make gpu-binaries`. The target lives in targets/catalog/ (where
# it was pending, in targets/testdata/pending/, a temporary catalog folder holding it is
# named in SIMVAL_CATALOG). Parts, each within one
# 10-minute device command, back to back on one lease:
#   scripts/gpu-tp2.sh profile     GPU and link facts; all_reduce.csv at the step sizes
#                                  (hfcb_profile_allreduce.py, both GPUs); the calibration
#                                  trace through the real TP engine (simval real: its
#                                  torchrun launch; warm-up replay, 2 repetitions, step
#                                  traces with phases), whose steps give the CPU and
#                                  capture tables
#   scripts/gpu-tp2.sh calibrate2  the calibration trace again, without --step-phases
#                                  (whose per-step memory_stats() calls cost CPU time) and
#                                  with a single prefill of the whole token budget; one
#                                  repetition after the warm-up replay
#   scripts/gpu-tp2.sh rank        the kernel tables of one rank (profile_hfcb.py
#                                  --rank-of-tp 2, on GPU 0: one H200 would do)
#   scripts/gpu-tp2.sh polls       the idle-poll development trace (dev/idle-poll.jsonl,
#                                  scripts/make-idle-poll-trace.py), warm-up replay and 2
#                                  repetitions, with every rank's idle-loop log
#                                  (hfcb_driver.py --poll-log) and the engine's source of
#                                  the functions it wraps
#   scripts/gpu-tp2.sh baselines   every warm catalog scenario, 5 repetitions with step
#                                  traces, and cold-start-burst (3 fresh processes)
#   scripts/gpu-tp2.sh warm-baselines  the warm catalog scenarios only
#   scripts/gpu-tp2.sh fresh       the development cold traces, 2 fresh processes each
#                                  (the first-use rows)
# Each part leaves $OUT/<part>.tgz.
set -u
export PYTHONUNBUFFERED=1
# The workplace keeps NVLink multicast off (KINDS.md); say so again for every child.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export NCCL_GRAPH_MIXING_SUPPORT=0
part=${1:?usage: gpu-tp2.sh profile|calibrate2|polls|rank|baselines|warm-baselines|fresh}
T=h200x2-hfcb-tp2-qwen3-0.6b
D=targets/catalog/$T
if [ ! -f "$D/target.yaml" ]; then
  D=targets/testdata/pending/$T
  CAT=$(mktemp -d); mkdir -p "$CAT/targets"; cp -r "$D" "$CAT/targets/"
  export SIMVAL_CATALOG=$CAT
fi
Y="$D/target.yaml"
P="$OUT/$part"; mkdir -p "$P"; P=$(cd "$P" && pwd)
nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader > "$P/gpu.txt"
nvidia-smi topo -m > "$P/topo.txt" 2>&1
grep -m1 'model name' /proc/cpuinfo > "$P/cpu.txt"; nproc >> "$P/cpu.txt"
n=$(python3 -c 'import torch; print(torch.cuda.device_count())')
[ "$n" -ge 2 ] || { echo "this machine has $n GPU(s); the target needs 2"; exit 2; }
python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__, "nccl", torch.cuda.nccl.version())' > "$P/versions.txt"
cat "$P/versions.txt"
. "$(dirname "$0")/gpu-lib.sh"
H=targets/catalog/h200-hfcb-qwen3-0.6b/dev
case $part in
profile)
  spec=$(python3 -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))["model"]))' "$Y")
  start=$(date +%s)
  (cd realkit/drivers && timeout 180 python3 -m torch.distributed.run --standalone --nproc-per-node 2 \
    hfcb_profile_allreduce.py --out "$P/profile" --model-spec "$spec" --budget 8192) > "$P/allreduce.log" 2>&1
  echo "all-reduce rc=$? $(( $(date +%s) - start ))s"; tail -n 3 "$P/allreduce.log"
  real calibration 240 --trace "$D/dev/calibration.jsonl" --out "$P/calibration.json" --repetitions 2 \
    --warmup replay --driver-arg=--step-phases
  ;;
calibrate2)
  real calibration-v2 170 --trace "$D/dev/calibration-v2.jsonl" --out "$P/calibration-v2.json" --repetitions 1 \
    --warmup replay
  ;;
polls)
  real idle-poll 150 --trace "$D/dev/idle-poll.jsonl" --out "$P/idle-poll.json" --repetitions 2 \
    --warmup replay --driver-arg=--poll-log="$P/poll-log"
  ;;
rank)
  start=$(date +%s)
  (cd realkit/drivers && CUDA_VISIBLE_DEVICES=0 timeout 200 python3 -u profile_hfcb.py --target "$T" \
    --out "$P/profile-rank" --rank-of-tp 2) > "$P/profile-rank.log" 2>&1
  echo "rank profile rc=$? $(( $(date +%s) - start ))s"; tail -n 3 "$P/profile-rank.log"
  ;;
baselines|warm-baselines)
  mkdir -p "$P/baselines"
  for s in queue-free-spaced batched-burst long-prompt-mixed poisson-moderate; do
    real "$s" 150 --scenario "$s" --out "$P/baselines/$s.json" --repetitions 5
  done
  [ "$part" = baselines ] || { tar czf "$OUT/$part.tgz" -C "$OUT" "$part" && rm -rf "$P"; ls -la "$OUT"; exit 0; }
  real cold-start-burst 150 --scenario cold-start-burst --out "$P/baselines/cold-start-burst.json" \
    --repetitions 3 --fresh-process --warmup none
  ;;
fresh)
  mkdir -p "$P/dev"
  for d in cold-poisson cold-burst-tail; do
    real "dev-$d" 120 --trace "$H/$d.jsonl" --out "$P/dev/$d.json" --repetitions 2 --fresh-process --warmup none \
      --driver-arg=--step-phases
  done
  ;;
*) echo "unknown part $part"; exit 2 ;;
esac
tar czf "$OUT/$part.tgz" -C "$OUT" "$part" && rm -rf "$P"
ls -la "$OUT"
