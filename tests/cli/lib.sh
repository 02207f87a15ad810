# Shared helpers for the command-line tests. Usage: . "$(dirname "$0")/lib.sh" "$@"
set -u
BARRA=$1
T=$(mktemp -d)
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
failures=0
checks=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect_status WANT CMD...: runs CMD (stdout to $T/out, stderr to $T/err) and checks its status.
expect_status() {
    want=$1
    shift
    checks=$((checks + 1))
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "exit status $got, want $want: $*"
        sed 's/^/  stderr: /' "$T/err" | head -5 >&2
    fi
}

# expect_grep FILE PATTERN: FILE must contain a line matching the extended regex.
expect_grep() {
    checks=$((checks + 1))
    grep -Eq -- "$2" "$1" || { fail "$1 lacks /$2/"; head -5 "$1" | sed 's/^/  /' >&2; }
}

expect_no_grep() {
    checks=$((checks + 1))
    if grep -Eq -- "$2" "$1"; then fail "$1 has /$2/"; fi
}

finish() {
    echo "$checks checks, $failures failed"
    [ "$failures" -eq 0 ]
}
