/* SPDX-License-Identifier: Apache-2.0 */
/* Calendar dates as plain integers (no time zones involved). */
#ifndef BARRA_CORE_DATE_H
#define BARRA_CORE_DATE_H

#include <stdbool.h>
#include <stdint.h>

/* Whether year-month-day is a real date of the proleptic Gregorian calendar. */
bool date_is_valid(int year, int month, int day);
/* Days since 1970-01-01 for a valid date. */
int32_t date_to_days(int year, int month, int day);
/* The date `days` after 1970-01-01 (negative: before), the inverse of date_to_days. */
void date_from_days(int64_t days, int *ret_year, int *ret_month, int *ret_day);
/* A date packed as YYYYMMDD (e.g. 20261123). */
static inline int32_t date_pack(int year, int month, int day)
{
    return year * 10000 + month * 100 + day;
}
/* Today's date in local time, packed as YYYYMMDD. */
int32_t date_today(void);
/* Reads an RFC 3339 time ("2026-11-23T10:00:00+08:00", "...Z", "...T10:00:00.250+08:00"; a space
 * for the T too): milliseconds since 1970 (UTC) and the offset in minutes. -BARRA_EINVAL when it
 * is not one, or its date or time does not exist. */
int date_parse_rfc3339(const char *s, int64_t *ret_ms, int32_t *ret_offset);
/* Whole years between a birth date and a reference date (both packed), or -1 if birth is later. */
int date_age_years(int32_t birth, int32_t reference);

#endif
