# SPDX-License-Identifier: Apache-2.0
"""Synthetic personal-data values for Barra's tests and evaluation corpus.

Every checksum here is implemented again, from the published rules (GB 11643, the HKID mod 11,
the Taiwan mod 10, GB 32100 / GB 11714, Luhn), independently of the C validators, so that tests
compare the two. All values are synthetic; a valid checksum does not mean a number was issued.
"""

import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# ---- PRC resident identity number (GB 11643-1999, ISO 7064 MOD 11-2) ----

def mod11_2(body17):
    total = sum(int(ch) * (2 ** (17 - i) % 11) for i, ch in enumerate(body17))
    return "10X98765432"[total % 11]


def prefectures():
    codes = []
    with open(os.path.join(ROOT, "rules/entities/data/gbt2260-prefectures.tsv"), encoding="utf-8") as f:
        for line in f:
            if line[:1].isdigit():
                code, _name, status = line.rstrip("\n").split("\t")
                codes.append((code, status))
    return codes


_PREFECTURES = None


def random_region(rng, current_only=True):
    global _PREFECTURES
    if _PREFECTURES is None:
        _PREFECTURES = prefectures()
    pool = [c for c, s in _PREFECTURES if s == "current" or not current_only]
    return rng.choice(pool) + "%02d" % rng.randint(1, 30)


def random_birth(rng, lo=1940, hi=2010):
    while True:
        y, m, d = rng.randint(lo, hi), rng.randint(1, 12), rng.randint(1, 31)
        if valid_date(y, m, d):
            return y, m, d


def valid_date(y, m, d):
    if not 1 <= m <= 12 or d < 1:
        return False
    dim = [31, 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28, 31, 30, 31, 30, 31, 31,
           30, 31, 30, 31][m - 1]
    return d <= dim


def cn_resident_id(rng, region=None, birth=None):
    region = region or random_region(rng)
    y, m, d = birth or random_birth(rng)
    body = "%s%04d%02d%02d%03d" % (region, y, m, d, rng.randint(1, 999))
    return body + mod11_2(body)


def cn_residence_permit(rng, prefix):
    y, m, d = random_birth(rng, 1950, 2008)
    body = "%s%04d%02d%02d%03d" % (prefix, y, m, d, rng.randint(1, 999))
    return body + mod11_2(body)


def cn_resident_id_wrong_check(rng):
    good = cn_resident_id(rng)
    bad = rng.choice([c for c in "0123456789X" if c != good[-1]])
    return good[:-1] + bad


def cn_resident_id_bad_date(rng):
    region = random_region(rng)
    body = "%s%04d%02d%02d%03d" % (region, rng.randint(1950, 2000), rng.choice([13, 0, 2]),
                                   rng.choice([30, 31, 0]), rng.randint(1, 999))
    if valid_date(int(body[6:10]), int(body[10:12]), int(body[12:14])):
        body = body[:10] + "13" + body[12:]
    return body + mod11_2(body)


# ---- Hong Kong identity card (weighted mod 11) ----

def hkid_check(letters, digits):
    vals = [ord(c) - 55 for c in letters]
    if len(vals) == 1:
        vals = [36] + vals
    vals += [int(c) for c in digits]
    total = sum(v * w for v, w in zip(vals, range(9, 1, -1)))
    r = (11 - total % 11) % 11
    return "A" if r == 10 else str(r)


def hkid(rng):
    letters = "".join(rng.choice("ABCDEGHKMPRVZ") for _ in range(1 if rng.random() < 0.85 else 2))
    if len(letters) == 2:
        letters = rng.choice(["WX", "XA", "XB", "XC"])
    digits = "%06d" % rng.randint(0, 999999)
    return letters, digits, hkid_check(letters, digits)


# ---- Taiwan national ID / resident certificate (weighted mod 10) ----

TW_CODES = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO",
                    [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
                     30, 31, 32, 33, 34, 35]))


def tw_check_ok(s):
    code = TW_CODES[s[0]]
    second = TW_CODES[s[1]] % 10 if s[1].isalpha() else int(s[1])
    digits = [code // 10, code % 10, second] + [int(c) for c in s[2:]]
    weights = [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1]
    return sum(d * w for d, w in zip(digits, weights)) % 10 == 0


def tw_id(rng, second=None):
    letter = rng.choice("ABCDEFGHJKLMNPQRSTUVXYWZ")
    second = second or rng.choice("12")
    body = letter + second + "%07d" % rng.randint(0, 9999999)
    for last in "0123456789":
        if tw_check_ok(body + last):
            return body + last
    raise AssertionError("no check digit")


# ---- Unified Social Credit Code (GB 32100) with the GB 11714 organisation check ----

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def gb11714_check(code8):
    vals = [int(c) if c.isdigit() else ord(c) - 55 for c in code8]
    c = 11 - sum(v * w for v, w in zip(vals, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def uscc_check(body17):
    total = sum(USCC_ALPHABET.index(ch) * pow(3, i, 31) for i, ch in enumerate(body17))
    c = 31 - total % 31
    return USCC_ALPHABET[0 if c == 31 else c]


def uscc(rng, prefix="91", letters=True):
    region = random_region(rng)
    org = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY" if letters else "0123456789")
                  for _ in range(8))
    org += gb11714_check(org)
    if org[-1] not in USCC_ALPHABET:
        return uscc(rng, prefix, letters)
    body = prefix + region + org
    return body + uscc_check(body)


# ---- cards (Luhn) ----

def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def luhn_complete(body):
    for last in "0123456789":
        if luhn_ok(body + last):
            return body + last
    raise AssertionError


def card(rng, brand=None):
    brand = brand or rng.choice(["unionpay", "unionpay", "visa", "mastercard"])
    if brand == "unionpay":
        prefix, length = "62" + "%04d" % rng.randint(0, 9999), rng.choice([16, 19])
    elif brand == "visa":
        prefix, length = "4" + "%05d" % rng.randint(0, 99999), 16
    else:
        prefix, length = str(rng.randint(51, 55)) + "%04d" % rng.randint(0, 9999), 16
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    return luhn_complete(body)


# ---- phones (allocated blocks, after Google libphonenumber metadata) ----

CN_MOBILE_PREFIXES = ["13%d" % d for d in range(10)] + ["145", "147", "150", "151", "152", "153",
                      "155", "156", "157", "158", "159", "166", "170", "171", "172", "173", "175",
                      "176", "177", "178", "180", "181", "182", "183", "184", "185", "186", "187",
                      "188", "189", "191", "193", "195", "196", "197", "198", "199"]


def cn_mobile(rng):
    return rng.choice(CN_MOBILE_PREFIXES) + "%08d" % rng.randint(0, 99999999)


# Allocated blocks (libphonenumber): 5[1-59][0-46-9], 56[0-4689], 57[0-2469], 90[1-9], 91[02-9],
# 9[2358][0-8], 9[467]x. Blocks starting with 6 are valid in both Hong Kong and Macau: only generated
# with a +852 prefix or a Hong Kong hint (see corpus.py).
HK_ONLY_BLOCKS = ["51" + d for d in "01234689"] + ["52" + d for d in "01234689"] + \
                 ["59" + d for d in "01234689"] + ["56" + d for d in "0123468"] + \
                 ["90" + d for d in "123456789"] + ["91" + d for d in "02345689"] + \
                 ["92" + d for d in "012345678"] + ["94" + d for d in "0123456789"] + \
                 ["96" + d for d in "0123456789"] + ["98" + d for d in "012345678"]


def hk_mobile(rng, shared_ok=False):
    if shared_ok and rng.random() < 0.3:
        return rng.choice(["630", "631", "652", "653"]) + "%05d" % rng.randint(0, 99999)
    return rng.choice(HK_ONLY_BLOCKS) + "%05d" % rng.randint(0, 99999)


def hk_fixed(rng):
    # 2[13-9]x and 22[013-9] (libphonenumber); 28[2-9] is also a Macau fixed line, so avoided.
    return rng.choice(["21", "23", "24", "25", "26", "27", "29"]) + "%06d" % rng.randint(0, 999999)


def mo_mobile(rng):
    # Allocated blocks (libphonenumber): 6[235]xx, 66(0[0-5]|[1-9]x), 68...
    if rng.random() < 0.5:
        return rng.choice(["62", "63", "65"]) + "%06d" % rng.randint(0, 999999)
    third = rng.choice(["0%d" % rng.randint(0, 5), "%d%d" % (rng.randint(1, 9), rng.randint(0, 9))])
    return "66" + third + "%04d" % rng.randint(0, 9999)


def mo_fixed(rng):
    return "28" + str(rng.randint(2, 9)) + "%05d" % rng.randint(0, 99999)


# ---- full-width forms ----

def fullwidth(s):
    out = []
    for ch in s:
        if "!" <= ch <= "~":
            out.append(chr(ord(ch) + 0xFEE0))
        elif ch == " ":
            out.append("\u3000")
        else:
            out.append(ch)
    return "".join(out)
