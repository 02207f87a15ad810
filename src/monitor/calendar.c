/* SPDX-License-Identifier: Apache-2.0 */
/* The working calendar behind off-hours rules: a time zone (an IANA name, read from the system's
 * TZif file, so that no process-wide TZ is touched), working hours and days, public holidays from
 * a table file, and per-department overrides (a casino floor works nights and holidays). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/date.h"
#include "core/error.h"
#include "core/yamltree.h"
#include "monitor/monitor.h"

#include "core/banned.h"

enum { MAX_TRANSITIONS = 4096, MAX_HOLIDAYS = 2048, MAX_DEPARTMENTS = 256 };

struct hours {
    int start, end; /* minutes of the day, [start, end) */
    uint8_t days;   /* bit 0 Monday … bit 6 Sunday */
    bool holidays;  /* whether holidays are days off */
};

struct department {
    char *name;
    struct hours h;
};

struct mon_calendar {
    int64_t *when;   /* transitions, seconds since 1970 */
    int32_t *offset; /* the offset from each transition on; offset[-1] before the first */
    size_t ntrans;
    int32_t first_offset;
    struct hours h;
    int32_t *holidays; /* packed YYYYMMDD, sorted */
    size_t nholidays;
    int32_t *afternoons; /* days off from 13:00 only (Lunar New Year's Eve, 31 December) */
    size_t nafternoons;
    int32_t valid_until;
    struct department *dept;
    size_t ndept;
};

struct mon_calendar *mon_calendar_free(struct mon_calendar *c)
{
    if (c) {
        barra_free(c->when);
        barra_free(c->offset);
        barra_free(c->holidays);
        barra_free(c->afternoons);
        for (size_t i = 0; i < c->ndept; i++) {
            barra_free(c->dept[i].name);
        }
        barra_free(c->dept);
        barra_free(c);
    }
    return NULL;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* A TZif file (RFC 8536): the 64-bit block of version 2 and later, else the 32-bit one. Past the
 * last transition the last offset holds: right for zones without daylight saving today (Macau,
 * Hong Kong, Shanghai, Taipei); the file's POSIX rule for later years is not read. */
static int read_tzif(struct mon_calendar *c, const uint8_t *d, size_t n)
{
    size_t off = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (n - off < 44 || memcmp(d + off, "TZif", 4) != 0) {
            return -1;
        }
        uint8_t version = d[off + 4];
        uint32_t isut = be32(d + off + 20), isstd = be32(d + off + 24), leap = be32(d + off + 28),
                 timecnt = be32(d + off + 32), typecnt = be32(d + off + 36),
                 charcnt = be32(d + off + 40);
        size_t tsize = pass == 0 ? 4 : 8;
        if (timecnt > MAX_TRANSITIONS || typecnt == 0 || typecnt > 256 || charcnt > 4096 ||
            leap > 1000 || isut > 256 || isstd > 256) {
            return -1;
        }
        size_t body =
            timecnt * tsize + timecnt + typecnt * 6 + charcnt + leap * (tsize + 4) + isstd + isut;
        if (n - off - 44 < body) {
            return -1;
        }
        if (pass == 0 && version >= '2') {
            off += 44 + body; /* the 64-bit block follows */
            continue;
        }
        const uint8_t *times = d + off + 44, *idx = times + timecnt * tsize, *types = idx + timecnt;
        c->when = barra_calloc(timecnt + 1, sizeof(*c->when));
        c->offset = barra_calloc(timecnt + 1, sizeof(*c->offset));
        if (c->when == NULL || c->offset == NULL) {
            return -BARRA_ENOMEM;
        }
        c->first_offset = (int32_t)be32(types); /* type 0 before the first transition */
        for (uint32_t i = 0; i < timecnt; i++) {
            if (idx[i] >= typecnt) {
                return -1;
            }
            c->when[i] = tsize == 4 ? (int32_t)be32(times + i * 4) : be64(times + i * 8);
            c->offset[i] = (int32_t)be32(types + idx[i] * 6);
            if (i > 0 && c->when[i] <= c->when[i - 1]) {
                return -1;
            }
        }
        c->ntrans = timecnt;
        return 0;
    }
    return -1;
}

static int load_zone(struct mon_calendar *c, const char *zone, const char *file, uint32_t line,
                     struct barra_error *err)
{
    /* IANA names only: letters, digits, '/', '_', '-', '+'; no "..", no leading '/'. */
    if (zone[0] == '\0' || zone[0] == '/' || strstr(zone, "..") ||
        strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_-+") !=
            strlen(zone)) {
        return barra_error_set_at(err, -BARRA_EINVAL, file, line, 1,
                                  "\"%s\" is not a time zone name (e.g. Asia/Macau)", zone);
    }
    char path[512];
    (void)snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
    FILE *f = fopen(path, "rb");
    uint8_t buf[65536];
    size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
    if (f) {
        (void)fclose(f);
    }
    int r = n ? read_tzif(c, buf, n) : -1;
    if (r == -BARRA_ENOMEM) {
        return r;
    }
    if (r < 0) {
        return barra_error_set_at(err, -BARRA_EINVAL, file, line, 1,
                                  "time zone \"%s\": %s is missing or not a TZif file (install "
                                  "tzdata)",
                                  zone, path);
    }
    return 0;
}

int32_t mon_calendar_utc_offset(const struct mon_calendar *c, int64_t time_ms)
{
    int64_t t = time_ms >= 0 ? time_ms / 1000 : -((-time_ms + 999) / 1000);
    if (c->ntrans == 0 || t < c->when[0]) {
        return c->first_offset;
    }
    size_t lo = 0, hi = c->ntrans; /* the last transition at or before t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->when[mid] <= t) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return c->offset[lo];
}

static int parse_clock(const char *s, int *ret)
{
    if (strlen(s) != 5 || s[2] != ':' || strspn(s, "0123456789:") != 5) {
        return -1;
    }
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) {
        return -1;
    }
    *ret = h * 60 + m;
    return 0;
}

/* "09:00-18:00"; "00:00-24:00" for the whole day. Night shifts across midnight are two ranges
 * of two departments today, not one. */
static int parse_hours(const struct ynode *v, struct hours *h, const char *file,
                       struct barra_error *err)
{
    char a[8], b[8];
    if (v->kind != YNODE_SCALAR || strlen(v->value) != 11 || v->value[5] != '-') {
        return barra_error_set_at(err, -BARRA_EINVAL, file, v->line, v->column,
                                  "hours are written \"09:00-18:00\"");
    }
    memcpy(a, v->value, 5);
    a[5] = '\0';
    memcpy(b, v->value + 6, 5);
    b[5] = '\0';
    if (parse_clock(a, &h->start) < 0 || parse_clock(b, &h->end) < 0 || h->end <= h->start) {
        return barra_error_set_at(err, -BARRA_EINVAL, file, v->line, v->column,
                                  "hours \"%s\": two times of day, the first earlier", v->value);
    }
    return 0;
}

static int parse_days(const struct ynode *v, struct hours *h, const char *file,
                      struct barra_error *err)
{
    static const char *const names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    const struct ynode *const *items;
    size_t n = ytree_as_list(&v, &items);
    h->days = 0;
    for (size_t i = 0; i < n; i++) {
        int d = -1;
        for (int k = 0; k < 7 && items[i]->kind == YNODE_SCALAR; k++) {
            if (strcmp(items[i]->value, names[k]) == 0) {
                d = k;
            }
        }
        if (d < 0) {
            return barra_error_set_at(err, -BARRA_EINVAL, file, items[i]->line, items[i]->column,
                                      "days are mon, tue, wed, thu, fri, sat, sun");
        }
        h->days |= (uint8_t)(1u << d);
    }
    return 0;
}

static int parse_scope(const struct ynode *map, struct hours *h, const char *file,
                       struct barra_error *err)
{
    const struct ynode *v;
    int r = 0;
    if ((v = ytree_get(map, "hours")) != NULL) {
        r = parse_hours(v, h, file, err);
    }
    if (r == 0 && (v = ytree_get(map, "days")) != NULL) {
        r = parse_days(v, h, file, err);
    }
    if (r == 0 && (v = ytree_get(map, "holidays_off")) != NULL) {
        if (v->kind != YNODE_SCALAR || (strcmp(v->value, "true") && strcmp(v->value, "false"))) {
            return barra_error_set_at(err, -BARRA_EINVAL, file, v->line, v->column,
                                      "holidays_off is true or false");
        }
        h->holidays = strcmp(v->value, "true") == 0;
    }
    return r;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int parse_date(const char *s, int32_t *ret)
{
    int y, m, d;
    char tail;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || strlen(s) != 10 ||
        !date_is_valid(y, m, d)) {
        return -1;
    }
    *ret = date_pack(y, m, d);
    return 0;
}

/* The holiday table (rules/monitor/calendar/macau-holidays.yaml): `holidays: [{date, kind,
 * half_day}]`, `valid_until`. Only the kinds listed count; `half_day: afternoon` is a day off from
 * 13:00. */
static int load_holidays(struct mon_calendar *c, const char *path, const struct ynode *kinds,
                         struct barra_error *err)
{
    struct ynode *doc = NULL;
    int r = ytree_load_file(path, &doc, err);
    if (r < 0) {
        return r;
    }
    const struct ynode *list = ytree_get(doc, "holidays"), *until = ytree_get(doc, "valid_until");
    if (list == NULL || list->kind != YNODE_SEQ || until == NULL || until->kind != YNODE_SCALAR ||
        parse_date(until->value, &c->valid_until) < 0) {
        ytree_free(doc);
        return barra_error_set_at(err, -BARRA_EINVAL, path, 1, 1,
                                  "a holiday table has `valid_until: YYYY-MM-DD` and a list "
                                  "`holidays` of {date, kind}");
    }
    c->holidays = barra_calloc(list->n + 1, sizeof(*c->holidays));
    c->afternoons = barra_calloc(list->n + 1, sizeof(*c->afternoons));
    if (c->holidays == NULL || c->afternoons == NULL) {
        ytree_free(doc);
        return -BARRA_ENOMEM;
    }
    for (size_t i = 0; i < list->n && r == 0; i++) {
        const struct ynode *item = list->items[i];
        const struct ynode *date = item->kind == YNODE_MAP ? ytree_get(item, "date") : NULL,
                           *kind = item->kind == YNODE_MAP ? ytree_get(item, "kind") : NULL;
        int32_t day;
        if (date == NULL || date->kind != YNODE_SCALAR || parse_date(date->value, &day) < 0 ||
            kind == NULL || kind->kind != YNODE_SCALAR || c->nholidays >= MAX_HOLIDAYS) {
            r = barra_error_set_at(err, -BARRA_EINVAL, path, item->line, item->column,
                                   "each holiday has a date (YYYY-MM-DD) and a kind");
            break;
        }
        const struct ynode *const *k;
        size_t nk = ytree_as_list(&kinds, &k);
        for (size_t j = 0; j < nk; j++) {
            if (k[j]->kind == YNODE_SCALAR && strcmp(k[j]->value, kind->value) == 0) {
                const struct ynode *half = ytree_get(item, "half_day");
                if (half && half->kind == YNODE_SCALAR && strcmp(half->value, "afternoon") == 0) {
                    c->afternoons[c->nafternoons++] = day;
                } else {
                    c->holidays[c->nholidays++] = day;
                }
                break;
            }
        }
    }
    ytree_free(doc);
    qsort(c->holidays, c->nholidays, sizeof(*c->holidays), cmp_i32);
    qsort(c->afternoons, c->nafternoons, sizeof(*c->afternoons), cmp_i32);
    return r;
}

static int load(struct mon_calendar *c, const char *path, const struct ynode *doc,
                struct barra_error *err)
{
    const struct ynode *zone = ytree_get(doc, "timezone"), *v;
    int r = load_zone(c, zone && zone->kind == YNODE_SCALAR ? zone->value : "Asia/Macau", path,
                      zone ? zone->line : 1, err);
    c->h = (struct hours){.start = 9 * 60, .end = 18 * 60, .days = 0x1F, .holidays = true};
    if (r == 0) {
        r = parse_scope(doc, &c->h, path, err);
    }
    if (r == 0 && (v = ytree_get(doc, "holidays")) != NULL) {
        const struct ynode *file = ytree_get(v, "file"), *kinds = ytree_get(v, "kinds");
        if (v->kind != YNODE_MAP || file == NULL || file->kind != YNODE_SCALAR || kinds == NULL) {
            return barra_error_set_at(err, -BARRA_EINVAL, path, v->line, v->column,
                                      "holidays: {file: TABLE.yaml, kinds: [public, mandatory]}");
        }
        char full[1024];
        const char *slash = strrchr(path, '/');
        (void)snprintf(full, sizeof(full), "%.*s%s", slash ? (int)(slash - path + 1) : 0, path,
                       file->value);
        r = load_holidays(c, file->value[0] == '/' ? file->value : full, kinds, err);
    }
    if (r == 0 && (v = ytree_get(doc, "departments")) != NULL) {
        if (v->kind != YNODE_MAP || v->n / 2 > MAX_DEPARTMENTS) {
            return barra_error_set_at(err, -BARRA_EINVAL, path, v->line, v->column,
                                      "departments: a mapping of name to {hours, days, "
                                      "holidays_off}");
        }
        c->dept = barra_calloc(v->n / 2 + 1, sizeof(*c->dept));
        if (c->dept == NULL) {
            return -BARRA_ENOMEM;
        }
        for (size_t i = 0; i + 1 < v->n && r == 0; i += 2) {
            struct department *d = &c->dept[c->ndept];
            d->h = c->h;
            if ((d->name = barra_strdup(v->items[i]->value)) == NULL) {
                return -BARRA_ENOMEM;
            }
            c->ndept++;
            if (v->items[i + 1]->kind != YNODE_MAP) {
                return barra_error_set_at(err, -BARRA_EINVAL, path, v->items[i + 1]->line,
                                          v->items[i + 1]->column,
                                          "a department's hours are a mapping");
            }
            r = parse_scope(v->items[i + 1], &d->h, path, err);
        }
    }
    return r;
}

int mon_calendar_load(const char *path, struct mon_calendar **ret, struct barra_error *err)
{
    *ret = NULL;
    struct ynode *doc = NULL;
    int r = ytree_load_file(path, &doc, err);
    if (r < 0) {
        return r;
    }
    struct mon_calendar *c = barra_calloc(1, sizeof(*c));
    if (c == NULL) {
        ytree_free(doc);
        return -BARRA_ENOMEM;
    }
    r = doc->kind == YNODE_MAP
            ? load(c, path, doc, err)
            : barra_error_set_at(err, -BARRA_EINVAL, path, 1, 1, "a calendar is a mapping");
    ytree_free(doc);
    if (r < 0) {
        mon_calendar_free(c);
        return r;
    }
    *ret = c;
    return 0;
}

int32_t mon_calendar_valid_until(const struct mon_calendar *c)
{
    return c->valid_until;
}

bool mon_calendar_off_hours(const struct mon_calendar *c, int64_t time_ms, const char *department)
{
    const struct hours *h = &c->h;
    for (size_t i = 0; department && i < c->ndept; i++) {
        if (strcmp(c->dept[i].name, department) == 0) {
            h = &c->dept[i].h;
        }
    }
    int64_t local = time_ms / 1000 + mon_calendar_utc_offset(c, time_ms);
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int minute = (int)((local - days * 86400) / 60);
    int weekday = (int)(((days % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday: 3 from Monday */
    if (!(h->days & (1u << weekday))) {
        return true;
    }
    if (h->holidays && (c->nholidays || c->nafternoons)) {
        int y, m, d;
        date_from_days(days, &y, &m, &d);
        int32_t key = date_pack(y, m, d);
        if (bsearch(&key, c->holidays, c->nholidays, sizeof(key), cmp_i32) ||
            (minute >= 13 * 60 &&
             bsearch(&key, c->afternoons, c->nafternoons, sizeof(key), cmp_i32))) {
            return true;
        }
    }
    return minute < h->start || minute >= h->end;
}
