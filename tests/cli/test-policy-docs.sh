#!/bin/sh
# The policy and event documentation is kept true: every condition's anchor exists, the complete
# example policy compiles, and the example event is accepted.
. "$(dirname "$0")/lib.sh" "$@"
SRC=${BARRA_SOURCE_ROOT:?}
DOC=$SRC/docs/policy.md
# The keyword table of the condition parser names each condition's anchor in docs/policy.md.
grep -o '{"[a-z_]*", PRED_[A-Z]*, [a-z]*, [a-z_A-Z]*, "[a-z-]*"}' "$SRC/src/policy/policy-pred-parse.c" |
    sed 's/.*"\([a-z-]*\)"}$/\1/' | sort -u >"$T/anchors"
[ "$(wc -l <"$T/anchors")" -ge 12 ] || fail "found only $(wc -l <"$T/anchors") condition anchors in the parser"
while read -r a; do
    checks=$((checks + 1))
    grep -q "<a id=\"$a\"></a>" "$DOC" || fail "docs/policy.md has no anchor \"$a\""
done <"$T/anchors"
# The first YAML block after "A complete example" is a valid policy.
awk '/^## A complete example/ {on = 1} on && /^```yaml/ {grab = 1; next} grab && /^```/ {exit} grab' \
    "$DOC" >"$T/example.yaml"
expect_status 0 "$BARRA" policy check "$T/example.yaml"
expect_grep "$T/out" 'ok: policy "small-office", 2 rules'
# The first JSON block of docs/events.md is a valid event, and the example policy decides on it.
awk '/^```json/ {grab = 1; next} grab && /^```/ {exit} grab' "$SRC/docs/events.md" >"$T/event.json"
expect_status 0 "$BARRA" policy explain "$T/example.yaml" "$T/event.json"
expect_grep "$T/out" '^action'
finish
