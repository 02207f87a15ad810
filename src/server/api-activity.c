/* SPDX-License-Identifier: Apache-2.0 */
/* POST /v1/activity (one activity event, or an array of them) and GET /v1/alerts. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/jsonr.h"
#include "core/jsonw.h"
#include "monitor/monitor.h"
#include "server/activity.h"
#include "server/http.h"

#include "core/banned.h"

enum { MAX_BATCH = 10000, MAX_ALERTS_LISTED = 1000 };

/* Each event is checked and stored on its own: those accepted are kept whatever becomes of the
 * others, and the answer lists the refused ones with why. */
void api_activity(struct gw_req *rq)
{
    if (rq->gw->monitor == NULL) {
        gw_fail(rq, 404, "no_monitor", "the activity monitor is not configured (monitor: rules)");
        return;
    }
    struct jr_doc doc;
    struct jr_error jerr;
    const char *body = rq->body.data ? rq->body.data : "";
    if (jr_parse(body, rq->body.len, &doc, &jerr) < 0) {
        jr_free(&doc);
        gw_fail(rq, 400, "bad_json", "not JSON: %s (line %u, column %u)", jerr.text, jerr.line,
                jerr.column);
        return;
    }
    const struct jr_value *root = &doc.root;
    bool many = root->type == JR_ARRAY;
    size_t n = many ? root->n : 1;
    if (n == 0 || n > MAX_BATCH) {
        jr_free(&doc);
        gw_fail(rq, 400, "bad_batch", "send one event, or an array of 1 to 10000");
        return;
    }
    struct buf refused;
    buf_init(&refused, 1 << 20);
    size_t accepted = 0, nrefused = 0;
    int failure = 0;
    for (size_t i = 0; i < n && failure == 0; i++) {
        const struct jr_value *v = many ? &root->u.items[i] : root;
        char ref[48];
        (void)snprintf(ref, sizeof(ref), "event %zu", i);
        struct mon_event *ev = NULL;
        struct barra_error err = {0};
        int r = mon_event_from_jr(v, ref, NULL, "api", &ev, &err);
        if (r == -BARRA_ENOMEM) {
            failure = r;
        } else if (r < 0) {
            (void)buf_printf(&refused, "%s{\"index\":%zu,\"error\":", nrefused++ ? "," : "", i);
            (void)jsonw_string(&refused, err.message);
            (void)buf_append_char(&refused, '}');
        } else if ((r = gw_activity_store(rq->gw, ev, "api", &err)) < 0) {
            failure = r;
        } else {
            accepted++;
        }
        barra_free(ev);
    }
    jr_free(&doc);
    buf_clear(&rq->out);
    if (failure) {
        gw_fail(rq, 503, "store_unavailable",
                "%zu events were stored before the store failed; send the rest again", accepted);
    } else {
        (void)buf_printf(&rq->out, "{\"accepted\":%zu,\"refused\":[%s]}\n", accepted,
                         refused.data ? refused.data : "");
        gw_answer(rq, accepted ? 202 : 400);
    }
    buf_done(&refused);
}

struct listing {
    char **v;
    size_t n, cap;
};

static int keep(const char *key, const char *value, void *userdata)
{
    (void)key;
    struct listing *l = userdata;
    if (l->n == l->cap) { /* a ring of the latest */
        barra_free(l->v[0]);
        memmove(l->v, l->v + 1, (l->n - 1) * sizeof(*l->v));
        l->n--;
    }
    l->v[l->n] = barra_strdup(value);
    l->n += l->v[l->n] != NULL;
    return 0;
}

void api_alerts(struct gw_req *rq)
{
    const char *limit = gw_query(rq, "limit");
    char *end = NULL;
    unsigned long want = limit ? strtoul(limit, &end, 10) : 100;
    if ((limit && (end == limit || *end)) || want == 0 || want > MAX_ALERTS_LISTED) {
        gw_fail(rq, 400, "bad_query", "limit is a number from 1 to 1000");
        return;
    }
    struct listing l = {.v = barra_calloc(want, sizeof(char *)), .cap = want};
    struct barra_error err = {0};
    if (l.v == NULL || rq->gw->store->ops->kv_each(rq->gw->store, "alerts", keep, &l, &err) < 0) {
        barra_free(l.v);
        gw_fail(rq, 503, "store_unavailable", "the alerts cannot be read");
        return;
    }
    buf_clear(&rq->out);
    (void)buf_append_str(&rq->out, "{\"alerts\":[");
    for (size_t i = l.n; i-- > 0;) { /* the latest first */
        (void)buf_append_str(&rq->out, l.v[i]);
        (void)buf_append_str(&rq->out, i ? "," : "");
        barra_free(l.v[i]);
    }
    (void)buf_append_str(&rq->out, "]}\n");
    barra_free(l.v);
    gw_answer(rq, rq->out.err ? 500 : 200);
}
