/* SPDX-License-Identifier: Apache-2.0 */
/* Decisions outside the HTTP request path (verdict.h). */
#include "config.h"

#include "server/verdict.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "server/record.h"

#include "core/banned.h"

bool gw_classify(struct gw *gw, struct gw_worker *wk, const char *text, size_t len)
{
    barra_findings_clear(wk->findings);
    if (text == NULL || len == 0) {
        return true;
    }
    int r =
        barra_scanner_scan(wk->scanner, text, len, NULL, 0, barra_findings_collect, wk->findings);
    atomic_fetch_add_explicit(&gw->metrics.findings, barra_findings_count(wk->findings),
                              memory_order_relaxed);
    return r >= 0;
}

barra_policy_t *gw_decide(struct gw *gw, struct gw_worker *wk, const barra_event_t *e,
                          bool classification_failed)
{
    struct barra_consent_provider cp = gw_consents_provider(gw->consents);
    struct barra_decide_options opts = {
        .consent = &cp,
        .key = gw->key,
        .detector = gw->detector,
        .classification_failed = classification_failed,
    };
    barra_policy_t *p = barra_policy_slot_get(gw->policy);
    struct barra_error err;
    /* It fails only on bad arguments or memory, and then the decision says block. */
    (void)barra_decide_into(p, e, wk->findings, &opts, wk->decision, &err);
    return p;
}

static int append_to_buf(void *userdata, const char *data, size_t len)
{
    return buf_append(userdata, data, len);
}

char *gw_redacted_text(const barra_policy_t *p, const barra_decision_t *d, const char *text,
                       size_t len, const barra_findings_t *findings, const barra_key_t *key)
{
    size_t rl = 0;
    const char *red = barra_decision_redacted_text(d, &rl);
    if (red) {
        return barra_strndup(red, rl);
    }
    struct buf rb;
    buf_init(&rb, 0);
    char *out = NULL;
    if (text && barra_policy_redact(p, text, len, findings, key, append_to_buf, &rb) == 0 &&
        !rb.err) {
        out = barra_strndup(rb.data ? rb.data : "", rb.len);
    }
    if (rb.data) {
        explicit_bzero(rb.data, rb.len);
    }
    buf_done(&rb);
    return out;
}

static int append_sync(struct gw *gw, const char *type, const struct buf *rec, char id[24],
                       struct barra_error *reterr)
{
    if (rec->err) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    uint64_t index = 0;
    int r = barra_audit_append(gw->audit, type, rec->data, rec->len, NULL, 0, &index, reterr);
    if (r == 0 && id) {
        (void)snprintf(id, 24, "%llu", (unsigned long long)index);
    }
    return r;
}

int gw_verdict_decide(struct gw *gw, barra_event_t *e, const char *text, size_t len,
                      const char *lang, const char *via, struct gw_verdict *v,
                      struct barra_error *reterr)
{
    memset(v, 0, sizeof(*v));
    v->action = BARRA_ACTION_BLOCK;
    struct gw_worker *wk = gw_worker(gw);
    if (wk == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    bool failed =
        text == NULL || barra_event_set_text(e, text, len) < 0 || !gw_classify(gw, wk, text, len);
    barra_policy_t *p = gw_decide(gw, wk, e, failed);
    const barra_decision_t *d = wk->decision;
    enum barra_action action = barra_decision_action(d);
    bool deliver = action == BARRA_ACTION_ALLOW || action == BARRA_ACTION_TAG;
    if (action == BARRA_ACTION_REDACT) {
        v->text = gw_redacted_text(p, d, text, len, wk->findings, gw->key);
        deliver = v->text != NULL;
    }
    const char *tip = barra_decision_tip(d, lang);
    const char *purpose = barra_decision_consent_purpose(d);
    v->tip = tip ? barra_strdup(tip) : NULL;
    v->consent_purpose = purpose ? barra_strdup(purpose) : NULL;
    char *json = NULL;
    int r = barra_decision_format_json(d, BARRA_DECISION_NO_TIP, &json, reterr);
    barra_findings_clear(wk->findings);
    barra_policy_unref(p);
    if (r < 0 || (tip && v->tip == NULL) || (purpose && v->consent_purpose == NULL)) {
        barra_string_free(json);
        gw_verdict_done(v);
        return r < 0 ? r : barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    struct buf rec;
    buf_init(&rec, 0);
    struct rec_outcome o = {.deliver = deliver};
    rec_decision(&rec, via, NULL, e, json, &o);
    barra_string_free(json);
    r = append_sync(gw, "decision", &rec, v->decision_id, reterr);
    buf_done(&rec);
    if (r < 0) {
        gw_verdict_done(v);
        return r;
    }
    v->action = action;
    v->deliver = deliver;
    atomic_fetch_add_explicit(&gw->metrics.decisions[action], 1, memory_order_relaxed);
    return 0;
}

int gw_verdict_action(struct gw *gw, const struct gw_verdict *v, const char *connector,
                      const char *action, bool ok, const char *error)
{
    struct buf rec;
    buf_init(&rec, 0);
    rec_action(&rec, v->decision_id, connector, action, ok, error);
    struct barra_error err;
    int r = append_sync(gw, "action", &rec, NULL, &err);
    buf_done(&rec);
    return r;
}

void gw_verdict_done(struct gw_verdict *v)
{
    if (v->text) {
        explicit_bzero(v->text, strlen(v->text));
    }
    barra_free(v->text);
    barra_free(v->tip);
    barra_free(v->consent_purpose);
    v->text = v->tip = v->consent_purpose = NULL;
}
