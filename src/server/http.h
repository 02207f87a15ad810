/* SPDX-License-Identifier: Apache-2.0 */
/* One HTTP request as the endpoints see it, and what they may do with it: read the body, the query
 * and the form, answer, or hand a record to the audit log and answer once it is durable. */
#ifndef BARRA_SERVER_HTTP_H
#define BARRA_SERVER_HTTP_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "server/server.h"

struct gw_req;

typedef void (*gw_handler_fn)(struct gw_req *rq);

enum gw_body {
    GW_BODY_NONE,
    GW_BODY_JSON,
    GW_BODY_FORM, /* multipart/form-data */
};

struct gw_endpoint {
    const char *method;
    const char *path;
    bool prefix;     /* path is a prefix; the rest is rq->arg */
    uint32_t scopes; /* any one of them is enough; 0: no token needed */
    enum gw_body body;
    gw_handler_fn handler;
};

/* A multipart form: the one file (field "file") and the other fields. */
#define GW_FORM_MAX_FIELDS 16
struct gw_form {
    struct buf file;
    char *file_name;
    char *file_type;
    bool has_file;
    size_t nfields;
    char *keys[GW_FORM_MAX_FIELDS];
    struct buf values[GW_FORM_MAX_FIELDS];
};

struct gw_req {
    struct gw *gw;
    struct MHD_Connection *conn;
    const struct gw_endpoint *ep;
    const char *arg; /* for prefix endpoints: the rest of the path */
    struct gw_token *token;
    int64_t start_ns;
    struct buf body;
    bool too_big;
    bool counted;  /* in gw->in_flight */
    bool rejected; /* answered early: the body is discarded */
    struct MHD_PostProcessor *pp;
    struct gw_form *form;
    const char *form_error;
    /* Waiting for the audit log: astate goes 0 (queued) -> 1 (suspended) -> 2 (durable), guarded
     * by lock, because the log's writer may finish before the connection is suspended. */
    pthread_mutex_t lock;
    int astate;
    bool suspended; /* touched only by the connection's HTTP thread */
    int audit_result;
    uint64_t audit_index;
    gw_handler_fn finish;
    void *work;
    void (*work_free)(void *work);
    /* The answer. */
    unsigned status;
    struct buf out;
    const char *content_type;
    unsigned retry_after;
    bool answered;
};

/* Answers with a JSON body (out, as built) and status. */
void gw_answer(struct gw_req *rq, unsigned status);
/* Answers {"error": {"status": ..., "code": code, "message": ...}}. */
void gw_fail(struct gw_req *rq, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Answers 503 audit_unavailable when the log did not record what `what` names ("the consent was
 * not recorded"), with the log's reason; counted in the metrics. */
void gw_fail_audit(struct gw_req *rq, const char *what);
/* Appends record to the audit log; `finish` runs once it is durable (or failed:
 * rq->audit_result < 0), on an HTTP thread, and answers. `work` (freed with work_free after the
 * request) carries what finish needs. On an immediate failure the request is answered 503. */
void gw_audit(struct gw_req *rq, const char *type, const char *record, size_t len,
              gw_handler_fn finish, void *work, void (*work_free)(void *work));
/* A query-string argument, or NULL. */
const char *gw_query(struct gw_req *rq, const char *key);
/* A form field's value, or NULL. */
const char *gw_form_field(const struct gw_req *rq, const char *key);

int64_t gw_now_ns(void);

/* The endpoints (api-*.c). */
void api_healthz(struct gw_req *rq);
void api_metrics(struct gw_req *rq);
void api_page(struct gw_req *rq);
void api_activity(struct gw_req *rq);
void api_alerts(struct gw_req *rq);
void api_classify(struct gw_req *rq);
void api_events(struct gw_req *rq);
void api_files(struct gw_req *rq);
void api_connector(struct gw_req *rq);
void api_consent_add(struct gw_req *rq);
void api_consent_withdraw(struct gw_req *rq);
void api_consent_list(struct gw_req *rq);
void api_decision_get(struct gw_req *rq);
void api_vault_get(struct gw_req *rq);
void api_dingtalk_callback(struct gw_req *rq);

#endif
