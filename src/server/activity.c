/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's activity monitor: storing events, feeding the engine, alerts out (activity.h). */
#include "config.h"

#include "server/activity.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "monitor/monitor.h"
#include "server/alert-sinks.h"
#include "server/dingtalk.h"
#include "server/server.h"
#include "server/syslog-in.h"

#include "core/banned.h"

#define ACTIVITY_NS "activity"
#define ALERTS_NS   "alerts"
enum { SAVE_EVERY_S = 10, MAX_FED = 200000 };

struct gw_monitor {
    struct gw *gw;
    struct mon_calendar *cal;
    struct mon_rules *rules;
    struct mon_geo *geo;
    struct mon_engine *engine;
    pthread_mutex_t lock; /* the engine and the fed keys */
    pthread_t thread;
    bool started;
    atomic_bool stop;
    char **fed; /* keys fed since the last save: deleted once the state that counts them is */
    size_t nfed, capfed;
    time_t saved;
    char state_path[1024];
    struct syslog_in *syslog;
    struct alert_sinks *sinks;
    atomic_ullong stored, rejected, alerts, alert_seq;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- alerts ---- */

static void on_alert(void *ud, const struct mon_alert *a)
{
    struct gw_monitor *m = ud;
    struct gw *gw = m->gw;
    struct buf b;
    buf_init(&b, 1 << 20);
    if (mon_alert_json(a, &b) < 0 || b.err) {
        buf_done(&b);
        return;
    }
    atomic_fetch_add(&m->alerts, 1);
    char key[64];
    (void)snprintf(key, sizeof(key), "%013" PRId64 ":%08llu", a->time_ms,
                   (unsigned long long)atomic_fetch_add(&m->alert_seq, 1));
    /* logged first: an alert the API shows is already in the audit log */
    struct barra_error err = {0};
    uint64_t index;
    if (barra_audit_append(gw->audit, "alert", b.data, b.len, NULL, 0, &index, &err) < 0) {
        fprintf(stderr, "barra serve: an alert could not be logged: %s\n", err.message);
    }
    if (gw->store->ops->kv_put(gw->store, ALERTS_NS, key, b.data, true, &err) < 0) {
        fprintf(stderr, "barra serve: an alert could not be stored: %s\n", err.message);
    }
    char arts[512] = "";
    for (size_t i = 0; i < a->narticles; i++) {
        size_t k = strlen(arts);
        (void)snprintf(arts + k, sizeof(arts) - k, "%s%s", i ? ", " : "", a->articles[i]);
    }
    char when[40];
    mon_format_time(when, sizeof(when), a->time_ms, a->offset_min);
    alert_sinks_post(m->sinks, a);
    gw_dingtalk_notify(gw->dingtalk, a->title,
                       "**%s** (%s)\n\n- rule: %s\n- %s\n- count: %llu%s%s\n- time: %s\n- "
                       "articles: %s",
                       a->title, a->level, a->rule_id, a->group, (unsigned long long)a->count,
                       a->detail ? "\n- detail: " : "", a->detail ? a->detail : "", when,
                       arts[0] ? arts : "-");
    buf_done(&b);
}

/* ---- storing and feeding ---- */

int gw_activity_store(struct gw *gw, const struct mon_event *ev, const char *via,
                      struct barra_error *reterr)
{
    struct gw_monitor *m = gw->monitor;
    struct buf b;
    buf_init(&b, 1 << 20);
    mon_event_json(ev, &b);
    if (b.err) {
        buf_done(&b);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    static atomic_ullong seq;
    char key[96];
    (void)snprintf(key, sizeof(key), "%013" PRId64 ":%s:%010llu", ev->time_ms, via,
                   (unsigned long long)atomic_fetch_add(&seq, 1));
    int r = gw->store->ops->kv_put(gw->store, ACTIVITY_NS, key, b.data, false, reterr);
    buf_done(&b);
    if (r == 0 && m) {
        atomic_fetch_add(&m->stored, 1);
    }
    return r;
}

static int cmp_key(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The stored events not fed yet, in key order (copied: the store is locked while it is read, and
 * feeding them may store alerts). */
struct batch {
    struct gw_monitor *m;
    char **keys, **values;
    size_t n, cap;
};

static int collect(const char *key, const char *value, void *userdata)
{
    struct batch *b = userdata;
    struct gw_monitor *m = b->m;
    if (m->nfed + b->n >= MAX_FED) {
        return 1; /* the rest next round, after a save */
    }
    if (m->nfed && bsearch(&key, m->fed, m->nfed, sizeof(*m->fed), cmp_key)) {
        return 0;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char **k = barra_reallocarray(b->keys, cap, sizeof(*k));
        if (k) {
            b->keys = k;
        }
        char **v = k ? barra_reallocarray(b->values, cap, sizeof(*v)) : NULL;
        if (v == NULL) {
            return 1;
        }
        b->values = v;
        b->cap = cap;
    }
    b->keys[b->n] = barra_strdup(key);
    b->values[b->n] = barra_strdup(value);
    if (b->keys[b->n] == NULL || b->values[b->n] == NULL) {
        barra_free(b->keys[b->n]);
        barra_free(b->values[b->n]);
        return 1;
    }
    b->n++;
    return 0;
}

static void feed(struct gw_monitor *m)
{
    struct batch b = {.m = m};
    struct barra_error err = {0};
    (void)m->gw->store->ops->kv_each(m->gw->store, ACTIVITY_NS, collect, &b, &err);
    if (b.n && m->nfed + b.n > m->capfed) {
        char **v = barra_reallocarray(m->fed, m->nfed + b.n, sizeof(*v));
        if (v) {
            m->fed = v;
            m->capfed = m->nfed + b.n;
        }
    }
    for (size_t i = 0; i < b.n; i++) {
        const char *key = b.keys[i];
        struct mon_event *ev = NULL;
        char ref[48];
        (void)snprintf(ref, sizeof(ref), "%.47s", strchr(key, ':') ? strchr(key, ':') + 1 : key);
        if (mon_event_from_json(b.values[i], strlen(b.values[i]), ref, &ev, &err) < 0) {
            atomic_fetch_add(&m->rejected, 1);
            fprintf(stderr, "barra serve: activity %s: %s\n", key, err.message);
        } else {
            (void)mon_engine_push(m->engine, ev);
        }
        barra_free(b.values[i]);
        if (m->nfed < m->capfed) {
            m->fed[m->nfed++] = b.keys[i]; /* deleted once the state that counts it is saved */
        } else {
            barra_free(b.keys[i]);
        }
    }
    if (m->nfed > 1) {
        qsort(m->fed, m->nfed, sizeof(*m->fed), cmp_key);
    }
    barra_free(b.keys);
    barra_free(b.values);
}

static void delete_fed(struct gw_monitor *m)
{
    for (size_t i = 0; i < m->nfed; i++) {
        (void)m->gw->store->ops->kv_delete(m->gw->store, ACTIVITY_NS, m->fed[i], NULL);
        barra_free(m->fed[i]);
    }
    m->nfed = 0;
}

/* One round: what is stored goes in, the clock moves on; every few seconds the state is saved and
 * what it counts is deleted. */
static void round_once(struct gw_monitor *m, bool save)
{
    struct barra_error err = {0};
    pthread_mutex_lock(&m->lock);
    feed(m);
    (void)mon_engine_advance(m->engine, now_ms());
    if (save) {
        if (mon_engine_save(m->engine, m->state_path, &err) == 0) {
            delete_fed(m);
        } else {
            fprintf(stderr, "barra serve: the monitor state was not saved: %s\n", err.message);
        }
        m->saved = time(NULL);
    }
    pthread_mutex_unlock(&m->lock);
}

static void *feeder(void *arg)
{
    struct gw_monitor *m = arg;
    while (!atomic_load(&m->stop)) {
        round_once(m, time(NULL) - m->saved >= SAVE_EVERY_S);
        for (int i = 0; i < 10 && !atomic_load(&m->stop); i++) {
            usleep(100000);
        }
    }
    return NULL;
}

/* ---- life ---- */

/* The calendar, the geo database and the rules the configuration names. */
static int load_rules(const struct gw_monitor_config *c, struct mon_calendar **cal,
                      struct mon_geo **geo, struct mon_rules **rules, struct barra_error *reterr)
{
    char def[1100];
    struct stat st;
    (void)snprintf(def, sizeof(def), "%s/calendar/default.yaml", c->rules);
    const char *path = c->calendar ? c->calendar : stat(def, &st) == 0 ? def : NULL;
    int r = path ? mon_calendar_load(path, cal, reterr) : 0;
    if (r == 0 && c->geoip) {
        r = mon_geo_open(c->geoip, geo, reterr);
    }
    if (r == 0) {
        r = mon_rules_load(c->rules, *cal, rules, reterr);
    }
    const char *first = NULL;
    size_t inactive = r == 0 ? mon_rules_set_geo(*rules, *geo, &first) : 0;
    if (inactive) {
        fprintf(stderr,
                "barra serve: %zu monitor rule(s) (%s, …) need monitor.geoip (a MaxMind-format "
                "database) and stay inactive\n",
                inactive, first);
    }
    return r;
}

int gw_monitor_check(const struct gw_config *config, size_t *ret_rules, struct barra_error *reterr)
{
    *ret_rules = 0;
    if (config->monitor == NULL) {
        return 0;
    }
    struct mon_calendar *cal = NULL;
    struct mon_geo *geo = NULL;
    struct mon_rules *rules = NULL;
    int r = load_rules(config->monitor, &cal, &geo, &rules, reterr);
    if (r == 0) {
        *ret_rules = mon_rules_count(rules);
    }
    mon_rules_free(rules);
    mon_geo_close(geo);
    mon_calendar_free(cal);
    return r;
}

int gw_monitor_open(struct gw *gw, struct barra_error *reterr)
{
    const struct gw_monitor_config *c = gw->config->monitor;
    if (c == NULL) {
        return 0;
    }
    struct gw_monitor *m = barra_calloc(1, sizeof(*m));
    if (m == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    gw->monitor = m;
    m->gw = gw;
    pthread_mutex_init(&m->lock, NULL);
    int r = load_rules(c, &m->cal, &m->geo, &m->rules, reterr);
    struct mon_options opt = {.lateness_ms = (int64_t)c->lateness_s * 1000,
                              .max_keys = c->max_keys,
                              .on_alert = on_alert,
                              .userdata = m};
    if (r == 0 && mon_engine_new(m->rules, &opt, &m->engine) < 0) {
        r = barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    (void)snprintf(m->state_path, sizeof(m->state_path), "%s/monitor.state", gw->config->data_dir);
    if (r == 0) {
        r = mon_engine_restore(m->engine, m->state_path, reterr);
    }
    m->saved = time(NULL);
    return r;
}

int gw_monitor_start(struct gw *gw, struct barra_error *reterr)
{
    struct gw_monitor *m = gw->monitor;
    if (m == NULL) {
        return 0;
    }
    const struct gw_monitor_config *c = gw->config->monitor;
    if (c->syslog_host) {
        int r = syslog_in_start(gw, c->syslog_host, c->syslog_port, &m->syslog, reterr);
        if (r < 0) {
            return r;
        }
    }
    int e = alert_sinks_start(c, &m->sinks, reterr);
    if (e < 0) {
        return e;
    }
    if (pthread_create(&m->thread, NULL, feeder, m) != 0) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "cannot start the monitor's thread");
    }
    m->started = true;
    return 0;
}

void gw_monitor_close(struct gw *gw)
{
    struct gw_monitor *m = gw->monitor;
    if (m == NULL) {
        return;
    }
    syslog_in_stop(m->syslog);
    atomic_store(&m->stop, true);
    if (m->started) {
        pthread_join(m->thread, NULL);
        round_once(m, true); /* what came in last, and the state with it */
    }
    alert_sinks_stop(m->sinks, 3000);
    for (size_t i = 0; i < m->nfed; i++) {
        barra_free(m->fed[i]);
    }
    barra_free(m->fed);
    mon_engine_free(m->engine);
    mon_rules_free(m->rules);
    mon_geo_close(m->geo);
    mon_calendar_free(m->cal);
    pthread_mutex_destroy(&m->lock);
    barra_free(m);
    gw->monitor = NULL;
}

unsigned gw_monitor_syslog_port(struct gw *gw)
{
    return gw->monitor ? syslog_in_port(gw->monitor->syslog) : 0;
}

void gw_monitor_metrics(struct gw *gw, struct buf *b)
{
    struct gw_monitor *m = gw->monitor;
    if (m == NULL) {
        return;
    }
    struct mon_stats st;
    pthread_mutex_lock(&m->lock);
    mon_engine_stats(m->engine, &st);
    pthread_mutex_unlock(&m->lock);
    (void)buf_printf(b,
                     "# HELP barra_monitor_events_total Activity events by what became of them.\n"
                     "# TYPE barra_monitor_events_total counter\n"
                     "barra_monitor_events_total{state=\"stored\"} %llu\n"
                     "barra_monitor_events_total{state=\"processed\"} %llu\n"
                     "barra_monitor_events_total{state=\"rejected\"} %llu\n"
                     "barra_monitor_events_total{state=\"late\"} %llu\n"
                     "# TYPE barra_monitor_alerts_total counter\n"
                     "barra_monitor_alerts_total %llu\n"
                     "# TYPE barra_monitor_alerts_suppressed_total counter\n"
                     "barra_monitor_alerts_suppressed_total %llu\n"
                     "# TYPE barra_monitor_groups_evicted_total counter\n"
                     "barra_monitor_groups_evicted_total %llu\n"
                     "# TYPE barra_monitor_events_pending gauge\n"
                     "barra_monitor_events_pending %llu\n",
                     (unsigned long long)atomic_load(&m->stored), (unsigned long long)st.events,
                     (unsigned long long)atomic_load(&m->rejected), (unsigned long long)st.late,
                     (unsigned long long)st.alerts, (unsigned long long)st.suppressed,
                     (unsigned long long)st.evicted, (unsigned long long)st.pending);
    alert_sinks_metrics(m->sinks, b);
}
