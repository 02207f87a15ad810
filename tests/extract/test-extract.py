#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The extractors on generated files (tests/extract/make_files.py): every planted identifier comes
out at its path and place; hostile files (a zip bomb, archives nested too deep, XML with a
DOCTYPE, a truncated archive, encrypted members and documents) give their notes and nothing
worse; limits given on the command line are obeyed.

    test-extract.py EXTRACT-DUMP [MAKE-MSG]"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_files  # noqa: E402

DUMP = os.path.abspath(sys.argv[1])
MAKE_MSG = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
# Valid identifiers, their check digits from tests/corpus (computed independently of Barra).
IDS = {"hk": "A123456(3)", "cn": "11010519491231002X", "mo": "1234567(8)"}
checks = failures = 0


def check(cond, what):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print("FAIL: " + what, file=sys.stderr)


def dump(path, *limits, isolated=False, env=None):
    p = subprocess.run([DUMP] + (["--isolated"] if isolated else []) + [path, *map(str, limits)],
                       capture_output=True, timeout=120, env=dict(os.environ, **(env or {})))
    rows = [json.loads(line) for line in p.stdout.decode().splitlines()]
    return p.returncode, rows, p.stderr.decode()


def main():
    tmp = tempfile.mkdtemp(prefix="barra-extract-")
    texts, notes = make_files.write_all(tmp, IDS, MAKE_MSG)
    for name in sorted(set(texts) | set(notes)):
        rc, rows, err = dump(os.path.join(tmp, name))
        check(rc == 0, "%s: extract-dump exits 0 (%d) %s" % (name, rc, err[-300:]))
        pieces = [r for r in rows if "text" in r]
        for path, where, sub in texts.get(name, []):
            check(any(r["path"] == path and r["where"] == where and sub in r["text"] for r in pieces),
                  "%s: %r at %s %r (got %s)" % (name, sub, path, where,
                                                [(r["path"], r["where"], r["text"][:60]) for r in pieces][:8]))
        got_notes = [(r["note"], r["path"]) for r in rows if "note" in r]
        for kind, path in notes.get(name, []):
            check(any(k == kind and path in p for k, p in got_notes),
                  "%s: note %s at %s (got %s)" % (name, kind, path, got_notes))
        if name in notes:
            check(all(IDS["cn"] not in r["text"] and IDS["hk"] not in r["text"] for r in pieces),
                  "%s: nothing is read past a refusal" % name)
        if name in texts:
            check(not got_notes, "%s: no notes for a sound file: %s" % (name, got_notes))
    # A ZIP whose 1,000 directory entries all point at one member is read as what it holds (one
    # member, read in order), never as 5 GiB.
    rc, rows, _ = dump(os.path.join(tmp, "overlap.zip"))
    total = sum(len(r["text"]) for r in rows if "text" in r)
    check(rc == 0 and total <= 6 << 20, "overlapping entries are not decompressed again (%d bytes)" % total)
    # In a worker process: the same, piece for piece.
    for name in sorted(set(texts) | set(notes)):
        _, inside, _ = dump(os.path.join(tmp, name))
        rc, isolated, err = dump(os.path.join(tmp, name), isolated=True)
        check(rc == 0 and isolated == inside,
              "%s: the worker gives what extraction in-process gives (%d %s)" % (name, rc, err[-200:]))
    # Workers that misbehave: one that hangs is killed, one that writes garbage is not believed,
    # one that fails is reported; nothing is taken from any of them.
    for script, wall, expect in (("exec sleep 30", "1000", "longer than"),
                                 ("exec cat", "10000", "malformed output"),
                                 ("exit 3", "10000", "exit status 3"),
                                 ("kill -SEGV $$", "10000", "signal 11")):
        worker = os.path.join(tmp, "worker.sh")
        with open(worker, "w") as f:
            f.write("#!/bin/sh\n%s\n" % script)
        os.chmod(worker, 0o755)
        rc, rows, err = dump(os.path.join(tmp, "staff.docx"), isolated=True,
                             env={"EXTRACT_WORKER": worker, "EXTRACT_WALL_MS": wall})
        check(rc == 0 and any(expect in r.get("message", "") for r in rows)
              and not any("text" in r for r in rows),
              "a worker like %s: noted %r, nothing taken (%s)" % (worker, expect, rows))
    # Limits from the command line: members, text, ratio.
    big = os.path.join(tmp, "bundle.zip")
    _, rows, _ = dump(big, 100 << 20, 1 << 30, 100, 5, 1, 256 << 20)
    check(any(r.get("note") == "limit_reached" and "members" in r["message"] for r in rows),
          "max_members stops reading an archive")
    _, rows, _ = dump(os.path.join(tmp, "staff.docx"), 100 << 20, 1 << 30, 100, 5, 100, 10)
    check(any(r.get("note") == "limit_reached" for r in rows), "max_text stops the text")
    print("%d checks, %d failed" % (checks, failures))
    sys.exit(1 if failures else 0)


main()
