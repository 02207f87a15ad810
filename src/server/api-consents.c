/* SPDX-License-Identifier: Apache-2.0 */
/* /v1/consents: the registry the policy consults. A consent names its subject only by keyed
 * reference; recording one is answered once it is in the store and in the audit log. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/jsonw.h"
#include "server/api-requests.h"
#include "server/http.h"
#include "server/record.h"

#include "core/banned.h"

static void consent_work_free(void *p)
{
    consent_request_free(p);
}

static void finish_consent(struct gw_req *rq)
{
    struct consent_request *w = rq->work;
    struct gw *gw = rq->gw;
    if (rq->audit_result < 0) {
        gw_fail_audit(rq, "the consent was not recorded");
        return;
    }
    struct barra_error err;
    if (gw->store->ops->consent_add(gw->store, &w->rec, &err) < 0) {
        gw_fail(rq, 503, "store_unavailable", "the consent was not recorded: %s", err.message);
        return;
    }
    if (gw_consents_apply(gw->consents, &w->rec) < 0) {
        gw_fail(rq, 503, "out_of_memory", "the consent is stored but not yet in effect: restart");
        return;
    }
    buf_clear(&rq->out);
    (void)buf_printf(&rq->out,
                     "{\"audit_index\":%llu,\"consent\":", (unsigned long long)rq->audit_index);
    rec_consent(&rq->out, &w->rec);
    (void)buf_append_str(&rq->out, "}\n");
    gw_answer(rq, rq->out.err ? 500 : 201);
}

static void record_consent(struct gw_req *rq, bool withdraw)
{
    struct consent_request *w = NULL;
    struct barra_error err;
    if (consent_request_parse(rq->body.data ? rq->body.data : "", rq->body.len, withdraw,
                              rq->gw->key, (int64_t)time(NULL), &w, &err) < 0) {
        atomic_fetch_add(&rq->gw->metrics.rejects[GW_REJECT_MALFORMED], 1);
        gw_fail(rq, err.code == -BARRA_ENOMEM ? 503 : 400, "bad_consent", "%s", err.message);
        return;
    }
    struct buf rec;
    buf_init(&rec, 0);
    (void)buf_append_str(&rec, "{\"schema\":\"barra.consent/1\",\"token\":");
    (void)jsonw_string(&rec, rq->token->config->name);
    (void)buf_append_str(&rec, ",\"consent\":");
    rec_consent(&rec, &w->rec);
    (void)buf_append_char(&rec, '}');
    if (rec.err) {
        buf_done(&rec);
        consent_request_free(w);
        gw_fail(rq, 503, "out_of_memory", "the consent was not recorded: out of memory");
        return;
    }
    gw_audit(rq, "consent", rec.data, rec.len, finish_consent, w, consent_work_free);
    buf_done(&rec);
}

void api_consent_add(struct gw_req *rq)
{
    record_consent(rq, false);
}

void api_consent_withdraw(struct gw_req *rq)
{
    record_consent(rq, true);
}

struct list_state {
    struct buf *b;
    size_t n;
};

static int list_one(const struct consent_record *c, void *userdata)
{
    struct list_state *ls = userdata;
    if (ls->n++) {
        (void)buf_append_char(ls->b, ',');
    }
    rec_consent(ls->b, c);
    return ls->b->err;
}

void api_consent_list(struct gw_req *rq)
{
    const char *subject = gw_query(rq, "subject"), *ref = gw_query(rq, "subject_ref");
    const char *purpose = gw_query(rq, "purpose");
    char own_ref[65];
    if ((subject == NULL) == (ref == NULL)) {
        gw_fail(rq, 400, "bad_query",
                "name the data subject: ?subject=IDENTIFIER or ?subject_ref=REFERENCE");
        return;
    }
    if (subject) {
        (void)barra_key_subject_ref(rq->gw->key, subject, own_ref);
        ref = own_ref;
    }
    struct buf *b = &rq->out;
    buf_clear(b);
    (void)buf_append_str(b, "{\"subject_ref\":");
    (void)jsonw_string(b, ref);
    (void)buf_append_str(b, ",\"records\":[");
    struct list_state ls = {.b = b};
    struct barra_error err;
    int r = rq->gw->store->ops->consent_each(rq->gw->store, ref, purpose, list_one, &ls, &err);
    if (r < 0) {
        gw_fail(rq, 503, "store_unavailable", "%s", err.message);
        return;
    }
    (void)buf_append_str(b, "]");
    if (purpose) {
        (void)buf_append_str(b, ",\"current\":");
        (void)jsonw_string(b, barra_consent_state_name(gw_consents_state(
                                  rq->gw->consents, ref, purpose, (int64_t)time(NULL))));
    }
    (void)buf_append_str(b, "}\n");
    gw_answer(rq, b->err ? 500 : 200);
}
