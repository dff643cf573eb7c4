# Sourced by the GPU runner scripts (scripts/gpu-*.sh); they set T (the target) and P
# (the output folder) first.

# real NAME LIMIT ARGS...: simval real for target $T with ARGS, under a LIMIT-second
# timeout, its stderr in $P/real-NAME.log; prints the exit code, the seconds taken and
# the log's last lines, and returns the exit code.
real() {
  local name=$1 limit=$2; shift 2
  local start=$(date +%s) rc
  timeout "$limit" bin/simval real --engine hfcb --target "$T" "$@" 2> "$P/real-$name.log"; rc=$?
  echo "$name rc=$rc $(( $(date +%s) - start ))s"; tail -n 3 "$P/real-$name.log"
  return $rc
}

# drift_check: simval profile --check for target $T (about 30 s), its bundle in
# $P/check and its log in $P/check.log; prints the exit code, the seconds taken and the
# drift lines.
drift_check() {
  local start=$(date +%s)
  timeout 110 bin/simval profile --engine hfcb --target "$T" --check --out "$P/check" > "$P/check.log" 2>&1
  echo "profile --check rc=$? $(( $(date +%s) - start ))s"; grep -E "drift|error" "$P/check.log" | tail -n 8
}
