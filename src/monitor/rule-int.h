/* SPDX-License-Identifier: Apache-2.0 */
/* Compiled monitor rules (rule-parse.c builds them, rule-match.c and engine.c use them). */
#ifndef BARRA_MONITOR_RULE_INT_H
#define BARRA_MONITOR_RULE_INT_H

#include <regex.h>

#include "monitor/monitor.h"

/* One field test of a selection: `field|modifiers: values`. */
enum mon_op { OP_EQ, OP_CONTAINS, OP_STARTS, OP_ENDS, OP_RE, OP_CIDR, OP_EXISTS, OP_NUM };
enum mon_cmp { CMP_GT, CMP_GTE, CMP_LT, CMP_LTE, CMP_EQ };

struct mon_cidr {
    uint8_t addr[16];
    int family; /* 4 or 6 */
    unsigned bits;
};

struct mon_test {
    enum mon_field field;
    enum mon_op op;
    enum mon_cmp cmp; /* OP_NUM */
    bool all;         /* every value must match (|all), else any */
    bool cased;       /* |cased: exact case */
    bool want;        /* OP_EXISTS: true or false */
    bool null;        /* the value null: the field is absent */
    size_t n;
    char **values; /* lowercased unless cased */
    size_t *lens;
    double *nums;
    regex_t *re;
    struct mon_cidr *cidr;
};

/* A selection: alternatives (a list of maps) of conjunctions (a map's fields). */
struct mon_conj {
    struct mon_test *t;
    size_t n;
};
struct mon_sel {
    char *name;
    struct mon_conj *alt;
    size_t nalt;
};

/* The condition as a tree over selections. */
enum mon_node_kind { NODE_SEL, NODE_NOT, NODE_AND, NODE_OR };
struct mon_node {
    enum mon_node_kind kind;
    size_t sel;            /* NODE_SEL */
    struct mon_node **kid; /* NOT: 1; AND/OR: n */
    size_t n;
};

enum mon_corr {
    CORR_NONE, /* a detection rule */
    CORR_EVENT_COUNT,
    CORR_VALUE_COUNT,
    CORR_VALUE_SUM,
    CORR_TEMPORAL,
    CORR_TEMPORAL_ORDERED,
    CORR_NEW_VALUE,    /* Barra: a value not seen before for the group */
    CORR_DORMANT,      /* Barra: the group's first event after a long silence */
    CORR_GEO_VELOCITY, /* Barra: two places too far apart for the time between them */
};

enum { MON_MAX_GROUP = 4, MON_MAX_REFS = 8 };

struct mon_rule {
    char *id, *name, *title, *level, *file;
    uint32_t line;
    char **articles, **controls;
    size_t narticles, ncontrols;
    int64_t suppress_ms; /* alerts of the same group held back this long after one */
    enum mon_corr corr;
    /* detection */
    char *category; /* logsource.category: the action the rule is about; NULL for any */
    struct mon_sel *sel;
    size_t nsel;
    struct mon_node *cond;
    bool off_hours; /* x-barra: only outside working hours */
    bool alone;     /* alerts on its own (not only as part of a correlation) */
    /* correlation */
    size_t refs[MON_MAX_REFS]; /* indices of the detection rules it counts */
    size_t nrefs;
    enum mon_field group[MON_MAX_GROUP];
    size_t ngroup;
    int64_t span_ms;
    enum mon_cmp cmp;
    double threshold;
    enum mon_field field;   /* value_count, value_sum, new_value */
    int64_t learning_ms;    /* new_value, dormant: no alerts this long after the first event */
    double max_kmh, min_km; /* geo_velocity */
    size_t index;           /* its place among the correlations (state tables) */
    size_t *users;          /* detection rules: the correlations that count it */
    size_t nusers;
};

struct mon_rules {
    struct mon_rule *r;
    size_t n;
    size_t ncorr;
    const struct mon_calendar *cal;
    const struct mon_geo *geo;
    /* detection rules by action: for each event only the rules about its action, and those
     * about any action, are tried */
    struct mon_bucket {
        char *action; /* NULL: any */
        size_t *rules;
        size_t n;
    } *by_action;
    size_t nbuckets;
};

/* Whether a detection rule matches an event. */
bool mon_rule_matches(const struct mon_rules *rs, const struct mon_rule *r,
                      const struct mon_event *ev);
/* The detection rules to try for an action (the bucket of any action included by the caller). */
const struct mon_bucket *mon_rules_bucket(const struct mon_rules *rs, const char *action);

#endif
