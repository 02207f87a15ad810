/* SPDX-License-Identifier: Apache-2.0 */
/* Audit records of the gateway (record.h). */
#include "config.h"

#include "server/record.h"

#include <time.h>

#include "core/jsonw.h"

#include "core/banned.h"

void rec_field(struct buf *b, const char *key, const char *value)
{
    (void)buf_append_char(b, ',');
    (void)jsonw_key(b, key);
    (void)jsonw_string(b, value);
}

void rec_decision(struct buf *b, const char *via, const char *token, const barra_event_t *e,
                  const char *decision_json, const struct rec_outcome *o)
{
    (void)buf_append_str(b, "{\"schema\":\"barra.gateway/1\"");
    rec_field(b, "via", via);
    rec_field(b, "token", token);
    (void)buf_append_str(b, ",\"event\":{\"kind\":");
    (void)jsonw_string(b, barra_event_get(e, "kind"));
    static const char *const fields[] = {
        "id",
        "source",
        "conversation.type",
        "sender.department",
        "destination.platform",
        "destination.region",
        "direction",
        "file.type",
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *v = barra_event_get(e, fields[i]);
        if (v) {
            rec_field(b, fields[i], v);
        }
    }
    (void)buf_printf(b, ",\"subjects\":%zu}", barra_event_subject_count(e));
    (void)buf_append_str(b, ",\"decision\":");
    (void)buf_append_str(b, decision_json);
    (void)buf_printf(b, ",\"outcome\":{\"deliver\":%s", o->deliver ? "true" : "false");
    if (o->vault_id && o->vault_id[0]) {
        rec_field(b, "vault_id", o->vault_id);
    }
    if (o->link) {
        rec_field(b, "link", o->link);
    }
    if (o->route_error) {
        rec_field(b, "route_error", o->route_error);
    }
    (void)buf_append_str(b, "}}");
}

void rec_action(struct buf *b, const char *decision_id, const char *connector, const char *action,
                bool ok, const char *error)
{
    (void)buf_append_str(b, "{\"schema\":\"barra.action/1\"");
    rec_field(b, "decision_id", decision_id);
    rec_field(b, "connector", connector);
    rec_field(b, "action", action);
    (void)buf_printf(b, ",\"ok\":%s", ok ? "true" : "false");
    rec_field(b, "error", error);
    (void)buf_append_char(b, '}');
}

void rec_consent(struct buf *b, const struct consent_record *c)
{
    char t[32];
    struct tm tm;
    time_t rt = (time_t)c->recorded_at;
    (void)strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&rt, &tm));
    (void)buf_append_str(b, "{\"id\":");
    (void)jsonw_string(b, c->id);
    (void)buf_append_str(b, ",\"subject_ref\":");
    (void)jsonw_string(b, c->subject_ref);
    (void)buf_append_str(b, ",\"purpose\":");
    (void)jsonw_string(b, c->purpose);
    (void)buf_append_str(b, ",\"state\":");
    (void)jsonw_string(b, barra_consent_state_name(c->state));
    (void)buf_append_str(b, ",\"scope\":");
    (void)jsonw_string(b, c->scope);
    (void)buf_append_str(b, ",\"evidence\":");
    (void)jsonw_string(b, c->evidence);
    (void)buf_append_str(b, ",\"recorded_at\":");
    (void)jsonw_string(b, t);
    (void)buf_append_str(b, ",\"expires\":");
    if (c->expires) {
        rt = (time_t)c->expires;
        (void)strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&rt, &tm));
        (void)jsonw_string(b, t);
    } else {
        (void)buf_append_str(b, "null");
    }
    (void)buf_append_char(b, '}');
}
