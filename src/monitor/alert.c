/* SPDX-License-Identifier: Apache-2.0 */
/* One alert, four ways: Barra's own JSON (what `barra monitor run` prints and the gateway stores),
 * ECS and OCSF (Detection Finding, class 2004) JSON for SIEMs, and CEF for ArcSight-style
 * collectors. The alert names its rule, its group, the events behind it and the controls and
 * articles it relates to; it never carries the content of a message or file. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/date.h"
#include "core/jsonw.h"
#include "monitor/monitor.h"

#include "core/banned.h"

void mon_format_time(char *out, size_t cap, int64_t ms, int32_t offset_min)
{
    int64_t local = ms / 1000 + (int64_t)offset_min * 60;
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t secs = local - days * 86400;
    int y, m, d;
    date_from_days(days, &y, &m, &d);
    int32_t off = offset_min < 0 ? -offset_min : offset_min;
    (void)snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02d:%02d", y, m, d,
                   (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60),
                   (int)(((ms % 1000) + 1000) % 1000), offset_min < 0 ? '-' : '+', off / 60,
                   off % 60);
}

void mon_write_time(struct buf *b, int64_t ms, int32_t offset_min)
{
    char t[40];
    mon_format_time(t, sizeof(t), ms, offset_min);
    (void)buf_printf(b, "\"%s\"", t);
}

static void string_list(struct buf *b, const char *const *v, size_t n)
{
    (void)buf_append_char(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) {
            (void)buf_append_char(b, ',');
        }
        (void)jsonw_string(b, v[i]);
    }
    (void)buf_append_char(b, ']');
}

int mon_alert_json(const struct mon_alert *a, struct buf *out)
{
    (void)buf_append_str(out, "{\"rule\":");
    (void)jsonw_string(out, a->rule_id);
    (void)buf_append_str(out, ",\"title\":");
    (void)jsonw_string(out, a->title);
    (void)buf_append_str(out, ",\"severity\":");
    (void)jsonw_string(out, a->level);
    (void)buf_append_str(out, ",\"time\":");
    mon_write_time(out, a->time_ms, a->offset_min);
    if (a->actor) {
        (void)buf_append_str(out, ",\"actor\":");
        (void)jsonw_string(out, a->actor);
    }
    (void)buf_append_str(out, ",\"group\":");
    (void)jsonw_string(out, a->group);
    (void)buf_append_str(out, ",\"count\":");
    (void)jsonw_uint(out, a->count);
    if (a->detail) {
        (void)buf_append_str(out, ",\"detail\":");
        (void)jsonw_string(out, a->detail);
    }
    (void)buf_append_str(out, ",\"events\":");
    string_list(out, a->refs, a->nrefs);
    if (a->suppressed) {
        (void)buf_append_str(out, ",\"suppressed\":");
        (void)jsonw_uint(out, a->suppressed);
    }
    (void)buf_append_str(out, ",\"controls\":");
    string_list(out, a->controls, a->ncontrols);
    (void)buf_append_str(out, ",\"articles\":");
    string_list(out, a->articles, a->narticles);
    return buf_append_char(out, '}');
}

static int severity_number(const char *level)
{
    static const char *const names[] = {"informational", "low", "medium", "high", "critical"};
    for (int i = 0; i < 5; i++) {
        if (strcmp(level, names[i]) == 0) {
            return i;
        }
    }
    return 2;
}

int mon_alert_ecs(const struct mon_alert *a, struct buf *out)
{
    static const int ecs_severity[] = {21, 47, 73, 99, 99}; /* Elastic's risk-score bands */
    (void)buf_append_str(out, "{\"@timestamp\":");
    mon_write_time(out, a->time_ms, a->offset_min);
    (void)buf_append_str(out, ",\"event\":{\"kind\":\"alert\",\"module\":\"barra\",\"severity\":");
    (void)jsonw_uint(out, (uint64_t)ecs_severity[severity_number(a->level)]);
    (void)buf_append_str(out, ",\"count\":");
    (void)jsonw_uint(out, a->count);
    (void)buf_append_str(out, "},\"rule\":{\"id\":");
    (void)jsonw_string(out, a->rule_id);
    (void)buf_append_str(out, ",\"name\":");
    (void)jsonw_string(out, a->title);
    (void)buf_append_str(out, ",\"ruleset\":\"barra-monitor\",\"reference\":");
    string_list(out, a->articles, a->narticles);
    (void)buf_append_str(out, "}");
    if (a->actor) {
        (void)buf_append_str(out, ",\"user\":{\"name\":");
        (void)jsonw_string(out, a->actor);
        (void)buf_append_str(out, "},\"related\":{\"user\":[");
        (void)jsonw_string(out, a->actor);
        (void)buf_append_str(out, "]}");
    }
    (void)buf_append_str(out, ",\"labels\":{\"group\":");
    (void)jsonw_string(out, a->group);
    (void)buf_append_str(out, "},\"barra\":{\"events\":");
    string_list(out, a->refs, a->nrefs);
    (void)buf_append_str(out, ",\"controls\":");
    string_list(out, a->controls, a->ncontrols);
    return buf_append_str(out, "}}");
}

int mon_alert_ocsf(const struct mon_alert *a, struct buf *out)
{
    /* Detection Finding: category 2 (Findings), class 2004, activity 1 (Create). */
    static const int severity_id[] = {1, 2, 3, 4, 5};
    (void)buf_append_str(out, "{\"category_uid\":2,\"class_uid\":2004,\"activity_id\":1,"
                              "\"type_uid\":200401,\"severity_id\":");
    (void)jsonw_uint(out, (uint64_t)severity_id[severity_number(a->level)]);
    (void)buf_append_str(out, ",\"time\":");
    (void)buf_printf(out, "%" PRId64, a->time_ms);
    (void)buf_append_str(out, ",\"metadata\":{\"product\":{\"name\":\"Barra\",\"vendor_name\":"
                              "\"Barra\"},\"version\":\"1.3.0\"},\"finding_info\":{\"uid\":");
    (void)buf_printf(out, "\"%s@%" PRId64 "\"", a->rule_id, a->time_ms);
    (void)buf_append_str(out, ",\"title\":");
    (void)jsonw_string(out, a->title);
    (void)buf_append_str(out, ",\"analytic\":{\"uid\":");
    (void)jsonw_string(out, a->rule_id);
    (void)buf_append_str(out, ",\"name\":");
    (void)jsonw_string(out, a->title);
    (void)buf_append_str(out, ",\"type_id\":1},\"related_events_count\":");
    (void)jsonw_uint(out, a->count);
    (void)buf_append_str(out, "}");
    if (a->actor) {
        (void)buf_append_str(out, ",\"actor\":{\"user\":{\"name\":");
        (void)jsonw_string(out, a->actor);
        (void)buf_append_str(out, "}}");
    }
    (void)buf_append_str(out, ",\"unmapped\":{\"group\":");
    (void)jsonw_string(out, a->group);
    (void)buf_append_str(out, ",\"events\":");
    string_list(out, a->refs, a->nrefs);
    (void)buf_append_str(out, ",\"controls\":");
    string_list(out, a->controls, a->ncontrols);
    (void)buf_append_str(out, ",\"articles\":");
    string_list(out, a->articles, a->narticles);
    return buf_append_str(out, "}}");
}

/* CEF escapes: | and \ in the header; \, = and line breaks in extension values. */
static void cef_text(struct buf *b, const char *s, bool header)
{
    for (; *s; s++) {
        if (*s == '\\' || (header && *s == '|') || (!header && *s == '=')) {
            (void)buf_append_char(b, '\\');
            (void)buf_append_char(b, *s);
        } else if (*s == '\n' || *s == '\r') {
            (void)buf_append_str(b, header ? " " : (*s == '\n' ? "\\n" : "\\r"));
        } else {
            (void)buf_append_char(b, *s);
        }
    }
}

int mon_alert_cef(const struct mon_alert *a, struct buf *out)
{
    static const int cef_severity[] = {1, 3, 5, 8, 10};
    (void)buf_append_str(out, "CEF:0|Barra|Barra|1.0|");
    cef_text(out, a->rule_id, true);
    (void)buf_append_char(out, '|');
    cef_text(out, a->title, true);
    (void)buf_printf(out, "|%d|rt=%" PRId64, cef_severity[severity_number(a->level)], a->time_ms);
    if (a->actor) {
        (void)buf_append_str(out, " suser=");
        cef_text(out, a->actor, false);
    }
    (void)buf_printf(out, " cnt=%" PRIu64 " cs1Label=group cs1=", a->count);
    cef_text(out, a->group, false);
    (void)buf_append_str(out, " cs2Label=articles cs2=");
    for (size_t i = 0; i < a->narticles; i++) {
        if (i) {
            (void)buf_append_char(out, ',');
        }
        cef_text(out, a->articles[i], false);
    }
    (void)buf_append_str(out, " cs3Label=events cs3=");
    for (size_t i = 0; i < a->nrefs; i++) {
        if (i) {
            (void)buf_append_char(out, ',');
        }
        cef_text(out, a->refs[i], false);
    }
    return out->err;
}
