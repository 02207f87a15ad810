/* SPDX-License-Identifier: Apache-2.0 */
/* The inline path: classify, decide, carry out, record, answer. A request's answer leaves only
 * once its decision is durable in the audit log; content that is blocked or waits for consent goes
 * nowhere, and routed content is stored before the answer names where. */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "connect/webdav.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/jsonw.h"
#include "core/utf8.h"
#include "server/api-requests.h"
#include "server/extract-upload.h"
#include "server/http.h"
#include "server/record.h"
#include "server/verdict.h"

#include "core/banned.h"

struct content_work {
    barra_event_t *event;
    char *decision_json;
    enum barra_action action;
    bool deliver;
    char *text; /* what goes on instead: the redacted text or the link */
    char *link;
    char vault_id[33];
    char *route_error;
    char *tip; /* in the sender's language */
    char decision_id[24];
    bool replied; /* through a connector, whose reply was then recorded */
    char *reply_error;
    struct connector *connector;
    const char *lang;
};

static void work_free(void *p)
{
    struct content_work *w = p;
    if (w == NULL) {
        return;
    }
    barra_event_free(w->event);
    barra_string_free(w->decision_json);
    if (w->text) {
        explicit_bzero(w->text, strlen(w->text));
    }
    barra_free(w->text);
    barra_free(w->link);
    barra_free(w->route_error);
    barra_free(w->tip);
    barra_free(w->reply_error);
    barra_free(w);
}

/* The sender's language from ?lang= or Accept-Language; English when nothing matches. */
static const char *pick_lang(struct gw_req *rq)
{
    const char *q = gw_query(rq, "lang");
    const char *al =
        q ? q
          : MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
    if (al == NULL) {
        return "en";
    }
    if (strncmp(al, "zh-Hant", 7) == 0 || strncmp(al, "zh-TW", 5) == 0 ||
        strncmp(al, "zh-HK", 5) == 0 || strncmp(al, "zh-MO", 5) == 0) {
        return "zh-Hant";
    }
    if (strncmp(al, "zh", 2) == 0) {
        return "zh-Hans";
    }
    if (strncmp(al, "pt", 2) == 0) {
        return "pt";
    }
    return "en";
}

/* Takes routed content back out of the vault: its decision could not be recorded. */
static void unroute(struct gw *gw, struct content_work *w)
{
    if (w->vault_id[0]) {
        (void)gw->store->ops->vault_remove(gw->store, w->vault_id, NULL);
        (void)vault_remove(gw->vault, w->vault_id, NULL);
        w->vault_id[0] = '\0';
    }
}

/* The name's extension when it is short and plain (".xlsx"), else ".txt". */
static const char *safe_extension(const char *name)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const char *dot = name ? strrchr(name, '.') : NULL;
    if (dot && strlen(dot) >= 2 && strlen(dot) <= 10 && strspn(dot + 1, alnum) == strlen(dot + 1)) {
        return dot;
    }
    return ".txt";
}

/* Stores content for a route_local decision and makes the link to post instead. On failure the
 * content is not delivered (fail closed) and the record says why. */
static void route_content(struct gw *gw, struct content_work *w, const barra_decision_t *d,
                          const char *data, size_t len, const char *name)
{
    const char *route = barra_decision_route(d);
    const struct gw_route_config *rc = gw_config_route(gw->config, route);
    struct barra_error err;
    int r;
    if (rc == NULL || rc->kind == GW_ROUTE_VAULT) {
        r = vault_put(gw->vault, data, len, w->vault_id, &err);
        struct vault_item item = {
            .route = route ? route : "vault",
            .extension = safe_extension(name),
            .size = len,
            .created = (int64_t)time(NULL),
        };
        memcpy(item.id, w->vault_id, sizeof(item.id));
        if (r == 0 && (r = gw->store->ops->vault_add(gw->store, &item, &err)) < 0) {
            (void)vault_remove(gw->vault, w->vault_id, NULL);
        }
        if (r == 0) {
            size_t n = strlen(gw->base_url) + sizeof("/v1/vault/") + 32;
            if ((w->link = barra_malloc(n)) != NULL) {
                (void)snprintf(w->link, n, "%s/v1/vault/%s", gw->base_url, w->vault_id);
            }
            atomic_fetch_add(&gw->metrics.vault_items, 1);
        } else {
            w->vault_id[0] = '\0';
        }
    } else {
        char fname[80], id[33];
        /* The name on the share says nothing about the content: a random id and the extension. */
        if (vault_id_random(id) < 0) {
            r = barra_error_set(&err, -BARRA_EIO, "no random bytes");
        } else {
            (void)snprintf(fname, sizeof(fname), "barra-%s%s", id, safe_extension(name));
            r = webdav_put(rc, fname, data, len, &w->link, &err);
        }
    }
    if (r < 0 || w->link == NULL) {
        w->deliver = false;
        w->route_error = barra_strdup(r < 0 ? err.message : "out of memory");
        return;
    }
    w->deliver = true;
    w->text = barra_strdup(w->link);
}

static void finish_content(struct gw_req *rq);
static void answer_content(struct gw_req *rq, struct content_work *w);
static void finish_reply(struct gw_req *rq);

/* Decides about `e` (taken), whose content is data[0..len) and whose classifiable text is
 * text[0..tlen) (NULL when it could not be extracted), carries the decision out and records it.
 */
static void decide_and_record(struct gw_req *rq, barra_event_t *e, const char *data, size_t len,
                              const char *text, size_t tlen, const char *name, const char *via,
                              struct connector *conn)
{
    struct gw *gw = rq->gw;
    struct gw_worker *wk = gw_worker(gw);
    struct content_work *w = barra_calloc(1, sizeof(*w));
    if (wk == NULL || w == NULL) {
        barra_event_free(e);
        barra_free(w);
        gw_fail(rq, 503, "out_of_memory", "the gateway is out of memory; nothing was done");
        return;
    }
    w->event = e;
    w->connector = conn;
    w->lang = pick_lang(rq);
    bool failed = text == NULL || !gw_classify(gw, wk, text, tlen);
    barra_policy_t *p = gw_decide(gw, wk, e, failed);
    const barra_decision_t *d = wk->decision;
    w->action = barra_decision_action(d);
    switch (w->action) {
    case BARRA_ACTION_ALLOW:
    case BARRA_ACTION_TAG:
        w->deliver = true;
        break;
    case BARRA_ACTION_REDACT:
        w->text = gw_redacted_text(p, d, text, tlen, wk->findings, gw->key);
        w->deliver = w->text != NULL;
        break;
    case BARRA_ACTION_ROUTE_LOCAL:
        route_content(gw, w, d, data, len, name);
        break;
    case BARRA_ACTION_REQUIRE_CONSENT:
    case BARRA_ACTION_BLOCK:
        w->deliver = false;
        break;
    }
    const char *tip = barra_decision_tip(d, w->lang);
    if (tip && (w->tip = barra_strdup(tip)) == NULL) {
        w->deliver = false;
    }
    struct barra_error err;
    int r = barra_decision_format_json(d, BARRA_DECISION_NO_TIP, &w->decision_json, &err);
    barra_findings_clear(wk->findings);
    barra_policy_unref(p);
    if (r < 0) {
        work_free(w);
        gw_fail(rq, 500, "internal", "the decision could not be written: %s", err.message);
        return;
    }
    struct buf rec;
    buf_init(&rec, 0);
    struct rec_outcome o = {.deliver = w->deliver,
                            .vault_id = w->vault_id,
                            .link = w->link,
                            .route_error = w->route_error};
    rec_decision(&rec, via, rq->token ? rq->token->config->name : NULL, w->event, w->decision_json,
                 &o);
    if (rec.err) {
        buf_done(&rec);
        work_free(w);
        gw_fail(rq, 503, "out_of_memory", "the gateway is out of memory; nothing was done");
        return;
    }
    gw_audit(rq, "decision", rec.data, rec.len, finish_content, w, work_free);
    buf_done(&rec);
    if (rq->answered && rq->finish == NULL) { /* the log refused */
        unroute(gw, w);
    }
}

static void finish_content(struct gw_req *rq)
{
    struct content_work *w = rq->work;
    struct gw *gw = rq->gw;
    if (rq->audit_result < 0) {
        unroute(gw, w);
        gw_fail_audit(rq, "nothing was done: the decision could not be recorded");
        return;
    }
    atomic_fetch_add_explicit(&gw->metrics.decisions[w->action], 1, memory_order_relaxed);
    (void)snprintf(w->decision_id, sizeof(w->decision_id), "%llu",
                   (unsigned long long)rq->audit_index);
    if (w->connector) {
        struct barra_error err;
        struct connect_outcome o = {
            .action = CONNECT_REPLY,
            .event = w->event,
            .decision_id = w->decision_id,
            .decision_json = w->decision_json,
            .deliver = w->deliver,
            .text = w->text,
            .tip = w->tip,
        };
        int r = w->connector->ops->act(w->connector, &o, &err);
        if (r < 0 && (w->reply_error = barra_strdup(err.message)) == NULL) {
            w->deliver = false;
        }
        /* The reply is an action on the platform: it is recorded too, and answered after. */
        struct buf rec;
        buf_init(&rec, 8192);
        rec_action(&rec, w->decision_id, w->connector->name, "reply", r == 0, w->reply_error);
        w->replied = true;
        gw_audit(rq, "action", rec.data, rec.len, finish_reply, w, work_free);
        buf_done(&rec);
        return;
    }
    answer_content(rq, w);
}

static void finish_reply(struct gw_req *rq)
{
    if (rq->audit_result < 0) {
        char what[160];
        (void)snprintf(what, sizeof(what),
                       "decision %s is recorded and its reply was posted, but the reply is not",
                       ((struct content_work *)rq->work)->decision_id);
        gw_fail_audit(rq, what);
        return;
    }
    answer_content(rq, rq->work);
}

static void answer_content(struct gw_req *rq, struct content_work *w)
{
    struct buf *b = &rq->out;
    buf_clear(b);
    (void)buf_printf(b, "{\"decision_id\":\"%s\",\"action\":", w->decision_id);
    (void)jsonw_string(b, barra_action_name(w->action));
    (void)buf_printf(b, ",\"deliver\":%s", w->deliver ? "true" : "false");
    rec_field(b, "text", w->text);
    rec_field(b, "link", w->link);
    if (w->route_error) {
        rec_field(b, "route_error", w->route_error);
    }
    if (w->replied) {
        rec_field(b, "reply_error", w->reply_error);
    }
    rec_field(b, "lang", w->lang);
    rec_field(b, "tip", w->tip);
    (void)buf_append_str(b, ",\"decision\":");
    (void)buf_append_str(b, w->decision_json);
    (void)buf_append_str(b, "}\n");
    gw_answer(rq, b->err ? 500 : 200);
}

/* ---- the endpoints ---- */

struct finding_writer {
    struct buf *b;
    size_t n;
};

/* A finding as /v1/classify answers it: where and what, never the value (the caller has it). */
static int write_finding(const struct barra_finding *f, void *userdata)
{
    struct finding_writer *fw = userdata;
    struct buf *b = fw->b;
    (void)buf_append_str(b, fw->n++ ? ",{\"type\":" : "{\"type\":");
    (void)jsonw_string(b, f->type);
    if (f->subtype) {
        rec_field(b, "subtype", f->subtype);
    }
    rec_field(b, "category", f->category);
    rec_field(b, "jurisdiction", f->jurisdiction);
    (void)buf_printf(b, ",\"start\":%llu,\"end\":%llu,\"score\":", (unsigned long long)f->start,
                     (unsigned long long)f->end);
    (void)jsonw_score(b, f->score);
    (void)buf_printf(b, ",\"masked\":%s,\"minor\":%s}",
                     f->flags & BARRA_FINDING_MASKED ? "true" : "false",
                     f->flags & BARRA_FINDING_MINOR ? "true" : "false");
    return 0;
}

void api_classify(struct gw_req *rq)
{
    char *text = NULL;
    size_t len = 0;
    struct barra_error err;
    if (classify_request_parse(rq->body.data ? rq->body.data : "", rq->body.len, &text, &len,
                               &err) < 0) {
        atomic_fetch_add(&rq->gw->metrics.rejects[GW_REJECT_MALFORMED], 1);
        gw_fail(rq, 400, "malformed", "%s", err.message);
        return;
    }
    struct gw_worker *wk = gw_worker(rq->gw);
    struct finding_writer fw = {.b = &rq->out};
    buf_clear(&rq->out);
    (void)buf_append_str(&rq->out, "{\"findings\":[");
    int r = wk ? barra_scanner_scan(wk->scanner, text, len, NULL, 0, write_finding, &fw)
               : -BARRA_ENOMEM;
    explicit_bzero(text, len);
    barra_free(text);
    if (r < 0) {
        gw_fail(rq, 503, "classification_failed", "the text could not be classified");
        return;
    }
    atomic_fetch_add_explicit(&rq->gw->metrics.findings, fw.n, memory_order_relaxed);
    (void)buf_printf(&rq->out, "],\"count\":%zu}\n", fw.n);
    gw_answer(rq, rq->out.err ? 500 : 200);
}

void api_events(struct gw_req *rq)
{
    barra_event_t *e = NULL;
    struct barra_error err;
    if (barra_event_parse(rq->body.data ? rq->body.data : "", rq->body.len, &e, &err) < 0) {
        atomic_fetch_add(&rq->gw->metrics.rejects[GW_REJECT_MALFORMED], 1);
        gw_fail(rq, 400, "bad_event", "%s", err.message);
        return;
    }
    size_t tl = 0;
    const char *text = barra_event_text(e, &tl);
    /* A file event names a file the caller holds: only its extracted text (if any) is here. */
    decide_and_record(rq, e, text, tl, text ? text : "", text ? tl : 0, NULL, "api", NULL);
}

void api_connector(struct gw_req *rq)
{
    struct connector *c = NULL;
    for (size_t i = 0; i < rq->gw->nconnectors; i++) {
        if (strcmp(rq->gw->connectors[i]->name, rq->arg) == 0) {
            c = rq->gw->connectors[i];
        }
    }
    if (c == NULL) {
        gw_fail(rq, 404, "not_found", "no generic connector named \"%s\" is configured", rq->arg);
        return;
    }
    barra_event_t *e = NULL;
    struct barra_error err;
    if (c->ops->to_event(c, rq->body.data ? rq->body.data : "", rq->body.len, &e, &err) < 0) {
        atomic_fetch_add(&rq->gw->metrics.rejects[GW_REJECT_MALFORMED], 1);
        gw_fail(rq, 400, "bad_event", "%s", err.message);
        return;
    }
    size_t tl = 0;
    const char *text = barra_event_text(e, &tl);
    char via[80];
    (void)snprintf(via, sizeof(via), "connector:%s", c->name);
    decide_and_record(rq, e, text, tl, text ? text : "", text ? tl : 0, NULL, via, c);
}

/* Fills a file event from the form: an optional "event" field (a content event without text) and
 * the simple fields the upload page sends. */
static int event_from_form(struct gw_req *rq, const char *pasted, barra_event_t **ret,
                           struct barra_error *err)
{
    const struct gw_form *f = rq->form;
    const char *ev = gw_form_field(rq, "event");
    int r = ev ? barra_event_parse(ev, strlen(ev), ret, err)
               : barra_event_new(f->has_file ? "file" : "message", ret);
    if (r < 0) {
        return r;
    }
    static const char *const simple[] = {
        "source",    "destination.platform", "destination.region", "conversation.type",
        "sender.id", "sender.department",    "direction"};
    for (size_t i = 0; r == 0 && i < sizeof(simple) / sizeof(simple[0]); i++) {
        const char *v = gw_form_field(rq, simple[i]);
        if (v && *v) {
            r = barra_event_set(*ret, simple[i], v, err);
        }
    }
    if (r == 0 && barra_event_get(*ret, "source") == NULL) {
        r = barra_event_set(*ret, "source", "upload", err);
    }
    if (r == 0 && f->has_file) {
        r = barra_event_set(*ret, "file.name", f->file_name, err);
        if (r == 0) {
            r = barra_event_set_file_size(*ret, f->file.len);
        }
    } else if (r == 0) {
        r = barra_event_set_text(*ret, pasted, strlen(pasted));
        if (r < 0) {
            r = barra_error_set(err, r, "the text cannot be taken (it holds a NUL byte?)");
        }
    }
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    (void)strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    if (r == 0 && ev == NULL) {
        r = barra_event_set(*ret, "time", now, err);
    }
    if (r < 0) {
        *ret = barra_event_free(*ret);
    }
    return r;
}

void api_files(struct gw_req *rq)
{
    const struct gw_form *f = rq->form;
    const char *pasted = gw_form_field(rq, "text");
    if (!f->has_file && (pasted == NULL || *pasted == '\0')) {
        gw_fail(rq, 400, "no_content",
                "send the file in the form field \"file\" (or text in "
                "\"text\")");
        return;
    }
    barra_event_t *e = NULL;
    struct barra_error err;
    if (event_from_form(rq, pasted, &e, &err) < 0) {
        atomic_fetch_add(&rq->gw->metrics.rejects[GW_REJECT_MALFORMED], 1);
        gw_fail(rq, 400, "bad_event", "%s", err.message);
        return;
    }
    const char *data = f->has_file ? f->file.data : pasted;
    size_t len = f->has_file ? f->file.len : strlen(pasted);
    /* Plain text is classified as it is, other formats through the extraction worker. Content
     * that cannot be read whole is not waved through: the policy's exception action applies. */
    const char *name = f->has_file ? f->file_name : "message.txt";
    struct buf text;
    buf_init(&text, rq->gw->config->max_file * 4 + (1 << 20));
    char why[300];
    bool readable = data != NULL && gw_extract_text(data, len, name, &text, why, sizeof(why));
    decide_and_record(rq, e, data ? data : "", len, readable ? (text.data ? text.data : "") : NULL,
                      readable ? text.len : 0, name, "files", NULL);
    if (text.data) {
        explicit_bzero(text.data, text.len);
    }
    buf_done(&text);
}
