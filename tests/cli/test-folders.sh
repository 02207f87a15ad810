#!/bin/sh
# Folders are walked recursively, in name order, minus .gitignore-style excludes; - is stdin.
. "$(dirname "$0")/lib.sh" "$@"
mkdir -p "$T/d/sub/deep" "$T/d/logs"
printf '手机 13812345678\n' >"$T/d/a.txt"
printf 'HKID A123456(3)\n' >"$T/d/sub/b.txt"
printf 'email chan.taiman@example.com.hk\n' >"$T/d/sub/deep/c.txt"
printf '手机 13912345678\n' >"$T/d/logs/x.log"
printf '手机 13712345678\n' >"$T/d/sub/skip.tmp"
expect_status 1 "$BARRA" scan --format jsonl "$T/d"
checks=$((checks + 1))
[ "$(grep -c '"type"' "$T/out")" -eq 5 ] || fail "expected 5 findings in the folder"
expect_status 1 "$BARRA" scan --format jsonl --exclude 'logs/' --exclude '*.tmp' "$T/d"
expect_no_grep "$T/out" "x.log|skip.tmp"
expect_grep "$T/out" 'deep/c.txt'
printf 'sub/deep\n' >"$T/ex"
expect_status 1 "$BARRA" scan --format jsonl --exclude-from "$T/ex" "$T/d"
expect_no_grep "$T/out" "c.txt"
# Output order does not depend on the number of threads.
"$BARRA" scan --format jsonl -j 1 "$T/d" >"$T/j1"
"$BARRA" scan --format jsonl -j 4 "$T/d" >"$T/j4"
checks=$((checks + 1))
cmp -s "$T/j1" "$T/j4" || fail "-j 1 and -j 4 differ"
printf '电话 13812345678\n' | expect_status 1 "$BARRA" scan --format jsonl -
expect_grep "$T/out" '"path":"-"'
finish
