/* SPDX-License-Identifier: Apache-2.0 */
/* Activity events: read from JSON (the gateway's POST /v1/activity, JSON Lines files) or from the
 * named fields of a CSV row or a log line, checked, and packed into one allocation. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/date.h"
#include "core/error.h"
#include "core/jsonr.h"
#include "core/jsonw.h"
#include "core/utf8.h"
#include "monitor/monitor.h"

#include "core/banned.h"

enum { MAX_FIELD = 4096 };

static const char *const field_names[MF_NFIELDS] = {
    [MF_ID] = "id",
    [MF_ACTOR] = "actor",
    [MF_ACTION] = "action",
    [MF_RESOURCE] = "resource",
    [MF_COUNT] = "count",
    [MF_BYTES] = "bytes",
    [MF_IP] = "ip",
    [MF_COUNTRY] = "country",
    [MF_CLIENT] = "client",
    [MF_DEVICE] = "device",
    [MF_DEPARTMENT] = "department",
    [MF_OUTCOME] = "outcome",
    [MF_TIER] = "tier",
    [MF_PLUGIN] = "plugin",
    [MF_DEST_HOST] = "destination.host",
    [MF_DEST_IP] = "destination.ip",
    [MF_DEST_REGION] = "destination.region",
    [MF_SOURCE] = "source",
};

const char *mon_field_name(enum mon_field f)
{
    return (unsigned)f < MF_NFIELDS ? field_names[f] : "?";
}

int mon_field_of(const char *name, enum mon_field *ret)
{
    for (int f = 0; f < MF_NFIELDS; f++) {
        if (strcmp(name, field_names[f]) == 0) {
            *ret = (enum mon_field)f;
            return 0;
        }
    }
    /* CSV headers cannot nest: destination_host reads as destination.host */
    if (strncmp(name, "destination_", 12) == 0) {
        char dotted[40];
        (void)snprintf(dotted, sizeof(dotted), "destination.%.24s", name + 12);
        for (int f = MF_DEST_HOST; f <= MF_DEST_REGION; f++) {
            if (strcmp(dotted, field_names[f]) == 0) {
                *ret = (enum mon_field)f;
                return 0;
            }
        }
    }
    return -BARRA_EINVAL;
}

static int fail(struct barra_error *err, const char *ref, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct barra_error *err, const char *ref, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return barra_error_set(err, -BARRA_EFORMAT, "%s: %s", ref, msg);
}

/* Reads a count or byte total: digits only, at most 18 of them. */
static bool parse_amount(const char *s, int64_t *ret)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18 || strspn(s, "0123456789") != n) {
        return false;
    }
    *ret = (int64_t)strtoll(s, NULL, 10);
    return true;
}

/* Checks the fields and packs them: time, actor and action are required. */
static int pack(const char *const *vals, const char *time, const char *ref, struct mon_event **ret,
                struct barra_error *err)
{
    struct mon_event tmp = {0};
    if (time == NULL) {
        return fail(err, ref, "%s", "an event needs a \"time\" (RFC 3339 with an offset)");
    }
    if (date_parse_rfc3339(time, &tmp.time_ms, &tmp.offset_min) < 0) {
        return fail(err, ref, "\"time\" is not an RFC 3339 time with an offset: \"%.40s\"", time);
    }
    if (vals[MF_ACTOR] == NULL || vals[MF_ACTOR][0] == '\0') {
        return fail(err, ref, "%s", "an event needs an \"actor\"");
    }
    if (vals[MF_ACTION] == NULL || vals[MF_ACTION][0] == '\0') {
        return fail(err, ref, "%s", "an event needs an \"action\"");
    }
    if (vals[MF_COUNT] && !parse_amount(vals[MF_COUNT], &tmp.count)) {
        return fail(err, ref, "\"count\" is not a whole number: \"%.40s\"", vals[MF_COUNT]);
    }
    if (vals[MF_BYTES] && !parse_amount(vals[MF_BYTES], &tmp.bytes)) {
        return fail(err, ref, "\"bytes\" is not a whole number: \"%.40s\"", vals[MF_BYTES]);
    }
    size_t total = sizeof(tmp);
    for (int f = 0; f < MF_NFIELDS; f++) {
        if (vals[f]) {
            size_t n = strlen(vals[f]);
            if (n > MAX_FIELD || !utf8_is_valid(vals[f], n)) {
                return fail(err, ref, "\"%s\" is longer than 4096 bytes or not UTF-8",
                            field_names[f]);
            }
            total += n + 1;
        }
    }
    struct mon_event *ev = barra_malloc(total);
    if (ev == NULL) {
        return -BARRA_ENOMEM;
    }
    *ev = tmp;
    char *p = (char *)(ev + 1);
    for (int f = 0; f < MF_NFIELDS; f++) {
        ev->f[f] = NULL;
        if (vals[f]) {
            size_t n = strlen(vals[f]) + 1;
            memcpy(p, vals[f], n);
            ev->f[f] = p;
            p += n;
        }
    }
    (void)snprintf(ev->ref, sizeof(ev->ref), "%s", ev->f[MF_ID] ? ev->f[MF_ID] : ref);
    *ret = ev;
    return 0;
}

int mon_event_from_fields(const char *const *names, const char *const *values, size_t n,
                          const char *ref, struct mon_event **ret, struct barra_error *err)
{
    const char *vals[MF_NFIELDS] = {0}, *time = NULL;
    for (size_t i = 0; i < n; i++) {
        enum mon_field f;
        if (values[i] == NULL || values[i][0] == '\0') {
            continue; /* an empty cell is an absent field */
        }
        if (strcmp(names[i], "time") == 0) {
            time = values[i];
        } else if (mon_field_of(names[i], &f) == 0) {
            vals[f] = values[i];
        }
    }
    return pack(vals, time, ref, ret, err);
}

/* A member's value as text: strings as they are, whole numbers in decimal (into num). */
static const char *text_of(const struct jr_value *v, char num[24])
{
    if (v->type == JR_STRING && strlen(v->u.s) == v->n) {
        return v->u.s;
    }
    if (v->type == JR_INTEGER && v->u.i >= 0) {
        (void)snprintf(num, 24, "%" PRId64, v->u.i);
        return num;
    }
    return NULL;
}

int mon_event_from_json(const char *text, size_t len, const char *ref, struct mon_event **ret,
                        struct barra_error *err)
{
    return mon_event_from_json_at(text, len, ref, NULL, NULL, ret, err);
}

int mon_event_from_jr(const struct jr_value *root, const char *ref, const char *default_time,
                      const char *default_source, struct mon_event **ret, struct barra_error *err)
{
    const char *vals[MF_NFIELDS] = {0}, *time = NULL;
    char nums[MF_NFIELDS][24];
    int r = 0;
    if (root->type != JR_OBJECT) {
        r = fail(err, ref, "%s", "an event is a JSON object");
    }
    for (uint32_t i = 0; r == 0 && i < root->n; i++) {
        const struct jr_member *m = &root->u.members[i];
        enum mon_field f;
        if (strcmp(m->key, "time") == 0) {
            time = m->value.type == JR_STRING ? m->value.u.s : "";
        } else if (strcmp(m->key, "destination") == 0 && m->value.type == JR_OBJECT) {
            for (uint32_t k = 0; r == 0 && k < m->value.n; k++) {
                const struct jr_member *d = &m->value.u.members[k];
                f = strcmp(d->key, "host") == 0     ? MF_DEST_HOST
                    : strcmp(d->key, "ip") == 0     ? MF_DEST_IP
                    : strcmp(d->key, "region") == 0 ? MF_DEST_REGION
                                                    : MF_NFIELDS;
                if (f == MF_NFIELDS) {
                    continue;
                }
                if ((vals[f] = text_of(&d->value, nums[f])) == NULL && d->value.type != JR_NULL) {
                    r = fail(err, ref, "\"destination.%s\" is not a string", d->key);
                }
            }
        } else if (mon_field_of(m->key, &f) == 0 && strchr(m->key, '.') == NULL) {
            if ((vals[f] = text_of(&m->value, nums[f])) == NULL && m->value.type != JR_NULL) {
                r = fail(err, ref,
                         f == MF_COUNT || f == MF_BYTES ? "\"%s\" is not a whole number"
                                                        : "\"%s\" is not a string",
                         m->key);
            }
        }
    }
    if (r == 0) {
        if (vals[MF_SOURCE] == NULL) {
            vals[MF_SOURCE] = default_source;
        }
        r = pack(vals, time ? time : default_time, ref, ret, err);
    }
    return r;
}

int mon_event_from_json_at(const char *text, size_t len, const char *ref, const char *default_time,
                           const char *default_source, struct mon_event **ret,
                           struct barra_error *err)
{
    struct jr_doc doc;
    struct jr_error jerr;
    int r = jr_parse(text, len, &doc, &jerr);
    if (r == -BARRA_ENOMEM) {
        jr_free(&doc);
        return r;
    }
    if (r < 0) {
        jr_free(&doc);
        return barra_error_set(err, -BARRA_EFORMAT, "%s: not JSON: %s (column %u)", ref, jerr.text,
                               jerr.column);
    }
    r = mon_event_from_jr(&doc.root, ref, default_time, default_source, ret, err);
    jr_free(&doc);
    return r;
}

void mon_event_json(const struct mon_event *ev, struct buf *b)
{
    (void)buf_append_str(b, "{\"time\":");
    mon_write_time(b, ev->time_ms, ev->offset_min);
    (void)buf_append_str(b, ",\"ref\":");
    (void)jsonw_string(b, ev->ref);
    bool dest = false;
    for (int f = 0; f < MF_NFIELDS; f++) {
        if (ev->f[f] == NULL) {
            continue;
        }
        if (f >= MF_DEST_HOST && f <= MF_DEST_REGION) {
            dest = true;
            continue;
        }
        (void)buf_append_char(b, ',');
        (void)jsonw_key(b, mon_field_name((enum mon_field)f));
        (void)jsonw_string(b, ev->f[f]);
    }
    if (dest) {
        (void)buf_append_str(b, ",\"destination\":{");
        bool comma = false;
        for (int f = MF_DEST_HOST; f <= MF_DEST_REGION; f++) {
            if (ev->f[f]) {
                (void)buf_printf(b, "%s\"%s\":", comma ? "," : "", field_names[f] + 12);
                (void)jsonw_string(b, ev->f[f]);
                comma = true;
            }
        }
        (void)buf_append_char(b, '}');
    }
    (void)buf_append_char(b, '}');
}
