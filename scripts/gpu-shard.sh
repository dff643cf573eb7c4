#!/usr/bin/env bash
# Records one shard of the scenario catalog on one target, for the GPU workflow's
# matrix (.github/workflows/gpu.yml): scenario i, in `simval scenarios` order, belongs
# to shard i mod SHARDS. Cold scenarios are 3 fresh engine processes without warm-up,
# the others 5 repetitions in one process after the replay warm-up (as
# scripts/gpu-record.sh baselines). Every run finished is left in OUTDIR as
# <target>.<scenario>.json (a run that died leaves .partial.json); the exit status is
# non-zero when any run failed.
#   usage: scripts/gpu-shard.sh TARGET SHARD SHARDS OUTDIR      ($SIMVAL: default bin/simval)
set -u
target=${1:?usage: gpu-shard.sh TARGET SHARD SHARDS OUTDIR}
shard=${2:?usage: gpu-shard.sh TARGET SHARD SHARDS OUTDIR}
shards=${3:?usage: gpu-shard.sh TARGET SHARD SHARDS OUTDIR}
out=${4:?usage: gpu-shard.sh TARGET SHARD SHARDS OUTDIR}
simval=${SIMVAL:-bin/simval}
if ! (( shard >= 0 && shard < shards )); then
  echo "gpu-shard.sh: shard $shard is not in 0..$((shards - 1))" >&2
  exit 2
fi
engine=$("$simval" targets | awk -v t="$target" '$1 == t { print $3 }')
if [ -z "$engine" ]; then
  echo "gpu-shard.sh: unknown target $target (see simval targets)" >&2
  exit 2
fi
mkdir -p "$out"
rc=0
i=0
while read -r name regime _; do
  if (( i % shards == shard )); then
    if [ "$regime" = cold ]; then
      reps=(--repetitions 3 --fresh-process --warmup none)
    else
      reps=(--repetitions 5)
    fi
    echo "shard $shard/$shards: $name ($regime) on $target"
    "$simval" real --engine "$engine" --target "$target" --scenario "$name" \
      --out "$out/$target.$name.json" "${reps[@]}" || rc=1
  fi
  i=$((i + 1))
done < <("$simval" scenarios | tail -n +2)
exit $rc
