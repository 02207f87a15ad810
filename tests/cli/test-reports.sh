#!/bin/sh
# The human report masks values; the JSON summary counts; values only on request.
. "$(dirname "$0")/lib.sh" "$@"
printf '身份证号码：11010519491231002X\n电话 13812345678\n诊断：糖尿病\n' >"$T/a.txt"
expect_status 1 "$BARRA" scan "$T/a.txt"
expect_no_grep "$T/out" "11010519491231002X|13812345678"
expect_grep "$T/out" "cn_resident_id"
expect_grep "$T/out" "110\*+02X"
expect_grep "$T/out" "糖尿病"
expect_no_grep "$T/out" "$(printf '\033')"
expect_status 1 "$BARRA" scan --color always "$T/a.txt"
expect_grep "$T/out" "$(printf '\033')"
expect_status 1 "$BARRA" scan --format json "$T/a.txt"
checks=$((checks + 1))
python3 - "$T/out" <<'PY' || fail "JSON summary"
import json, sys
s = json.load(open(sys.argv[1], encoding="utf-8"))
assert s["findings"] == 4 and s["files"] == 1 and s["errors"] == 0, s
assert s["by_type"] == {"cn_resident_id": 1, "phone_cn": 1, "medical_term": 2}, s["by_type"]
assert len(s["rules_version"]) == 64
PY
expect_status 1 "$BARRA" scan --show-values "$T/a.txt"
expect_grep "$T/out" "11010519491231002X"
finish
