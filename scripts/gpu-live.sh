#!/usr/bin/env bash
# Run from the repository root on a GPU runner, with bin/ built by `make gpu-binaries`
# and $OUT writable (RUN=regexp picks the tests): the profile drift check first (simval profile --check, about a
# minute), then the live scenario tests (every catalog scenario replayed on the engine
# and judged; cold scenarios as fresh engine processes). Leaves $OUT/live.tgz.
set -u
export PYTHONUNBUFFERED=1
T=h200-hfcb-qwen3-0.6b
P="$OUT/live"; mkdir -p "$P"
# The live tests run the same drift check themselves; the explicit one keeps its log.
# The device copies at most 64 MiB of tree and carried paths: carry bin/ with only
# scenarios.test when both binaries do not fit, and this step is skipped.
. "$(dirname "$0")/gpu-lib.sh"
if [ -x bin/simval ]; then
  drift_check
fi
start=$(date +%s)
(cd scenarios && SIMVAL_REQUIRE_GPU=1 SIMVAL_ARTIFACTS="$P/runs" timeout 400 ../bin/scenarios.test -test.v \
  -test.count=1 -test.timeout 390s -test.run "${RUN:-TestQueueFree|TestBatched|TestColdStart}") > "$P/gpu-tests.log" 2>&1
rc=$?
echo "live tests rc=$rc $(( $(date +%s) - start ))s"
grep -E "^(=== RUN|--- |    --- |ok|FAIL|PASS)|step agreement|out of bounds" "$P/gpu-tests.log" | grep -v "=== RUN" | tail -n 40
tar czf "$OUT/live.tgz" -C "$OUT" live && rm -rf "$P"
exit $rc
