#!/usr/bin/env bash
# The tensor-parallel target on nvidia-h200-x2 (two H200s of one host), as
# scripts/gpu-record.sh is for one GPU. Run from the repository root with $OUT writable
# and bin/simval built by `make gpu-binaries` AFTER the target is in the catalog:
#   git mv targets/testdata/pending/h200x2-hfcb-tp2-qwen3-8b targets/catalog/
#   (update targets_test.go's catalog list; make the live GPU harness skip it on one GPU)
#   make gpu-binaries
# Three parts, each within one 10-minute device command; run them back to back on one
# lease so that the random checkpoint written by the first run (under /tmp, ~16 GB) is
# reused by the others:
#   scripts/gpu-tp2.sh profile     GPU and link facts; all_reduce.csv at the step sizes
#                                  (hfcb_profile_allreduce.py, both GPUs); one smoke
#                                  replay through simval real's torchrun launch
#   scripts/gpu-tp2.sh baselines   queue-free-spaced, batched-burst, long-prompt-mixed:
#                                  5 repetitions with step traces, warm
#   scripts/gpu-tp2.sh baselines2  poisson-moderate (5 repetitions, warm) and
#                                  cold-start-burst (3 fresh processes, no warm-up)
# Each part leaves $OUT/<part>.tgz. Not produced here: the kernel and CPU tables of the
# tp 2 profile (realkit/drivers/profile_hfcb.py profiles Qwen3-0.6B on one GPU only).
set -u
export PYTHONUNBUFFERED=1
# The workplace keeps NVLink multicast off (KINDS.md); say so again for every child.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export NCCL_GRAPH_MIXING_SUPPORT=0
part=${1:?usage: gpu-tp2.sh profile|baselines|baselines2}
T=h200x2-hfcb-tp2-qwen3-8b
Y="targets/catalog/$T/target.yaml"
[ -f "$Y" ] || { echo "$Y missing: move the pending target into the catalog first (see the header)"; exit 2; }
P="$OUT/$part"; mkdir -p "$P"; P=$(cd "$P" && pwd)
nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader > "$P/gpu.txt"
nvidia-smi topo -m > "$P/topo.txt" 2>&1
grep -m1 'model name' /proc/cpuinfo > "$P/cpu.txt"; nproc >> "$P/cpu.txt"
n=$(python3 -c 'import torch; print(torch.cuda.device_count())')
[ "$n" -ge 2 ] || { echo "this machine has $n GPU(s); the target needs 2"; exit 2; }
python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__, "nccl", torch.cuda.nccl.version())' > "$P/versions.txt"
cat "$P/versions.txt"
. "$(dirname "$0")/gpu-lib.sh"
case $part in
profile)
  spec=$(python3 -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))["model"]))' "$Y")
  start=$(date +%s)
  (cd realkit/drivers && timeout 240 python3 -m torch.distributed.run --standalone --nproc-per-node 2 \
    hfcb_profile_allreduce.py --out "$P/profile" --model-spec "$spec" --budget 8192) > "$P/allreduce.log" 2>&1
  echo "all-reduce rc=$? $(( $(date +%s) - start ))s"; tail -n 3 "$P/allreduce.log"
  cat "$P/profile/all_reduce_provenance.json" 2>/dev/null | head -n 30
  # One repetition of the shortest scenario: the launch, the random checkpoint (written
  # once here), the follower rank and the resolved settings, before the long parts.
  real smoke 300 --scenario queue-free-spaced --out "$P/smoke.json" --repetitions 1 \
    || { tar czf "$OUT/$part.tgz" -C "$OUT" "$part"; exit 1; }
  ;;
baselines)
  mkdir -p "$P/baselines"
  for s in queue-free-spaced batched-burst long-prompt-mixed; do
    real "$s" 190 --scenario "$s" --out "$P/baselines/$s.json" --repetitions 5
  done
  ;;
baselines2)
  mkdir -p "$P/baselines"
  real poisson-moderate 240 --scenario poisson-moderate --out "$P/baselines/poisson-moderate.json" --repetitions 5
  real cold-start-burst 330 --scenario cold-start-burst --out "$P/baselines/cold-start-burst.json" \
    --repetitions 3 --fresh-process --warmup none
  ;;
*) echo "unknown part $part"; exit 2 ;;
esac
tar czf "$OUT/$part.tgz" -C "$OUT" "$part" && rm -rf "$P"
ls -la "$OUT"
