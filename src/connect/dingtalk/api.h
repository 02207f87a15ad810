/* SPDX-License-Identifier: Apache-2.0 */
/* DingTalk's server API as Barra calls it: JSON over HTTPS (certificates always verified), with
 * the app's access token fetched from /v1.0/oauth2/accessToken, cached, and fetched again before
 * it expires (or at once when DingTalk says it is no longer valid). The base URLs are
 * configurable, so tests point them at the simulator. Thread-safe. */
#ifndef BARRA_CONNECT_DINGTALK_API_H
#define BARRA_CONNECT_DINGTALK_API_H

#include <stdint.h>

#include <barra/error.h>

#include "core/buf.h"

struct dt_api;

struct dt_api_config {
    const char *api_base;      /* "https://api.dingtalk.com" */
    const char *client_id;     /* appKey */
    const char *client_secret; /* appSecret */
    const char *ca_file;       /* NULL: the system's CAs */
};

/* Copies what it needs from c. */
int dt_api_new(const struct dt_api_config *c, struct dt_api **ret, struct barra_error *reterr);
void dt_api_free(struct dt_api *a);

/* Calls `method` `path` (below api_base, with its query) with the access token and an optional
 * JSON body; the answer's body goes to `answer` and its HTTP status to *status. Fails (negative)
 * only when no answer came; a 4xx/5xx answer is the caller's to read. */
int dt_api_call(struct dt_api *a, const char *method, const char *path, const char *body,
                struct buf *answer, long *status, struct barra_error *reterr);

/* POSTs a JSON body to a full URL that needs no token (robot webhooks), with the same TLS rules. */
int dt_http_post(const char *url, const char *ca_file, const char *body, struct buf *answer,
                 long *status, struct barra_error *reterr);

/* GETs a full URL (a file DingTalk hands out for download) into `answer`, whose bound limits the
 * size, with the same TLS rules. */
int dt_http_get(const char *url, const char *ca_file, struct buf *answer, long *status,
                struct barra_error *reterr);

/* A line of the serve log ("barra serve: dingtalk: ..."). Never given matched values. */
void dt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* How many access tokens were fetched so far (for /metrics and tests). */
uint64_t dt_api_tokens_fetched(struct dt_api *a);

#endif
