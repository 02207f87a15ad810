#!/bin/sh
# The tamper suite: every way of altering the audit log is caught by `barra log verify`, which
# names what it found. The database is altered with the sqlite3 tool, triggers dropped first, as
# someone with the file would.
. "$(dirname "$0")/lib.sh" "$@"
command -v sqlite3 >/dev/null || { echo "sqlite3 is missing"; exit 1; }

# A fresh log of N records in $1.
make_log() {
    rm -rf "$1"
    i=0
    while [ "$i" -lt "$2" ]; do
        echo "{\"n\":$i,\"action\":\"allow\",\"rule\":\"r$((i % 7))\"}"
        i=$((i + 1))
    done | "$BARRA" log append --log "$1" -j 4 >/dev/null
}

# sql DIR STATEMENTS: runs SQL on the log with the append-only triggers out of the way.
sql() {
    sqlite3 "$1/audit.db" "DROP TRIGGER IF EXISTS entries_no_update; DROP TRIGGER IF EXISTS entries_no_delete;
        DROP TRIGGER IF EXISTS nodes_no_update; DROP TRIGGER IF EXISTS nodes_no_delete;
        DROP TRIGGER IF EXISTS checkpoints_no_update; DROP TRIGGER IF EXISTS checkpoints_no_delete;
        DROP TRIGGER IF EXISTS keys_no_update; DROP TRIGGER IF EXISTS keys_no_delete; $2"
}

L=$T/log
make_log "$L" 300
expect_status 0 "$BARRA" log verify --log "$L" --trusted-checkpoint "$T/trusted"
expect_grep "$T/out" '^ok: 300 entries'
[ -s "$T/trusted" ] || fail "verify did not write the trusted checkpoint"
cp "$T/trusted" "$T/cp300"
KEY=$("$BARRA" log key --log "$L")

# 1. A flipped byte in an entry.
cp -r "$L" "$T/a"
sql "$T/a" "UPDATE entries SET record = replace(record, 'allow', 'block') WHERE seq = 5;"
expect_status 1 "$BARRA" log verify --log "$T/a"
expect_grep "$T/out" 'FAILED: entry 5 does not match its leaf hash'

# 2. A deleted entry.
cp -r "$L" "$T/b"
sql "$T/b" "DELETE FROM entries WHERE seq = 7;"
expect_status 1 "$BARRA" log verify --log "$T/b"
expect_grep "$T/out" 'FAILED: entry 7 is missing'

# 2b. Two faults among the sixteen entries hashed together: the first one is named.
cp -r "$L" "$T/b2"
sql "$T/b2" "UPDATE entries SET record = replace(record, 'allow', 'block') WHERE seq = 21;
    DELETE FROM entries WHERE seq = 26; UPDATE entries SET leaf = zeroblob(32) WHERE seq = 30;"
expect_status 1 "$BARRA" log verify --log "$T/b2"
expect_grep "$T/out" 'FAILED: entry 21 does not match its leaf hash'
sql "$T/b2" "UPDATE entries SET record = replace(record, 'block', 'allow') WHERE seq = 21;"
expect_status 1 "$BARRA" log verify --log "$T/b2"
expect_grep "$T/out" 'FAILED: entry 26 is missing'

# 3. A truncated log, its own checkpoints truncated too: only the trusted checkpoint catches it.
cp -r "$L" "$T/c"
sql "$T/c" "DELETE FROM entries WHERE seq >= 200; DELETE FROM nodes WHERE (idx + 1) * (1 << level) > 200;
    DELETE FROM checkpoints WHERE size > 200;"
expect_status 0 "$BARRA" log verify --log "$T/c"
expect_status 1 "$BARRA" log verify --log "$T/c" --trusted-checkpoint "$T/cp300"
expect_grep "$T/out" 'signs 300 entries but the log has 200'

# 3b. A leaf hash kept with its entry, altered.
cp -r "$L" "$T/c2"
sql "$T/c2" "UPDATE entries SET leaf = zeroblob(32) WHERE seq = 9;"
expect_status 1 "$BARRA" log verify --log "$T/c2"
expect_grep "$T/out" 'FAILED: entry 9 does not match its leaf hash'

# 4. Reordered entries.
cp -r "$L" "$T/d"
sql "$T/d" "UPDATE entries SET seq = -1 WHERE seq = 3; UPDATE entries SET seq = 3 WHERE seq = 4;
    UPDATE entries SET seq = 4 WHERE seq = -1;"
expect_status 1 "$BARRA" log verify --log "$T/d"
expect_grep "$T/out" 'FAILED: entry 3 does not match'

# 5. A restored older backup: consistent in itself, older than the trusted checkpoint.
make_log "$T/e" 100
cp -r "$T/e" "$T/e-backup"
i=0
while [ $i -lt 50 ]; do echo "{\"more\":$i}"; i=$((i + 1)); done | "$BARRA" log append --log "$T/e" >/dev/null
expect_status 0 "$BARRA" log verify --log "$T/e" --trusted-checkpoint "$T/e-trusted"
rm -rf "$T/e" && mv "$T/e-backup" "$T/e"
expect_status 0 "$BARRA" log verify --log "$T/e"
expect_status 1 "$BARRA" log verify --log "$T/e" --trusted-checkpoint "$T/e-trusted"
expect_grep "$T/out" 'signs 150 entries but the log has 100: entries were removed or an older copy'

# 5b. The same, caught by the checkpoints copied off the box as they were signed.
make_log "$T/e2" 100
cp -r "$T/e2" "$T/e2-backup"
mkdir -p "$T/share"
i=0
while [ $i -lt 50 ]; do echo "{\"more\":$i}"; i=$((i + 1)); done |
    "$BARRA" log append --log "$T/e2" --checkpoint-dir "$T/share" >/dev/null
ls "$T/share"/*.checkpoint >/dev/null 2>&1 || fail "no checkpoint was copied to the share"
rm -rf "$T/e2" && mv "$T/e2-backup" "$T/e2"
expect_status 1 "$BARRA" log verify --log "$T/e2" --checkpoints-from "$T/share"
expect_grep "$T/out" 'signs 1[0-9][0-9] entries but the log has 100'

# 6. A forked history: the same key signs another tree of the same size.
mkdir -p "$T/f" && cp "$L/log.key" "$T/f/log.key"
i=0
while [ $i -lt 300 ]; do echo "{\"n\":$i,\"action\":\"block\"}"; i=$((i + 1)); done |
    "$BARRA" log append --log "$T/f" >/dev/null
"$BARRA" log checkpoint --log "$T/f" >"$T/fork-cp"
expect_status 1 "$BARRA" log verify --log "$L" --checkpoint "$T/fork-cp"
expect_grep "$T/out" 'does not match the log.s tree of that size: its history was rewritten or forked'

# 7. A forged signature.
sed '$ s/[A-Za-z0-9+\/]\{8\}=$/AAAAAAAA=/' "$T/cp300" >"$T/forged"
cmp -s "$T/cp300" "$T/forged" && fail "the forged checkpoint is unchanged"
expect_status 1 "$BARRA" log verify --log "$L" --checkpoint "$T/forged"
expect_grep "$T/out" 'the signature does not verify|not signed by the log'

# 8. A substituted key: the log re-signed by another key is refused, by the auditor's key and, from
# the key history the log keeps, even without it.
cp -r "$L" "$T/g"
rm "$T/g/log.key"
sql "$T/g" "DELETE FROM checkpoints;"
"$BARRA" log checkpoint --log "$T/g" >/dev/null
expect_status 1 "$BARRA" log verify --log "$T/g"
expect_grep "$T/out" "FAILED: the log.s key file is not the newest key of its history"
expect_status 1 "$BARRA" log verify --log "$T/g" --key "$KEY"
expect_grep "$T/out" 'FAILED: .*not signed by the log.s key'
# and with the key history rewritten to match: the auditor's key is not in it
sql "$T/g" "DELETE FROM keys; INSERT INTO keys VALUES(0, '$("$BARRA" log key --log "$T/g")', NULL);"
expect_status 0 "$BARRA" log verify --log "$T/g"
expect_status 1 "$BARRA" log verify --log "$T/g" --key "$KEY"
expect_grep "$T/out" "FAILED: the verifier key is not one of the log.s keys"

# 9. A tree hash altered along with nothing else.
cp -r "$L" "$T/h"
sql "$T/h" "UPDATE nodes SET hash = zeroblob(32) WHERE level = 8 AND idx = 0;"
expect_status 1 "$BARRA" log verify --log "$T/h"
expect_grep "$T/out" 'tree hash at level 8, index 0'

# 10. A stored checkpoint altered.
cp -r "$L" "$T/i"
sql "$T/i" "UPDATE checkpoints SET note = replace(note, char(10) || '300' || char(10), char(10) || '299' || char(10)) WHERE size = 300;"
expect_status 1 "$BARRA" log verify --log "$T/i"
expect_grep "$T/out" 'FAILED: .*checkpoint of size 300'
# 11. Retention: a prune keeps the log verifiable, against the checkpoint trusted before it.
make_log "$T/p" 600
expect_status 0 "$BARRA" log verify --log "$T/p" --trusted-checkpoint "$T/p-trusted"
expect_status 0 "$BARRA" log prune --log "$T/p" --before 2099-01-01T00:00:00Z
expect_grep "$T/out" 'entries before 512 are pruned'
cp "$T/p-trusted" "$T/p-before-prune"
expect_status 0 "$BARRA" log verify --log "$T/p" --trusted-checkpoint "$T/p-trusted"
expect_grep "$T/out" '^ok: 601 entries \(512 pruned\)'
expect_status 0 "$BARRA" log proof --log "$T/p" --index 3
# 12. An altered prune record.
cp -r "$T/p" "$T/q"
sql "$T/q" "UPDATE entries SET record = replace(record, '\"min_index\":512', '\"min_index\":256') WHERE type = 'prune';"
expect_status 1 "$BARRA" log verify --log "$T/q"
expect_grep "$T/out" 'FAILED: entry 600 does not match its leaf hash'
# 13. Entries deleted outside a prune: the minimum raised, no record saying so.
cp -r "$L" "$T/s"
sql "$T/s" "INSERT INTO nodes SELECT 0, seq, leaf FROM entries WHERE seq < 256;
    UPDATE meta SET value = '256' WHERE key = 'min_index'; DELETE FROM entries WHERE seq < 256;"
expect_status 1 "$BARRA" log verify --log "$T/s"
expect_grep "$T/out" 'entries below 256 are gone but the last prune record says 0'
# 14. A key rotation: the new key endorsed by the old; auditors holding the old key still verify.
make_log "$T/r" 50
OLD=$("$BARRA" log key --log "$T/r")
expect_status 0 "$BARRA" log rotate-key --log "$T/r"
expect_grep "$T/out" '^new verifier key: '
i=0
while [ $i -lt 30 ]; do echo "{\"after\":$i}"; i=$((i + 1)); done | "$BARRA" log append --log "$T/r" >/dev/null
expect_status 0 "$BARRA" log verify --log "$T/r" --key "$OLD"
[ "$("$BARRA" log key --log "$T/r")" != "$OLD" ] || fail "the key did not change"
[ -e "$T/r/log.key.next" ] && fail "the new key was left beside the old"
# a history step whose endorsement was tampered with
cp -r "$T/r" "$T/r2"
sql "$T/r2" "UPDATE keys SET endorsement = replace(endorsement, '\"old_signs_new\":\"', '\"old_signs_new\":\"AA') WHERE from_size > 0;"
expect_status 1 "$BARRA" log verify --log "$T/r2" --key "$OLD"
expect_grep "$T/out" 'not endorsed by both keys|does not match its entry'
# the history cut back to the first key: checkpoints after the rotation are refused
cp -r "$T/r" "$T/r3"
sql "$T/r3" "DELETE FROM keys WHERE from_size > 0;"
expect_status 1 "$BARRA" log verify --log "$T/r3" --key "$OLD"
expect_grep "$T/out" 'FAILED: .*(not signed by the log.s key|not the newest key)'
finish
