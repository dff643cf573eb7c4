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
