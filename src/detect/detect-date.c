/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a written date: the number forms of docs/entities.md (date_of_birth), Chinese numerals,
 * English and Portuguese month names, 年月日 markers and ROC (民國) years. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "core/date.h"
#include "core/utf8.h"
#include "detect/detect-validate.h"

#include "core/banned.h"

struct date_parts {
    int num[4];
    int digits[4];
    int n;
    int year, month, day; /* set by 年, 月, 日 markers and month names; 0 = unknown */
    bool roc;
};

static int chinese_digit(uint32_t cp)
{
    static const uint32_t digits[] = {0x3007, 0x4E00, 0x4E8C, 0x4E09, 0x56DB,
                                      0x4E94, 0x516D, 0x4E03, 0x516B, 0x4E5D};
    if (cp == 0x96F6 || cp == 0x25CB) { /* 零 ○ */
        return 0;
    }
    for (int i = 0; i < 10; i++) {
        if (digits[i] == cp) {
            return i;
        }
    }
    return cp == 0x5341 ? 10 : -1; /* 十 */
}

/* A run of Chinese numerals: digit by digit (一九九〇 = 1990), or with 十 as tens (二十三 = 23). */
static int chinese_number(const int *v, int n, int *ret_digits)
{
    bool has_ten = false;
    for (int i = 0; i < n; i++) {
        has_ten |= v[i] == 10;
    }
    *ret_digits = n;
    if (!has_ten) {
        int x = 0;
        for (int i = 0; i < n; i++) {
            x = x * 10 + v[i];
        }
        return x;
    }
    if (n == 1) {
        return 10;
    }
    if (n == 2) {
        return v[0] == 10 ? 10 + v[1] : v[0] * 10;
    }
    return n == 3 && v[1] == 10 ? v[0] * 10 + v[2] : -1;
}

static int month_name(const char *s, size_t n, size_t *ret_len)
{
    static const char *const names[] = {
        "january",  "february",  "march",    "april",    "may",      "june",    "july",
        "august",   "september", "october",  "november", "december", "janeiro", "fevereiro",
        "março",    "marco",     "abril",    "maio",     "junho",    "julho",   "agosto",
        "setembro", "outubro",   "novembro", "dezembro", "sept",     "jan",     "feb",
        "mar",      "apr",       "jun",      "jul",      "aug",      "sep",     "oct",
        "nov",      "dec"};
    static const int months[] = {1, 2, 3, 4,  5,  6,  7, 8, 9, 10, 11, 12, 1, 2, 3, 3,  4,  5, 6,
                                 7, 8, 9, 10, 11, 12, 9, 1, 2, 3,  4,  6,  7, 8, 9, 10, 11, 12};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t k = strlen(names[i]);
        if (k <= n && strncasecmp(s, names[i], k) == 0) {
            *ret_len = k;
            return months[i];
        }
    }
    return 0;
}

static void push_number(struct date_parts *d, int value, int digits)
{
    if (d->n < 4) {
        d->num[d->n] = value;
        d->digits[d->n] = digits;
        d->n++;
    }
}

static void tokenise(const char *s, size_t n, struct date_parts *d)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    while (p < end) {
        if (*p >= '0' && *p <= '9') {
            int v = 0, k = 0;
            while (p < end && *p >= '0' && *p <= '9' && k < 9) {
                v = v * 10 + (*p++ - '0');
                k++;
            }
            push_number(d, v, k);
            continue;
        }
        size_t mlen;
        int m = ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')
                    ? month_name((const char *)p, (size_t)(end - p), &mlen)
                    : 0;
        if (m) {
            d->month = m;
            p += mlen;
            while (p < end && ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')) {
                p++;
            }
            continue;
        }
        uint32_t cp;
        size_t len = utf8_decode(p, end, &cp);
        int cd = chinese_digit(cp);
        if (cd >= 0) {
            int v[8], k = 0;
            while (p < end && k < 8) {
                size_t l2 = utf8_decode(p, end, &cp);
                int x = chinese_digit(cp);
                if (x < 0) {
                    break;
                }
                v[k++] = x;
                p += l2;
            }
            int digits;
            int value = chinese_number(v, k, &digits);
            push_number(d, value, digits);
            continue;
        }
        if (d->n > 0) {
            if (cp == 0x5E74) { /* 年 */
                d->year = d->num[d->n - 1];
            } else if (cp == 0x6708) { /* 月 */
                d->month = d->num[d->n - 1];
            } else if (cp == 0x65E5 || cp == 0x53F7 || cp == 0x865F) { /* 日 号 號 */
                d->day = d->num[d->n - 1];
            }
        }
        if (cp == 0x570B || cp == 0x56FD) { /* 國 国, as in 民國 */
            d->roc = true;
        }
        p += len;
    }
}

/* Fills year/month/day from bare numbers: Y-M-D when the first has four digits, otherwise day first
 * (Hong Kong, Macau and Portuguese usage) unless that cannot be; a leading 2-3 digit year is ROC.
 */
static void assign_numbers(struct date_parts *d)
{
    if (d->year && d->month && !d->day && d->n == 3) {
        d->day = d->num[2];
    }
    if (d->year || d->n == 0) {
        return;
    }
    if (d->month) {
        /* Month by name: the other two numbers are the day and the year. */
        for (int i = 0; i < d->n && i < 2; i++) {
            if (d->digits[i] == 4) {
                d->year = d->num[i];
            } else {
                d->day = d->num[i];
            }
        }
        return;
    }
    if (d->n == 1 && d->digits[0] == 8) {
        d->year = d->num[0] / 10000;
        d->month = d->num[0] / 100 % 100;
        d->day = d->num[0] % 100;
        return;
    }
    if (d->n != 3) {
        return;
    }
    if (d->digits[0] == 4) {
        d->year = d->num[0];
        d->month = d->num[1];
        d->day = d->num[2];
    } else if (d->digits[2] == 4) {
        d->year = d->num[2];
        bool month_first = d->num[0] <= 12 && d->num[1] > 12;
        d->month = month_first ? d->num[0] : d->num[1];
        d->day = month_first ? d->num[1] : d->num[0];
    } else if (d->digits[0] <= 3 && d->digits[1] == 2 && d->digits[2] == 2) {
        d->roc = true;
        d->year = d->num[0];
        d->month = d->num[1];
        d->day = d->num[2];
    }
}

int32_t det_parse_date(const char *s, size_t n)
{
    struct date_parts d;
    memset(&d, 0, sizeof(d));
    tokenise(s, n, &d);
    assign_numbers(&d);
    int year = d.roc ? d.year + 1911 : d.year;
    if (!date_is_valid(year, d.month, d.day) || year < 1800) {
        return 0;
    }
    return date_pack(year, d.month, d.day);
}
