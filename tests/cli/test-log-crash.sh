#!/bin/sh
# The crash suite: a writer appending in a loop is killed with SIGKILL at random moments, many
# times; every index it printed as acknowledged must be in the log afterwards, and the log must
# verify. ROUNDS (default 25) sets how many kills.
. "$(dirname "$0")/lib.sh" "$@"
L=$T/log
ROUNDS=${ROUNDS:-25}
round=0
# A fixed seed: the same kill moments every run.
seed=20261123
while [ "$round" -lt "$ROUNDS" ]; do
    seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
    ms=$(( 30 + seed % 400 ))
    # an endless stream of records, appended with 8 in flight
    (yes '{"action":"allow","rule":"tag-personal-data","tier":"internal"}' |
        "$BARRA" log append --log "$L" -j 8 >>"$T/acked" 2>>"$T/errors") &
    pid=$!
    sleep "$(printf '0.%03d' "$ms")"
    # kill the whole pipeline's appender, not just the subshell
    pkill -KILL -P "$pid" barra 2>/dev/null
    pkill -KILL -f "barra log append --log $L" 2>/dev/null
    wait "$pid" 2>/dev/null
    round=$((round + 1))
done
acked=$(wc -l <"$T/acked")
[ "$acked" -gt 0 ] || fail "nothing was acknowledged in $ROUNDS rounds"
# Every acknowledged index is in the log.
max=$(sort -n "$T/acked" | tail -1)
size=$(sqlite3 "$L/audit.db" "SELECT count(*) FROM entries")
checks=$((checks + 1))
[ "$max" -lt "$size" ] || fail "index $max was acknowledged but the log has $size entries"
dups=$(sort "$T/acked" | uniq -d | wc -l)
checks=$((checks + 1))
[ "$dups" -eq 0 ] || fail "$dups indexes were acknowledged twice"
expect_status 0 "$BARRA" log verify --log "$L"
expect_grep "$T/out" "^ok: $size entries"
echo "$ROUNDS kills, $acked acknowledged appends, $size entries in the log"
finish
