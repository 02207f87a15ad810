#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Differential test of the checksums: values generated and judged by the independent Python
implementations in pii.py (fixed seed) must get the same verdict from the C validators.

  differential.py VALIDATE_VALUES_BINARY
"""

import random
import subprocess
import sys

import pii


def cases(rng, n=3000):
    out = []
    for _ in range(n):
        good = pii.cn_resident_id(rng)
        out.append(("cn_resident_id", good, True))
        bad = pii.cn_resident_id_wrong_check(rng)
        out.append(("cn_resident_id", bad, False))
        out.append(("cn_resident_id", pii.cn_resident_id_bad_date(rng), False))
        # Random 17 digits with their computed check: valid exactly when the region and date are.
        letters, digits, check = pii.hkid(rng)
        out.append(("hkid", letters + digits + check, True))
        wrong = "A" if check != "A" else "0"
        out.append(("hkid", letters + digits + wrong, pii.hkid_check(letters, digits) == wrong))
        tw = pii.tw_id(rng)
        out.append(("tw_id", tw, True))
        flipped = tw[:-1] + str((int(tw[-1]) + 1 + rng.randint(0, 8)) % 10)
        out.append(("tw_id", flipped, pii.tw_check_ok(flipped)))
        u = pii.uscc(rng, rng.choice(["91", "92", "52"]), letters=True)
        out.append(("uscc", u, True))
        other = rng.choice([c for c in pii.USCC_ALPHABET if c != u[-1]])
        out.append(("uscc", u[:-1] + other, False))
        c = pii.card(rng)
        out.append(("card", c, True))
        c2 = c[:-1] + str((int(c[-1]) + 1 + rng.randint(0, 8)) % 10)
        out.append(("card", c2, pii.luhn_ok(c2)))
    return out


def main():
    rng = random.Random(20261123)
    data = cases(rng)
    stdin = "".join("%s %s\n" % (v, value) for v, value, _ in data)
    out = subprocess.run([sys.argv[1]], input=stdin.encode(), stdout=subprocess.PIPE, check=True)
    verdicts = out.stdout.decode().split()
    if len(verdicts) != len(data):
        sys.exit("expected %d verdicts, got %d" % (len(data), len(verdicts)))
    bad = [(v, value, want) for (v, value, want), got in zip(data, verdicts) if (got == "1") != want]
    for v, value, want in bad[:20]:
        print("disagree: %s %s: Python says %s" % (v, value, "valid" if want else "invalid"))
    print("%d values, %d disagreements" % (len(data), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
