#!/bin/sh
# Runs Barra's tests in three phases and ends with one line "N passed, N failed":
#   suite  the unit, corpus and command-line tests (meson test)
#   asan   the same suite built with AddressSanitizer and UndefinedBehaviorSanitizer
#   fuzz   each libFuzzer target for FUZZ_SECONDS (default 20) from its seed corpus, after
#          replaying its committed regressions
# With arguments, runs only the phases named.
set -u
cd "$(dirname "$0")/.."
phases=${*:-suite asan fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
passed=0
failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

count_meson() { # $1 = build dir
    summary=$(sed -n '/^Ok:/,/^Timeout:/p' "$log/out")
    ok=$(printf '%s\n' "$summary" | awk '/^Ok:/ {print $2}')
    bad=$(printf '%s\n' "$summary" | awk '/^(Fail|Unexpected Pass|Timeout):/ {s += $2} END {print s+0}')
    passed=$((passed + ${ok:-0}))
    failed=$((failed + ${bad:-0}))
    if [ -z "$ok" ]; then failed=$((failed + 1)); fi
}

run_suite() { # $1 = build dir, $2... = meson setup options
    dir=$1; shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" >"$log/setup" 2>&1 || { cat "$log/setup"; failed=$((failed + 1)); return; }
    fi
    if ! ninja -C "$dir" >"$log/build" 2>&1; then
        cat "$log/build"; failed=$((failed + 1)); return
    fi
    meson test -C "$dir" --print-errorlogs --num-processes 2 >"$log/out" 2>&1
    cat "$log/out"
    count_meson
}

for phase in $phases; do
    case $phase in
    suite)
        echo "== test suite"
        run_suite build --buildtype=debugoptimized -Dwerror=true
        ;;
    asan)
        echo "== test suite under ASan and UBSan"
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            run_suite build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
            -Dc_args=-fno-sanitize-recover=all
        ;;
    fuzz)
        echo "== fuzz targets, ${FUZZ_SECONDS} s each"
        if [ ! -f build-fuzz/build.ninja ]; then
            CC=clang meson setup build-fuzz --buildtype=debugoptimized -Dfuzz=true -Dtests=false \
                -Db_sanitize=address,undefined -Db_lundef=false >"$log/setup" 2>&1 ||
                { cat "$log/setup"; failed=$((failed + 1)); continue; }
        fi
        if ! ninja -C build-fuzz >"$log/build" 2>&1; then
            cat "$log/build"; failed=$((failed + 1)); continue
        fi
        for target in build-fuzz/tests/fuzz/fuzz-*; do
            [ -f "$target" ] && [ -x "$target" ] || continue
            name=$(basename "$target")
            seeds="tests/fuzz/corpus/${name#fuzz-}"
            regressions="tests/fuzz/regressions/${name#fuzz-}"
            work="$log/$name"
            mkdir -p "$work"
            ok=1
            if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions" 2>/dev/null)" ]; then
                "$target" -runs=0 "$regressions"/* >"$work/replay.log" 2>&1 || ok=0
            fi
            if [ $ok -eq 1 ]; then
                "$target" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
                    -artifact_prefix="$work/" "$work" "$seeds" >"$work/fuzz.log" 2>&1 || ok=0
            fi
            if [ $ok -eq 1 ]; then
                echo "fuzz $name: ok ($(grep -o 'Done [0-9]* runs' "$work/fuzz.log" | tail -1))"
                passed=$((passed + 1))
            else
                echo "fuzz $name: FAILED"; tail -40 "$work/fuzz.log" "$work/replay.log" 2>/dev/null
                for crash in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
                    [ -f "$crash" ] && echo "reproducer: $crash (copy it to $regressions/)"
                done
                failed=$((failed + 1))
            fi
        done
        ;;
    *)
        echo "unknown phase $phase"; failed=$((failed + 1))
        ;;
    esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
