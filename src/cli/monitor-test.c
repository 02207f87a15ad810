/* SPDX-License-Identifier: Apache-2.0 */
/* `barra monitor test RULES CASES...`: regression cases for activity rules, in the spirit of
 * Sigma's regression data. A case file holds `cases:`, each with events (literal, or repeated
 * with a time step), where to restart the engine (its state saved and restored), and the alerts
 * expected; a case passes when exactly the expected alerts come out (of the rules it is about). */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/monitor-input.h"
#include "core/alloc.h"
#include "core/date.h"
#include "core/yamltree.h"
#include "monitor/rule-int.h"

enum { MAX_REPEAT = 1000000, MAX_ALERTS = 100000 };

struct got {
    char *rule, *actor, *detail;
    int64_t time_ms;
    uint64_t count, suppressed;
    bool used;
};

struct run {
    struct got *v;
    size_t n;
};

static void collect(void *ud, const struct mon_alert *a)
{
    struct run *r = ud;
    if (r->n >= MAX_ALERTS) {
        return;
    }
    struct got *v = barra_reallocarray(r->v, r->n + 1, sizeof(*v));
    if (v == NULL) {
        return;
    }
    r->v = v;
    v[r->n++] = (struct got){.rule = barra_strdup(a->rule_id),
                             .actor = a->actor ? barra_strdup(a->actor) : NULL,
                             .detail = a->detail ? barra_strdup(a->detail) : NULL,
                             .time_ms = a->time_ms,
                             .count = a->count,
                             .suppressed = a->suppressed};
}

static void run_free(struct run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        barra_free(r->v[i].rule);
        barra_free(r->v[i].actor);
        barra_free(r->v[i].detail);
    }
    barra_free(r->v);
}

/* "doc-{i}" with i = 7 → "doc-7" */
static void expand(const char *s, long i, char *out, size_t cap)
{
    const char *at = strstr(s, "{i}");
    if (at == NULL) {
        (void)snprintf(out, cap, "%s", s);
    } else {
        (void)snprintf(out, cap, "%.*s%ld%s", (int)(at - s), s, i, at + 3);
    }
}

/* One event from a YAML mapping, `{i}` in its values replaced, its time moved on by `shift`. */
static int make_event(const char *file, const struct ynode *m, long i, int64_t shift,
                      struct mon_event **ret)
{
    const char *names[40], *values[40];
    char buf[40][512];
    size_t n = 0;
    for (size_t k = 0; m->kind == YNODE_MAP && k + 1 < m->n && n < 38; k += 2) {
        const struct ynode *key = m->items[k], *v = m->items[k + 1];
        if (v->kind == YNODE_MAP && strcmp(key->value, "destination") == 0) {
            for (size_t j = 0; j + 1 < v->n && n < 38; j += 2) {
                static char dotted[40][40];
                (void)snprintf(dotted[n], sizeof(dotted[n]), "destination.%.24s",
                               v->items[j]->value);
                names[n] = dotted[n];
                expand(v->items[j + 1]->value ? v->items[j + 1]->value : "", i, buf[n], 512);
                values[n] = buf[n];
                n++;
            }
            continue;
        }
        names[n] = key->value;
        expand(v->kind == YNODE_SCALAR ? v->value : "", i, buf[n], 512);
        values[n] = buf[n];
        n++;
    }
    char ref[48];
    (void)snprintf(ref, sizeof(ref), "line %u#%ld", m->line, i);
    struct barra_error err = {0};
    int r = mon_event_from_fields(names, values, n, ref, ret, &err);
    if (r < 0) {
        fprintf(stderr, "%s:%u: error: %s\n", file, m->line, err.message);
        return r;
    }
    (*ret)->time_ms += shift;
    return 0;
}

static bool matches(const struct got *g, const struct ynode *want)
{
    const struct ynode *v;
    if ((v = ytree_get(want, "rule")) == NULL || strcmp(v->value, g->rule) != 0) {
        return false;
    }
    if ((v = ytree_get(want, "actor")) && (g->actor == NULL || strcmp(v->value, g->actor))) {
        return false;
    }
    if ((v = ytree_get(want, "detail")) && (g->detail == NULL || strcmp(v->value, g->detail))) {
        return false;
    }
    if ((v = ytree_get(want, "count")) && strtoull(v->value, NULL, 10) != g->count) {
        return false;
    }
    if ((v = ytree_get(want, "suppressed")) && strtoull(v->value, NULL, 10) != g->suppressed) {
        return false;
    }
    int64_t t;
    int32_t off;
    if ((v = ytree_get(want, "time")) &&
        (date_parse_rfc3339(v->value, &t, &off) < 0 || t != g->time_ms)) {
        return false;
    }
    return true;
}

static bool has_rule(const struct mon_rules *rs, const char *id)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (strcmp(rs->r[i].id, id) == 0) {
            return true;
        }
    }
    return false;
}

/* An expected alert names a loaded rule and only keys that are compared: a misspelt key would
 * otherwise make a case pass that should not. */
static bool valid_expectation(const struct mon_rules *rs, const char *file, const struct ynode *w)
{
    static const char *const keys[] = {"rule", "actor", "time", "count", "detail", "suppressed"};
    const struct ynode *rule = ytree_get(w, "rule");
    if (w->kind != YNODE_MAP || rule == NULL || rule->kind != YNODE_SCALAR ||
        !has_rule(rs, rule->value)) {
        fprintf(stderr, "%s:%u: error: an expected alert names a loaded rule: {rule: ID, ...}\n",
                file, w->line);
        return false;
    }
    for (size_t i = 0; i + 1 < w->n; i += 2) {
        bool known = false;
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            known |= strcmp(w->items[i]->value, keys[k]) == 0;
        }
        if (!known || w->items[i + 1]->kind != YNODE_SCALAR) {
            fprintf(stderr,
                    "%s:%u: error: \"%s\": an expected alert has rule, actor, time, count, detail "
                    "and suppressed\n",
                    file, w->items[i]->line, w->items[i]->value);
            return false;
        }
    }
    return true;
}

static bool considered(const struct ynode *only, const char *rule)
{
    if (only == NULL) {
        return true;
    }
    const struct ynode *const *items;
    size_t n = ytree_as_list(&only, &items);
    for (size_t i = 0; i < n; i++) {
        if (items[i]->kind == YNODE_SCALAR && strcmp(items[i]->value, rule) == 0) {
            return true;
        }
    }
    return false;
}

static int restart(const struct monitor_args *a, const struct mon_rules *rs,
                   struct mon_options *opt, struct mon_engine **e)
{
    char path[] = "/tmp/barra-monitor-state-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        return -1;
    }
    (void)close(fd);
    struct barra_error err = {0};
    int r = mon_engine_save(*e, path, &err);
    *e = mon_engine_free(*e);
    if (r == 0 && mon_engine_new(rs, opt, e) == 0) {
        r = mon_engine_restore(*e, path, &err);
    }
    (void)unlink(path);
    if (r < 0) {
        fprintf(stderr, "barra monitor test: restart: %s\n", err.message);
    }
    (void)a;
    return r;
}

/* Runs one case; prints why it failed. Returns 0 passed, 1 failed, 2 broken. */
static int one_case(const struct monitor_args *a, const struct mon_rules *rs, const char *file,
                    const struct ynode *c)
{
    const struct ynode *name = ytree_get(c, "name"), *events = ytree_get(c, "events"),
                       *expect = ytree_get(c, "expect"), *only = ytree_get(c, "only"),
                       *restart_after = ytree_get(c, "restart_after"),
                       *lateness = ytree_get(c, "lateness");
    const char *title = name && name->kind == YNODE_SCALAR ? name->value : "(unnamed)";
    const struct ynode *const *ids;
    size_t nids = only ? ytree_as_list(&only, &ids) : 0;
    for (size_t i = 0; i < nids; i++) {
        if (ids[i]->kind != YNODE_SCALAR || !has_rule(rs, ids[i]->value)) {
            fprintf(stderr, "%s:%u: error: `only` names a rule that is not loaded\n", file,
                    ids[i]->line);
            return 2;
        }
    }
    if (events == NULL || events->kind != YNODE_SEQ || expect == NULL ||
        expect->kind != YNODE_SEQ) {
        fprintf(stderr, "%s:%u: error: a case has a list `events` and a list `expect`\n", file,
                c->line);
        return 2;
    }
    struct run got = {0};
    struct mon_options opt = {.lateness_ms = a->lateness_ms, .on_alert = collect, .userdata = &got};
    if (lateness &&
        (lateness->kind != YNODE_SCALAR || mon_parse_span(lateness->value, &opt.lateness_ms) < 0)) {
        fprintf(stderr, "%s:%u: error: lateness is a duration\n", file, lateness->line);
        return 2;
    }
    long stop_at = restart_after ? strtol(restart_after->value, NULL, 10) : -1;
    struct mon_engine *e = NULL;
    if (mon_engine_new(rs, &opt, &e) < 0) {
        return 2;
    }
    long pushed = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < events->n; i++) {
        const struct ynode *item = events->items[i], *rep = ytree_get(item, "repeat");
        const struct ynode *ev = rep ? ytree_get(item, "event") : item;
        long count = rep ? strtol(rep->value, NULL, 10) : 1;
        int64_t every = 0;
        const struct ynode *step = ytree_get(item, "every");
        if (ev == NULL || count < 1 || count > MAX_REPEAT ||
            (rep && (step == NULL || mon_parse_span(step->value, &every) < 0))) {
            fprintf(stderr, "%s:%u: error: repeat: N, every: DURATION, event: {...}\n", file,
                    item->line);
            rc = 2;
            break;
        }
        const struct ynode *rev = ytree_get(item, "reverse");
        bool reverse = rev && rev->kind == YNODE_SCALAR && strcmp(rev->value, "true") == 0;
        for (long j = 0; rc == 0 && j < count; j++) {
            long k = reverse ? count - 1 - j : j; /* reverse: the latest arrives first */
            struct mon_event *x = NULL;
            if (make_event(file, ev, k, every * k, &x) < 0 || mon_engine_push(e, x) < 0) {
                rc = 2;
            }
            if (++pushed == stop_at && restart(a, rs, &opt, &e) < 0) {
                rc = 2;
            }
        }
    }
    if (rc == 0 && mon_engine_flush(e) < 0) {
        rc = 2;
    }
    mon_engine_free(e);
    bool ok = rc == 0;
    for (size_t i = 0; ok && i < expect->n; i++) {
        if (!valid_expectation(rs, file, expect->items[i])) {
            run_free(&got);
            return 2;
        }
    }
    for (size_t i = 0; ok && i < expect->n; i++) {
        const struct ynode *want = expect->items[i];
        bool found = false;
        for (size_t k = 0; !found && k < got.n; k++) {
            if (!got.v[k].used && matches(&got.v[k], want)) {
                got.v[k].used = found = true;
            }
        }
        if (!found) {
            const struct ynode *r = ytree_get(want, "rule"), *ac = ytree_get(want, "actor");
            fprintf(stderr, "FAIL %s: %s: expected alert %s%s%s not raised\n", file, title,
                    r ? r->value : "?", ac ? " for " : "", ac ? ac->value : "");
            ok = false;
        }
    }
    for (size_t k = 0; rc == 0 && k < got.n; k++) {
        if (!got.v[k].used && considered(only, got.v[k].rule)) {
            fprintf(stderr, "FAIL %s: %s: unexpected alert %s for %s (count %llu)\n", file, title,
                    got.v[k].rule, got.v[k].actor ? got.v[k].actor : "-",
                    (unsigned long long)got.v[k].count);
            ok = false;
        }
    }
    if (ok && a->verbose) {
        printf("ok   %s: %s (%zu alerts)\n", file, title, got.n);
    }
    run_free(&got);
    return rc ? rc : ok ? 0 : 1;
}

static int case_file(const struct monitor_args *a, const struct mon_rules *rs, const char *path,
                     unsigned *ncases, unsigned *nfailed)
{
    struct ynode *doc = NULL;
    struct barra_error err = {0};
    if (ytree_load_file(path, &doc, &err) < 0) {
        fprintf(stderr, "%s:%u:%u: error: %s\n", path, err.line, err.column, err.message);
        return 2;
    }
    const struct ynode *cases = ytree_get(doc, "cases");
    int rc = 0;
    if (cases == NULL || cases->kind != YNODE_SEQ) {
        fprintf(stderr, "%s: error: a case file has a list `cases`\n", path);
        rc = 2;
    }
    for (size_t i = 0; rc == 0 && cases && i < cases->n; i++) {
        int r = one_case(a, rs, path, cases->items[i]);
        (*ncases)++;
        *nfailed += r != 0;
        rc = r == 2 ? 2 : 0;
    }
    ytree_free(doc);
    return rc;
}

static int cmp_names(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

int monitor_test(const struct monitor_args *a, const char *rules, int n, char **cases)
{
    struct mon_calendar *cal;
    struct mon_rules *rs;
    int rc = monitor_load(a, rules, &cal, &rs);
    unsigned ncases = 0, nfailed = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        DIR *d = opendir(cases[i]);
        if (d == NULL) {
            rc = case_file(a, rs, cases[i], &ncases, &nfailed);
            continue;
        }
        char *names[1024];
        size_t k = 0;
        for (struct dirent *de; (de = readdir(d)) != NULL && k < 1024;) {
            size_t len = strlen(de->d_name);
            if (len > 5 && strcmp(de->d_name + len - 5, ".yaml") == 0 &&
                (names[k] = barra_malloc(strlen(cases[i]) + len + 2)) != NULL) {
                (void)snprintf(names[k], strlen(cases[i]) + len + 2, "%s/%s", cases[i], de->d_name);
                k++;
            }
        }
        (void)closedir(d);
        qsort(names, k, sizeof(*names), cmp_names);
        for (size_t j = 0; j < k; j++) {
            if (rc == 0) {
                rc = case_file(a, rs, names[j], &ncases, &nfailed);
            }
            barra_free(names[j]);
        }
    }
    if (rc == 0) {
        printf("%u cases, %u failed\n", ncases, nfailed);
    }
    monitor_unload(cal, rs);
    return rc ? rc : nfailed ? 1 : 0;
}
