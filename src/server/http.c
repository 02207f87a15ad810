/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP layer on libmicrohttpd: an epoll thread pool; every /v1 request is authenticated by a
 * bearer token (SHA-256 compared in constant time with every configured hash), counted against
 * the token's rate and the server's in-flight limit, and its body bounded while it is read. A
 * request whose answer depends on the audit log is suspended until its entry is durable and
 * resumed by the log's writer. */
#include "config.h"

/* SHA256_Init and the rest: EVP_Digest would fetch the digest again for every request. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/jsonw.h"
#include "server/activity.h"
#include "server/dingtalk.h"
#include "server/http.h"

#include "core/banned.h"

#define FORM_FIELD_MAX (64u << 10)

static const struct gw_endpoint endpoints[] = {
    {"GET", "/healthz", false, 0, GW_BODY_NONE, api_healthz},
    {"GET", "/metrics", false, GW_SCOPE_METRICS, GW_BODY_NONE, api_metrics},
    {"GET", "/", false, 0, GW_BODY_NONE, api_page},
    {"POST", "/v1/classify", false, GW_SCOPE_CLASSIFY, GW_BODY_JSON, api_classify},
    {"POST", "/v1/events", false, GW_SCOPE_EVENTS, GW_BODY_JSON, api_events},
    {"POST", "/v1/files", false, GW_SCOPE_FILES, GW_BODY_FORM, api_files},
    {"POST", "/v1/consents", false, GW_SCOPE_CONSENTS_WRITE, GW_BODY_JSON, api_consent_add},
    {"POST", "/v1/consents/withdraw", false, GW_SCOPE_CONSENTS_WRITE, GW_BODY_JSON,
     api_consent_withdraw},
    {"GET", "/v1/consents", false, GW_SCOPE_CONSENTS_READ, GW_BODY_NONE, api_consent_list},
    {"GET", "/v1/decisions/", true, GW_SCOPE_DECISIONS, GW_BODY_NONE, api_decision_get},
    {"GET", "/v1/vault/", true, GW_SCOPE_VAULT, GW_BODY_NONE, api_vault_get},
    {"POST", "/v1/connectors/generic/", true, GW_SCOPE_CONNECTORS, GW_BODY_JSON, api_connector},
    {"POST", "/v1/activity", false, GW_SCOPE_ACTIVITY, GW_BODY_JSON, api_activity},
    {"GET", "/v1/alerts", false, GW_SCOPE_ALERTS, GW_BODY_NONE, api_alerts},
    /* Authenticated by DingTalk's signature, not a bearer token. */
    {"POST", "/v1/connectors/dingtalk/callback", false, 0, GW_BODY_JSON, api_dingtalk_callback},
};

int64_t gw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void gw_answer(struct gw_req *rq, unsigned status)
{
    rq->status = status;
    rq->answered = true;
}

void gw_fail(struct gw_req *rq, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    buf_clear(&rq->out);
    (void)buf_printf(&rq->out, "{\"error\":{\"status\":%u,\"code\":", status);
    (void)jsonw_string(&rq->out, code);
    (void)buf_append_str(&rq->out, ",\"message\":");
    (void)jsonw_string(&rq->out, msg);
    (void)buf_append_str(&rq->out, "}}\n");
    rq->content_type = "application/json";
    gw_answer(rq, status);
}

void gw_fail_audit(struct gw_req *rq, const char *what)
{
    const char *why = barra_audit_failure(rq->gw->audit);
    atomic_fetch_add(&rq->gw->metrics.rejects[GW_REJECT_AUDIT], 1);
    gw_fail(rq, 503, "audit_unavailable", "%s: %s", what, why ? why : "the log is closing");
}

const char *gw_query(struct gw_req *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *gw_form_field(const struct gw_req *rq, const char *key)
{
    for (size_t i = 0; rq->form && i < rq->form->nfields; i++) {
        if (strcmp(rq->form->keys[i], key) == 0) {
            return rq->form->values[i].data ? rq->form->values[i].data : "";
        }
    }
    return NULL;
}

/* ---- the audit log's answer ---- */

static void audit_done(void *userdata, int result, uint64_t index)
{
    struct gw_req *rq = userdata;
    struct MHD_Connection *conn = rq->conn;
    pthread_mutex_lock(&rq->lock);
    rq->audit_result = result;
    rq->audit_index = index;
    bool suspended = rq->astate == 1;
    rq->astate = 2;
    pthread_mutex_unlock(&rq->lock);
    /* Outside the lock, and without touching rq again: once resumed, the request may be answered
     * and freed by its HTTP thread at once. Until then a suspended connection cannot end. */
    if (suspended) {
        MHD_resume_connection(conn);
    }
}

void gw_audit(struct gw_req *rq, const char *type, const char *record, size_t len,
              gw_handler_fn finish, void *work, void (*work_free)(void *work))
{
    struct barra_error err;
    rq->finish = finish;
    rq->work = work;
    rq->work_free = work_free;
    rq->astate = 0;
    if (barra_audit_append_async(rq->gw->audit, type, record, len, NULL, 0, audit_done, rq, &err) <
        0) {
        atomic_fetch_add(&rq->gw->metrics.rejects[GW_REJECT_AUDIT], 1);
        rq->finish = NULL;
        gw_fail(rq, 503, "audit_unavailable",
                "nothing was done: its record could not be written (%s)", err.message);
        return;
    }
    pthread_mutex_lock(&rq->lock);
    if (rq->astate == 0) {
        MHD_suspend_connection(rq->conn);
        rq->astate = 1;
        rq->suspended = true;
    }
    pthread_mutex_unlock(&rq->lock);
}

/* ---- tokens and limits ---- */

static struct gw_token *find_token(struct gw *gw, const char *header)
{
    if (header == NULL || strncmp(header, "Bearer ", 7) != 0) {
        return NULL;
    }
    const char *tok = header + 7;
    uint8_t h[32];
    SHA256_CTX c;
    if (!SHA256_Init(&c) || !SHA256_Update(&c, tok, strlen(tok)) || !SHA256_Final(h, &c)) {
        return NULL;
    }
    /* Every hash is compared, whatever matched before: the time taken says nothing about which
     * token (or which prefix of one) is right. */
    struct gw_token *found = NULL;
    for (size_t i = 0; i < gw->config->ntokens; i++) {
        if (CRYPTO_memcmp(h, gw->tokens[i].config->sha256, 32) == 0) {
            found = &gw->tokens[i];
        }
    }
    return found;
}

/* Token bucket: returns 0, or the seconds to wait before the next request is allowed. */
static unsigned rate_check(struct gw *gw, struct gw_token *t)
{
    const struct gw_config *c = gw->config;
    int64_t now = gw_now_ns();
    pthread_mutex_lock(&t->lock);
    double add = (double)(now - t->refilled_ns) / 1e9 * c->rate;
    t->bucket = t->bucket + add > c->burst ? c->burst : t->bucket + add;
    t->refilled_ns = now;
    unsigned wait = 0;
    if (t->bucket >= 1.0) {
        t->bucket -= 1.0;
    } else {
        wait = (unsigned)((1.0 - t->bucket) / c->rate) + 1;
    }
    pthread_mutex_unlock(&t->lock);
    return wait;
}

/* ---- reading bodies ---- */

static enum MHD_Result form_iterator(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *filename, const char *content_type,
                                     const char *transfer_encoding, const char *data, uint64_t off,
                                     size_t size)
{
    (void)kind;
    (void)transfer_encoding;
    (void)off;
    struct gw_req *rq = cls;
    struct gw_form *f = rq->form;
    if (strcmp(key, "file") == 0) {
        if (!f->has_file) {
            f->has_file = true;
            f->file_name = barra_strdup(filename ? filename : "upload");
            f->file_type = content_type ? barra_strdup(content_type) : NULL;
            if (f->file_name == NULL) {
                rq->form_error = "out of memory";
                return MHD_NO;
            }
        }
        if (buf_append(&f->file, data, size) < 0) {
            rq->too_big = true;
            return MHD_NO;
        }
        return MHD_YES;
    }
    size_t i = 0;
    while (i < f->nfields && strcmp(f->keys[i], key) != 0) {
        i++;
    }
    if (i == f->nfields) {
        if (f->nfields == GW_FORM_MAX_FIELDS) {
            rq->form_error = "a form has at most 16 fields";
            return MHD_NO;
        }
        if ((f->keys[i] = barra_strdup(key)) == NULL) {
            rq->form_error = "out of memory";
            return MHD_NO;
        }
        buf_init(&f->values[i], FORM_FIELD_MAX);
        f->nfields++;
    }
    if (size > 0 && buf_append(&f->values[i], data, size) < 0) {
        rq->form_error = "a form field other than the file holds at most 64 KiB";
        return MHD_NO;
    }
    return MHD_YES;
}

static void form_free(struct gw_form *f)
{
    if (f == NULL) {
        return;
    }
    buf_done(&f->file);
    barra_free(f->file_name);
    barra_free(f->file_type);
    for (size_t i = 0; i < f->nfields; i++) {
        barra_free(f->keys[i]);
        buf_done(&f->values[i]);
    }
    barra_free(f);
}

/* ---- the request's life ---- */

static struct gw_req *req_new(struct gw *gw, struct MHD_Connection *conn)
{
    struct gw_req *rq = barra_calloc(1, sizeof(*rq));
    if (rq) {
        rq->gw = gw;
        rq->conn = conn;
        rq->start_ns = gw_now_ns();
        rq->content_type = "application/json";
        buf_init(&rq->out, 0);
        pthread_mutex_init(&rq->lock, NULL);
    }
    return rq;
}

static void req_free(struct gw_req *rq)
{
    if (rq->counted) {
        atomic_fetch_sub(&rq->gw->in_flight, 1);
    }
    if (rq->pp) {
        MHD_destroy_post_processor(rq->pp);
    }
    form_free(rq->form);
    if (rq->work_free) {
        rq->work_free(rq->work);
    }
    buf_done(&rq->body);
    buf_done(&rq->out);
    pthread_mutex_destroy(&rq->lock);
    barra_free(rq);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct gw_req *rq = *con_cls;
    if (rq) {
        gw_metrics_request(&rq->gw->metrics, rq->status, gw_now_ns() - rq->start_ns);
        req_free(rq);
        *con_cls = NULL;
    }
}

static enum MHD_Result send_answer(struct gw_req *rq)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        rq->out.len, rq->out.data ? rq->out.data : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        return MHD_NO;
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rq->content_type);
    (void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    (void)MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (rq->retry_after) {
        char v[16];
        (void)snprintf(v, sizeof(v), "%u", rq->retry_after);
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (rq->status == 401) {
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                      "Bearer realm=\"barra\"");
    }
    if (rq->status == 405 && rq->ep) {
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rq->ep->method);
    }
    enum MHD_Result r = MHD_queue_response(rq->conn, rq->status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Finds the endpoint; *ret_method_ok tells a wrong method from an unknown path. */
static const struct gw_endpoint *route(const char *method, const char *url, const char **ret_arg,
                                       bool *ret_method_ok)
{
    const struct gw_endpoint *path_match = NULL;
    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        const struct gw_endpoint *e = &endpoints[i];
        size_t n = strlen(e->path);
        bool match =
            e->prefix ? strncmp(url, e->path, n) == 0 && url[n] != '\0' : strcmp(url, e->path) == 0;
        if (!match) {
            continue;
        }
        if (strcmp(method, e->method) == 0) {
            *ret_arg = e->prefix ? url + n : NULL;
            *ret_method_ok = true;
            return e;
        }
        path_match = e;
    }
    *ret_method_ok = false;
    return path_match;
}

/* The bearer token, its scope and its rate. Returns false when rq has been answered. */
static bool admit_token(struct gw_req *rq)
{
    struct gw *gw = rq->gw;
    rq->token = find_token(
        gw, MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
    if (rq->token == NULL) {
        atomic_fetch_add(&gw->metrics.rejects[GW_REJECT_AUTH], 1);
        gw_fail(rq, 401, "unauthorized",
                "a valid API token is needed: send \"Authorization: Bearer TOKEN\"");
        return false;
    }
    if ((rq->token->config->scopes & rq->ep->scopes) == 0) {
        atomic_fetch_add(&gw->metrics.rejects[GW_REJECT_SCOPE], 1);
        gw_fail(rq, 403, "forbidden", "token \"%s\" lacks the scope this endpoint needs",
                rq->token->config->name);
        return false;
    }
    unsigned wait = rate_check(gw, rq->token);
    if (wait) {
        atomic_fetch_add(&gw->metrics.rejects[GW_REJECT_RATE], 1);
        rq->retry_after = wait;
        gw_fail(rq, 429, "rate_limited", "token \"%s\" is over its rate of %.0f requests a second",
                rq->token->config->name, gw->config->rate);
        return false;
    }
    return true;
}

/* Checks everything that can be refused before the body is read. Returns false when rq has been
 * answered. */
static bool admit(struct gw_req *rq, const char *url, const char *method)
{
    struct gw *gw = rq->gw;
    bool method_ok;
    rq->ep = route(method, url, &rq->arg, &method_ok);
    if (rq->ep == NULL) {
        gw_fail(rq, 404, "not_found", "no such endpoint: %s %s (docs/openapi.yaml lists them)",
                method, url);
        return false;
    }
    if (!method_ok) {
        gw_fail(rq, 405, "method_not_allowed", "%s takes %s, not %s", rq->ep->path, rq->ep->method,
                method);
        return false;
    }
    if (rq->ep->scopes == 0 && rq->ep->body == GW_BODY_NONE) {
        return true; /* health and the page: answered even at the in-flight limit */
    }
    if (rq->ep->scopes != 0 && !admit_token(rq)) {
        return false;
    }
    rq->counted = true;
    if (atomic_fetch_add(&gw->in_flight, 1) >= (int)gw->config->max_in_flight ||
        atomic_load(&gw->stopping)) {
        atomic_fetch_add(&gw->metrics.rejects[GW_REJECT_BUSY], 1);
        rq->retry_after = 1;
        gw_fail(rq, 503, "busy", "%s",
                atomic_load(&gw->stopping) ? "the gateway is shutting down"
                                           : "too many requests in flight; retry shortly");
        return false;
    }
    uint64_t max =
        rq->ep->body == GW_BODY_FORM ? gw->config->max_file + (64u << 10) : gw->config->max_body;
    const char *cl =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > max) {
        atomic_fetch_add(&gw->metrics.rejects[GW_REJECT_SIZE], 1);
        gw_fail(rq, 413, "too_large", "the body has %s bytes; this endpoint takes at most %llu", cl,
                (unsigned long long)max);
        return false;
    }
    const char *ct =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (rq->ep->body == GW_BODY_JSON && ct && strncmp(ct, "application/json", 16) != 0) {
        gw_fail(rq, 415, "unsupported_media_type", "send JSON (Content-Type: application/json)");
        return false;
    }
    if (rq->ep->body == GW_BODY_FORM) {
        if (ct == NULL || strncmp(ct, "multipart/form-data", 19) != 0) {
            gw_fail(rq, 415, "unsupported_media_type",
                    "send a multipart/form-data form with the file in the field \"file\"");
            return false;
        }
        rq->form = barra_calloc(1, sizeof(*rq->form));
        if (rq->form) {
            buf_init(&rq->form->file, gw->config->max_file);
            rq->pp = MHD_create_post_processor(rq->conn, 64u << 10, form_iterator, rq);
        }
        if (rq->pp == NULL) {
            gw_fail(rq, 400, "malformed", "the multipart form's boundary is missing or bad");
            return false;
        }
    }
    buf_init(&rq->body, max);
    return true;
}

/* Runs what waits on the audit log while its entry is already durable (it may have been before the
 * connection could be suspended); a finisher may append again, and then the request waits again.
 */
static void run_finishers(struct gw_req *rq)
{
    while (rq->finish && !rq->suspended) {
        gw_handler_fn finish = rq->finish;
        rq->finish = NULL;
        finish(rq);
    }
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    (void)version;
    struct gw_req *rq = *con_cls;
    if (rq == NULL) {
        if ((rq = req_new(cls, conn)) == NULL) {
            return MHD_NO;
        }
        *con_cls = rq;
        if (!admit(rq, url, method)) {
            rq->rejected = true;
            return send_answer(rq); /* early: libmicrohttpd discards any body */
        }
        return MHD_YES;
    }
    if (rq->rejected) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rq->too_big || rq->form_error) {
            return MHD_YES; /* discarding the rest; the answer comes at the end */
        }
        if (rq->pp) {
            if (MHD_post_process(rq->pp, upload_data, n) != MHD_YES && !rq->too_big &&
                rq->form_error == NULL) {
                rq->form_error = "the multipart form is malformed";
            }
        } else if (buf_append(&rq->body, upload_data, n) < 0) {
            rq->too_big = true;
        }
        return MHD_YES;
    }
    /* The body is complete (or the request was resumed after its audit entry). */
    if (rq->suspended) { /* resumed: the audit log has answered */
        rq->suspended = false;
        run_finishers(rq);
        return rq->suspended ? MHD_YES : send_answer(rq);
    }
    if (rq->answered) {
        return send_answer(rq);
    }
    if (rq->too_big) {
        atomic_fetch_add(&rq->gw->metrics.rejects[GW_REJECT_SIZE], 1);
        gw_fail(rq, 413, "too_large", "the body is over this endpoint's limit of %llu bytes",
                (unsigned long long)rq->body.max);
        return send_answer(rq);
    }
    if (rq->form_error) {
        atomic_fetch_add(&rq->gw->metrics.rejects[GW_REJECT_MALFORMED], 1);
        gw_fail(rq, 400, "malformed", "%s", rq->form_error);
        return send_answer(rq);
    }
    rq->ep->handler(rq);
    run_finishers(rq);
    if (rq->suspended) {
        return MHD_YES; /* until the audit entry is durable */
    }
    if (!rq->answered) {
        gw_fail(rq, 500, "internal", "the endpoint gave no answer");
    }
    return send_answer(rq);
}

static void log_mhd(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    (void)fputs("barra serve: http: ", stderr);
    (void)vfprintf(stderr, fmt, ap);
}

static char *read_pem(const char *path, struct barra_error *reterr)
{
    FILE *f = fopen(path, "re");
    struct buf b;
    buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        (void)buf_append(&b, chunk, n);
    }
    if (f == NULL || ferror(f) || b.err || b.len == 0) {
        if (f) {
            fclose(f);
        }
        buf_done(&b);
        (void)barra_error_set(reterr, -BARRA_ENOENT, "cannot read the PEM file %s", path);
        return NULL;
    }
    fclose(f);
    return b.data;
}

int gw_start(struct gw *gw, struct barra_error *reterr)
{
    const struct gw_config *c = gw->config;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(c->port)};
    if (inet_pton(AF_INET, c->listen_host, &sa.sin_addr) != 1) {
        return barra_error_set(reterr, -BARRA_EINVAL,
                               "listen: \"%s\" is not an IPv4 address (e.g. 127.0.0.1, 0.0.0.0)",
                               c->listen_host);
    }
    unsigned threads = c->threads;
    if (threads == 0) {
        /* One per processor this process may run on (taskset, cgroups), not per processor. */
        cpu_set_t cpus;
        int n = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
        threads = n > 0 ? (unsigned)n : 1;
    }
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    char *cert = NULL, *key = NULL;
    if (c->tls_cert) {
        flags |= MHD_USE_TLS;
        if ((cert = read_pem(c->tls_cert, reterr)) == NULL ||
            (key = read_pem(c->tls_key, reterr)) == NULL) {
            barra_free(cert);
            return reterr ? reterr->code : -BARRA_ENOENT;
        }
    }
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)log_mhd, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, &sa},
        /* One thread serves alone without a pool (a pool of one is refused with a warning). */
        {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_CONNECTION_TIMEOUT,
         threads > 1 ? threads : c->timeout_s, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, c->timeout_s, NULL},
        /* Each connection's memory pool is cleared per request: keep it small. Bodies pass
         * through it in pieces, so it bounds headers only. */
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 16u << 10, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, c->max_in_flight * 4 + 64, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)request_completed, NULL},
        {cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
        {MHD_OPTION_END, 0, NULL},
    };
    gw->mhd = MHD_start_daemon(flags, 0, NULL, NULL, access_handler, gw, MHD_OPTION_ARRAY, opts,
                               MHD_OPTION_END);
    bool tls = cert != NULL;
    if (key) {
        explicit_bzero(key, strlen(key));
    }
    barra_free(cert);
    barra_free(key);
    if (gw->mhd == NULL) {
        return barra_error_set(reterr, -BARRA_EIO,
                               "cannot listen on %s:%u (in use, or not allowed; TLS files "
                               "unreadable or mismatched?)",
                               c->listen_host, (unsigned)c->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(gw->mhd, MHD_DAEMON_INFO_BIND_PORT);
    gw->port = info ? info->port : c->port;
    if (gw->base_url[0] == '\0') {
        (void)snprintf(gw->base_url, sizeof(gw->base_url), "%s://%s:%u", tls ? "https" : "http",
                       c->listen_host, (unsigned)gw->port);
    }
    int r = gw_dingtalk_start(gw, reterr);
    return r < 0 ? r : gw_monitor_start(gw, reterr);
}
