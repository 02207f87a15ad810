#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Recall per file format against plain text: the labelled lines of tests/corpus/cases (every
identifier marked {{type|value}}) written as plain UTF-8 text and as each format the extractors
read, written by Barra's test generator and saved by LibreOffice; `barra scan` on each must find
at least 95% of the labelled identifiers it finds in the plain text. Prints one line per format.

    test-recall.py BARRA"""

import csv
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_files as mf  # noqa: E402

BARRA = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LABEL = re.compile(r"\{\{([a-z_0-9]+)\|([^}]*)\}\}")


def corpus():
    """(plain line, [(type, value)]) for every labelled, non-comment line."""
    out = []
    folder = os.path.join(ROOT, "tests", "corpus", "cases")
    for name in sorted(os.listdir(folder)):
        if name == "negatives.txt":
            continue
        for line in open(os.path.join(folder, name), encoding="utf-8"):
            line = line.rstrip("\n")
            if not line or line.startswith("#") or line.startswith("@"):
                continue
            labels = LABEL.findall(line)
            if labels:
                out.append((LABEL.sub(lambda m: m.group(2), line), labels))
    return out


def found(path):
    p = subprocess.run([BARRA, "scan", "--format", "jsonl", "--show-values", path],
                       capture_output=True, text=True, timeout=300)
    # Values compared without white space: a PDF's text puts a space where a line of mixed
    # scripts changes font ("粤 B12345"), and that is still the same plate.
    return {(f["type"], squeeze(f["value"])) for f in map(json.loads, p.stdout.splitlines())}


def squeeze(value):
    return "".join(value.split())


def main():
    lines = corpus()
    text = [t for t, _ in lines]
    labels = {(t, squeeze(v)) for _, labs in lines for t, v in labs}
    tmp = tempfile.mkdtemp(prefix="barra-recall-")
    files = {
        "plain.txt": "\n".join(text).encode(),
        "doc.docx": mf.docx(text),
        "sheet.xlsx": mf.xlsx([("Data", [[t] for t in text])]),
        "deck.pptx": mf.pptx([text[i:i + 8] for i in range(0, len(text), 8)]),
        "bundle.zip": mf._zip([("a/lines.txt", "\n".join(text).encode())]),
        "lines.tar.gz": mf.tar_gz([("lines.txt", "\n".join(text).encode())]),
        "utf16.txt": "\n".join(text).encode("utf-16"),
        "gb18030.txt": "\n".join(text).encode("gb18030"),
    }
    # Big5 cannot write simplified characters: the lines it can write, against the same lines.
    big5 = [t for t in text if _encodes(t, "big5")]
    files["big5.txt"] = "\n".join(big5).encode("big5")
    files["big5-plain.txt"] = "\n".join(big5).encode()
    for name, data in files.items():
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
    # The same lines saved by LibreOffice: as Word and Excel files old and new, and as PDF.
    with open(os.path.join(tmp, "office.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(text) + "\n")
    with open(os.path.join(tmp, "office.csv"), "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([t] for t in text)
    for fmt in ("doc", "docx", "pdf"):
        made = mf.libreoffice([os.path.join(tmp, "office.txt")], fmt, mf.TEXT_IN)[0]
        os.rename(made, os.path.join(tmp, "office-" + fmt + "." + fmt))
        files["office-%s.%s" % (fmt, fmt)] = None
    for fmt in ("xls", "xlsx"):
        made = mf.libreoffice([os.path.join(tmp, "office.csv")], fmt, mf.CSV_IN)[0]
        os.rename(made, os.path.join(tmp, "office-" + fmt + "." + fmt))
        files["office-%s.%s" % (fmt, fmt)] = None
    base = found(os.path.join(tmp, "plain.txt")) & labels
    big5_labels = {(k, squeeze(v)) for t, labs in lines if t in big5 for k, v in labs}
    big5_base = found(os.path.join(tmp, "big5-plain.txt")) & big5_labels
    failures = 0
    print("plain text: %d of %d labelled identifiers found" % (len(base), len(labels)))
    for name in files:
        if name in ("plain.txt", "big5-plain.txt"):
            continue
        ref = big5_base if name == "big5.txt" else base
        got = found(os.path.join(tmp, name)) & ref
        recall = len(got) / len(ref) if ref else 0
        ok = recall >= 0.95
        failures += not ok
        print("%-16s recall %.3f of plain text (%d of %d)%s" % (name, recall, len(got), len(ref),
                                                             "" if ok else "  FAIL"))
    failures += ocr(tmp)
    print("%d checks, %d failed" % (len(files), failures))
    sys.exit(1 if failures else 0)


# HKIDs from tests/corpus/cases (check digits computed there, independently of Barra).
OCR_IDS = ["A123456(3)", "AB987654(3)", "C567890(9)", "G123456(A)", "K034178(9)", "R555555(7)",
           "WX123456(9)", "Z616518(5)"]


def ocr(tmp):
    """Identity cards as images, clean and photographed (turned, tilted, blurred, noisy): the share
    whose number is found must be at least 0.6 (Debian's small Chinese models)."""
    folder = os.path.join(tmp, "images")
    os.makedirs(folder)
    subprocess.run([mf.pillow_python(), os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                     "make_images.py"), folder] + OCR_IDS, check=True)
    p = subprocess.run([BARRA, "scan", "--format", "jsonl", "--show-values", folder],
                       capture_output=True, text=True, timeout=600)
    got = {}
    for f in map(json.loads, p.stdout.splitlines()):
        if f["type"] == "hk_id_card":
            got.setdefault(os.path.basename(f["path"]), set()).add(f["value"].replace(" ", ""))
    bad = 0
    for kind in ("card", "photo"):
        hits = sum(1 for i, n in enumerate(OCR_IDS)
                   if n in got.get("%s-%d.%s" % (kind, i, "png" if kind == "card" else "jpg"), set()))
        recall = hits / len(OCR_IDS)
        bad += recall < 0.6
        print("%-16s recall %.3f by OCR (%d of %d)%s" % (kind + "s", recall, hits, len(OCR_IDS),
                                                       "" if recall >= 0.6 else "  FAIL"))
    return bad


def _encodes(t, codec):
    try:
        t.encode(codec)
        return True
    except UnicodeEncodeError:
        return False


main()
