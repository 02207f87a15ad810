/* SPDX-License-Identifier: Apache-2.0 */
/* Checksum and plausibility rules; the facts behind them are in docs/entities.md. */
#include "config.h"

#include "detect/detect-validate.h"

#include <string.h>

#include "core/date.h"

#include "core/banned.h"

static const char *const validator_names[DET_V_COUNT] = {
    [DET_V_NONE] = "none",
    [DET_V_CN_RESIDENT_ID] = "cn_resident_id",
    [DET_V_CN_RESIDENT_ID_15] = "cn_resident_id_15",
    [DET_V_CN_DISABILITY] = "cn_disability_certificate",
    [DET_V_CN_RESIDENT_MASKED] = "cn_resident_id_masked",
    [DET_V_HKID] = "hkid",
    [DET_V_TW_ID] = "tw_id",
    [DET_V_TW_ARC_OLD] = "tw_arc_old",
    [DET_V_USCC] = "uscc",
    [DET_V_CARD] = "card",
    [DET_V_CARD_NO_LUHN] = "card_without_luhn",
    [DET_V_CARD_MASKED] = "card_masked",
    [DET_V_DATE] = "date",
    [DET_V_EMAIL] = "email",
    [DET_V_MRZ_DOC] = "mrz_document",
};

const char *det_validator_name(enum det_validator v)
{
    return (unsigned)v < DET_V_COUNT ? validator_names[v] : "?";
}

int det_validator_from_name(const char *name)
{
    for (int i = 0; i < DET_V_COUNT; i++) {
        if (validator_names[i] && strcmp(validator_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* ---- PRC resident identity number, ISO 7064 MOD 11-2 ---- */

int det_check_mod11_2(const char *d)
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (d[i] < '0' || d[i] > '9') {
            return -1;
        }
        sum += (d[i] - '0') * weights[i];
    }
    return check[sum % 11];
}

/* Province-level codes of GB/T 2260 (first two digits). */
static bool province_valid(int p)
{
    return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
           (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65);
}

/* A birth date YYYYMMDD written in s[0..8): a real date from 1880 (the standard's own example) up
 * to the reference date. */
static int32_t birth_date(const char *s, int32_t today)
{
    if (!all_digits(s, 8)) {
        return 0;
    }
    int y = num(s, 4), m = num(s + 4, 2), d = num(s + 6, 2);
    if (y < 1880 || !date_is_valid(y, m, d)) {
        return 0;
    }
    int32_t packed = date_pack(y, m, d);
    return packed <= today ? packed : 0;
}

static void set_birth(struct det_verdict *v, int32_t birth, int32_t today)
{
    v->birth = birth;
    int age = date_age_years(birth, today);
    v->minor = age >= 0 && age < 14;
}

/* The address part of an 18- or 15-digit number; sets the subtype and jurisdiction it implies. */
static bool resident_region(const struct det_catalog *c, const char *s, struct det_verdict *v)
{
    if (memcmp(s, "810000", 6) == 0) {
        v->subtype = "hk_residence_permit";
        v->jurisdiction = "hk";
        return true;
    }
    if (memcmp(s, "820000", 6) == 0) {
        v->subtype = "mo_residence_permit";
        v->jurisdiction = "mo";
        return true;
    }
    if (memcmp(s, "830000", 6) == 0) {
        v->subtype = "tw_residence_permit";
        v->jurisdiction = "tw";
        return true;
    }
    if (s[0] == '9') {
        /* 2023 foreign permanent resident card: 9, issuing province, 3-digit nationality. */
        v->subtype = "foreign_permanent_resident";
        v->jurisdiction = "cn";
        return province_valid(num(s + 1, 2));
    }
    v->subtype = "resident_id";
    v->jurisdiction = "cn";
    return province_valid(num(s, 2)) && det_prefecture_valid(c, (unsigned)num(s, 4));
}

static bool check_cn_id18(const struct det_catalog *c, const char *s, size_t n, int32_t today,
                          struct det_verdict *v)
{
    if (n != 18 || !all_digits(s, 17) || det_check_mod11_2(s) != s[17]) {
        return false;
    }
    if (!resident_region(c, s, v)) {
        return false;
    }
    int32_t birth = birth_date(s + 6, today);
    if (birth == 0) {
        return false;
    }
    set_birth(v, birth, today);
    return true;
}

static bool check_cn_id15(const struct det_catalog *c, const char *s, size_t n, int32_t today,
                          struct det_verdict *v)
{
    if (n != 15 || !all_digits(s, 15) || s[0] == '9' || s[0] == '8') {
        return false;
    }
    char date[8] = {'1', '9'};
    memcpy(date + 2, s + 6, 6);
    int32_t birth = birth_date(date, today);
    if (birth == 0 || !resident_region(c, s, v)) {
        return false;
    }
    v->subtype = "resident_id_15";
    set_birth(v, birth, today);
    return true;
}

static bool check_cn_disability(const struct det_catalog *c, const char *s, size_t n, int32_t today,
                                struct det_verdict *v)
{
    if (n != 20 || !check_cn_id18(c, s, 18, today, v)) {
        return false;
    }
    if (s[18] < '1' || s[18] > '7' || s[19] < '1' || s[19] > '4') {
        return false;
    }
    v->subtype = "disability_certificate";
    v->category = "specific_identity";
    return true;
}

static bool check_cn_masked(const struct det_catalog *c, const char *s, size_t n,
                            struct det_verdict *v)
{
    if (n != 18) {
        return false;
    }
    size_t digits = 0, stars = 0;
    for (size_t i = 0; i < n; i++) {
        digits += s[i] >= '0' && s[i] <= '9';
        stars += s[i] == '*';
    }
    if (stars < 4 || digits < 4 || digits + stars + (s[17] == 'X') != 18) {
        return false;
    }
    if (all_digits(s, 6)) {
        /* The visible address code must be real. */
        return resident_region(c, s, v);
    }
    if (all_digits(s, 2)) {
        v->subtype = "resident_id";
        v->jurisdiction = "cn";
        return province_valid(num(s, 2)) || memcmp(s, "81", 2) == 0 || memcmp(s, "82", 2) == 0 ||
               memcmp(s, "83", 2) == 0;
    }
    return false;
}

/* ---- Hong Kong identity card, weighted mod 11 ---- */

int det_check_hkid(const char *body, size_t n)
{
    if (n != 7 && n != 8) {
        return -1;
    }
    size_t letters = n - 6;
    int sum = letters == 1 ? 36 * 9 : 0;
    int w = letters == 1 ? 8 : 9;
    for (size_t i = 0; i < n; i++, w--) {
        char ch = body[i];
        int val;
        if (i < letters) {
            if (ch < 'A' || ch > 'Z') {
                return -1;
            }
            val = ch - 'A' + 10;
        } else {
            if (ch < '0' || ch > '9') {
                return -1;
            }
            val = ch - '0';
        }
        sum += val * w;
    }
    int r = (11 - sum % 11) % 11;
    return r == 10 ? 'A' : '0' + r;
}

static bool check_hkid(const char *s, size_t n, struct det_verdict *v)
{
    if (n != 8 && n != 9) {
        return false;
    }
    int check = det_check_hkid(s, n - 1);
    if (check < 0 || check != s[n - 1]) {
        return false;
    }
    /* Letter N: births registered from mid-2019 (identifiers.md §3.3, a heuristic): a child. */
    if (n == 8 && s[0] == 'N') {
        v->minor = true;
    }
    return true;
}

/* ---- Taiwan national ID and resident certificates, weighted mod 10 ---- */

static int tw_letter_code(char ch)
{
    static const int codes[26] = {10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21,
                                  22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33};
    return ch >= 'A' && ch <= 'Z' ? codes[ch - 'A'] : -1;
}

bool det_check_tw(const char *s)
{
    int first = tw_letter_code(s[0]);
    if (first < 0) {
        return false;
    }
    int digits[11];
    digits[0] = first / 10;
    digits[1] = first % 10;
    if (s[1] >= 'A' && s[1] <= 'Z') {
        /* Old-style resident certificate: the second letter counts by the units digit of its code.
         */
        digits[2] = tw_letter_code(s[1]) % 10;
    } else if (s[1] >= '0' && s[1] <= '9') {
        digits[2] = s[1] - '0';
    } else {
        return false;
    }
    for (int i = 2; i < 10; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        digits[i + 1] = s[i] - '0';
    }
    static const int weights[11] = {1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1};
    int sum = 0;
    for (int i = 0; i < 11; i++) {
        sum += digits[i] * weights[i];
    }
    return sum % 10 == 0;
}

/* ---- Unified Social Credit Code (GB 32100) and organisation code (GB 11714) ---- */

static int uscc_value(char ch)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const char *p = ch ? strchr(alphabet, ch) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

int det_check_uscc(const char *s)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        int val = uscc_value(s[i]);
        if (val < 0) {
            return -1;
        }
        sum += val * weights[i];
    }
    int c = 31 - sum % 31;
    return alphabet[c == 31 ? 0 : c];
}

int det_check_gb11714(const char *s)
{
    static const int weights[8] = {3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 8; i++) {
        int val;
        if (s[i] >= '0' && s[i] <= '9') {
            val = s[i] - '0';
        } else if (s[i] >= 'A' && s[i] <= 'Z') {
            val = s[i] - 'A' + 10;
        } else {
            return -1;
        }
        sum += val * weights[i];
    }
    int c = 11 - sum % 11;
    return c == 10 ? 'X' : c == 11 ? '0' : '0' + c;
}

static bool check_uscc(const char *s, size_t n, struct det_verdict *v)
{
    if (n != 18 || !all_digits(s + 2, 6) || det_check_uscc(s) != s[17]) {
        return false;
    }
    int region = num(s + 2, 2);
    if (!province_valid(region) && region != 10) {
        return false;
    }
    /* Codes whose organisation part fails GB 11714 exist but are rarer: trust them less; an
     * all-digit one is then as likely any 18-digit number (1 in 31 pass), so it needs a keyword. */
    if (det_check_gb11714(s + 8) != s[16]) {
        v->factor = all_digits(s, 18) ? 0.2f : 0.75f;
    }
    if (s[0] == '9' && s[1] == '2') {
        /* 个体工商户: an individual business identifies a natural person. */
        v->subtype = "individual_business";
        v->category = "general";
    } else {
        v->subtype = "organisation";
    }
    return true;
}

/* ---- bank cards ---- */

bool det_check_luhn(const char *d, size_t n)
{
    int sum = 0;
    bool dbl = false;
    for (size_t i = n; i-- > 0;) {
        if (d[i] < '0' || d[i] > '9') {
            return false;
        }
        int x = d[i] - '0';
        if (dbl) {
            x *= 2;
            if (x > 9) {
                x -= 9;
            }
        }
        sum += x;
        dbl = !dbl;
    }
    return n > 0 && sum % 10 == 0;
}

/* The brand of an issuer identification number and whether `len` is a length it issues; NULL if the
 * prefix belongs to no brand we know. */
static const char *card_brand(const char *s, size_t len)
{
    int two = num(s, 2), four = num(s, 4);
    if (s[0] == '6' && s[1] == '2') {
        return len >= 16 && len <= 19 ? "unionpay" : NULL;
    }
    if (s[0] == '4') {
        return len == 13 || len == 16 || len == 19 ? "visa" : NULL;
    }
    if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) {
        return len == 16 ? "mastercard" : NULL;
    }
    if (two == 34 || two == 37) {
        return len == 15 ? "amex" : NULL;
    }
    if (four >= 3528 && four <= 3589) {
        return len >= 16 && len <= 19 ? "jcb" : NULL;
    }
    return NULL;
}

static bool check_card(const char *s, size_t n, bool want_luhn, struct det_verdict *v)
{
    if (n < 13 || n > 19 || !all_digits(s, n)) {
        return false;
    }
    const char *brand = card_brand(s, n);
    if (brand == NULL) {
        return false;
    }
    bool luhn = det_check_luhn(s, n);
    if (want_luhn != luhn) {
        return false;
    }
    if (!want_luhn && strcmp(brand, "unionpay") != 0) {
        /* Only UnionPay is known to have issued cards that fail Luhn. */
        return false;
    }
    v->subtype = brand;
    return true;
}

static bool check_card_masked(const char *s, size_t n, struct det_verdict *v)
{
    if (n < 13 || n > 19) {
        return false;
    }
    size_t stars = 0, lead = 0;
    while (lead < n && s[lead] >= '0' && s[lead] <= '9') {
        lead++;
    }
    for (size_t i = 0; i < n; i++) {
        stars += s[i] == '*';
    }
    if (stars < 4 || lead < 4) {
        return false;
    }
    const char *brand = card_brand(s, n);
    if (brand == NULL) {
        return false;
    }
    v->subtype = brand;
    return true;
}

/* ---- ICAO 9303 check digit ---- */

int det_check_mrz(const char *s, size_t n)
{
    static const int weights[3] = {7, 3, 1};
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int val;
        if (s[i] >= '0' && s[i] <= '9') {
            val = s[i] - '0';
        } else if (s[i] >= 'A' && s[i] <= 'Z') {
            val = s[i] - 'A' + 10;
        } else if (s[i] == '<') {
            val = 0;
        } else {
            return -1;
        }
        sum += val * weights[i % 3];
    }
    return sum % 10;
}

static bool check_mrz_doc(const char *s, size_t n)
{
    return n >= 2 && det_check_mrz(s, n - 1) == s[n - 1] - '0';
}

bool det_validate(enum det_validator v, const struct det_catalog *c, const char *s, size_t n,
                  int32_t today, struct det_verdict *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->factor = 1.0f;
    switch (v) {
    case DET_V_NONE:
        return true;
    case DET_V_CN_RESIDENT_ID:
        return check_cn_id18(c, s, n, today, ret);
    case DET_V_CN_RESIDENT_ID_15:
        return check_cn_id15(c, s, n, today, ret);
    case DET_V_CN_DISABILITY:
        return check_cn_disability(c, s, n, today, ret);
    case DET_V_CN_RESIDENT_MASKED:
        return check_cn_masked(c, s, n, ret);
    case DET_V_HKID:
        return check_hkid(s, n, ret);
    case DET_V_TW_ID:
        return n == 10 && s[1] >= '0' && s[1] <= '9' && det_check_tw(s);
    case DET_V_TW_ARC_OLD:
        return n == 10 && s[1] >= 'A' && s[1] <= 'D' && det_check_tw(s);
    case DET_V_USCC:
        return check_uscc(s, n, ret);
    case DET_V_CARD:
        return check_card(s, n, true, ret);
    case DET_V_CARD_NO_LUHN:
        return check_card(s, n, false, ret);
    case DET_V_CARD_MASKED:
        return check_card_masked(s, n, ret);
    case DET_V_DATE: {
        int32_t d = det_parse_date(s, n);
        if (d == 0 || d > today || d / 10000 < 1900) {
            return false;
        }
        set_birth(ret, d, today);
        return true;
    }
    case DET_V_MRZ_DOC:
        return check_mrz_doc(s, n);
    case DET_V_EMAIL:
    case DET_V_COUNT:
        break;
    }
    return false;
}
