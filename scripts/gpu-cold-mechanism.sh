#!/usr/bin/env bash
# Run from the repository root on a GPU runner (bin/ from `make gpu-binaries`, $OUT
# writable): where do a fresh engine process's first-use costs go, and why do steps of
# a 24-block cache run slower than the profile? In one device command:
#  1. fresh processes with every step split into the engine's phases (--step-phases):
#     the catalog cold scenario (3), two single-request prefill ladders (output 1, one
#     new padded query size per second; 2 + 1), eight short prompts decoding together (1),
#     and the cold scenario again with CUDA_MODULE_LOADING=EAGER (2: is it lazy kernel
#     loading?);
#  2. the mask-stride probe (hfcb_mask_stride_probe.py: SDPA at the decision's shapes with
#     an aligned and an odd mask row stride) and batched-burst with 24 blocks and
#     max_batch_tokens 8192 given explicitly (aligned stride), 2 warm repetitions.
# Leaves $OUT/mechanism.tgz.
set -u
export PYTHONUNBUFFERED=1
T=h200-hfcb-qwen3-0.6b
D="targets/catalog/$T/dev"
P="$OUT/mechanism"; mkdir -p "$P"
grep -m1 'model name' /proc/cpuinfo > "$P/cpu.txt"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$P/gpu.txt" 2>&1
. "$(dirname "$0")/gpu-lib.sh"
fresh=(--fresh-process --warmup none --driver-arg=--step-phases)
real cold-start-burst 150 --scenario cold-start-burst --out "$P/cold-start-burst.json" --repetitions 3 "${fresh[@]}"
real ladder 110 --trace "$D/probe-prefill-ladder.jsonl" --out "$P/probe-prefill-ladder.json" --repetitions 2 "${fresh[@]}"
real ladder-rev 70 --trace "$D/probe-prefill-ladder-reversed.jsonl" --out "$P/probe-prefill-ladder-reversed.json" --repetitions 1 "${fresh[@]}"
real decode-burst 60 --trace "$D/probe-decode-burst.jsonl" --out "$P/probe-decode-burst.json" --repetitions 1 "${fresh[@]}"
CUDA_MODULE_LOADING=EAGER real cold-eager 130 --scenario cold-start-burst --out "$P/cold-start-burst.eager.json" --repetitions 2 "${fresh[@]}"
start=$(date +%s)
(cd realkit/drivers && timeout 120 python3 hfcb_mask_stride_probe.py --out "$P/mask-stride.json") > "$P/mask-stride.log" 2>&1
echo "mask-stride rc=$? $(( $(date +%s) - start ))s"; grep -v "^ \|^{\|^}" "$P/mask-stride.log" | tail -n 5
real blocks-24-mbt-8192 90 --scenario batched-burst --out "$P/batched-burst.blocks-24.mbt-8192.json" --repetitions 2 \
  --driver-arg=--num-blocks=24 --driver-arg=--max-batch-tokens=8192
tar czf "$OUT/mechanism.tgz" -C "$OUT" mechanism
