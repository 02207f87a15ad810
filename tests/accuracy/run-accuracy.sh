#!/bin/sh
# Generates the evaluation corpus (fixed seed) and checks precision and recall per type against the
# targets. Usage: run-accuracy.sh BARRA SOURCE_ROOT
set -eu
barra=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$root/tests/gen/corpus.py" eval --seed 20261123 --records 3000 >"$tmp/eval.jsonl"
python3 "$root/bench/accuracy/accuracy.py" --targets "$barra" "$tmp/eval.jsonl"
