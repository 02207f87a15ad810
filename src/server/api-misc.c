/* SPDX-License-Identifier: Apache-2.0 */
/* /healthz, /metrics and the upload page. */
#include "config.h"

#include <string.h>

#include "core/jsonw.h"
#include "server/activity.h"
#include "server/dingtalk.h"
#include "server/http.h"

#include "core/banned.h"

extern const char gw_upload_page[];
extern const size_t gw_upload_page_len;

void api_healthz(struct gw_req *rq)
{
    const char *failure = barra_audit_failure(rq->gw->audit);
    buf_clear(&rq->out);
    if (failure) {
        (void)buf_append_str(&rq->out, "{\"status\":\"failing\",\"audit\":");
        (void)jsonw_string(&rq->out, failure);
        (void)buf_append_str(&rq->out, "}\n");
        gw_answer(rq, 503);
        return;
    }
    (void)buf_append_str(&rq->out, "{\"status\":\"ok\"}\n");
    gw_answer(rq, 200);
}

void api_metrics(struct gw_req *rq)
{
    uint64_t size = 0;
    (void)barra_audit_head(rq->gw->audit, &size, NULL, NULL);
    buf_clear(&rq->out);
    (void)gw_metrics_format(&rq->gw->metrics, atomic_load(&rq->gw->in_flight), size, &rq->out);
    struct barra_audit_stats st;
    barra_audit_stats(rq->gw->audit, &st);
    (void)gw_metrics_audit(&st, &rq->out);
    gw_dingtalk_metrics(rq->gw->dingtalk, &rq->out);
    gw_monitor_metrics(rq->gw, &rq->out);
    rq->content_type = "text/plain; version=0.0.4";
    gw_answer(rq, rq->out.err ? 500 : 200);
}

void api_page(struct gw_req *rq)
{
    buf_clear(&rq->out);
    (void)buf_append(&rq->out, gw_upload_page, gw_upload_page_len);
    rq->content_type = "text/html; charset=utf-8";
    gw_answer(rq, 200);
}
