/* SPDX-License-Identifier: Apache-2.0 */
/* Validators: the checks that turn a shape match into a finding (checksums, calendar dates, region
 * codes, card ranges). Each works on the normalised value: ASCII, upper-case, separators removed,
 * mask characters kept as '*'. */
#ifndef BARRA_DETECT_VALIDATE_H
#define BARRA_DETECT_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/detect-int.h"

/* What a validator learned beyond yes/no. Strings are static. */
struct det_verdict {
    const char *subtype;      /* NULL: keep the pattern's */
    const char *jurisdiction; /* NULL: keep the type's */
    const char *category;     /* NULL: keep the type's */
    float factor;             /* multiplies the pattern's base score (1 unless a check is weaker) */
    int32_t birth;            /* YYYYMMDD when the value encodes a birth date, else 0 */
    bool minor;               /* the data subject is under 14 on the reference date */
};

/* Runs validator `v` on the normalised value `s` of length `n`. `today` is the reference date
 * (YYYYMMDD) for "not in the future" and for minors. */
bool det_validate(enum det_validator v, const struct det_catalog *c, const char *s, size_t n,
                  int32_t today, struct det_verdict *ret);

/* The check characters themselves, exposed for tests. Each returns -1 when the input is not of the
 * expected form. */
int det_check_mod11_2(const char *digits17);    /* '0'-'9' or 'X' */
int det_check_hkid(const char *body, size_t n); /* body = 1-2 letters + 6 digits; '0'-'9' or 'A' */
bool det_check_tw(const char *s);      /* 10 characters, letter + 9 digits or 2 letters + 8 */
int det_check_uscc(const char *s17);   /* the 18th character */
int det_check_gb11714(const char *s8); /* the 9th character of an organisation code */
bool det_check_luhn(const char *digits, size_t n);
int det_check_mrz(const char *s, size_t n); /* ICAO 9303 7-3-1 check digit 0-9 */

/* Parses the date written in `s[0..n)` (digits, Chinese numerals, month names, 年月日, 民國).
 * Returns YYYYMMDD or 0 when it is not a real date. */
int32_t det_parse_date(const char *s, size_t n);

#endif
