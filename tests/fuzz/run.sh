#!/usr/bin/env bash
# Runs libFuzzer targets for a fixed time each and fails on any crash, leak, sanitizer
# report, timeout or broken invariant.
#   tests/fuzz/run.sh --seconds N --bin DIR --work DIR TARGET...
# Each target reads its seeds from tests/fuzz/corpus/TARGET/ (never written) and keeps what
# it finds in WORK/corpus/TARGET/; a failing input lands in WORK/artifacts/TARGET/ and the
# log in WORK/logs/TARGET.log. One line per target: executions, coverage, corpus size.
set -u
here=$(cd "$(dirname "$0")" && pwd)
seconds=15 bin= work=
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) break ;;
  esac
done
[ -n "$bin" ] && [ -n "$work" ] && [ $# -gt 0 ] || { echo "usage: $0 --seconds N --bin DIR --work DIR TARGET..." >&2; exit 2; }

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
failed=0 total=0
for t in "$@"; do
  exe="$bin/fuzz_$t"
  seeds="$here/corpus/$t"
  [ -x "$exe" ] || { echo "fuzz: $exe is missing" >&2; failed=1; continue; }
  [ -d "$seeds" ] || { echo "fuzz: no seed corpus $seeds" >&2; failed=1; continue; }
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t" "$work/logs"
  log="$work/logs/$t.log"
  dict=
  case $t in
    tree|api_info|api_tree|manifest) dict="$here/json.dict" ;;
    card) dict="$here/yaml.dict" ;;
    link) dict="$here/link.dict" ;;
    headers|hub_error|retry) dict="$here/http.dict" ;;
  esac
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$t/" ${dict:+-dict="$dict"} \
    "$work/corpus/$t" "$seeds" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  units=$(ls "$work/corpus/$t" | wc -l)
  total=$((total + ${execs:-0}))
  if [ $rc -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz invariant failed|SUMMARY: ' "$log"; then
    failed=1
    echo "FAIL fuzz_$t (exit $rc; log $log; inputs in $work/artifacts/$t/):"
    grep -E 'ERROR:|runtime error:|fuzz invariant failed|SUMMARY:|^    #[0-3] ' "$log" | head -20 | sed 's/^/     /'
  else
    printf 'ok   fuzz_%-10s %4s s  %9s execs  cov %5s  corpus %d seeds + %d found\n' \
      "$t" "$seconds" "${execs:-?}" "${cov:-?}" "$(ls "$seeds" | wc -l)" "$units"
  fi
done
echo "fuzz: $# targets, $total executions, $([ $failed -eq 0 ] && echo 'no failure' || echo FAILED)"
exit $failed
