/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "core/date.h"

#include <time.h>

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
