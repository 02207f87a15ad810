#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An outside verifier of a Barra audit log export, written from docs/audit-log.md and the RFCs, not
from the C code: it shares nothing with Barra but the formats. It needs only Python and Debian's
python3-cryptography.

    verify-export.py EXPORT_DIR [--key VERIFIER_KEY] [PROOF.json ...]

Checks that every checkpoint is signed by the verifier key (C2SP signed note, Ed25519) and signs
the Merkle tree (RFC 9162) of the exported entries, and that each proof (from `barra log proof`)
proves what it says against those checkpoints. Prints "ok: ..." and exits 0, or names the first
thing that does not hold and exits 1."""

import base64
import glob
import hashlib
import json
import os
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def fail(msg):
    print("FAILED: " + msg)
    sys.exit(1)


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf_bytes(e):
    """version, seq, time_ns, type length and type, record length and record, payload digest."""
    typ = base64.b64decode(e["type_base64"])
    record = base64.b64decode(e["record_base64"])
    out = struct.pack(">BQqB", 1, e["seq"], e["time_ns"], len(typ)) + typ
    out += struct.pack(">I", len(record)) + record
    if e["payload_digest"] is None:
        out += b"\x00"
    else:
        out += b"\x01" + bytes.fromhex(e["payload_digest"])
    return out


def roots_by_size(leaves, sizes):
    """MTH of each prefix asked for, by folding complete subtrees (RFC 9162 2.1.1)."""
    wanted = set(sizes)
    out = {}
    stack = []  # (height, hash) of complete subtrees, left to right
    for i, h in enumerate(leaves):
        node = (0, h)
        while stack and stack[-1][0] == node[0]:
            left = stack.pop()
            node = (node[0] + 1, node_hash(left[1], node[1]))
        stack.append(node)
        if i + 1 in wanted:
            r = stack[-1][1]
            for height, h2 in reversed(stack[:-1]):
                r = node_hash(h2, r)
            out[i + 1] = r
    return out


def parse_key(text):
    name, key_id, b64 = text.strip().split("+", 2)
    blob = base64.b64decode(b64)
    if len(blob) != 33 or blob[0] != 1:
        fail("the verifier key is not an Ed25519 key")
    pub = blob[1:]
    want = hashlib.sha256(name.encode() + b"\n" + b"\x01" + pub).digest()[:4]
    if want.hex() != key_id:
        fail("the verifier key's id does not match its key")
    return name, want, Ed25519PublicKey.from_public_bytes(pub)


def parse_checkpoint(note, name, key_id, pub):
    text, sep, sigs = note.partition("\n\n")
    if not sep:
        fail("a checkpoint has no signature block")
    text += "\n"
    lines = text.split("\n")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2])
    if origin != name:
        fail("a checkpoint is for %r, not %r" % (origin, name))
    good = False
    for line in sigs.strip("\n").split("\n"):
        if not line.startswith("\u2014 "):
            fail("a signature line does not start with an em dash")
        kname, _, sig64 = line[2:].partition(" ")
        blob = base64.b64decode(sig64)
        if kname == name and blob[:4] == key_id:
            try:
                pub.verify(blob[4:], text.encode())
            except InvalidSignature:
                fail("the checkpoint of size %d has a bad signature" % size)
            good = True
    if not good:
        fail("the checkpoint of size %d is not signed by the verifier key" % size)
    return size, root


def verify_inclusion(leaf, index, size, root, proof):
    """RFC 9162 2.1.3.2"""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old, new, old_root, new_root, proof):
    """RFC 9162 2.1.4.2"""
    if old == new:
        return not proof and old_root == new_root
    if old & (old - 1) == 0:
        proof = [old_root] + proof
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        sys.exit(2)
    export = args.pop(0)
    key_text = open(os.path.join(export, "verifier.key")).read()
    if args[:1] == ["--key"]:
        key_text = args[1]
        args = args[2:]
    name, key_id, pub = parse_key(key_text)

    # The key history: each key signs from its size on; each step endorsed by both keys.
    epochs = []  # (from_size, key_id, public key, verifier key text)
    keys_path = os.path.join(export, "keys.jsonl")
    if os.path.exists(keys_path):
        for line in open(keys_path):
            k = json.loads(line)
            kname, kid, kpub = parse_key(k["verifier_key"])
            if kname != name:
                fail("the key history names another log")
            if epochs:
                e = k["endorsement"]
                if e["old_key"] != epochs[-1][3] or e["new_key"] != k["verifier_key"]:
                    fail("key rotation at size %d names other keys" % k["from_size"])
                try:
                    epochs[-1][2].verify(base64.b64decode(e["old_signs_new"]), k["verifier_key"].encode())
                    kpub.verify(base64.b64decode(e["new_signs_old"]), epochs[-1][3].encode())
                except InvalidSignature:
                    fail("key rotation at size %d is not endorsed by both keys" % k["from_size"])
            epochs.append((k["from_size"], kid, kpub, k["verifier_key"]))
        if key_text.strip() not in [e[3] for e in epochs]:
            fail("the verifier key is not one of the log's keys")
    else:
        epochs = [(0, key_id, pub, key_text.strip())]

    leaves = [bytes.fromhex(l) for l in open(os.path.join(export, "pruned-leaves.txt")).read().split()]
    for n, line in enumerate(open(os.path.join(export, "entries.jsonl")), 1):
        e = json.loads(line)
        if e["seq"] != len(leaves):
            fail("entry %d is missing (found %d next)" % (len(leaves), e["seq"]))
        leaves.append(leaf_hash(leaf_bytes(e)))

    checkpoints = {}
    for path in sorted(glob.glob(os.path.join(export, "checkpoints", "*"))):
        size = int(os.path.basename(path))
        epoch = [e for e in epochs if e[0] <= size][-1]
        size, root = parse_checkpoint(open(path, encoding="utf-8").read(), name, epoch[1], epoch[2])
        if size > len(leaves):
            fail("the checkpoint of size %d signs more entries than the export has (%d)" % (size, len(leaves)))
        checkpoints[size] = root
    if not checkpoints:
        fail("no checkpoints")
    roots = roots_by_size(leaves, checkpoints.keys())
    for size, root in sorted(checkpoints.items()):
        if roots[size] != root:
            fail("the checkpoint of size %d does not sign the exported entries" % size)

    for path in args:
        p = json.load(open(path))
        proof = [base64.b64decode(h) for h in p["proof"]]
        if p["type"] == "inclusion":
            size, index = p["size"], p["index"]
            root = checkpoints.get(size, roots_by_size(leaves, [size])[size])
            if base64.b64decode(p["root"]) != root:
                fail("%s: its root is not the tree's root of size %d" % (path, size))
            if leaves[index] != base64.b64decode(p["leaf_hash"]) or not verify_inclusion(
                    leaves[index], index, size, root, proof):
                fail("%s: the inclusion proof of entry %d does not hold" % (path, index))
        else:
            old, new = p["old_size"], p["new_size"]
            r = roots_by_size(leaves, [old, new])
            if (base64.b64decode(p["old_root"]) != r[old] or base64.b64decode(p["new_root"]) != r[new]
                    or not verify_consistency(old, new, r[old], r[new], proof)):
                fail("%s: the consistency proof from %d to %d does not hold" % (path, old, new))
    print("ok: %d entries, %d checkpoints, %d proofs" % (len(leaves), len(checkpoints), len(args)))


if __name__ == "__main__":
    main()
