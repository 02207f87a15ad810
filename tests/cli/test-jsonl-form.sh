#!/bin/sh
# The form used to evaluate the classifier on outside corpora:
#   barra scan --format jsonl --jsonl-field text --id-field id FILE.jsonl
# one object per finding with the record's id as a string and offsets into the unescaped text.
. "$(dirname "$0")/lib.sh" "$@"
cat >"$T/in.jsonl" <<'JSON'
{"id": 7, "text": "line\n身份证：11010519491231002X", "other": "13812345678"}
{"id": "r-2", "text": "\u96fb\u8a71 +853 6612 3456 and a\"quote", "lang": "zh"}
{"id": "r-3", "text": "nothing here"}
JSON
expect_status 1 "$BARRA" scan --format jsonl --jsonl-field text --id-field id "$T/in.jsonl"
checks=$((checks + 1))
python3 - "$T/out" <<'PY' || fail "JSON Lines output"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
texts = {"7": "line\n身份证：11010519491231002X", "r-2": "電話 +853 6612 3456 and a\"quote"}
assert len(rows) == 2, rows
for r in rows:
    for key in ("id", "type", "start", "end", "score", "category", "jurisdiction", "masked"):
        assert key in r, (key, r)
    assert isinstance(r["id"], str)
    assert "value" not in r, "values must not appear without --show-values"
    span = texts[r["id"]].encode()[r["start"]:r["end"]].decode()
    want = {"cn_resident_id": "11010519491231002X", "phone_mo": "+853 6612 3456"}[r["type"]]
    assert span == want, (span, want)
assert rows[0]["id"] == "7" and rows[0]["jurisdiction"] == "cn" and rows[0]["category"] == "identity"
assert rows[1]["jurisdiction"] == "mo" and rows[1]["masked"] is False
PY
expect_status 1 "$BARRA" scan --format jsonl --jsonl-field text --id-field id --show-values "$T/in.jsonl"
expect_grep "$T/out" '"value":"11010519491231002X"'
# Without --jsonl-field every string value is scanned, the field named.
expect_status 1 "$BARRA" scan --format jsonl "$T/in.jsonl"
expect_grep "$T/out" '"field":"other"'
finish
