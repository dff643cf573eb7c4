#!/usr/bin/env bash
# Run from the repository root on a GPU runner, with bin/simval built by
# `make gpu-binaries` and $OUT set to a writable folder. One lease: the H200 baselines for every catalog scenario (3 warm repetitions each),
# then the profile bundle, so both come from the same machine.
set -u
export PYTHONUNBUFFERED=1
P="$OUT/pack"; mkdir -p "$P/baselines"
T=h200-hfcb-qwen3-0.6b
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > "$P/gpu.txt"
for s in queue-free-spaced batched-burst long-prompt-mixed poisson-moderate; do
  start=$(date +%s)
  timeout 170 bin/simval real --engine hfcb --scenario "$s" --target "$T" \
    --out "$P/baselines/$s.json" --repetitions 3 2> "$P/real-$s.log"
  echo "$s rc=$? $(( $(date +%s) - start ))s"; tail -n 2 "$P/real-$s.log"
done
start=$(date +%s)
timeout 240 bin/simval profile --engine hfcb --target "$T" --out "$P/profile" > "$P/profile.log" 2>&1
echo "profile rc=$? $(( $(date +%s) - start ))s"; tail -n 5 "$P/profile.log"
tar czf "$OUT/record.tgz" -C "$OUT" pack && rm -rf "$P"
