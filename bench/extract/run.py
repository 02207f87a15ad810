#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Extraction throughput: the same generated chat text (tests/gen/corpus.py, fixed seed) as plain
UTF-8 and in each format the extractors read, each scanned by `barra scan -j1` in the same run;
prints MB/s of text per format next to the plain-text scan and their ratio (best of 3 runs each).

    bench/extract/run.py BARRA [MEGABYTES]"""

import csv
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "extract"))
import make_files as mf  # noqa: E402

BARRA = os.path.abspath(sys.argv[1])
MB = int(sys.argv[2]) if len(sys.argv) > 2 else 20


def best(path, runs=3):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([BARRA, "scan", "-j1", "--format", "jsonl", "--progress", "never", path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    text = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "gen", "corpus.py"), "chat",
                           "--megabytes", str(MB)], capture_output=True, check=True).stdout
    lines = text.decode().split("\n")
    tmp = tempfile.mkdtemp(prefix="barra-bench-extract-")
    files = {
        "plain.txt": text,
        "docx": mf.docx(lines),
        "xlsx": mf.xlsx([("Chat", [[t] for t in lines if t])]),
        "pptx": mf.pptx([lines[i:i + 50] for i in range(0, len(lines), 50)]),
        "zip (text)": mf._zip([("chat.txt", text)]),
        "tar.gz (text)": mf.tar_gz([("chat.txt", text)]),
        "utf-16": text.decode().encode("utf-16"),
        "gb18030": text.decode().encode("gb18030"),
    }
    mb = len(text) / 1e6
    sizes = {name: mb for name in files}
    # Word and Excel 97–2003 files saved by LibreOffice; a .xls sheet holds at most 65,536 rows.
    with open(os.path.join(tmp, "office.txt"), "wb") as f:
        f.write(text)
    files["doc (LibreOffice)"] = open(mf.libreoffice([f.name], "doc", mf.TEXT_IN)[0], "rb").read()
    sizes["doc (LibreOffice)"] = mb
    rows = [t for t in lines if t][:65000]
    with open(os.path.join(tmp, "office.csv"), "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([t] for t in rows)
    files["xls (LibreOffice)"] = open(mf.libreoffice([f.name], "xls", mf.CSV_IN)[0], "rb").read()
    sizes["xls (LibreOffice)"] = len("\n".join(rows).encode()) / 1e6
    base = None
    print("%d MB of chat text (%.1f MB in the .xls); barra scan -j1, best of 3"
          % (round(mb), sizes["xls (LibreOffice)"]))
    print("%-17s %10s %10s %8s" % ("format", "file MB", "text MB/s", "ratio"))
    for name, data in files.items():
        path = os.path.join(tmp, name.split()[0].replace(".", "-"))
        with open(path, "wb") as f:
            f.write(data)
        rate = sizes[name] / best(path)
        base = base or rate
        print("%-17s %10.1f %10.1f %8.2f" % (name, len(data) / 1e6, rate, rate / base))


main()
