/* SPDX-License-Identifier: Apache-2.0 */
/* DingTalk's server API over libcurl, with the access token cached (api.h). */
#include "config.h"

#include "connect/dingtalk/api.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"

#include "core/banned.h"

struct dt_api {
    char *base, *client_id, *client_secret, *ca_file;
    pthread_mutex_t lock; /* guards the token */
    char token[256];
    int64_t refresh_at; /* monotonic seconds after which the token is fetched again */
    uint64_t fetched;
};

static size_t keep_cb(char *p, size_t size, size_t n, void *ud)
{
    return buf_append(ud, p, size * n) == 0 ? size * n : 0;
}

/* One request: TLS verified, redirects refused, 15 s at most (DingTalk answers in well under). */
static int perform(const char *method, const char *url, const char *ca_file, const char *token,
                   const char *body, struct buf *answer, long *status, struct barra_error *reterr)
{
    CURL *c = curl_easy_init();
    if (c == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *h2 = h ? curl_slist_append(h, "Accept: application/json") : NULL;
    char auth[300];
    (void)snprintf(auth, sizeof(auth), "x-acs-dingtalk-access-token: %s", token ? token : "");
    struct curl_slist *h3 = h2 && token ? curl_slist_append(h2, auth) : h2;
    explicit_bzero(auth, sizeof(auth));
    if (h3 == NULL) {
        curl_slist_free_all(h2 ? h2 : h);
        curl_easy_cleanup(c);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    buf_clear(answer);
    (void)curl_easy_setopt(c, CURLOPT_URL, url);
    (void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
    (void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    (void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    (void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file) {
        (void)curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
    }
    (void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, h3);
    (void)curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        (void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_cb);
    (void)curl_easy_setopt(c, CURLOPT_WRITEDATA, answer);
    CURLcode rc = curl_easy_perform(c);
    *status = 0;
    (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h3);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        return barra_error_set(reterr, -BARRA_EIO, "DingTalk API %s %s: %s", method, url,
                               curl_easy_strerror(rc));
    }
    if (answer->err) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "DingTalk API: the answer is too large");
    }
    return 0;
}

void dt_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    (void)fprintf(stderr, "barra serve: dingtalk: %s\n", line);
}

int dt_http_post(const char *url, const char *ca_file, const char *body, struct buf *answer,
                 long *status, struct barra_error *reterr)
{
    return perform("POST", url, ca_file, NULL, body, answer, status, reterr);
}

int dt_http_get(const char *url, const char *ca_file, struct buf *answer, long *status,
                struct barra_error *reterr)
{
    return perform("GET", url, ca_file, NULL, NULL, answer, status, reterr);
}

int dt_api_new(const struct dt_api_config *c, struct dt_api **ret, struct barra_error *reterr)
{
    struct dt_api *a = barra_calloc(1, sizeof(*a));
    if (a == NULL || (a->base = barra_strdup(c->api_base)) == NULL ||
        (a->client_id = barra_strdup(c->client_id)) == NULL ||
        (a->client_secret = barra_strdup(c->client_secret ? c->client_secret : "")) == NULL ||
        (c->ca_file && (a->ca_file = barra_strdup(c->ca_file)) == NULL)) {
        dt_api_free(a);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&a->lock, NULL);
    *ret = a;
    return 0;
}

void dt_api_free(struct dt_api *a)
{
    if (a == NULL) {
        return;
    }
    if (a->client_secret) {
        explicit_bzero(a->client_secret, strlen(a->client_secret));
    }
    explicit_bzero(a->token, sizeof(a->token));
    barra_free(a->base);
    barra_free(a->client_id);
    barra_free(a->client_secret);
    barra_free(a->ca_file);
    pthread_mutex_destroy(&a->lock);
    barra_free(a);
}

/* Fetches a token into a->token; called with the lock held. */
static int fetch_token(struct dt_api *a, struct barra_error *reterr)
{
    json_t *req = json_pack("{s:s, s:s}", "appKey", a->client_id, "appSecret", a->client_secret);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (body == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    char url[512];
    (void)snprintf(url, sizeof(url), "%s/v1.0/oauth2/accessToken", a->base);
    struct buf answer;
    buf_init(&answer, 1 << 16);
    long status = 0;
    int r = perform("POST", url, a->ca_file, NULL, body, &answer, &status, reterr);
    explicit_bzero(body, strlen(body));
    free(body);
    json_t *j = r == 0 ? json_loadb(answer.data ? answer.data : "", answer.len, 0, NULL) : NULL;
    const char *tok = json_string_value(json_object_get(j, "accessToken"));
    json_int_t life = json_integer_value(json_object_get(j, "expireIn"));
    if (r == 0 && (status != 200 || tok == NULL || strlen(tok) >= sizeof(a->token) || life <= 0)) {
        const char *code = json_string_value(json_object_get(j, "code"));
        r = barra_error_set(reterr, -BARRA_EIO,
                            "DingTalk refused the access token request (HTTP %ld%s%s): check "
                            "client_id and client_secret_file",
                            status, code ? ", " : "", code ? code : "");
    }
    if (r == 0) {
        (void)snprintf(a->token, sizeof(a->token), "%s", tok);
        /* Fetched again a quarter of its life before it ends: five minutes at most, 1 s at least.
         */
        int64_t margin = life / 4 < 300 ? life / 4 : 300;
        margin = margin < 1 ? 1 : margin;
        a->refresh_at = clock_mono_ms() / 1000 + life - margin;
        a->fetched++;
    }
    json_decref(j);
    buf_done(&answer);
    return r;
}

int dt_api_call(struct dt_api *a, const char *method, const char *path, const char *body,
                struct buf *answer, long *status, struct barra_error *reterr)
{
    char url[2048], token[256];
    if ((size_t)snprintf(url, sizeof(url), "%s%s", a->base, path) >= sizeof(url)) {
        return barra_error_set(reterr, -BARRA_EINVAL, "DingTalk API: the path is too long");
    }
    for (int attempt = 0;; attempt++) {
        pthread_mutex_lock(&a->lock);
        int r = 0;
        if (a->token[0] == '\0' || clock_mono_ms() / 1000 >= a->refresh_at) {
            r = fetch_token(a, reterr);
        }
        memcpy(token, a->token, sizeof(token));
        pthread_mutex_unlock(&a->lock);
        if (r < 0) {
            return r;
        }
        r = perform(method, url, a->ca_file, token, body, answer, status, reterr);
        explicit_bzero(token, sizeof(token));
        if (r < 0 || *status != 401 || attempt > 0) {
            return r;
        }
        /* The token was revoked or expired early: fetch a new one and try once more. */
        pthread_mutex_lock(&a->lock);
        a->token[0] = '\0';
        pthread_mutex_unlock(&a->lock);
    }
}

uint64_t dt_api_tokens_fetched(struct dt_api *a)
{
    pthread_mutex_lock(&a->lock);
    uint64_t n = a->fetched;
    pthread_mutex_unlock(&a->lock);
    return n;
}
