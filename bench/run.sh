#!/bin/sh
# Barra's benchmarks (not part of `make test`): classifier throughput on ~100 MB of generated chat
# text next to two baselines measured in the same run, the cost of deciding next to classifying,
# then accuracy on the evaluation corpus.
# Corpora are generated once (fixed seed) into bench/out/. Figures go to docs/performance.md by hand.
set -eu
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
[ -f "$out/chat.txt" ] || python3 tests/gen/corpus.py chat --megabytes 100 >"$out/chat.txt"
[ -f "$out/chat-dense.txt" ] || python3 tests/gen/corpus.py chat --megabytes 100 --pii-share 0.05 >"$out/chat-dense.txt"
[ -f "$out/chat.jsonl" ] || python3 tests/gen/corpus.py jsonl --megabytes 100 >"$out/chat.jsonl"
[ -f "$out/eval.jsonl" ] || python3 tests/gen/corpus.py eval --records 6000 >"$out/eval.jsonl"
echo "== throughput: realistic chat (1% of messages with personal data)"
build/bench/bench-scan build/src/cli/barra "$out/chat.txt"
echo "== throughput: dense chat (5% of messages with personal data)"
build/bench/bench-scan build/src/cli/barra "$out/chat-dense.txt"
echo "== JSON Lines, whole process"
/usr/bin/time -f "%e s, %M KB max RSS" build/src/cli/barra scan -j1 --format json --progress never \
    --jsonl-field text --id-field id "$out/chat.jsonl" >/dev/null || [ $? -eq 1 ]
echo "== policy: 100 rules over realistic chat events, next to classifying them"
build/bench/bench-policy "$out/chat.txt" 200000
build/bench/bench-policy "$out/chat-dense.txt" 200000
echo "== accuracy"
python3 bench/accuracy/accuracy.py build/src/cli/barra "$out/eval.jsonl"
