#!/bin/sh
# An outside verifier (tests/audit/verify-export.py: Python and python3-cryptography, written from
# the documented formats) checks an exported log, its checkpoints and its proofs, and catches an
# altered export.
. "$(dirname "$0")/lib.sh" "$@"
SRC=${BARRA_SOURCE_ROOT:?}
V="python3 $SRC/tests/audit/verify-export.py"
L=$T/log
i=0
while [ $i -lt 1000 ]; do echo "{\"n\":$i,\"tier\":\"internal\"}"; i=$((i + 1)); done |
    "$BARRA" log append --log "$L" >/dev/null
"$BARRA" log checkpoint --log "$L" >/dev/null
expect_status 0 "$BARRA" log proof --log "$L" --index 517
cp "$T/out" "$T/incl.json"
expect_status 0 "$BARRA" log proof --log "$L" --from 1 --to 1000
cp "$T/out" "$T/cons.json"
expect_status 1 "$BARRA" log proof --log "$L" --index 1000
expect_grep "$T/err" 'entry 1000 is not in a tree of 1000 entries'
expect_status 0 "$BARRA" log export --log "$L" "$T/x"
expect_status 0 $V "$T/x" "$T/incl.json" "$T/cons.json"
expect_grep "$T/out" '^ok: 1000 entries, [0-9]+ checkpoints, 2 proofs$'
# The verifier key given by the auditor, not taken from the export.
KEY=$("$BARRA" log key --log "$L")
expect_status 0 $V "$T/x" --key "$KEY"
# An altered entry in the export.
cp -r "$T/x" "$T/y"
sed -i '3s/"record_base64":"eyJ/"record_base64":"eyK/' "$T/y/entries.jsonl"
expect_status 1 $V "$T/y"
expect_grep "$T/out" 'does not sign the exported entries'
# A checkpoint signed by another key.
rm -rf "$T/z" "$T/other"
echo '{"other":1}' | "$BARRA" log append --log "$T/other" >/dev/null
"$BARRA" log export --log "$T/other" "$T/z" >/dev/null
expect_status 1 $V "$T/x" --key "$("$BARRA" log key --log "$T/other")"
expect_grep "$T/out" 'FAILED'
# A proof for another entry.
sed 's/"index": 517/"index": 518/' "$T/incl.json" >"$T/wrong.json"
expect_status 1 $V "$T/x" "$T/wrong.json"
expect_grep "$T/out" 'inclusion proof of entry 518 does not hold'
# A log whose key was rotated: the outside verifier follows the key history from the first key.
OLD=$("$BARRA" log key --log "$L")
"$BARRA" log rotate-key --log "$L" >/dev/null
echo '{"after":"rotation"}' | "$BARRA" log append --log "$L" >/dev/null
expect_status 0 "$BARRA" log export --log "$L" "$T/rot"
expect_status 0 $V "$T/rot" --key "$OLD"
expect_grep "$T/out" '^ok: 1002 entries'
finish
