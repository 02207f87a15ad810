#!/bin/sh
# barra policy check|test|explain, and barra scan --policy / --redact, end to end.
. "$(dirname "$0")/lib.sh" "$@"
SRC=${BARRA_SOURCE_ROOT:?}
P=$SRC/rules/policies/general.yaml

# check: valid policies say ok; a broken one gives file:line:column and status 1.
expect_status 0 "$BARRA" policy check "$P"
expect_grep "$T/out" 'general.yaml: ok: policy "general-office", 7 rules'
sed 's/categories: \[financial\]/categories: [finance]/' "$P" >"$T/bad.yaml"
expect_status 1 "$BARRA" policy check "$T/bad.yaml"
expect_grep "$T/err" 'bad.yaml:[0-9]+:[0-9]+: error: unknown category "finance"'
expect_status 2 "$BARRA" policy check "$T/missing.yaml"
expect_grep "$T/err" 'cannot open policy'
expect_status 2 "$BARRA" policy check
expect_status 2 "$BARRA" policy frobnicate "$P"
expect_status 0 "$BARRA" policy --help
expect_grep "$T/out" 'barra policy explain'

# test: the shipped cases pass; a wrong expectation fails with the case's line and what differed.
expect_status 0 "$BARRA" policy test "$P" "$SRC/rules/policies/general.cases.yaml"
expect_grep "$T/out" '^[0-9]+ passed, 0 failed$'
cat >"$T/cases.yaml" <<'CASES'
cases:
  - name: expects the wrong action
    event: {kind: message, text: "hello", source: dingtalk, time: "2026-11-23T10:00:00+08:00"}
    expect: {action: block}
CASES
expect_status 1 "$BARRA" policy test "$P" "$T/cases.yaml"
expect_grep "$T/out" 'FAIL .*cases.yaml:2: expects the wrong action'
expect_grep "$T/out" 'action: expected block, got allow'
expect_grep "$T/out" '^0 passed, 1 failed$'
# A name listed twice is not the same as two different rules.
cat >"$T/dup.yaml" <<'CASES'
cases:
  - name: lists one rule twice
    event: {kind: message, text: "電話 66123456", source: dingtalk, time: "2026-11-23T10:00:00+08:00"}
    expect: {rules: [tag-personal-data, tag-personal-data]}
CASES
expect_status 1 "$BARRA" policy test "$P" "$T/dup.yaml"
expect_grep "$T/out" 'rules: got \[tag-personal-data\]'
printf 'cases:\n  - name: no expect\n    event: {kind: message}\n' >"$T/malformed.yaml"
expect_status 2 "$BARRA" policy test "$P" "$T/malformed.yaml"
expect_grep "$T/err" 'malformed.yaml:2:5: error: a case needs name, event and expect'

# explain: human and JSON; the JSON form is the decision object, with no value in the clear.
cat >"$T/event.json" <<'EVENT'
{"kind": "message", "id": "m1", "text": "员工张三，身份证11010519491231002X，诊断：糖尿病",
 "source": "dingtalk", "conversation": {"id": "c1", "type": "group"},
 "sender": {"id": "u1", "department": "HR"},
 "destination": {"platform": "dingtalk", "region": "cn-mainland"},
 "time": "2026-11-23T10:00:00+08:00", "subjects": ["emp-zhang"]}
EVENT
expect_status 0 "$BARRA" policy explain "$P" "$T/event.json"
expect_grep "$T/out" '^action +require_consent \(rule restricted-to-mainland-needs-consent\)'
expect_grep "$T/out" '^tier +restricted'
expect_grep "$T/out" 'because destination region is "cn-mainland"'
expect_grep "$T/out" 'cites +MO-PDPA-20 CN-PIPL-29 CN-PIPL-39'
expect_status 0 "$BARRA" policy explain --lang zh-Hant "$P" "$T/event.json"
expect_grep "$T/out" '^tip +\[zh-Hant\] 此訊息已暫緩'
expect_status 0 "$BARRA" policy explain --format json --key "$T/keys/hmac.key" --create-key "$P" "$T/event.json"
expect_grep "$T/out" '"action": "require_consent"'
expect_grep "$T/out" '"tier": "restricted"'
expect_grep "$T/out" '"ref": "hmac-sha256:[0-9a-f]{64}"'
expect_no_grep "$T/out" '11010519491231002X|1231002X|糖尿病'
[ "$(stat -c %a "$T/keys/hmac.key")" = 600 ] || fail "key file mode is not 600"
printf '{"consents": [{"subject": "emp-zhang", "purpose": "cross_border", "state": "granted"}]}' >"$T/consents.json"
expect_status 0 "$BARRA" policy explain --consents "$T/consents.json" "$P" "$T/event.json"
expect_grep "$T/out" '^action +redact'
expect_grep "$T/out" '^redacted +员工张三，身份证\*{14}002X，诊断：糖尿病'
expect_status 0 "$BARRA" policy explain --classification-failed "$P" "$T/event.json"
expect_grep "$T/out" '^action +block$'
expect_grep "$T/out" 'exception classification failed'
printf '{"kind": "message", "text": "x", "source": "s", "time": "2026-11-23T10:00:00Z", "destinaton": {}}' >"$T/typo.json"
expect_status 2 "$BARRA" policy explain "$P" "$T/typo.json"
expect_grep "$T/err" 'unknown event field "destinaton"'
printf '{"consents": [{"subject": "a", "purpose": "x", "state": "maybe"}]}' >"$T/badc.json"
expect_status 2 "$BARRA" policy explain --consents "$T/badc.json" "$P" "$T/event.json"
expect_grep "$T/err" 'consent 1: state is granted'

# scan --policy: a decision per text file and per JSON Lines record; --redact writes copies.
printf '员工张三，身份证11010519491231002X，诊断：糖尿病\n电话 13812345678\n' >"$T/a.txt"
printf '{"source": "dingtalk", "destination": {"region": "cn-mainland"}, "sender": {"department": "HR"}}' >"$T/tpl.json"
expect_status 1 "$BARRA" scan --format jsonl --policy "$P" --event "$T/tpl.json" "$T/a.txt"
expect_grep "$T/out" '"decision":\{"schema":"barra.decision/1".*"action":"require_consent"'
expect_status 1 "$BARRA" scan --policy "$P" --event "$T/tpl.json" --redact "$T/red" "$T/a.txt"
expect_grep "$T/out" 'decision require_consent, tier restricted'
expect_grep "$T/red$T/a.txt" '^员工张三，身份证\*{14}002X，\*\*：\*\*\*$'
expect_grep "$T/red$T/a.txt" '^电话 \*{7}5678$'
expect_no_grep "$T/red$T/a.txt" '11010519491231002X|13812345678'
printf '{"id": "r1", "msg": "身份证11010519491231002X"}\n{"id": "r2", "msg": "hello"}\n' >"$T/b.jsonl"
expect_status 1 "$BARRA" scan --format json --jsonl-field msg --id-field id --policy "$P" "$T/b.jsonl"
expect_grep "$T/out" '"decisions":\{"allow":1,"tag":1,'
printf '{"destination": {"region": "Mainland"}}' >"$T/badtpl.json"
expect_status 2 "$BARRA" scan --policy "$P" --event "$T/badtpl.json" "$T/a.txt"
expect_grep "$T/err" 'badtpl.json: event destination.region must be a region code'
expect_status 2 "$BARRA" scan --event "$T/tpl.json" "$T/a.txt"
expect_grep "$T/err" '--event and --consents need --policy'
# A redacted copy never replaces its input.
BARRA=$(cd "$(dirname "$BARRA")" && pwd)/$(basename "$BARRA")
cd "$T" && expect_status 2 "$BARRA" scan --redact "$T" a.txt
expect_grep "$T/err" 'would replace the input itself'
finish
