/* SPDX-License-Identifier: Apache-2.0 */
/* The engine's state (engine.c keeps it, state.c saves and restores it). */
#ifndef BARRA_MONITOR_ENGINE_INT_H
#define BARRA_MONITOR_ENGINE_INT_H

#include "monitor/rule-int.h"

/* One event in a group's window: when, how much (value_sum), which value (value_count,
 * new_value), and which event it was. */
struct mon_entry {
    int64_t t;
    double amount;
    char *value;
    char *ref;
};

/* Each rule's latest hit in a group, for temporal correlations (0: none yet). */
struct mon_hits {
    int64_t t[MON_MAX_REFS];
    char *ref[MON_MAX_REFS];
};

/* A group's state under one rule. */
struct mon_key {
    struct mon_key *hnext, *prev, *next; /* hash chain; least recently seen first */
    uint64_t hash;
    int64_t seen_ms;     /* its latest event */
    int64_t quiet_until; /* alerts held back until then */
    uint64_t suppressed; /* alerts held back since the last one */
    struct mon_entry *e; /* window entries, oldest first, from e[head] */
    size_t head, n, cap;
    unsigned progress;     /* temporal_ordered: the next rule expected */
    struct mon_hits *hits; /* temporal correlations only */
    char key[];            /* the group's values, separated by 0x1F */
};

struct mon_table {
    struct mon_key **slot;
    size_t nslots, n;
    struct mon_key *oldest, *newest;
};

struct mon_engine {
    const struct mon_rules *rules;
    struct mon_options opt;
    struct mon_table *tables; /* one per rule */
    uint64_t seed;
    struct mon_event **heap; /* the reorder buffer: a min-heap by time, then arrival */
    size_t nheap, capheap;
    int64_t max_seen;  /* the latest event time seen */
    int64_t processed; /* the time of the last event processed */
    int64_t first_ms;  /* the first event ever processed (learning periods count from it) */
    bool started;
    uint64_t seq;
    struct mon_stats stats;
};

/* Puts an event into the reorder buffer without processing anything (a restored one). */
int mon_engine_hold(struct mon_engine *e, struct mon_event *ev);
struct mon_key *mon_table_get(struct mon_engine *e, struct mon_table *t, const char *key,
                              size_t len, bool create);

#endif
