#!/usr/bin/env bash
# Set everything up and run every test tier (DESIGN.md §5):
#   1. the normal build with -Werror: every test (unit, schema, testdriver, libvirtd, lab, e2e)
#   2. an ASan+UBSan build: the in-process tiers again (unit, schema, testdriver)
#   3. a clang libFuzzer build: the loader fuzz target for a fixed number of runs
# Safe to run twice. Prints one closing line "N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${VCM_BUILD_DIR:-$here/build}
jobs=$(nproc)

VCM_CMAKE_ARGS="-DVCM_WERROR=ON" "$here/scripts/setup.sh" "$build" || exit 1

passed=0 failed=0 skipped=0 status=0
run_ctest() { # DIR LABEL-ARGS...
  local dir=$1; shift
  local log
  log=$(mktemp)
  (cd "$dir" && ctest --output-on-failure --timeout 1800 -j"$jobs" "$@") 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # ctest's own summary: "100% tests passed, 0 tests failed out of 12"
  local total nfail nskip
  total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
  nfail=$(sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
  nskip=$(grep -c '\*\*\*Skipped\|Not Run (Disabled)' "$log" || true)
  total=${total:-0} nfail=${nfail:-0}
  passed=$((passed + total - nfail - nskip)) failed=$((failed + nfail)) skipped=$((skipped + nskip))
  [ "$rc" -eq 0 ] || status=1
  rm -f "$log"
}

echo "== tier: every test, normal build ($build)"
run_ctest "$build"

echo "== ASan+UBSan build: unit, schema, testdriver"
asan=${build}-asan
cmake -S "$here" -B "$asan" -G Ninja -DVCM_WERROR=ON -DVCM_SANITIZE=ON >/dev/null &&
  cmake --build "$asan" -j"$jobs" || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest "$asan" -L 'unit|schema|testdriver'

echo "== libFuzzer build (clang): the loader"
fuzz=${build}-fuzz
CC=clang cmake -S "$here" -B "$fuzz" -G Ninja -DVCM_FUZZ=ON >/dev/null &&
  cmake --build "$fuzz" -j"$jobs" --target fuzz_load || status=1
run_ctest "$fuzz" -L fuzz

echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
