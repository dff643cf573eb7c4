#!/usr/bin/env bash
# Run from the repository root on a GPU runner (bin/ from `make gpu-binaries`, $OUT
# writable): does a fresh engine process find the first-use compilations of an earlier
# one? The profiler's fresh processes (one working directory, launched one after the
# other) showed cheap first steps where simval real's (a new temporary directory per
# process) never did. (A) the driver launched twice from the same directory, (B) simval
# real --fresh-process twice, (C) the driver twice more from a new directory; after
# each, the files the processes wrote (find -newer) and the first steps' costs.
# Leaves $OUT/cache.tgz.
set -u
export PYTHONUNBUFFERED=1
T=h200-hfcb-qwen3-0.6b
TR="$PWD/targets/catalog/$T/dev/probe-decode-burst.jsonl"
P="$OUT/cache"; mkdir -p "$P"
env | grep -E '^(HOME|TMPDIR|XDG|CUDA|TORCH|TRITON|CUDNN)' | sort > "$P/env.txt"
cat > "$P/firsts.py" <<'PY'
import json, sys
for line in sys.stdin:
    if '"type":"step"' in line:
        s = json.loads(line)
        if s.get("captured"):
            print(f"{s['q_pad']}:{s['duration_s'] * 1000:.0f}ms", end=" ")
print()
PY
firsts() { tee -a "$P/steps.jsonl" | python3 "$P/firsts.py"; }
direct() { # label dir
  local label=$1 dir=$2; touch "$P/marker-$label"
  (cd "$dir" && timeout 90 python3 -u hfcb_driver.py --trace "$TR" --warmup none --steps --repetitions 1 2> "$P/$label.err") | firsts > "$P/$label.txt"
  echo "$label: $(cat "$P/$label.txt")"
  find / -xdev -newer "$P/marker-$label" -type f -size +20k 2>/dev/null | grep -vE '^/(proc|sys)|/cache/(marker|.*\.(txt|err))$' | head -40 > "$P/$label.files"
  echo "  wrote: $(wc -l < "$P/$label.files") files; $(head -5 "$P/$label.files" | tr '\n' ' ')"
}
rm -rf ~/.nv/ComputeCache
direct A1 realkit/drivers
direct A2 realkit/drivers
touch "$P/marker-B"
timeout 120 bin/simval real --engine hfcb --target "$T" --trace "$TR" --out "$P/B.json" --repetitions 2 --fresh-process --warmup none 2> "$P/B.err"
cat > "$P/reps.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["repetitions"]:
    print("B rep", r["index"], " ".join(f"{s['q_pad']}:{s['duration_s'] * 1000:.0f}ms" for s in r["steps"] if s.get("captured")))
PY
python3 "$P/reps.py" "$P/B.json"
find / -xdev -newer "$P/marker-B" -type f -size +20k 2>/dev/null | grep -vE '^/(proc|sys)' | head -40 > "$P/B.files"
echo "  B wrote: $(wc -l < "$P/B.files") files; $(head -5 "$P/B.files" | tr '\n' ' ')"
NEW=$(mktemp -d); cp realkit/drivers/*.py "$NEW/"
direct C1 "$NEW"
direct C2 "$NEW"
du -sh ~/.nv/ComputeCache 2>&1; find ~/.nv -type f | wc -l
CUDA_CACHE_DISABLE=1 direct D1-nocache realkit/drivers
ls -la ~/.nv ~/.cache ~/.triton /tmp 2>&1 | head -40 > "$P/dirs.txt"
tar czf "$OUT/cache.tgz" -C "$OUT" cache
