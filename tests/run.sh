#!/usr/bin/env bash
# The one test command: installs what is missing, builds with warnings as
# errors and ASan+UBSan, runs every unit and integration test through ctest,
# then runs each libFuzzer target for a bounded time. Exits non-zero on any
# failure.
#   FUZZ_SECONDS=N   time per fuzz target (default 30; 0 skips fuzzing)
#   JOBS=N           build parallelism (default: nproc)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
BUILD=${BUILD:-$SRC/build}

"$SRC/deploy/install-deps.sh"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SRC/tests/lsan.supp:print_suppressions=0}

echo "== build ($BUILD, -Werror, ASan+UBSan)"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DIMS_WERROR=ON -DIMS_SANITIZE=ON >/dev/null
cmake --build "$BUILD" -j "$JOBS"

echo "== tests"
ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" --timeout 900

if [ "$FUZZ_SECONDS" -gt 0 ]; then
  echo "== fuzz (${FUZZ_SECONDS}s per target)"
  FBUILD="$SRC/build-fuzz"
  CC=clang cmake -S "$SRC" -B "$FBUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMS_FUZZ=ON \
    -DIMS_TESTS=ON -DIMS_BENCH=OFF -DIMS_WERROR=ON >/dev/null
  targets=$(cd "$SRC/tests/fuzz" && ls fuzz_*.c 2>/dev/null | sed 's/\.c$//' || true)
  for t in $targets; do
    cmake --build "$FBUILD" -j "$JOBS" --target "$t"
  done
  for t in $targets; do
    corpus="$SRC/tests/fuzz/corpus/${t#fuzz_}"
    work="$FBUILD/corpus/${t#fuzz_}"
    mkdir -p "$work"
    [ -d "$corpus" ] && cp -n "$corpus"/* "$work"/ 2>/dev/null || true
    echo "-- $t"
    "$FBUILD/fuzz/$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=0 "$work" 2>&1 | tail -n 3
  done
fi
echo "== all tests passed"
