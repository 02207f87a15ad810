/* SPDX-License-Identifier: Apache-2.0 */
/* Conditions (`when:`) from YAML. Each keyword is one entry of the table below, with its parser and
 * the anchor of its documentation in docs/policy.md; the evaluator is in policy-pred-eval.c. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/yamltree.h"
#include "policy/policy-int.h"

#include "core/banned.h"

#define POL_MAX_DEPTH 16

typedef int (*pred_parse_fn)(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr);

struct pred_keyword {
    const char *name;
    enum pol_pred_kind kind;
    bool about_event; /* not allowed in tier conditions, which depend on the data alone */
    pred_parse_fn parse;
    const char *doc; /* anchor in docs/policy.md */
};

void pol_findings_sel_init(struct pol_findings_sel *sel)
{
    memset(sel, 0, sizeof(*sel));
    sel->masked = -1;
    sel->minor = -1;
    sel->terms = -1;
    sel->min = 1;
    sel->max = UINT32_MAX;
}

/* ---- value checks ---- */

static int check_type(struct pol_parser *ps, const struct ynode *item)
{
    size_t n = barra_detector_type_count(ps->detector);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(barra_detector_type_name(ps->detector, i), item->value) == 0) {
            return 0;
        }
    }
    return pol_fail(ps, item, "unknown finding type \"%s\" (docs/entities.md lists them)",
                    item->value);
}

static int check_category(struct pol_parser *ps, const struct ynode *item)
{
    size_t n = barra_detector_type_count(ps->detector);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(barra_detector_type_category(ps->detector, i), item->value) == 0) {
            return 0;
        }
    }
    return pol_fail(ps, item, "unknown category \"%s\" (docs/entities.md lists them)", item->value);
}

static int check_jurisdiction(struct pol_parser *ps, const struct ynode *item)
{
    static const char *const ok[] = {"cn", "hk", "mo", "tw", "unknown"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (strcmp(ok[i], item->value) == 0) {
            return 0;
        }
    }
    return pol_fail(ps, item, "unknown jurisdiction \"%s\" (cn, hk, mo, tw or unknown)",
                    item->value);
}

/* Regions are lowercase codes such as mo, hk, sg, cn-mainland, us-east. */
static int check_region(struct pol_parser *ps, const struct ynode *item)
{
    const char *s = item->value;
    bool ok = islower((unsigned char)s[0]) && islower((unsigned char)s[1]);
    for (size_t i = 2; ok && s[i]; i++) {
        ok = islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
             (s[i] == '-' && s[i + 1] != '\0' && s[i - 1] != '-');
    }
    if (!ok || (s[2] != '\0' && s[2] != '-')) {
        return pol_fail(ps, item,
                        "region \"%s\" is not a lowercase region code such as mo, hk, sg or "
                        "cn-mainland",
                        s);
    }
    return 0;
}

/* ---- keyword parsers ---- */

static int parse_tier(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    const struct barra_policy *p = ps->p;
    const struct ynode *name = n;
    int op = 0; /* 0 exactly, 1 at least, -1 at most */
    if (n->kind == YNODE_MAP) {
        static const char *const keys[] = {"at_least", "at_most", NULL};
        int r = pol_check_keys(ps, n, "tier", keys);
        if (r < 0) {
            return r;
        }
        if (n->n != 2) {
            return pol_fail(ps, n, "tier takes one of at_least or at_most");
        }
        op = strcmp(n->items[0]->value, "at_least") == 0 ? 1 : -1;
        name = n->items[1];
    }
    const struct ynode *const *list = &name;
    size_t count = op == 0 ? ytree_as_list(&name, &list) : 1; /* at_least/at_most take one */
    if (count == 0) {
        return pol_fail(ps, name, "tier needs at least one tier name");
    }
    for (size_t k = 0; k < count; k++) {
        const struct ynode *it = list[k];
        if (it->kind != YNODE_SCALAR) {
            return pol_fail(ps, it, "a tier is named by a scalar, not %s",
                            ytree_kind_name(it->kind));
        }
        uint32_t t = 0;
        while (t < p->ntiers && strcmp(p->tiers[t].name, it->value) != 0) {
            t++;
        }
        if (t == p->ntiers) {
            return pol_fail(ps, it, "unknown tier \"%s\"", it->value);
        }
        uint32_t all = p->ntiers == 32 ? UINT32_MAX : (1u << p->ntiers) - 1;
        if (op == 0) {
            pr->u.tiers |= 1u << t;
        } else if (op > 0) {
            pr->u.tiers = all & ~((1u << t) - 1);
        } else {
            pr->u.tiers = t == 31 ? UINT32_MAX : (1u << (t + 1)) - 1;
        }
    }
    return 0;
}

static int parse_bool(struct pol_parser *ps, const struct ynode *n, const char *what, int8_t *ret)
{
    if (n->kind == YNODE_SCALAR && strcmp(n->value, "true") == 0) {
        *ret = 1;
        return 0;
    }
    if (n->kind == YNODE_SCALAR && strcmp(n->value, "false") == 0) {
        *ret = 0;
        return 0;
    }
    return pol_fail(ps, n, "%s must be true or false", what);
}

static int parse_uint(struct pol_parser *ps, const struct ynode *n, const char *what, uint64_t max,
                      uint64_t *ret)
{
    if (n->kind != YNODE_SCALAR || !isdigit((unsigned char)n->value[0])) {
        return pol_fail(ps, n, "%s must be a whole number", what);
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(n->value, &end, 10);
    if (*end != '\0' || errno != 0 || v > max) {
        return pol_fail(ps, n, "%s must be a whole number from 0 to %llu", what,
                        (unsigned long long)max);
    }
    *ret = v;
    return 0;
}

/* count: N (at least N) or {min: N, max: M}. */
static int parse_count(struct pol_parser *ps, const struct ynode *n, struct pol_findings_sel *sel)
{
    uint64_t v = 0;
    int r;
    if (n->kind == YNODE_SCALAR) {
        r = parse_uint(ps, n, "count", UINT32_MAX, &v);
        sel->min = (uint32_t)v;
        return r;
    }
    static const char *const keys[] = {"min", "max", NULL};
    r = pol_check_keys(ps, n, "count", keys);
    if (r < 0) {
        return r;
    }
    const struct ynode *lo = ytree_get(n, "min"), *hi = ytree_get(n, "max");
    if (lo == NULL && hi == NULL) {
        return pol_fail(ps, n, "count needs min, max or both");
    }
    sel->min = 0;
    if (lo && (r = parse_uint(ps, lo, "count.min", UINT32_MAX, &v)) < 0) {
        return r;
    }
    sel->min = lo ? (uint32_t)v : 0;
    if (hi && (r = parse_uint(ps, hi, "count.max", UINT32_MAX, &v)) < 0) {
        return r;
    }
    sel->max = hi ? (uint32_t)v : UINT32_MAX;
    if (sel->min > sel->max) {
        return pol_fail(ps, n, "count.min is greater than count.max");
    }
    return 0;
}

static int parse_score(struct pol_parser *ps, const struct ynode *n, double *ret)
{
    const struct ynode *v = n;
    if (n->kind == YNODE_MAP) {
        static const char *const keys[] = {"min", NULL};
        int r = pol_check_keys(ps, n, "score", keys);
        if (r < 0) {
            return r;
        }
        v = ytree_get(n, "min");
        if (v == NULL) {
            return pol_fail(ps, n, "score needs min");
        }
    }
    char *end = NULL;
    double d = v->kind == YNODE_SCALAR ? strtod(v->value, &end) : -1;
    if (end == NULL || end == v->value || *end != '\0' || !(d >= 0 && d <= 1)) {
        return pol_fail(ps, v, "a score is a number from 0 to 1");
    }
    *ret = d;
    return 0;
}

int pol_parse_findings_sel(struct pol_parser *ps, const struct ynode *n,
                           struct pol_findings_sel *sel)
{
    static const char *const keys[] = {"types", "categories", "jurisdictions", "masked", "minor",
                                       "kind",  "min_score",  "count",         NULL};
    int r = pol_check_keys(ps, n, "findings", keys);
    for (size_t i = 0; r == 0 && i < n->n / 2; i++) {
        const char *k = n->items[2 * i]->value;
        const struct ynode *v = n->items[2 * i + 1];
        if (strcmp(k, "types") == 0) {
            r = pol_parse_set(ps, v, "types", check_type, false, &sel->types);
        } else if (strcmp(k, "categories") == 0) {
            r = pol_parse_set(ps, v, "categories", check_category, false, &sel->categories);
        } else if (strcmp(k, "jurisdictions") == 0) {
            ps->p->uses_jurisdictions = true;
            r = pol_parse_set(ps, v, "jurisdictions", check_jurisdiction, false,
                              &sel->jurisdictions);
        } else if (strcmp(k, "masked") == 0) {
            r = parse_bool(ps, v, "masked", &sel->masked);
        } else if (strcmp(k, "minor") == 0) {
            r = parse_bool(ps, v, "minor", &sel->minor);
        } else if (strcmp(k, "kind") == 0) {
            if (v->kind == YNODE_SCALAR && strcmp(v->value, "identifier") == 0) {
                sel->terms = 0;
            } else if (v->kind == YNODE_SCALAR && strcmp(v->value, "term") == 0) {
                sel->terms = 1;
            } else {
                r = pol_fail(ps, v, "findings kind is identifier or term");
            }
        } else if (strcmp(k, "min_score") == 0) {
            r = parse_score(ps, v, &sel->min_score);
        } else {
            r = parse_count(ps, v, sel);
        }
    }
    return r;
}

static int parse_findings(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    pol_findings_sel_init(&pr->u.findings);
    if (n->kind != YNODE_MAP) {
        return pol_fail(ps, n, "findings takes a mapping, not %s", ytree_kind_name(n->kind));
    }
    return pol_parse_findings_sel(ps, n, &pr->u.findings);
}

/* Shorthands for one-key findings selectors: `types: [...]` means findings: {types: [...]}. */
static int parse_types(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    pol_findings_sel_init(&pr->u.findings);
    return pol_parse_set(ps, n, "types", check_type, false, &pr->u.findings.types);
}

static int parse_categories(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    pol_findings_sel_init(&pr->u.findings);
    return pol_parse_set(ps, n, "categories", check_category, false, &pr->u.findings.categories);
}

static int parse_jurisdictions(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    pol_findings_sel_init(&pr->u.findings);
    ps->p->uses_jurisdictions = true;
    return pol_parse_set(ps, n, "jurisdictions", check_jurisdiction, false,
                         &pr->u.findings.jurisdictions);
}

static int parse_count_pred(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    pol_findings_sel_init(&pr->u.findings);
    return parse_count(ps, n, &pr->u.findings);
}

static int parse_score_pred(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    pol_findings_sel_init(&pr->u.findings);
    return parse_score(ps, n, &pr->u.findings.min_score);
}

static int parse_masked(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    pol_findings_sel_init(&pr->u.findings);
    return parse_bool(ps, n, "masked", &pr->u.findings.masked);
}

static int parse_minor(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    pol_findings_sel_init(&pr->u.findings);
    int r = parse_bool(ps, n, "minor", &pr->u.findings.minor);
    if (r == 0 && pr->u.findings.minor == 0) {
        /* "no finding of a minor" is written not: {minor: true}. */
        return pol_fail(ps, n, "minor: false is not a condition; write not: {minor: true}");
    }
    return r;
}

/* A set of enum values named by words: kind, direction, conversation type. */
static int parse_enum_mask(struct pol_parser *ps, const struct ynode *n, const char *what,
                           const char *const *names, uint32_t *ret)
{
    const struct ynode *const *list;
    size_t count = ytree_as_list(&n, &list);
    if (count == 0) {
        return pol_fail(ps, n, "%s needs at least one value", what);
    }
    for (size_t k = 0; k < count; k++) {
        const struct ynode *it = list[k];
        size_t i = 0;
        while (it->kind == YNODE_SCALAR && names[i] && strcmp(names[i], it->value) != 0) {
            i++;
        }
        if (it->kind != YNODE_SCALAR || names[i] == NULL) {
            char allowed[200] = "";
            size_t used = 0;
            for (size_t j = 0; names[j] && used < sizeof(allowed); j++) {
                if (names[j][0] != '\0') {
                    int w = snprintf(allowed + used, sizeof(allowed) - used, "%s%s",
                                     used ? ", " : "", names[j]);
                    used += w > 0 ? (size_t)w : 0;
                }
            }
            return pol_fail(ps, it, "%s is one of: %s", what, allowed);
        }
        *ret |= 1u << i;
    }
    return 0;
}

static int parse_kind(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    static const char *const names[] = {"message", "file", NULL};
    return parse_enum_mask(ps, n, "kind", names, &pr->u.mask);
}

static int parse_direction(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    /* Index 0 is "unknown", which a policy cannot ask for: a missing field never matches. */
    static const char *const names[] = {"", "inbound", "outbound", "internal", NULL};
    return parse_enum_mask(ps, n, "direction", names, &pr->u.mask);
}

static int parse_source(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    return pol_parse_set(ps, n, "source", NULL, true, &pr->u.set);
}

static int want_map(struct pol_parser *ps, const struct ynode *n, const char *what,
                    const char *const *keys)
{
    if (n->kind != YNODE_MAP) {
        return pol_fail(ps, n, "%s takes a mapping, not %s", what, ytree_kind_name(n->kind));
    }
    int r = pol_check_keys(ps, n, what, keys);
    if (r == 0 && n->n == 0) {
        return pol_fail(ps, n, "%s is empty", what);
    }
    return r;
}

static int parse_conversation(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    static const char *const keys[] = {"type", "id", NULL};
    static const char *const types[] = {"", "direct", "group", "external_group", NULL};
    int r = want_map(ps, n, "conversation", keys);
    const struct ynode *t = ytree_get(n, "type"), *id = ytree_get(n, "id");
    if (r == 0 && t) {
        r = parse_enum_mask(ps, t, "conversation type", types, &pr->u.conversation.types);
    }
    if (r == 0 && id) {
        r = pol_parse_set(ps, id, "conversation id", NULL, false, &pr->u.conversation.ids);
    }
    return r;
}

static int parse_party(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    static const char *const keys[] = {"id", "department", "role", NULL};
    const char *what = pr->kind == PRED_SENDER ? "sender" : "recipient";
    int r = want_map(ps, n, what, keys);
    const struct ynode *id = ytree_get(n, "id"), *dep = ytree_get(n, "department"),
                       *role = ytree_get(n, "role");
    if (r == 0 && id) {
        r = pol_parse_set(ps, id, "id", NULL, false, &pr->u.party.ids);
    }
    if (r == 0 && dep) {
        r = pol_parse_set(ps, dep, "department", NULL, true, &pr->u.party.departments);
    }
    if (r == 0 && role) {
        r = pol_parse_set(ps, role, "role", NULL, true, &pr->u.party.roles);
    }
    return r;
}

static int parse_destination(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    static const char *const keys[] = {"platform", "region", NULL};
    int r = want_map(ps, n, "destination", keys);
    const struct ynode *pl = ytree_get(n, "platform"), *rg = ytree_get(n, "region");
    if (r == 0 && pl) {
        r = pol_parse_set(ps, pl, "platform", NULL, true, &pr->u.destination.platforms);
    }
    if (r == 0 && rg) {
        r = pol_parse_set(ps, rg, "region", check_region, true, &pr->u.destination.regions);
    }
    return r;
}

/* Sizes: 1048576, 500KB, 10MB, 2GB (powers of 1000) or 10KiB, 10MiB, 2GiB (powers of 1024). */
static int parse_size(struct pol_parser *ps, const struct ynode *n, uint64_t *ret)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = n->kind == YNODE_SCALAR && isdigit((unsigned char)n->value[0])
                               ? strtoull(n->value, &end, 10)
                               : 0;
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = {
        {"", 1},           {"B", 1},           {"KB", 1000},
        {"MB", 1000000},   {"GB", 1000000000}, {"KiB", 1u << 10},
        {"MiB", 1u << 20}, {"GiB", 1u << 30},
    };
    if (end != NULL && errno == 0) {
        while (*end == ' ') {
            end++;
        }
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            if (strcmp(end, units[i].suffix) == 0 && v <= UINT64_MAX / units[i].mult) {
                *ret = v * units[i].mult;
                return 0;
            }
        }
    }
    return pol_fail(ps, n,
                    "a size is a number of bytes, optionally with KB, MB, GB, KiB, MiB or "
                    "GiB");
}

static int parse_file(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    static const char *const keys[] = {"type", "size", NULL};
    int r = want_map(ps, n, "file", keys);
    const struct ynode *t = ytree_get(n, "type"), *s = ytree_get(n, "size");
    pr->u.file.max_size = UINT64_MAX;
    if (r == 0 && t) {
        r = pol_parse_set(ps, t, "file type", NULL, true, &pr->u.file.types);
    }
    if (r == 0 && s) {
        static const char *const skeys[] = {"min", "max", NULL};
        r = want_map(ps, s, "file size", skeys);
        const struct ynode *lo = ytree_get(s, "min"), *hi = ytree_get(s, "max");
        if (r == 0 && lo) {
            r = parse_size(ps, lo, &pr->u.file.min_size);
        }
        if (r == 0 && hi) {
            r = parse_size(ps, hi, &pr->u.file.max_size);
        }
        if (r == 0 && pr->u.file.min_size > pr->u.file.max_size) {
            r = pol_fail(ps, s, "file size min is greater than max");
        }
    }
    return r;
}

/* "HH:MM" -> minutes after midnight. */
static bool parse_clock(const char *s, size_t n, int32_t *ret)
{
    if (n != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
        !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4])) {
        return false;
    }
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0)) {
        return false;
    }
    *ret = h * 60 + m;
    return true;
}

static int parse_offset(struct pol_parser *ps, const struct ynode *n, int32_t *ret)
{
    const char *s = n->kind == YNODE_SCALAR ? n->value : "";
    int32_t mins;
    if ((s[0] == '+' || s[0] == '-') && parse_clock(s + 1, strlen(s + 1), &mins) &&
        mins <= 14 * 60) {
        *ret = s[0] == '-' ? -mins : mins;
        return 0;
    }
    return pol_fail(ps, n, "utc_offset is written +HH:MM or -HH:MM, e.g. +08:00");
}

static int parse_time(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    static const char *const keys[] = {"hours", "days", "utc_offset", NULL};
    int r = want_map(ps, n, "time", keys);
    if (r < 0) {
        return r;
    }
    const struct ynode *h = ytree_get(n, "hours"), *d = ytree_get(n, "days"),
                       *o = ytree_get(n, "utc_offset");
    pr->u.time.from = 0;
    pr->u.time.to = 24 * 60;
    pr->u.time.days = 0x7f;
    pr->u.time.offset = 8 * 60; /* Macau, Hong Kong and the mainland: UTC+8, no summer time */
    if (h) {
        const char *s = h->kind == YNODE_SCALAR ? h->value : "";
        const char *dash = strchr(s, '-');
        if (dash == NULL || !parse_clock(s, (size_t)(dash - s), &pr->u.time.from) ||
            !parse_clock(dash + 1, strlen(dash + 1), &pr->u.time.to) ||
            pr->u.time.from == pr->u.time.to) {
            return pol_fail(ps, h,
                            "hours is a range HH:MM-HH:MM such as 09:00-18:00 or 20:00-07:00");
        }
    }
    if (d) {
        static const char *const names[] = {"mon", "tue", "wed",      "thu",     "fri",
                                            "sat", "sun", "weekdays", "weekend", NULL};
        uint32_t mask = 0;
        r = parse_enum_mask(ps, d, "day", names, &mask);
        if (r < 0) {
            return r;
        }
        pr->u.time.days = (uint8_t)((mask & 0x7f) | (mask & (1u << 7) ? 0x1f : 0) |
                                    (mask & (1u << 8) ? 0x60 : 0));
    }
    if (o) {
        r = parse_offset(ps, o, &pr->u.time.offset);
    }
    return r;
}

static int parse_consent(struct pol_parser *ps, const struct ynode *n, struct pol_pred *pr)
{
    static const char *const keys[] = {"purpose", "state", "of", NULL};
    static const char *const states[] = {"missing",   "granted", "refused",
                                         "withdrawn", "expired", NULL};
    int r = want_map(ps, n, "consent", keys);
    if (r < 0) {
        return r;
    }
    const struct ynode *pu = ytree_get(n, "purpose"), *st = ytree_get(n, "state"),
                       *of = ytree_get(n, "of");
    if (pu == NULL || pu->kind != YNODE_SCALAR || pu->value[0] == '\0') {
        return pol_fail(ps, pu ? pu : n, "consent needs a purpose, e.g. cross_border");
    }
    for (const char *c = pu->value; *c; c++) {
        if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_') {
            return pol_fail(ps, pu,
                            "a consent purpose is written in lowercase letters, digits "
                            "and underscores");
        }
    }
    struct barra_policy *p = ps->p;
    uint32_t k = 0;
    while (k < p->npurposes && strcmp(p->purposes[k], pu->value) != 0) {
        k++;
    }
    if (k == POL_MAX_PURPOSES) {
        return pol_fail(ps, pu, "a policy may ask about at most %d consent purposes",
                        POL_MAX_PURPOSES);
    }
    if (k == p->npurposes) {
        if ((p->purposes[k] = barra_strdup(pu->value)) == NULL) {
            return pol_oom(ps);
        }
        p->npurposes++;
    }
    pr->u.consent.purpose = k;
    pr->u.consent.states = 1u << BARRA_CONSENT_GRANTED;
    if (st) {
        pr->u.consent.states = 0;
        r = parse_enum_mask(ps, st, "consent state", states, &pr->u.consent.states);
        if (r < 0) {
            return r;
        }
    }
    pr->u.consent.all = true;
    if (of) {
        if (of->kind == YNODE_SCALAR && strcmp(of->value, "any") == 0) {
            pr->u.consent.all = false;
        } else if (of->kind != YNODE_SCALAR || strcmp(of->value, "all") != 0) {
            return pol_fail(ps, of, "consent of is all or any");
        }
    }
    return 0;
}

static const struct pred_keyword keywords[] = {
    {"all", PRED_ALL, false, NULL, "all-any-not"},
    {"any", PRED_ANY, false, NULL, "all-any-not"},
    {"not", PRED_NOT, false, NULL, "all-any-not"},
    {"tier", PRED_TIER, false, parse_tier, "tier"},
    {"findings", PRED_FINDINGS, false, parse_findings, "findings"},
    {"types", PRED_FINDINGS, false, parse_types, "findings"},
    {"categories", PRED_FINDINGS, false, parse_categories, "findings"},
    {"jurisdictions", PRED_FINDINGS, false, parse_jurisdictions, "findings"},
    {"count", PRED_FINDINGS, false, parse_count_pred, "findings"},
    {"score", PRED_FINDINGS, false, parse_score_pred, "findings"},
    {"masked", PRED_FINDINGS, false, parse_masked, "findings"},
    {"minor", PRED_FINDINGS, false, parse_minor, "findings"},
    {"kind", PRED_KIND, true, parse_kind, "kind"},
    {"source", PRED_SOURCE, true, parse_source, "source"},
    {"conversation", PRED_CONVERSATION, true, parse_conversation, "conversation"},
    {"sender", PRED_SENDER, true, parse_party, "sender-recipient"},
    {"recipient", PRED_RECIPIENT, true, parse_party, "sender-recipient"},
    {"destination", PRED_DESTINATION, true, parse_destination, "destination"},
    {"direction", PRED_DIRECTION, true, parse_direction, "direction"},
    {"file", PRED_FILE, true, parse_file, "file"},
    {"time", PRED_TIME, true, parse_time, "time"},
    {"consent", PRED_CONSENT, true, parse_consent, "consent"},
};

static const struct pred_keyword *find_keyword(const char *name)
{
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
        if (strcmp(keywords[i].name, name) == 0) {
            return &keywords[i];
        }
    }
    return NULL;
}

static int parse_node(struct pol_parser *ps, const struct ynode *n, bool in_tier, int depth,
                      struct pol_pred **ret);

static struct pol_pred *new_pred(struct pol_parser *ps, enum pol_pred_kind kind,
                                 const struct ynode *n)
{
    struct pol_pred *pr = pol_arena_alloc(ps->p, 1, sizeof(*pr));
    if (pr) {
        pr->kind = kind;
        pr->line = n->line;
        pr->column = n->column;
    }
    return pr;
}

/* How much a condition costs to evaluate, in classes: the event's own fields, then its symbols
 * (looked up once per decision), then the findings (each one visited), then the consent
 * registry (a call outside). */
static int cost_class(const struct pol_pred *pr)
{
    switch (pr->kind) {
    case PRED_TIER:
    case PRED_KIND:
    case PRED_DIRECTION:
    case PRED_CONVERSATION:
    case PRED_TIME:
        return 0;
    case PRED_SOURCE:
    case PRED_SENDER:
    case PRED_RECIPIENT:
    case PRED_DESTINATION:
    case PRED_FILE:
        return 1;
    case PRED_FINDINGS:
        return 2;
    case PRED_CONSENT:
        return 3;
    case PRED_ALL:
    case PRED_ANY:
    case PRED_NOT:
        break;
    }
    int worst = 0;
    for (uint32_t i = 0; i < pr->u.list.n; i++) {
        int k = cost_class(pr->u.list.kids[i]);
        worst = k > worst ? k : worst;
    }
    return worst;
}

/* The evaluation order of a list: cheapest first, so that an ALL that fails on the event does
 * not visit the findings, and the registry is asked last. The outcome does not depend on the
 * order; the reasons, given in the order written, do not either. */
static int order_kids(struct pol_parser *ps, struct pol_pred *pr)
{
    uint32_t n = pr->u.list.n;
    pr->u.list.order = pol_arena_alloc(ps->p, n, sizeof(*pr->u.list.order));
    if (pr->u.list.order == NULL) {
        return pol_oom(ps);
    }
    uint32_t k = 0;
    for (int cls = 0; cls <= 3; cls++) {
        for (uint32_t i = 0; i < n; i++) {
            if (cost_class(pr->u.list.kids[i]) == cls) {
                pr->u.list.order[k++] = pr->u.list.kids[i];
            }
        }
    }
    return 0;
}

/* all: [..], any: [..] and not: {..}; a list under not means none of them. */
static int parse_combinator(struct pol_parser *ps, const struct pred_keyword *kw,
                            const struct ynode *v, bool in_tier, int depth, struct pol_pred *pr)
{
    const struct ynode *const *items;
    size_t count = ytree_as_list(&v, &items);
    if (v->kind != YNODE_SEQ && kw->kind != PRED_NOT) {
        return pol_fail(ps, v, "%s takes a list of conditions", kw->name);
    }
    if (count == 0) {
        return pol_fail(ps, v, "%s has no conditions", kw->name);
    }
    pr->u.list.kids = pol_arena_alloc(ps->p, count, sizeof(*pr->u.list.kids));
    if (pr->u.list.kids == NULL) {
        return pol_oom(ps);
    }
    for (size_t i = 0; i < count; i++) {
        int r = parse_node(ps, items[i], in_tier, depth + 1, &pr->u.list.kids[i]);
        if (r < 0) {
            return r;
        }
        pr->u.list.n++;
    }
    return order_kids(ps, pr);
}

static int parse_entry(struct pol_parser *ps, const struct ynode *key, const struct ynode *v,
                       bool in_tier, int depth, struct pol_pred **ret)
{
    const struct pred_keyword *kw = find_keyword(key->value);
    if (kw == NULL) {
        return pol_fail(ps, key, "unknown condition \"%s\" (docs/policy.md lists them)",
                        key->value);
    }
    if (in_tier && kw->about_event) {
        return pol_fail(ps, key,
                        "a tier depends on the data alone; \"%s\" is about the event, so put it "
                        "in a rule",
                        kw->name);
    }
    if (in_tier && kw->kind == PRED_TIER) {
        return pol_fail(ps, key, "a tier cannot depend on the tier");
    }
    struct pol_pred *pr = new_pred(ps, kw->kind, key);
    if (pr == NULL) {
        return pol_oom(ps);
    }
    int r = kw->parse ? kw->parse(ps, v, pr) : parse_combinator(ps, kw, v, in_tier, depth, pr);
    if (r < 0) {
        return r; /* pr stays in the arena, freed with the policy */
    }
    *ret = pr;
    return 0;
}

/* A mapping of conditions; several keys must all hold. */
static int parse_node(struct pol_parser *ps, const struct ynode *n, bool in_tier, int depth,
                      struct pol_pred **ret)
{
    if (depth > POL_MAX_DEPTH) {
        return pol_fail(ps, n, "conditions are nested more than %d deep", POL_MAX_DEPTH);
    }
    if (n->kind != YNODE_MAP) {
        return pol_fail(ps, n, "a condition is a mapping such as {types: [cn_resident_id]}, not %s",
                        ytree_kind_name(n->kind));
    }
    if (n->n == 0) {
        return pol_fail(ps, n, "empty condition");
    }
    if (n->n == 2) {
        return parse_entry(ps, n->items[0], n->items[1], in_tier, depth, ret);
    }
    struct pol_pred *all = new_pred(ps, PRED_ALL, n);
    if (all == NULL ||
        (all->u.list.kids = pol_arena_alloc(ps->p, n->n / 2, sizeof(struct pol_pred *))) == NULL) {
        return pol_oom(ps);
    }
    for (size_t i = 0; i < n->n / 2; i++) {
        int r = parse_entry(ps, n->items[2 * i], n->items[2 * i + 1], in_tier, depth,
                            &all->u.list.kids[i]);
        if (r < 0) {
            return r;
        }
        all->u.list.n++;
    }
    *ret = all;
    return order_kids(ps, all);
}

int pol_pred_parse(struct pol_parser *ps, const struct ynode *n, bool in_tier,
                   struct pol_pred **ret)
{
    return parse_node(ps, n, in_tier, 0, ret);
}
