#!/bin/sh
# Bad input gets a clear message naming the file and line; the scan goes on with the rest.
. "$(dirname "$0")/lib.sh" "$@"
printf 'ok line\nbroken \377\376 bytes\n电话 13812345678\n' >"$T/latin.txt"
expect_status 2 "$BARRA" scan --format jsonl "$T/latin.txt"
expect_grep "$T/err" "latin.txt: corrupt: invalid UTF-8"
expect_grep "$T/out" '"type":"phone_cn"'
printf '{"id":1,"text":"手机 13812345678"}\n{"id":2,"text": broken}\n{"id":3,"text":"身份证 11010519491231002X"}\n' >"$T/broken.jsonl"
expect_status 2 "$BARRA" scan --format jsonl --jsonl-field text --id-field id "$T/broken.jsonl"
expect_grep "$T/err" "broken.jsonl:2: broken JSON record"
expect_grep "$T/out" '"id":"1"'
expect_grep "$T/out" '"id":"3"'
# A record longer than the limit (standing in for a 2 GB line) is skipped with a message.
python3 -c "
import sys
sys.stdout.write('{\"id\":1,\"text\":\"' + 'x' * 5000 + '\"}\n{\"id\":2,\"text\":\"手机 13812345678\"}\n')" >"$T/long.jsonl"
expect_status 2 "$BARRA" scan --format jsonl --id-field id --max-record 1K "$T/long.jsonl"
expect_grep "$T/err" "long.jsonl:1: record longer than 1024 bytes"
expect_grep "$T/out" '"id":"2"'
# The same through a pipe (no mapping: the streaming reader).
cat "$T/long.jsonl" | expect_status 2 "$BARRA" scan --format jsonl --id-field id --input-format jsonl --max-record 1K -
expect_grep "$T/err" "-:1: record longer"
# A damaged archive is an error that names it; binary files of no known type are skipped and said
# so; UTF-16 is read.
printf 'PK\003\004\000\000binary' >"$T/a.zip"
expect_status 2 "$BARRA" scan "$T/a.zip"
expect_grep "$T/err" "a.zip: corrupt"
printf '\177ELF\002\001\001\000\000\000binary' >"$T/prog"
expect_status 0 "$BARRA" scan "$T/prog"
expect_grep "$T/err" "skipped"
printf '\377\376\065\000\060\000\060\000\060\000' >"$T/u16.txt"
expect_status 0 "$BARRA" scan "$T/u16.txt"
python3 -c 'import sys; sys.stdout.buffer.write("电话 13812345678".encode("utf-16"))' >"$T/u16.txt"
expect_status 1 "$BARRA" scan --format jsonl "$T/u16.txt"
expect_grep "$T/out" '"type":"phone_cn"'
# A directory given as a file to read, and an unreadable file (only meaningful without root).
mkdir "$T/dir.txt"
expect_status 0 "$BARRA" scan "$T/dir.txt"
if [ "$(id -u)" -ne 0 ]; then
    printf 'x' >"$T/secret.txt" && chmod 000 "$T/secret.txt"
    expect_status 2 "$BARRA" scan "$T/secret.txt"
    expect_grep "$T/err" "secret.txt: cannot open: Permission denied"
fi
# CSV: a never-closed quote is reported; the rows before it are scanned.
printf 'name,phone\nchan,13812345678\n"broken,1\n' >"$T/x.csv"
expect_status 2 "$BARRA" scan --format jsonl "$T/x.csv"
expect_grep "$T/err" "x.csv:3: row starting on line 3: a quoted cell is never closed"
expect_grep "$T/out" '"field":"phone"'
finish
