/* SPDX-License-Identifier: Apache-2.0 */
/* Alert delivery to syslog, a webhook and e-mail (alert-sinks.h), over libcurl: HTTP for the
 * webhook, SMTP for e-mail, and for syslog a bare TCP or TLS connection (CURLOPT_CONNECT_ONLY)
 * on which the octet-counted frames are written. */
#include "config.h"

#include "server/alert-sinks.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "monitor/monitor.h"

#include "core/banned.h"

enum { SINK_SYSLOG, SINK_WEBHOOK, SINK_EMAIL, NSINKS };
enum { MAX_QUEUED = 10000, MAX_BACKOFF_S = 300 };

struct item {
    struct item *next;
    int sink;
    char *payload; /* the formatted alert (syslog: the whole frame; e-mail: the whole message) */
    char id[96];
    int64_t due_ms;
    int attempts;
};

struct alert_sinks {
    const struct gw_alert_sink_config *cfg[NSINKS];
    char host[256]; /* for syslog headers */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool stop;
    int64_t deadline_ms; /* when stopping: give up after it */
    struct item *head;
    size_t queued;
    atomic_ullong sent[NSINKS], failed[NSINKS], dropped[NSINKS], seq;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- formats ---- */

static int format_alert(enum gw_alert_format f, const struct mon_alert *a, struct buf *b)
{
    switch (f) {
    case GW_ALERT_ECS:
        return mon_alert_ecs(a, b);
    case GW_ALERT_OCSF:
        return mon_alert_ocsf(a, b);
    case GW_ALERT_CEF:
        return mon_alert_cef(a, b);
    case GW_ALERT_JSON:
        break;
    }
    return mon_alert_json(a, b);
}

static int severity(const char *level)
{
    /* RFC 5424 severities: critical 2, error 3, warning 4, notice 5, informational 6 */
    return strcmp(level, "critical") == 0 ? 2
           : strcmp(level, "high") == 0   ? 3
           : strcmp(level, "medium") == 0 ? 4
           : strcmp(level, "low") == 0    ? 5
                                          : 6;
}

/* "LEN <PRI>1 TIMESTAMP HOST barra - alert - MSG": facility 13 (log audit). */
static void syslog_frame(const struct alert_sinks *s, const struct mon_alert *a, struct buf *out)
{
    struct buf msg;
    buf_init(&msg, 1 << 20);
    (void)buf_printf(&msg, "<%d>1 ", 13 * 8 + severity(a->level));
    char when[40];
    mon_format_time(when, sizeof(when), a->time_ms, 0);
    (void)buf_append_str(&msg, when);
    (void)buf_printf(&msg, " %s barra - alert - ", s->host);
    (void)format_alert(s->cfg[SINK_SYSLOG]->format, a, &msg);
    if (!msg.err) {
        (void)buf_printf(out, "%zu ", msg.len);
        (void)buf_append(out, msg.data, msg.len);
    }
    buf_done(&msg);
}

/* An RFC 5322 message; the subject names the rule, not the person or the file. */
static void email_message(const struct alert_sinks *s, const struct mon_alert *a, const char *id,
                          struct buf *out)
{
    const struct gw_alert_sink_config *c = s->cfg[SINK_EMAIL];
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    (void)strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&now, &tm));
    (void)buf_printf(out, "Date: %s\r\nFrom: %s\r\nTo: ", date, c->from);
    for (size_t i = 0; i < c->nto; i++) {
        (void)buf_printf(out, "%s%s", i ? ", " : "", c->to[i]);
    }
    (void)buf_printf(out,
                     "\r\nSubject: Barra alert: %s (%s)\r\nMessage-ID: <%s@%s>\r\n"
                     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 8bit\r\n\r\n",
                     a->title, a->level, id, s->host);
    (void)buf_printf(out, "Rule: %s (%s)\r\nGroup: %s\r\nCount: %" PRIu64 "\r\n", a->rule_id,
                     a->title, a->group, a->count);
    if (a->detail) {
        (void)buf_printf(out, "Detail: %s\r\n", a->detail);
    }
    char when[40];
    mon_format_time(when, sizeof(when), a->time_ms, a->offset_min);
    (void)buf_printf(out, "Time: %s\r\nArticles:", when);
    for (size_t i = 0; i < a->narticles; i++) {
        (void)buf_printf(out, " %s", a->articles[i]);
    }
    (void)buf_append_str(
        out, "\r\n\r\nThe alert, with the references of the events behind it, is in GET "
             "/v1/alerts and in the audit log.\r\n");
}

/* ---- queue ---- */

static void enqueue(struct alert_sinks *s, int sink, char *payload, const char *id)
{
    struct item *it = barra_calloc(1, sizeof(*it));
    if (it == NULL) {
        barra_free(payload);
        atomic_fetch_add(&s->dropped[sink], 1);
        return;
    }
    it->sink = sink;
    it->payload = payload;
    (void)snprintf(it->id, sizeof(it->id), "%s", id);
    pthread_mutex_lock(&s->lock);
    if (s->queued >= MAX_QUEUED) {
        pthread_mutex_unlock(&s->lock);
        barra_free(payload);
        barra_free(it);
        atomic_fetch_add(&s->dropped[sink], 1);
        return;
    }
    struct item **pp = &s->head;
    while (*pp) {
        pp = &(*pp)->next;
    }
    *pp = it;
    s->queued++;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

void alert_sinks_post(struct alert_sinks *s, const struct mon_alert *a)
{
    if (s == NULL) {
        return;
    }
    char id[96];
    (void)snprintf(id, sizeof(id), "%s-%" PRId64 "-%llu", a->rule_id, a->time_ms,
                   (unsigned long long)atomic_fetch_add(&s->seq, 1));
    for (int k = 0; k < NSINKS; k++) {
        if (s->cfg[k] == NULL) {
            continue;
        }
        struct buf b;
        buf_init(&b, 1 << 20);
        if (k == SINK_SYSLOG) {
            syslog_frame(s, a, &b);
        } else if (k == SINK_WEBHOOK) {
            (void)format_alert(s->cfg[k]->format, a, &b);
        } else {
            email_message(s, a, id, &b);
        }
        char *payload = b.err ? NULL : barra_strndup(b.data ? b.data : "", b.len);
        buf_done(&b);
        if (payload == NULL) {
            atomic_fetch_add(&s->dropped[k], 1);
            continue;
        }
        enqueue(s, k, payload, id);
    }
}

/* ---- sending ---- */

static void tls_options(CURL *c, const struct gw_alert_sink_config *k)
{
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (k->ca_file) {
        curl_easy_setopt(c, CURLOPT_CAINFO, k->ca_file);
    }
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}

static bool send_syslog(const struct gw_alert_sink_config *k, const char *frame)
{
    /* tls://host:port is an https URL for the TLS handshake; tcp://host:port an http one */
    char url[512];
    bool tls = strncmp(k->url, "tls://", 6) == 0;
    (void)snprintf(url, sizeof(url), "%s://%s", tls ? "https" : "http", k->url + 6);
    CURL *c = curl_easy_init();
    if (c == NULL) {
        return false;
    }
    tls_options(c, k);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    bool ok = curl_easy_perform(c) == CURLE_OK;
    size_t len = strlen(frame), off = 0;
    for (int spins = 0; ok && off < len && spins < 1000; spins++) {
        size_t n = 0;
        CURLcode rc = curl_easy_send(c, frame + off, len - off, &n);
        if (rc == CURLE_AGAIN) {
            usleep(10000);
            continue;
        }
        ok = rc == CURLE_OK;
        off += n;
    }
    curl_easy_cleanup(c);
    return ok && off == len;
}

static size_t ignore_body(char *p, size_t size, size_t n, void *ud)
{
    (void)p, (void)ud;
    return size * n;
}

/* Standard Webhooks: v1,base64(HMAC-SHA256(key, "id.timestamp.body")); a "whsec_" secret is the
 * Base64 of the key. */
static bool send_webhook(const struct gw_alert_sink_config *k, const char *id, const char *body)
{
    uint8_t key[256];
    int klen;
    if (strncmp(k->secret, "whsec_", 6) == 0) {
        klen =
            EVP_DecodeBlock(key, (const unsigned char *)k->secret + 6, (int)strlen(k->secret + 6));
        size_t slen = strlen(k->secret + 6);
        klen -= slen >= 1 && k->secret[6 + slen - 1] == '=' ? 1 : 0;
        klen -= slen >= 2 && k->secret[6 + slen - 2] == '=' ? 1 : 0;
    } else {
        klen = (int)strlen(k->secret) < (int)sizeof(key) ? (int)strlen(k->secret) : 0;
        memcpy(key, k->secret, (size_t)klen);
    }
    if (klen <= 0) {
        return false;
    }
    char stamp[32], signed_text_head[160];
    (void)snprintf(stamp, sizeof(stamp), "%lld", (long long)time(NULL));
    (void)snprintf(signed_text_head, sizeof(signed_text_head), "%s.%s.", id, stamp);
    uint8_t mac[32];
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t out = 0;
    bool ok =
        ctx && EVP_MAC_init(ctx, key, (size_t)klen, params) == 1 &&
        EVP_MAC_update(ctx, (const uint8_t *)signed_text_head, strlen(signed_text_head)) == 1 &&
        EVP_MAC_update(ctx, (const uint8_t *)body, strlen(body)) == 1 &&
        EVP_MAC_final(ctx, mac, &out, sizeof(mac)) == 1 && out == 32;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    explicit_bzero(key, sizeof(key));
    if (!ok) {
        return false;
    }
    char b64[48], h_id[160], h_ts[64], h_sig[96];
    (void)EVP_EncodeBlock((unsigned char *)b64, mac, 32);
    (void)snprintf(h_id, sizeof(h_id), "webhook-id: %s", id);
    (void)snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %s", stamp);
    (void)snprintf(h_sig, sizeof(h_sig), "webhook-signature: v1,%s", b64);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, h_id);
    h = curl_slist_append(h, h_ts);
    h = curl_slist_append(h, h_sig);
    long status = 0;
    if (c && h) {
        tls_options(c, k);
        curl_easy_setopt(c, CURLOPT_URL, k->url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ignore_body);
        if (curl_easy_perform(c) == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        }
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status >= 200 && status < 300;
}

struct reader {
    const char *p;
    size_t left;
};

static size_t read_message(char *dst, size_t size, size_t n, void *ud)
{
    struct reader *r = ud;
    size_t k = size * n < r->left ? size * n : r->left;
    memcpy(dst, r->p, k);
    r->p += k;
    r->left -= k;
    return k;
}

static bool send_email(const struct gw_alert_sink_config *k, const char *message)
{
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = NULL;
    for (size_t i = 0; i < k->nto; i++) {
        rcpt = curl_slist_append(rcpt, k->to[i]);
    }
    struct reader r = {message, strlen(message)};
    bool ok = false;
    if (c && rcpt) {
        tls_options(c, k);
        curl_easy_setopt(c, CURLOPT_URL, k->url);
        if (strncmp(k->url, "smtp://", 7) == 0 && strncmp(k->url + 7, "127.0.0.1", 9) != 0 &&
            strncmp(k->url + 7, "localhost", 9) != 0) {
            curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL); /* STARTTLS */
        }
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, k->from);
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
        if (k->username) {
            curl_easy_setopt(c, CURLOPT_USERNAME, k->username);
            curl_easy_setopt(c, CURLOPT_PASSWORD, k->password ? k->password : "");
        }
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
        curl_easy_setopt(c, CURLOPT_READDATA, &r);
        ok = curl_easy_perform(c) == CURLE_OK;
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return ok;
}

static bool deliver(struct alert_sinks *s, const struct item *it)
{
    const struct gw_alert_sink_config *k = s->cfg[it->sink];
    switch (it->sink) {
    case SINK_SYSLOG:
        return send_syslog(k, it->payload);
    case SINK_WEBHOOK:
        return send_webhook(k, it->id, it->payload);
    default:
        return send_email(k, it->payload);
    }
}

/* The first item that is due, or how long until one is. */
static struct item *take_due(struct alert_sinks *s, int64_t now, int64_t *wait_ms)
{
    *wait_ms = 1000;
    for (struct item **pp = &s->head; *pp; pp = &(*pp)->next) {
        if ((*pp)->due_ms <= now) {
            struct item *it = *pp;
            *pp = it->next;
            s->queued--;
            return it;
        }
        if ((*pp)->due_ms - now < *wait_ms) {
            *wait_ms = (*pp)->due_ms - now;
        }
    }
    return NULL;
}

static void *sender(void *arg)
{
    struct alert_sinks *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        int64_t now = wall_ms(), wait = 0;
        if (s->stop && (s->head == NULL || now >= s->deadline_ms)) {
            break;
        }
        struct item *it = take_due(s, now, &wait);
        if (it == NULL) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + wait;
            ts.tv_sec = (time_t)(at / 1000);
            ts.tv_nsec = (long)(at % 1000) * 1000000;
            (void)pthread_cond_timedwait(&s->cond, &s->lock, &ts);
            continue;
        }
        pthread_mutex_unlock(&s->lock);
        bool ok = deliver(s, it);
        pthread_mutex_lock(&s->lock);
        if (ok) {
            atomic_fetch_add(&s->sent[it->sink], 1);
            barra_free(it->payload);
            barra_free(it);
            continue;
        }
        atomic_fetch_add(&s->failed[it->sink], 1);
        int64_t backoff = 1000ll << (it->attempts < 9 ? it->attempts : 9);
        it->attempts++;
        it->due_ms = wall_ms() + (backoff > MAX_BACKOFF_S * 1000 ? MAX_BACKOFF_S * 1000 : backoff);
        it->next = s->head; /* back in the queue; order among retries does not matter */
        s->head = it;
        s->queued++;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int alert_sinks_start(const struct gw_monitor_config *c, struct alert_sinks **ret,
                      struct barra_error *reterr)
{
    *ret = NULL;
    if (c == NULL || (!c->alert_syslog && !c->alert_webhook && !c->alert_email)) {
        return 0;
    }
    struct alert_sinks *s = barra_calloc(1, sizeof(*s));
    if (s == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    s->cfg[SINK_SYSLOG] = c->alert_syslog;
    s->cfg[SINK_WEBHOOK] = c->alert_webhook;
    s->cfg[SINK_EMAIL] = c->alert_email;
    if (gethostname(s->host, sizeof(s->host) - 1) != 0 || s->host[0] == '\0') {
        (void)snprintf(s->host, sizeof(s->host), "barra");
    }
    s->host[strcspn(s->host, " \t")] = '\0';
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->thread, NULL, sender, s) != 0) {
        barra_free(s);
        return barra_error_set(reterr, -BARRA_ENOMEM, "cannot start the alert sender");
    }
    *ret = s;
    return 0;
}

void alert_sinks_stop(struct alert_sinks *s, int grace_ms)
{
    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    s->deadline_ms = wall_ms() + grace_ms;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    if (s->queued) {
        fprintf(stderr, "barra serve: %zu alerts were not delivered before stopping\n", s->queued);
    }
    while (s->head) {
        struct item *it = s->head;
        s->head = it->next;
        barra_free(it->payload);
        barra_free(it);
    }
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    barra_free(s);
}

void alert_sinks_metrics(struct alert_sinks *s, struct buf *b)
{
    static const char *const names[] = {"syslog", "webhook", "email"};
    if (s == NULL) {
        return;
    }
    (void)buf_append_str(b, "# TYPE barra_monitor_alerts_delivered_total counter\n");
    for (int k = 0; k < NSINKS; k++) {
        if (s->cfg[k]) {
            (void)buf_printf(b,
                             "barra_monitor_alerts_delivered_total{to=\"%s\",state=\"sent\"} %llu\n"
                             "barra_monitor_alerts_delivered_total{to=\"%s\",state=\"failed\"} "
                             "%llu\n"
                             "barra_monitor_alerts_delivered_total{to=\"%s\",state=\"dropped\"} "
                             "%llu\n",
                             names[k], (unsigned long long)atomic_load(&s->sent[k]), names[k],
                             (unsigned long long)atomic_load(&s->failed[k]), names[k],
                             (unsigned long long)atomic_load(&s->dropped[k]));
        }
    }
}
