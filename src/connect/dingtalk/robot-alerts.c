/* SPDX-License-Identifier: Apache-2.0 */
/* The custom robot's sender thread (robot-alerts.h). */
#include "config.h"

#include "connect/dingtalk/robot-alerts.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "connect/dingtalk/api.h"
#include "connect/dingtalk/robot-sign.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/error.h"

#include "core/banned.h"

enum {
    QUEUE_MAX = 4096, /* notices kept; beyond, counted */
    DIGEST_MAX = 30,  /* notices merged into one message */
    TEXT_MAX = 16000, /* bytes of a message's text (DingTalk takes 20,000) */
    ERRCODE_THROTTLED = 410100,
};

struct notice {
    char *title, *text;
};

struct dt_alerts {
    char *webhook, *secret, *ca_file;
    uint32_t per_minute;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
    int64_t stop_by_ms; /* when stopping: give up at this monotonic time */
    struct notice queue[QUEUE_MAX];
    size_t head, count;
    int64_t sent_at[20]; /* monotonic ms of the last sends, a ring */
    size_t sent_next;
    struct dt_alerts_stats stats;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wait_until(struct dt_alerts *a, int64_t at_ms)
{
    int64_t left = at_ms - clock_mono_ms();
    if (left > 0) {
        clock_cond_wait_ms(&a->cond, &a->lock, left);
    }
}

/* The earliest time the next message may go: per_minute sends in any 60 s. */
static int64_t next_slot(const struct dt_alerts *a)
{
    size_t oldest = (a->sent_next + 20 - a->per_minute) % 20;
    int64_t t = a->sent_at[oldest];
    return t == 0 ? 0 : t + 60000;
}

/* The message body for the first n queued notices (and the overflow count), or NULL. */
static char *compose(const struct dt_alerts *a, size_t n)
{
    struct buf text;
    buf_init(&text, TEXT_MAX + 4096);
    char title[128];
    const struct notice *first = &a->queue[a->head];
    if (n == 1 && a->stats.overflowed == 0) {
        (void)snprintf(title, sizeof(title), "%s", first->title);
        (void)buf_printf(&text, "### %s\n\n%s", first->title, first->text);
    } else {
        (void)snprintf(title, sizeof(title), "Barra: %zu notices", n);
        (void)buf_printf(&text, "### Barra: %zu notices\n", n);
        for (size_t i = 0; i < n; i++) {
            const struct notice *x = &a->queue[(a->head + i) % QUEUE_MAX];
            (void)buf_printf(&text, "\n**%s**\n\n%s\n", x->title, x->text);
        }
    }
    if (a->stats.overflowed) {
        (void)buf_printf(&text,
                         "\n%llu more notices arrived while the queue was full; the audit log "
                         "and /metrics hold them.\n",
                         (unsigned long long)a->stats.overflowed);
    }
    json_t *j = text.err ? NULL
                         : json_pack("{s:s, s:{s:s, s:s#}}", "msgtype", "markdown", "markdown",
                                     "title", title, "text", text.data, text.len);
    buf_done(&text);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

/* How many queued notices fit into one message. */
static size_t digest_size(const struct dt_alerts *a)
{
    size_t n = 0, bytes = 0;
    while (n < a->count && n < DIGEST_MAX) {
        const struct notice *x = &a->queue[(a->head + n) % QUEUE_MAX];
        bytes += strlen(x->title) + strlen(x->text) + 16;
        if (n > 0 && bytes > TEXT_MAX) {
            break;
        }
        n++;
    }
    return n;
}

/* Posts body; returns DingTalk's errcode (0: taken), or -1 when no answer came. */
static long send_one(struct dt_alerts *a, const char *body)
{
    int64_t ts = wall_ms();
    char sign[136], url[2400];
    if (dt_robot_sign(a->secret, ts, sign) < 0) {
        return -1;
    }
    (void)snprintf(url, sizeof(url), "%s%ctimestamp=%lld&sign=%s", a->webhook,
                   strchr(a->webhook, '?') ? '&' : '?', (long long)ts, sign);
    struct buf answer;
    buf_init(&answer, 1 << 16);
    long status = 0, code = -1;
    struct barra_error err;
    if (dt_http_post(url, a->ca_file, body, &answer, &status, &err) < 0) {
        dt_log("alerts: the robot webhook did not answer: %s", err.message);
    } else {
        json_t *j = json_loadb(answer.data ? answer.data : "", answer.len, 0, NULL);
        json_t *ec = json_object_get(j, "errcode");
        code = status == 200 && json_is_integer(ec) ? (long)json_integer_value(ec) : -1;
        if (code != 0) {
            const char *msg = json_string_value(json_object_get(j, "errmsg"));
            dt_log("alerts: the robot refused a message (HTTP %ld, errcode %ld: %s)", status, code,
                   msg ? msg : "no errmsg");
        }
        json_decref(j);
    }
    explicit_bzero(url, sizeof(url));
    buf_done(&answer);
    return code;
}

static void drop_sent(struct dt_alerts *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct notice *x = &a->queue[a->head];
        barra_free(x->title);
        barra_free(x->text);
        x->title = x->text = NULL;
        a->head = (a->head + 1) % QUEUE_MAX;
        a->count--;
    }
}

static void *sender(void *arg)
{
    struct dt_alerts *a = arg;
    int64_t backoff = 0, retry_at = 0;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        int64_t now = clock_mono_ms();
        if (a->stopping && (a->count == 0 || now >= a->stop_by_ms)) {
            break;
        }
        int64_t at = next_slot(a);
        at = at > retry_at ? at : retry_at;
        if (a->count == 0 || now < at) {
            int64_t until = a->count == 0 ? now + 3600000 : at;
            wait_until(a, a->stopping && until > a->stop_by_ms ? a->stop_by_ms : until);
            continue;
        }
        size_t n = digest_size(a);
        char *body = compose(a, n);
        uint64_t overflowed = a->stats.overflowed;
        pthread_mutex_unlock(&a->lock);
        bool attempted = body != NULL;
        long code = attempted ? send_one(a, body) : -1;
        free(body);
        pthread_mutex_lock(&a->lock);
        now = clock_mono_ms();
        if (attempted) {
            a->sent_at[a->sent_next] = now; /* every attempt counts against DingTalk's limit */
            a->sent_next = (a->sent_next + 1) % 20;
        }
        if (code == 0) {
            drop_sent(a, n);
            a->stats.messages_sent++;
            a->stats.notices_sent += n + overflowed;
            a->stats.overflowed -= overflowed;
            backoff = 0;
            retry_at = 0;
        } else {
            /* Kept for later: after a throttle, DingTalk's ten minutes; otherwise 5 s doubling to
             * 5 min. */
            a->stats.failures++;
            backoff = code == ERRCODE_THROTTLED ? 600000
                      : backoff == 0            ? 5000
                      : backoff * 2 > 300000    ? 300000
                                                : backoff * 2;
            retry_at = now + backoff;
        }
    }
    if (a->count) {
        dt_log("alerts: stopping with %zu notices unsent", a->count);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

int dt_alerts_start(const char *webhook, const char *secret, const char *ca_file,
                    uint32_t per_minute, struct dt_alerts **ret, struct barra_error *reterr)
{
    struct dt_alerts *a = barra_calloc(1, sizeof(*a));
    if (a == NULL || (a->webhook = barra_strdup(webhook)) == NULL ||
        (a->secret = barra_strdup(secret)) == NULL ||
        (ca_file && (a->ca_file = barra_strdup(ca_file)) == NULL)) {
        if (a) {
            barra_free(a->webhook);
            barra_free(a->secret);
        }
        barra_free(a);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    a->per_minute = per_minute >= 1 && per_minute <= 20 ? per_minute : 20;
    pthread_mutex_init(&a->lock, NULL);
    clock_cond_init(&a->cond);
    int e = pthread_create(&a->thread, NULL, sender, a);
    if (e != 0) {
        pthread_cond_destroy(&a->cond);
        pthread_mutex_destroy(&a->lock);
        barra_free(a->webhook);
        barra_free(a->secret);
        barra_free(a->ca_file);
        barra_free(a);
        return barra_error_set(reterr, -BARRA_EIO, "cannot start the alert sender: %s",
                               strerror(e));
    }
    *ret = a;
    return 0;
}

int dt_alerts_post(struct dt_alerts *a, const char *title, const char *text)
{
    pthread_mutex_lock(&a->lock);
    int r = 0;
    if (a->count == QUEUE_MAX) {
        a->stats.overflowed++;
    } else {
        struct notice *x = &a->queue[(a->head + a->count) % QUEUE_MAX];
        x->title = barra_strndup(title, 100);
        x->text = barra_strndup(text, 4000);
        if (x->title == NULL || x->text == NULL) {
            barra_free(x->title);
            barra_free(x->text);
            x->title = x->text = NULL;
            a->stats.overflowed++;
            r = -BARRA_ENOMEM;
        } else {
            a->count++;
        }
    }
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
    return r;
}

void dt_alerts_stats(struct dt_alerts *a, struct dt_alerts_stats *ret)
{
    pthread_mutex_lock(&a->lock);
    *ret = a->stats;
    ret->pending = a->count;
    pthread_mutex_unlock(&a->lock);
}

void dt_alerts_stop(struct dt_alerts *a, int grace_ms)
{
    if (a == NULL) {
        return;
    }
    pthread_mutex_lock(&a->lock);
    a->stopping = true;
    a->stop_by_ms = clock_mono_ms() + grace_ms;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
    (void)pthread_join(a->thread, NULL);
    drop_sent(a, a->count);
    explicit_bzero(a->secret, strlen(a->secret));
    explicit_bzero(a->webhook, strlen(a->webhook));
    barra_free(a->webhook);
    barra_free(a->secret);
    barra_free(a->ca_file);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    barra_free(a);
}
