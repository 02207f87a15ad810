/* SPDX-License-Identifier: Apache-2.0 */
/* The DingTalk connector's runtime: its threads, the stored event queue, alerts (dingtalk.h). */
#include "config.h"

#include "server/dingtalk.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "server/extract-upload.h"

#include "core/banned.h"

#define PENDING_NS "dingtalk.pending" /* eventId -> "vault-id type" */

struct dt_pending {
    struct dt_pending *next;
    char event_id[129];
    char type[65];
    char vault_id[33];
    int attempts;
    int64_t retry_at_ms; /* monotonic */
};

bool dt_sleep(struct gw_dingtalk *dt, int64_t ms)
{
    pthread_mutex_lock(&dt->lock);
    int64_t until = clock_mono_ms() + ms;
    while (!dt->stopping && clock_mono_ms() < until) {
        clock_cond_wait_ms(&dt->cond, &dt->lock, until - clock_mono_ms());
    }
    bool go_on = !dt->stopping;
    pthread_mutex_unlock(&dt->lock);
    return go_on;
}

int dt_call(struct gw_dingtalk *dt, const char *method, const char *path, json_t *body,
            json_t **ret)
{
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && s == NULL) {
        return -BARRA_ENOMEM;
    }
    struct buf answer;
    buf_init(&answer, 8 << 20);
    long status = 0;
    struct barra_error err;
    int r = dt_api_call(dt->api, method, path, s, &answer, &status, &err);
    free(s);
    *ret = NULL;
    if (r < 0) {
        dt_log("%s %s: %s", method, path, err.message);
        buf_done(&answer);
        return DT_RETRY;
    }
    json_t *j = json_loadb(answer.data ? answer.data : "", answer.len, 0, NULL);
    buf_done(&answer);
    if (status >= 500 || status == 429) {
        json_decref(j);
        dt_log("%s %s: DingTalk answered HTTP %ld; trying again later", method, path, status);
        return DT_RETRY;
    }
    if (status != 200 || j == NULL) {
        const char *code = json_string_value(json_object_get(j, "code"));
        dt_log("%s %s: DingTalk refused (HTTP %ld, %s)", method, path, status,
               code ? code : "no code");
        json_decref(j);
        return -BARRA_EIO;
    }
    *ret = j;
    return 0;
}

int dt_fetch_text(struct gw_dingtalk *dt, const char *url, struct buf *text)
{
    struct buf file;
    buf_init(&file, dt->gw->config->max_file);
    long status = 0;
    struct barra_error err;
    int r = dt_http_get(url, dt->c->ca_file, &file, &status, &err);
    if (r < 0 || status != 200) {
        dt_log("a file could not be downloaded: %s", r < 0 ? err.message : "DingTalk refused");
        r = -BARRA_EIO;
    } else {
        char why[300];
        (void)buf_append_char(text, '\n');
        r = gw_extract_text(file.data ? file.data : "", file.len, "attachment", text, why,
                            sizeof(why))
                ? 0
                : -BARRA_EFORMAT;
        if (r < 0) {
            dt_log("a file could not be read whole: %s", why);
        }
    }
    if (file.data) {
        explicit_bzero(file.data, file.len);
    }
    buf_done(&file);
    return r;
}

static void enqueue(struct gw_dingtalk *dt, const char *event_id, const char *type,
                    const char *vault_id)
{
    struct dt_pending *p = barra_calloc(1, sizeof(*p));
    if (p == NULL) {
        return; /* stays stored: processed after the next start */
    }
    (void)snprintf(p->event_id, sizeof(p->event_id), "%s", event_id);
    (void)snprintf(p->type, sizeof(p->type), "%s", type);
    (void)snprintf(p->vault_id, sizeof(p->vault_id), "%s", vault_id);
    pthread_mutex_lock(&dt->lock);
    struct dt_pending **tail = &dt->queue;
    while (*tail) {
        tail = &(*tail)->next;
    }
    *tail = p;
    pthread_cond_broadcast(&dt->cond);
    pthread_mutex_unlock(&dt->lock);
}

int gw_dingtalk_accept(struct gw_dingtalk *dt, const char *event_id, const char *type,
                       const char *json, size_t len, struct barra_error *reterr)
{
    struct gw *gw = dt->gw;
    struct store *s = gw->store;
    if (strlen(event_id) >= sizeof(((struct dt_pending *)0)->event_id) || strlen(type) > 64 ||
        strchr(type, ' ')) {
        return barra_error_set(reterr, -BARRA_EINVAL, "an event id or type is too long");
    }
    char vault_id[33], value[128];
    int r = vault_put(gw->vault, json, len, vault_id, reterr);
    if (r < 0) {
        return r;
    }
    (void)snprintf(value, sizeof(value), "%s %s", vault_id, type);
    /* Pending first: an event is never marked seen before its body is safe. */
    r = s->ops->kv_put(s, PENDING_NS, event_id, value, false, reterr);
    if (r == 0) {
        r = s->ops->inbound_add(s, "dingtalk", event_id, type, (int64_t)time(NULL), reterr);
        if (r == 0) {
            atomic_fetch_add(&dt->events_stored, 1);
            enqueue(dt, event_id, type, vault_id);
            return 0;
        }
        (void)s->ops->kv_delete(s, PENDING_NS, event_id, NULL);
    }
    (void)vault_remove(gw->vault, vault_id, NULL);
    return r == -BARRA_EEXIST ? 1 : r;
}

static int dispatch(struct gw_dingtalk *dt, const char *type, const char *json, size_t len)
{
    if (strcmp(type, "bpms_instance_change") == 0) {
        return dt_approval_event(dt, json, len);
    }
    if (strcmp(type, "org_file_send_check") == 0) {
        return dt_file_check_event(dt, json, len);
    }
    return DT_DONE; /* kept in the inbound record only; the monitor reads others later */
}

/* Takes the first event due, or waits for one (a new event wakes it); NULL when stopping. */
static struct dt_pending *next_due(struct gw_dingtalk *dt)
{
    pthread_mutex_lock(&dt->lock);
    while (!dt->stopping) {
        int64_t now = clock_mono_ms(), soonest = now + 60000;
        for (struct dt_pending **pp = &dt->queue; *pp; pp = &(*pp)->next) {
            if ((*pp)->retry_at_ms <= now) {
                struct dt_pending *p = *pp;
                *pp = p->next;
                pthread_mutex_unlock(&dt->lock);
                return p;
            }
            soonest = (*pp)->retry_at_ms < soonest ? (*pp)->retry_at_ms : soonest;
        }
        clock_cond_wait_ms(&dt->cond, &dt->lock, soonest - now);
    }
    pthread_mutex_unlock(&dt->lock);
    return NULL;
}

static void process(struct gw_dingtalk *dt, struct dt_pending *p)
{
    struct gw *gw = dt->gw;
    struct buf body;
    buf_init(&body, 0);
    struct barra_error err;
    int r = vault_get(gw->vault, p->vault_id, &body, &err);
    if (r == 0) {
        r = dispatch(dt, p->type, body.data ? body.data : "", body.len);
    } else {
        dt_log("event %s: its stored body cannot be read: %s", p->event_id, err.message);
    }
    if (body.data) {
        explicit_bzero(body.data, body.len);
    }
    buf_done(&body);
    if (r == DT_RETRY) {
        /* DingTalk did not answer: again in 2, 4, ... seconds, at most five minutes apart. */
        p->attempts++;
        int64_t wait = p->attempts < 9 ? (int64_t)1000 << p->attempts : 300000;
        p->retry_at_ms = clock_mono_ms() + wait;
        pthread_mutex_lock(&dt->lock);
        p->next = dt->queue;
        dt->queue = p;
        pthread_mutex_unlock(&dt->lock);
        return;
    }
    if (r < 0) {
        atomic_fetch_add(&dt->events_failed, 1);
        gw_dingtalk_notify(dt, "Barra: a DingTalk event could not be processed",
                           "Event %s (%s) could not be processed; the serve log says why.",
                           p->event_id, p->type);
    } else {
        atomic_fetch_add(&dt->events_processed, 1);
    }
    (void)gw->store->ops->kv_delete(gw->store, PENDING_NS, p->event_id, NULL);
    (void)vault_remove(gw->vault, p->vault_id, NULL);
    barra_free(p);
}

static void *worker(void *arg)
{
    struct gw_dingtalk *dt = arg;
    struct dt_pending *p;
    while ((p = next_due(dt)) != NULL) {
        process(dt, p);
    }
    return NULL;
}

static int requeue_stored(const char *key, const char *value, void *userdata)
{
    char vault_id[33], type[65];
    if (sscanf(value, "%32s %64s", vault_id, type) == 2) {
        enqueue(userdata, key, type, vault_id);
    }
    return 0;
}

void gw_dingtalk_notify(struct gw_dingtalk *dt, const char *title, const char *fmt, ...)
{
    if (dt == NULL || dt->alerts == NULL) {
        return;
    }
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    (void)dt_alerts_post(dt->alerts, title, text);
}

void gw_dingtalk_metrics(struct gw_dingtalk *dt, struct buf *b)
{
    if (dt == NULL) {
        return;
    }
    (void)buf_printf(b,
                     "# HELP barra_dingtalk_events_total DingTalk events by what became of them.\n"
                     "# TYPE barra_dingtalk_events_total counter\n"
                     "barra_dingtalk_events_total{state=\"stored\"} %llu\n"
                     "barra_dingtalk_events_total{state=\"processed\"} %llu\n"
                     "barra_dingtalk_events_total{state=\"failed\"} %llu\n"
                     "# TYPE barra_dingtalk_robot_messages_total counter\n"
                     "barra_dingtalk_robot_messages_total %llu\n"
                     "# TYPE barra_dingtalk_activity_events_total counter\n"
                     "barra_dingtalk_activity_events_total %llu\n"
                     "# TYPE barra_dingtalk_stream_connects_total counter\n"
                     "barra_dingtalk_stream_connects_total %llu\n"
                     "# TYPE barra_dingtalk_stream_up gauge\n"
                     "barra_dingtalk_stream_up %d\n",
                     (unsigned long long)atomic_load(&dt->events_stored),
                     (unsigned long long)atomic_load(&dt->events_processed),
                     (unsigned long long)atomic_load(&dt->events_failed),
                     (unsigned long long)atomic_load(&dt->robot_messages),
                     (unsigned long long)atomic_load(&dt->activity_events),
                     (unsigned long long)atomic_load(&dt->stream_connects),
                     atomic_load(&dt->stream_up) ? 1 : 0);
    if (dt->alerts) {
        struct dt_alerts_stats st;
        dt_alerts_stats(dt->alerts, &st);
        (void)buf_printf(b,
                         "# HELP barra_dingtalk_alerts Notices to the alert group's robot.\n"
                         "# TYPE barra_dingtalk_alerts gauge\n"
                         "barra_dingtalk_alerts{state=\"sent\"} %llu\n"
                         "barra_dingtalk_alerts{state=\"pending\"} %llu\n"
                         "barra_dingtalk_alerts{state=\"merged_overflow\"} %llu\n"
                         "barra_dingtalk_alerts{state=\"messages\"} %llu\n"
                         "barra_dingtalk_alerts{state=\"failed_attempts\"} %llu\n",
                         (unsigned long long)st.notices_sent, (unsigned long long)st.pending,
                         (unsigned long long)st.overflowed, (unsigned long long)st.messages_sent,
                         (unsigned long long)st.failures);
    }
}

static int start_thread(struct gw_dingtalk *dt, pthread_t *t, bool *has, void *(*fn)(void *),
                        const char *what, struct barra_error *reterr)
{
    int e = pthread_create(t, NULL, fn, dt);
    if (e != 0) {
        return barra_error_set(reterr, -BARRA_EIO, "cannot start the DingTalk %s: %s", what,
                               strerror(e));
    }
    *has = true;
    return 0;
}

int gw_dingtalk_start(struct gw *gw, struct barra_error *reterr)
{
    const struct gw_dingtalk_config *c = gw->config->dingtalk;
    if (c == NULL) {
        return 0;
    }
    struct gw_dingtalk *dt = gw->dingtalk = barra_calloc(1, sizeof(*dt));
    if (dt == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    dt->gw = gw;
    dt->c = c;
    pthread_mutex_init(&dt->lock, NULL);
    clock_cond_init(&dt->cond);
    int r = 0;
    if (c->client_secret) {
        struct dt_api_config ac = {.api_base = c->api_base,
                                   .client_id = c->client_id,
                                   .client_secret = c->client_secret,
                                   .ca_file = c->ca_file};
        r = dt_api_new(&ac, &dt->api, reterr);
    }
    if (r == 0 && c->alert_webhook) {
        r = dt_alerts_start(c->alert_webhook, c->alert_secret, c->ca_file, c->alerts_per_minute,
                            &dt->alerts, reterr);
    }
    if (r == 0) {
        r = gw->store->ops->kv_each(gw->store, PENDING_NS, requeue_stored, dt, reterr);
    }
    if (r == 0) {
        r = start_thread(dt, &dt->worker, &dt->has_worker, worker, "event worker", reterr);
    }
    if (r == 0 && c->audit_interval_s) {
        r = start_thread(dt, &dt->poller, &dt->has_poller, dt_file_audit_thread,
                         "file-audit poller", reterr);
    }
    if (r == 0 && c->stream) {
        r = start_thread(dt, &dt->stream, &dt->has_stream, dt_stream_thread, "Stream client",
                         reterr);
    }
    return r;
}

void gw_dingtalk_stop(struct gw *gw)
{
    struct gw_dingtalk *dt = gw->dingtalk;
    if (dt == NULL) {
        return;
    }
    pthread_mutex_lock(&dt->lock);
    dt->stopping = true;
    pthread_cond_broadcast(&dt->cond);
    pthread_mutex_unlock(&dt->lock);
    if (dt->has_stream) {
        (void)pthread_join(dt->stream, NULL);
    }
    if (dt->has_poller) {
        (void)pthread_join(dt->poller, NULL);
    }
    if (dt->has_worker) {
        (void)pthread_join(dt->worker, NULL);
    }
    while (dt->queue) {
        struct dt_pending *p = dt->queue;
        dt->queue = p->next;
        barra_free(p);
    }
    dt_alerts_stop(dt->alerts, 3000);
    dt_api_free(dt->api);
    pthread_cond_destroy(&dt->cond);
    pthread_mutex_destroy(&dt->lock);
    barra_free(dt);
    gw->dingtalk = NULL;
}
