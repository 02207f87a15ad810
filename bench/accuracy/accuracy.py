#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Precision, recall and F1 per finding type on a labelled corpus.

  accuracy.py BARRA CORPUS.jsonl        runs `barra scan --format jsonl --jsonl-field text
                                        --id-field id CORPUS.jsonl` and scores its findings
  accuracy.py --findings F CORPUS.jsonl scores findings already produced

A finding counts as correct when a labelled entity has the same type and the same byte span
(identifiers); for sensitive-category terms an overlapping span of the same type is enough, since
where a term begins and ends is a matter of wording. Exit status 1 if a type misses its target
(--targets: 0.99 for checksum-bearing types, 0.95 for the others).
"""

import argparse
import collections
import json
import subprocess
import sys

CHECKSUM_TYPES = {"cn_resident_id", "hk_id_card", "tw_id_card", "cn_uscc", "bank_card"}


def load_labels(path):
    labels = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            labels[rec["id"]] = [(e["type"], e["start"], e["end"]) for e in rec["entities"]]
    return labels


def run_barra(barra, corpus):
    out = subprocess.run([barra, "scan", "--format", "jsonl", "--jsonl-field", "text", "--id-field",
                          "id", "--progress", "never", corpus],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if out.returncode not in (0, 1):
        sys.stderr.write(out.stderr.decode())
        sys.exit("barra scan failed with status %d" % out.returncode)
    return out.stdout.decode("utf-8").splitlines()


def score(labels, findings):
    tp = collections.Counter()
    fp = collections.Counter()
    fn = collections.Counter()
    predicted = collections.defaultdict(list)
    for line in findings:
        f = json.loads(line)
        predicted[f["id"]].append((f["type"], f["start"], f["end"]))
    examples = collections.defaultdict(list)
    for rid, gold in labels.items():
        pred = predicted.get(rid, [])
        used = set()
        for p in pred:
            term = p[0].endswith("_term")
            hit = None
            for i, g in enumerate(gold):
                if i in used or g[0] != p[0]:
                    continue
                if (g[1], g[2]) == (p[1], p[2]) or (term and p[1] < g[2] and g[1] < p[2]):
                    hit = i
                    break
            if hit is None:
                fp[p[0]] += 1
                examples["fp " + p[0]].append(rid)
            else:
                used.add(hit)
                tp[p[0]] += 1
        for i, g in enumerate(gold):
            if i not in used:
                fn[g[0]] += 1
                examples["fn " + g[0]].append(rid)
    return tp, fp, fn, examples


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("barra", nargs="?")
    ap.add_argument("corpus")
    ap.add_argument("--findings")
    ap.add_argument("--targets", action="store_true", help="fail if a type misses its target")
    ap.add_argument("--examples", type=int, default=0, help="show N record ids per error kind")
    args = ap.parse_args()
    labels = load_labels(args.corpus)
    if not labels:
        sys.exit("no labelled records in %s" % args.corpus)
    if args.findings:
        with open(args.findings, encoding="utf-8") as f:
            findings = f.read().splitlines()
    else:
        findings = run_barra(args.barra, args.corpus)
    tp, fp, fn, examples = score(labels, findings)
    types = sorted(set(tp) | set(fp) | set(fn))
    print("%-26s %6s %6s %6s %9s %7s %7s  %s" % ("type", "tp", "fp", "fn", "precision", "recall", "F1", "target"))
    failed = []
    for t in types:
        p = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else 1.0
        r = tp[t] / (tp[t] + fn[t]) if tp[t] + fn[t] else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        target = 0.99 if t in CHECKSUM_TYPES else 0.95
        ok = p >= target and r >= target
        if not ok:
            failed.append(t)
        print("%-26s %6d %6d %6d %9.3f %7.3f %7.3f  %s %.2f" % (t, tp[t], fp[t], fn[t], p, r, f1,
                                                               "ok  " if ok else "MISS", target))
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    p = all_tp / (all_tp + all_fp) if all_tp + all_fp else 1.0
    r = all_tp / (all_tp + all_fn) if all_tp + all_fn else 1.0
    print("%-26s %6d %6d %6d %9.3f %7.3f %7.3f" % ("all", all_tp, all_fp, all_fn, p, r, 2 * p * r / (p + r)))
    if args.examples:
        for k in sorted(examples):
            print("%s: %s" % (k, " ".join(examples[k][:args.examples])))
    if args.targets and failed:
        print("below target: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
