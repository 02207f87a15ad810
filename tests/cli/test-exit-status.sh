#!/bin/sh
# Exit status like grep: 0 nothing found, 1 found, 2 an error kept input from being scanned.
. "$(dirname "$0")/lib.sh" "$@"
printf 'nothing personal here\n' >"$T/clean.txt"
printf '身份证号码：11010519491231002X\n' >"$T/pii.txt"
expect_status 0 "$BARRA" scan "$T/clean.txt"
expect_status 1 "$BARRA" scan "$T/pii.txt"
expect_status 2 "$BARRA" scan "$T/pii.txt" "$T/missing.txt"
expect_grep "$T/err" "missing.txt: No such file"
expect_status 2 "$BARRA" scan
expect_grep "$T/err" "no PATH given"
expect_status 2 "$BARRA" scan --format xml "$T/clean.txt"
expect_grep "$T/err" 'unknown format "xml"'
expect_status 2 "$BARRA" scan --min-score 2 "$T/clean.txt"
expect_status 2 "$BARRA" scan --types cn_resident_id,nope "$T/clean.txt"
expect_grep "$T/err" 'unknown type "nope"'
expect_status 0 "$BARRA" scan --types email "$T/pii.txt"
expect_status 0 "$BARRA" scan --help
expect_grep "$T/out" "Exit status"
expect_status 2 "$BARRA" frobnicate
expect_status 0 "$BARRA" version
expect_grep "$T/out" "entity rules [0-9a-f]{64}"
finish
