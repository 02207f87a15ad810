/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "core/date.h"

#include <string.h>
#include <time.h>

#include <barra/error.h>

#include "core/banned.h"

static bool is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

bool date_is_valid(int year, int month, int day)
{
    static const int days_in_month[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1 || month < 1 || month > 12 || day < 1) {
        return false;
    }
    int dim = days_in_month[month - 1] + (month == 2 && is_leap(year) ? 1 : 0);
    return day <= dim;
}

int32_t date_to_days(int year, int month, int day)
{
    /* Days from civil (Howard Hinnant's well-known arithmetic formulation). */
    int y = month <= 2 ? year - 1 : year;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int mp = (month + 9) % 12;
    int doy = (153 * mp + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void date_from_days(int64_t days, int *ret_year, int *ret_month, int *ret_day)
{
    /* The same arithmetic backwards: eras of 400 years, March-based years. */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    *ret_day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *ret_month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *ret_year = (int)(yoe + era * 400 + (*ret_month <= 2));
}

int32_t date_today(void)
{
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm) == NULL) {
        return 19700101;
    }
    return date_pack(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

int date_age_years(int32_t birth, int32_t reference)
{
    if (birth > reference) {
        return -1;
    }
    int age = reference / 10000 - birth / 10000;
    if (reference % 10000 < birth % 10000) {
        age--;
    }
    return age;
}

static bool two_digits(const char *s, int *ret)
{
    if ((unsigned)(s[0] - '0') > 9 || (unsigned)(s[1] - '0') > 9) {
        return false;
    }
    *ret = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

int date_parse_rfc3339(const char *s, int64_t *ret_ms, int32_t *ret_offset)
{
    int c1, c2, mo, d, h, mi, sec;
    if (strnlen(s, 20) < 20 || !two_digits(s, &c1) || !two_digits(s + 2, &c2) || s[4] != '-' ||
        !two_digits(s + 5, &mo) || s[7] != '-' || !two_digits(s + 8, &d) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !two_digits(s + 11, &h) || s[13] != ':' ||
        !two_digits(s + 14, &mi) || s[16] != ':' || !two_digits(s + 17, &sec)) {
        return -BARRA_EINVAL;
    }
    int year = c1 * 100 + c2;
    if (year < 1 || !date_is_valid(year, mo, d) || h > 23 || mi > 59 || sec > 60) {
        return -BARRA_EINVAL;
    }
    const char *p = s + 19;
    int ms = 0;
    if (*p == '.') {
        p++;
        if ((unsigned)(*p - '0') > 9) {
            return -BARRA_EINVAL;
        }
        for (int scale = 100; (unsigned)(*p - '0') <= 9; p++, scale /= 10) {
            ms += (*p - '0') * scale; /* beyond milliseconds: scale is 0 */
        }
    }
    int32_t offset;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        offset = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh, om;
        if (!two_digits(p + 1, &oh) || !two_digits(p + 4, &om) || oh > 23 || om > 59) {
            return -BARRA_EINVAL;
        }
        offset = (oh * 60 + om) * (*p == '-' ? -1 : 1);
    } else {
        return -BARRA_EINVAL;
    }
    int64_t t =
        (int64_t)date_to_days(year, mo, d) * 86400 + h * 3600 + mi * 60 + (sec == 60 ? 59 : sec);
    *ret_ms = (t - (int64_t)offset * 60) * 1000 + ms;
    *ret_offset = offset;
    return 0;
}
