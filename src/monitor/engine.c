/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's engine: events into time order through the reorder buffer, each one through the
 * detection rules about its action, matches into correlation windows per group key, alerts out —
 * held back while a group's suppression lasts and counted. State is bounded: each rule keeps at
 * most max_keys groups (the least recently seen are evicted and counted), each window at most as
 * many events as its threshold needs. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "monitor/engine-int.h"

#include "core/banned.h"

enum { MAX_VALUES_PER_KEY = 256, MAX_REFS_SHOWN = 50, DEFAULT_MAX_KEYS = 1000000 };

/* ---- group tables ---- */

static uint64_t hash_of(uint64_t seed, const char *s, size_t n)
{
    uint64_t h = seed ^ 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    }
    h ^= h >> 29; /* spread the low bits, which pick the slot */
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

static void lru_unlink(struct mon_table *t, struct mon_key *k)
{
    if (k->prev) {
        k->prev->next = k->next;
    } else {
        t->oldest = k->next;
    }
    if (k->next) {
        k->next->prev = k->prev;
    } else {
        t->newest = k->prev;
    }
    k->prev = k->next = NULL;
}

static void lru_append(struct mon_table *t, struct mon_key *k)
{
    k->prev = t->newest;
    k->next = NULL;
    if (t->newest) {
        t->newest->next = k;
    } else {
        t->oldest = k;
    }
    t->newest = k;
}

static void entries_clear(struct mon_key *k)
{
    for (size_t i = k->head; i < k->head + k->n; i++) {
        barra_free(k->e[i].value);
        barra_free(k->e[i].ref);
    }
    k->head = k->n = 0;
}

static void key_free(struct mon_key *k)
{
    entries_clear(k);
    barra_free(k->e);
    for (size_t i = 0; k->hits && i < MON_MAX_REFS; i++) {
        barra_free(k->hits->ref[i]);
    }
    barra_free(k->hits);
    barra_free(k);
}

static void table_remove(struct mon_table *t, struct mon_key *k)
{
    struct mon_key **pp = &t->slot[k->hash & (t->nslots - 1)];
    while (*pp != k) {
        pp = &(*pp)->hnext;
    }
    *pp = k->hnext;
    lru_unlink(t, k);
    t->n--;
    key_free(k);
}

static int table_grow(struct mon_table *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 64;
    struct mon_key **slot = barra_calloc(n, sizeof(*slot));
    if (slot == NULL) {
        return -1;
    }
    for (size_t i = 0; i < t->nslots; i++) {
        for (struct mon_key *k = t->slot[i], *next; k; k = next) {
            next = k->hnext;
            k->hnext = slot[k->hash & (n - 1)];
            slot[k->hash & (n - 1)] = k;
        }
    }
    barra_free(t->slot);
    t->slot = slot;
    t->nslots = n;
    return 0;
}

struct mon_key *mon_table_get(struct mon_engine *e, struct mon_table *t, const char *key,
                              size_t len, bool create)
{
    uint64_t h = hash_of(e->seed, key, len);
    for (struct mon_key *k = t->nslots ? t->slot[h & (t->nslots - 1)] : NULL; k; k = k->hnext) {
        if (k->hash == h && strncmp(k->key, key, len) == 0 && k->key[len] == '\0') {
            lru_unlink(t, k);
            lru_append(t, k);
            return k;
        }
    }
    if (!create) {
        return NULL;
    }
    if (t->n >= e->opt.max_keys && t->oldest) {
        table_remove(t, t->oldest);
        e->stats.evicted++;
    }
    if (t->n + 1 > t->nslots * 3 / 4 && table_grow(t) < 0) {
        return NULL;
    }
    struct mon_key *k = barra_calloc(1, sizeof(*k) + len + 1);
    if (k == NULL) {
        return NULL;
    }
    memcpy(k->key, key, len);
    k->hash = h;
    k->hnext = t->slot[h & (t->nslots - 1)];
    t->slot[h & (t->nslots - 1)] = k;
    lru_append(t, k);
    t->n++;
    return k;
}

static int entry_push(struct mon_key *k, int64_t t, double amount, const char *value,
                      const char *ref)
{
    if (k->head > 0 && k->head + k->n == k->cap) {
        memmove(k->e, k->e + k->head, k->n * sizeof(*k->e));
        k->head = 0;
    }
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 1; /* most groups hold one value or event */
        struct mon_entry *v = barra_reallocarray(k->e, cap, sizeof(*v));
        if (v == NULL) {
            return -BARRA_ENOMEM;
        }
        k->e = v;
        k->cap = cap;
    }
    struct mon_entry *x = &k->e[k->head + k->n];
    *x = (struct mon_entry){.t = t, .amount = amount};
    if ((value && (x->value = barra_strdup(value)) == NULL) ||
        (x->ref = barra_strdup(ref)) == NULL) {
        barra_free(x->value);
        return -BARRA_ENOMEM;
    }
    k->n++;
    return 0;
}

static void entry_drop_first(struct mon_key *k)
{
    barra_free(k->e[k->head].value);
    barra_free(k->e[k->head].ref);
    k->head++;
    k->n--;
    if (k->n == 0) {
        k->head = 0;
    }
}

static void expire(struct mon_key *k, int64_t from)
{
    while (k->n && k->e[k->head].t < from) {
        entry_drop_first(k);
    }
}

/* ---- alerts ---- */

/* The group key's display form ("actor=alice, country=MO") and its actor. */
static void describe_group(const struct mon_rule *r, const char *key, struct buf *out,
                           const char **actor_at, size_t *actor_len)
{
    const char *p = key;
    for (size_t i = 0; i < r->ngroup; i++) {
        const char *end = strchr(p, 0x1F);
        size_t n = end ? (size_t)(end - p) : strlen(p);
        (void)buf_printf(out, "%s%s=%.*s", i ? ", " : "", mon_field_name(r->group[i]), (int)n, p);
        if (r->group[i] == MF_ACTOR) {
            *actor_at = p;
            *actor_len = n;
        }
        p = end ? end + 1 : p + n;
    }
}

static void emit(struct mon_engine *e, const struct mon_rule *r, const struct mon_event *ev,
                 struct mon_key *k, const char *const *refs, size_t nrefs, uint64_t count,
                 const char *detail)
{
    if (k && ev->time_ms < k->quiet_until) {
        k->suppressed++;
        e->stats.suppressed++;
        return;
    }
    struct buf group;
    buf_init(&group, 1 << 16);
    const char *actor_at = NULL;
    size_t actor_len = 0;
    char actor[4200] = "";
    if (r->corr != CORR_NONE) {
        describe_group(r, k->key, &group, &actor_at, &actor_len);
        if (actor_at) {
            (void)snprintf(actor, sizeof(actor), "%.*s", (int)actor_len, actor_at);
        }
    } else {
        (void)buf_printf(&group, "actor=%s", ev->f[MF_ACTOR]);
        (void)snprintf(actor, sizeof(actor), "%s", ev->f[MF_ACTOR]);
    }
    struct mon_alert a = {
        .rule_id = r->id,
        .title = r->title,
        .level = r->level,
        .time_ms = ev->time_ms,
        .offset_min = ev->offset_min,
        .group = group.data ? group.data : "",
        .actor = actor[0] ? actor : NULL,
        .refs = refs,
        .nrefs = nrefs,
        .count = count,
        .suppressed = k ? k->suppressed : 0,
        .articles = (const char *const *)r->articles,
        .narticles = r->narticles,
        .controls = (const char *const *)r->controls,
        .ncontrols = r->ncontrols,
        .detail = detail,
    };
    e->stats.alerts++;
    if (e->opt.on_alert) {
        e->opt.on_alert(e->opt.userdata, &a);
    }
    buf_done(&group);
    if (k) {
        k->suppressed = 0;
        k->quiet_until = r->suppress_ms ? ev->time_ms + r->suppress_ms : 0;
    }
}

/* The window's events as the alert's evidence: the latest MAX_REFS_SHOWN. */
static void emit_window(struct mon_engine *e, const struct mon_rule *r, const struct mon_event *ev,
                        struct mon_key *k, uint64_t count)
{
    const char *refs[MAX_REFS_SHOWN];
    size_t from = k->n > MAX_REFS_SHOWN ? k->n - MAX_REFS_SHOWN : 0, n = 0;
    for (size_t i = from; i < k->n; i++) {
        refs[n++] = k->e[k->head + i].ref;
    }
    emit(e, r, ev, k, refs, n, count, NULL);
}

static bool reached(const struct mon_rule *r, double v)
{
    return r->cmp == CMP_GT ? v > r->threshold : v >= r->threshold;
}

/* ---- correlations ---- */

static int correlate(struct mon_engine *e, const struct mon_rule *c, size_t base,
                     const struct mon_event *ev)
{
    char key[4 * 4097];
    size_t len = 0;
    for (size_t i = 0; i < c->ngroup; i++) {
        const char *v = ev->f[c->group[i]] ? ev->f[c->group[i]] : "";
        size_t n = strlen(v);
        if (i) {
            key[len++] = 0x1F;
        }
        memcpy(key + len, v, n);
        len += n;
    }
    key[len] = '\0';
    struct mon_table *t = &e->tables[c - e->rules->r];
    struct mon_key *existing = mon_table_get(e, t, key, len, false);
    int64_t previous = existing ? existing->seen_ms : 0;
    struct mon_key *k = existing ? existing : mon_table_get(e, t, key, len, true);
    if (k == NULL) {
        return -BARRA_ENOMEM;
    }
    int64_t now = ev->time_ms;
    k->seen_ms = now;
    const char *value = ev->f[c->field]; /* value_count, new_value */
    bool learning = now < e->first_ms + c->learning_ms;
    switch (c->corr) {
    case CORR_EVENT_COUNT:
        expire(k, now - c->span_ms);
        if (entry_push(k, now, 1, NULL, ev->ref) < 0) {
            return -BARRA_ENOMEM;
        }
        if ((double)k->n > c->threshold + 1) { /* only the last threshold+1 can matter */
            entry_drop_first(k);
        }
        if (reached(c, (double)k->n)) {
            emit_window(e, c, ev, k, k->n);
            entries_clear(k);
        }
        break;
    case CORR_VALUE_COUNT: {
        if (value == NULL) {
            break;
        }
        expire(k, now - c->span_ms);
        for (size_t i = 0; i < k->n; i++) { /* a value seen again: it moves to the end */
            struct mon_entry *x = &k->e[k->head + i];
            if (strcmp(x->value, value) == 0) {
                barra_free(x->value);
                barra_free(x->ref);
                memmove(x, x + 1, (k->n - i - 1) * sizeof(*x));
                k->n--;
                break;
            }
        }
        if (entry_push(k, now, 1, value, ev->ref) < 0) {
            return -BARRA_ENOMEM;
        }
        if ((double)k->n > c->threshold + 1) {
            entry_drop_first(k);
        }
        if (reached(c, (double)k->n)) {
            emit_window(e, c, ev, k, k->n);
            entries_clear(k);
        }
        break;
    }
    case CORR_VALUE_SUM: {
        double amount = (double)(c->field == MF_COUNT ? ev->count : ev->bytes);
        if (ev->f[c->field] == NULL || amount <= 0) {
            break;
        }
        expire(k, now - c->span_ms);
        if (entry_push(k, now, amount, NULL, ev->ref) < 0) {
            return -BARRA_ENOMEM;
        }
        double sum = 0;
        for (size_t i = 0; i < k->n; i++) {
            sum += k->e[k->head + i].amount;
        }
        if (reached(c, sum)) {
            emit_window(e, c, ev, k, (uint64_t)sum);
            entries_clear(k);
        }
        break;
    }
    case CORR_TEMPORAL:
    case CORR_TEMPORAL_ORDERED: {
        size_t which = 0;
        while (which < c->nrefs && c->refs[which] != base) {
            which++;
        }
        if (k->hits == NULL && (k->hits = barra_calloc(1, sizeof(*k->hits))) == NULL) {
            return -BARRA_ENOMEM;
        }
        struct mon_hits *h = k->hits;
        if (c->corr == CORR_TEMPORAL_ORDERED) {
            /* the expected next rule, within the span of the first; or the first again */
            if (k->progress > 0 && now - h->t[0] > c->span_ms) {
                k->progress = 0;
            }
            if (which != k->progress && which != 0) {
                break;
            }
            if (which == 0) {
                k->progress = 0;
            }
            k->progress++;
        }
        h->t[which] = now;
        barra_free(h->ref[which]);
        if ((h->ref[which] = barra_strdup(ev->ref)) == NULL) {
            return -BARRA_ENOMEM;
        }
        bool all = c->corr == CORR_TEMPORAL_ORDERED ? k->progress == c->nrefs : true;
        for (size_t i = 0; all && c->corr == CORR_TEMPORAL && i < c->nrefs; i++) {
            all = h->ref[i] && now - h->t[i] <= c->span_ms;
        }
        if (all) {
            emit(e, c, ev, k, (const char *const *)h->ref, c->nrefs, c->nrefs, NULL);
            for (size_t i = 0; i < c->nrefs; i++) {
                barra_free(h->ref[i]);
                h->ref[i] = NULL;
                h->t[i] = 0;
            }
            k->progress = 0;
        }
        break;
    }
    case CORR_NEW_VALUE: {
        if (value == NULL) {
            break;
        }
        expire(k, now - c->span_ms); /* values not seen for the history span are forgotten */
        bool seen = false;
        for (size_t i = 0; i < k->n && !seen; i++) {
            struct mon_entry *x = &k->e[k->head + i];
            if (strcmp(x->value, value) == 0) {
                seen = true;
                x->t = now; /* kept in time order: move it to the end */
                struct mon_entry keep = *x;
                memmove(x, x + 1, (k->n - i - 1) * sizeof(*x));
                k->e[k->head + k->n - 1] = keep;
            }
        }
        if (!seen) {
            if (k->n >= MAX_VALUES_PER_KEY) {
                entry_drop_first(k);
            }
            if (entry_push(k, now, 1, value, ev->ref) < 0) {
                return -BARRA_ENOMEM;
            }
            if (!learning) {
                const char *ref = ev->ref;
                emit(e, c, ev, k, &ref, 1, 1, value);
            }
        }
        break;
    }
    case CORR_DORMANT:
        if (existing && now - previous >= c->span_ms && !learning) {
            char detail[64];
            (void)snprintf(detail, sizeof(detail), "silent for %lld days",
                           (long long)((now - previous) / 86400000));
            const char *ref = ev->ref;
            emit(e, c, ev, k, &ref, 1, 1, detail);
        }
        break;
    case CORR_GEO_VELOCITY: {
        if (!ev->located) {
            break;
        }
        if (k->n) {
            const struct mon_entry *prev = &k->e[k->head];
            double lat = 0, lon = 0;
            char from[8] = "";
            (void)sscanf(prev->value, "%lf,%lf,%7s", &lat, &lon, from);
            double km = mon_geo_km(lat, lon, ev->lat, ev->lon);
            double hours = (double)(now - prev->t) / 3.6e6;
            double kmh = km / (hours > 1.0 / 60 ? hours : 1.0 / 60); /* a minute at least */
            if (now - prev->t <= c->span_ms && km >= c->min_km && kmh > c->max_kmh) {
                char detail[160];
                (void)snprintf(detail, sizeof(detail), "%s to %s: %.0f km in %.1f h (%.0f km/h)",
                               from[0] ? from : "?", ev->geo_country[0] ? ev->geo_country : "?", km,
                               hours, kmh);
                const char *refs[2] = {prev->ref, ev->ref};
                emit(e, c, ev, k, refs, 2, 1, detail);
            }
            entries_clear(k);
        }
        char where[64];
        (void)snprintf(where, sizeof(where), "%.5f,%.5f,%s", ev->lat, ev->lon,
                       ev->geo_country[0] ? ev->geo_country : "-");
        if (entry_push(k, now, 0, where, ev->ref) < 0) {
            return -BARRA_ENOMEM;
        }
        break;
    }
    case CORR_NONE:
        break;
    }
    return 0;
}

/* ---- one event ---- */

static int process(struct mon_engine *e, const struct mon_event *ev)
{
    const struct mon_rules *rs = e->rules;
    if (!e->started) {
        e->first_ms = ev->time_ms;
        e->started = true;
    }
    e->processed = ev->time_ms;
    e->stats.events++;
    const struct mon_bucket *buckets[2] = {mon_rules_bucket(rs, ev->f[MF_ACTION]),
                                           mon_rules_bucket(rs, NULL)};
    for (int b = 0; b < 2; b++) {
        for (size_t i = 0; buckets[b] && i < buckets[b]->n; i++) {
            const struct mon_rule *r = &rs->r[buckets[b]->rules[i]];
            if (!mon_rule_matches(rs, r, ev)) {
                continue;
            }
            if (r->alone) {
                struct mon_key *k = NULL;
                if (r->suppress_ms) { /* single-event rules are held back per actor */
                    const char *a = ev->f[MF_ACTOR];
                    k = mon_table_get(e, &e->tables[r - rs->r], a, strlen(a), true);
                    if (k == NULL) {
                        return -BARRA_ENOMEM;
                    }
                    k->seen_ms = ev->time_ms;
                }
                const char *ref = ev->ref;
                emit(e, r, ev, k, &ref, 1, 1, NULL);
            }
            for (size_t u = 0; u < r->nusers; u++) {
                int err = correlate(e, &rs->r[r->users[u]], (size_t)(r - rs->r), ev);
                if (err < 0) {
                    return err;
                }
            }
        }
    }
    return 0;
}

/* ---- the reorder buffer ---- */

static bool before(const struct mon_event *a, const struct mon_event *b)
{
    return a->time_ms < b->time_ms || (a->time_ms == b->time_ms && a->seq < b->seq);
}

static void heap_up(struct mon_engine *e, size_t i)
{
    while (i > 0 && before(e->heap[i], e->heap[(i - 1) / 2])) {
        struct mon_event *t = e->heap[i];
        e->heap[i] = e->heap[(i - 1) / 2];
        e->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static struct mon_event *heap_pop(struct mon_engine *e)
{
    struct mon_event *top = e->heap[0];
    e->heap[0] = e->heap[--e->nheap];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < e->nheap && before(e->heap[l], e->heap[m])) {
            m = l;
        }
        if (r < e->nheap && before(e->heap[r], e->heap[m])) {
            m = r;
        }
        if (m == i) {
            break;
        }
        struct mon_event *t = e->heap[i];
        e->heap[i] = e->heap[m];
        e->heap[m] = t;
        i = m;
    }
    return top;
}

static int drain(struct mon_engine *e, bool all)
{
    while (e->nheap && (all || e->nheap > e->opt.max_pending ||
                        e->heap[0]->time_ms <= e->max_seen - e->opt.lateness_ms)) {
        struct mon_event *ev = heap_pop(e);
        int r = process(e, ev);
        barra_free(ev);
        if (r < 0) {
            return r;
        }
    }
    e->stats.pending = e->nheap;
    return 0;
}

int mon_engine_hold(struct mon_engine *e, struct mon_event *ev)
{
    struct mon_place place;
    if (e->rules->geo && ev->f[MF_IP] && mon_geo_lookup(e->rules->geo, ev->f[MF_IP], &place)) {
        memcpy(ev->geo_country, place.country, sizeof(ev->geo_country));
        ev->located = place.located;
        ev->lat = place.lat;
        ev->lon = place.lon;
        if (ev->f[MF_COUNTRY] == NULL && place.country[0]) {
            ev->f[MF_COUNTRY] = ev->geo_country; /* the event's own country comes first */
        }
    }
    /* a destination's region from its address: "cn-mainland" for CN, else the ISO code */
    if (e->rules->geo && ev->f[MF_DEST_IP] && ev->f[MF_DEST_REGION] == NULL &&
        mon_geo_lookup(e->rules->geo, ev->f[MF_DEST_IP], &place) && place.country[0]) {
        if (strcmp(place.country, "CN") == 0) {
            (void)snprintf(ev->geo_region, sizeof(ev->geo_region), "cn-mainland");
        } else {
            for (size_t i = 0; i < sizeof(ev->geo_region) - 1 && place.country[i]; i++) {
                ev->geo_region[i] = (char)(place.country[i] | 0x20);
            }
        }
        ev->f[MF_DEST_REGION] = ev->geo_region;
    }
    if (e->nheap == e->capheap) {
        size_t cap = e->capheap ? e->capheap * 2 : 256;
        struct mon_event **v = barra_reallocarray(e->heap, cap, sizeof(*v));
        if (v == NULL) {
            barra_free(ev);
            return -BARRA_ENOMEM;
        }
        e->heap = v;
        e->capheap = cap;
    }
    ev->seq = e->seq++;
    e->heap[e->nheap++] = ev;
    heap_up(e, e->nheap - 1);
    if (ev->time_ms > e->max_seen) {
        e->max_seen = ev->time_ms;
    }
    return 0;
}

int mon_engine_push(struct mon_engine *e, struct mon_event *ev)
{
    if (e->started && ev->time_ms < e->processed) {
        e->stats.late++;
        barra_free(ev);
        return 1;
    }
    int r = mon_engine_hold(e, ev);
    return r < 0 ? r : drain(e, false);
}

int mon_engine_advance(struct mon_engine *e, int64_t now_ms)
{
    if (now_ms > e->max_seen) {
        e->max_seen = now_ms;
    }
    return drain(e, false);
}

int mon_engine_flush(struct mon_engine *e)
{
    return drain(e, true);
}

void mon_engine_stats(const struct mon_engine *e, struct mon_stats *ret)
{
    *ret = e->stats;
}

int mon_engine_new(const struct mon_rules *rules, const struct mon_options *opt,
                   struct mon_engine **ret)
{
    struct mon_engine *e = barra_calloc(1, sizeof(*e));
    if (e == NULL || (e->tables = barra_calloc(rules->n + 1, sizeof(*e->tables))) == NULL) {
        barra_free(e);
        return -BARRA_ENOMEM;
    }
    e->rules = rules;
    e->opt = *opt;
    if (e->opt.max_keys == 0) {
        e->opt.max_keys = DEFAULT_MAX_KEYS;
    }
    if (e->opt.max_pending == 0) {
        e->opt.max_pending = 1000000;
    }
    e->max_seen = INT64_MIN / 2;
    if (getrandom(&e->seed, sizeof(e->seed), 0) != (ssize_t)sizeof(e->seed)) {
        e->seed = (uint64_t)(uintptr_t)e; /* still varies between runs (ASLR) */
    }
    *ret = e;
    return 0;
}

struct mon_engine *mon_engine_free(struct mon_engine *e)
{
    if (e) {
        for (size_t i = 0; i < e->rules->n; i++) {
            struct mon_table *t = &e->tables[i];
            while (t->oldest) {
                table_remove(t, t->oldest);
            }
            barra_free(t->slot);
        }
        barra_free(e->tables);
        while (e->nheap) {
            barra_free(e->heap[--e->nheap]);
        }
        barra_free(e->heap);
        barra_free(e);
    }
    return NULL;
}
