/* SPDX-License-Identifier: Apache-2.0 */
/* Evaluating conditions against an event and its findings, and saying why they held. Deciding runs
 * without `why` and compares only integers; explaining runs again with it for the rules that fired.
 * Reasons describe what was seen (types, counts, departments, regions), never a matched value. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "policy/policy-int.h"

#include "core/banned.h"

static void reason(struct buf *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reason(struct buf *why, const char *fmt, ...)
{
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0) {
        /* Reasons are best effort: a full buffer loses the tail, never the decision. */
        (void)buf_append(why, line, strlen(line) + 1);
    }
}

static const char *sym_name(const struct pol_ctx *c, uint32_t id)
{
    return id < c->p->syms.n ? c->p->syms.names[id] : "?";
}

/* The members of a set, for messages: "hr, finance". */
static void set_text(const struct pol_ctx *c, const struct pol_set *s, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < s->n && used < cap; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", sym_name(c, s->ids[i]));
        used += w > 0 ? (size_t)w : 0;
    }
}

bool pol_finding_selected(const struct pol_findings_sel *sel, const struct pol_ctx_finding *f)
{
    uint32_t flags = f->f->flags;
    if (sel->types.n && !pol_set_has(&sel->types, f->type)) {
        return false;
    }
    if (sel->categories.n && !pol_set_has(&sel->categories, f->category)) {
        return false;
    }
    if (sel->jurisdictions.n && !pol_set_has(&sel->jurisdictions, f->jurisdiction)) {
        return false;
    }
    if (sel->masked >= 0 && (int)((flags & BARRA_FINDING_MASKED) != 0) != sel->masked) {
        return false;
    }
    if (sel->minor > 0 && !(flags & BARRA_FINDING_MINOR)) {
        return false;
    }
    if (sel->terms >= 0 && (int)((flags & BARRA_FINDING_TERM) != 0) != sel->terms) {
        return false;
    }
    return f->f->score >= sel->min_score;
}

uint32_t pol_findings_count(const struct pol_findings_sel *sel, const struct pol_ctx *c)
{
    uint32_t n = 0;
    for (size_t i = 0; i < c->nfindings; i++) {
        n += pol_finding_selected(sel, &c->findings[i]);
    }
    return n;
}

static bool eval_findings(const struct pol_findings_sel *sel, const struct pol_ctx *c,
                          struct buf *why)
{
    uint32_t n = pol_findings_count(sel, c);
    bool ok = n >= sel->min && n <= sel->max;
    if (why) {
        char what[300] = "", types[200] = "";
        size_t used = 0;
        const struct pol_set *sets[] = {&sel->types, &sel->categories, &sel->jurisdictions};
        for (size_t k = 0; k < 3; k++) {
            if (sets[k]->n) {
                char list[200];
                set_text(c, sets[k], list, sizeof(list));
                int w = snprintf(what + used, sizeof(what) - used, "%s%s", used ? "; " : "", list);
                used += w > 0 && (size_t)w < sizeof(what) - used ? (size_t)w : 0;
            }
        }
        /* The distinct types that were counted. */
        size_t tu = 0;
        for (size_t i = 0; i < c->nfindings && tu < sizeof(types); i++) {
            const struct pol_ctx_finding *f = &c->findings[i];
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++) {
                seen = c->findings[j].f->type == f->f->type &&
                       pol_finding_selected(sel, &c->findings[j]);
            }
            if (!seen && pol_finding_selected(sel, f)) {
                int w =
                    snprintf(types + tu, sizeof(types) - tu, "%s%s", tu ? ", " : "", f->f->type);
                tu += w > 0 ? (size_t)w : 0;
            }
        }
        char bounds[64];
        if (sel->max == UINT32_MAX) {
            (void)snprintf(bounds, sizeof(bounds), "at least %u", sel->min);
        } else {
            (void)snprintf(bounds, sizeof(bounds), "%u to %u", sel->min, sel->max);
        }
        reason(why, "%u finding%s%s%s (needs %s)%s%s", n, n == 1 ? "" : "s", what[0] ? " of " : "",
               what, bounds, types[0] ? ": " : "", types);
    }
    return ok;
}

static bool eval_set_field(uint32_t id, const char *value, const struct pol_set *set,
                           const char *field, const struct pol_ctx *c, struct buf *why)
{
    bool ok = id != POL_NO_SYM && pol_set_has(set, id);
    if (why) {
        char list[200];
        set_text(c, set, list, sizeof(list));
        if (value == NULL) {
            reason(why, "%s is not given (wanted %s)", field, list);
        } else {
            reason(why, "%s is \"%s\"%s %s", field, value, ok ? ", one of" : ", not", list);
        }
    }
    return ok;
}

static bool eval_party(const struct pol_party_sel *sel, const struct pol_party *party, uint32_t id,
                       uint32_t dep, uint32_t role, const char *who, const struct pol_ctx *c,
                       struct buf *why)
{
    char field[64];
    bool ok = true;
    if (sel->ids.n) {
        (void)snprintf(field, sizeof(field), "%s id", who);
        ok = eval_set_field(id, party->id, &sel->ids, field, c, why) && ok;
    }
    if (sel->departments.n && (ok || why)) {
        (void)snprintf(field, sizeof(field), "%s department", who);
        ok = eval_set_field(dep, party->department, &sel->departments, field, c, why) && ok;
    }
    if (sel->roles.n && (ok || why)) {
        (void)snprintf(field, sizeof(field), "%s role", who);
        ok = eval_set_field(role, party->role, &sel->roles, field, c, why) && ok;
    }
    return ok;
}

static uint32_t find_folded(const struct pol_syms *s, const char *name);
static uint32_t field(struct pol_ctx *c, enum pol_field f);

static bool eval_recipient(const struct pol_party_sel *sel, const struct pol_ctx *c,
                           struct buf *why)
{
    const struct barra_event *e = c->e;
    for (uint32_t i = 0; i < e->nrecipients; i++) {
        const struct pol_party *r = &e->recipients[i];
        if (eval_party(sel, r, pol_syms_find(&c->p->syms, r->id),
                       find_folded(&c->p->syms, r->department), find_folded(&c->p->syms, r->role),
                       "recipient", c, NULL)) {
            if (why) {
                char who[40];
                (void)snprintf(who, sizeof(who), "recipient %u", i + 1);
                (void)eval_party(sel, r, pol_syms_find(&c->p->syms, r->id),
                                 find_folded(&c->p->syms, r->department),
                                 find_folded(&c->p->syms, r->role), who, c, why);
            }
            return true;
        }
    }
    if (why) {
        reason(why, "none of the %u recipients matches", e->nrecipients);
    }
    return false;
}

/* Looks a name up the way the policy stored it: lowercase. */
static uint32_t find_folded(const struct pol_syms *s, const char *name)
{
    char low[256];
    size_t i = 0;
    if (name == NULL) {
        return POL_NO_SYM;
    }
    for (; name[i] && i < sizeof(low) - 1; i++) {
        char ch = name[i];
        low[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    if (name[i] != '\0') {
        return POL_NO_SYM; /* longer than any name a policy may hold */
    }
    low[i] = '\0';
    return pol_syms_find(s, low);
}

uint32_t pol_syms_find_folded(const struct pol_syms *s, const char *name)
{
    return find_folded(s, name);
}

static bool eval_time(const struct pol_pred *pr, const struct pol_ctx *c, struct buf *why)
{
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    if (!c->e->has_time) {
        if (why) {
            reason(why, "the event has no time");
        }
        return false;
    }
    int64_t local = c->e->time + (int64_t)pr->u.time.offset * 60;
    int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    int32_t minute = (int32_t)((local - day * 86400) / 60);
    int wday = (int)(((day % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday; 0 = Monday */
    int32_t from = pr->u.time.from, to = pr->u.time.to;
    /* A range past midnight (20:00-07:00) belongs to the day it starts on: 02:00 on Saturday is
     * Friday night. */
    bool in_hours, early = false;
    if (from < to) {
        in_hours = minute >= from && minute < to;
    } else {
        early = minute < to;
        in_hours = minute >= from || early;
    }
    int start_day = early ? (wday + 6) % 7 : wday;
    bool ok = in_hours && (pr->u.time.days & (1u << start_day));
    if (why) {
        int off = pr->u.time.offset < 0 ? -pr->u.time.offset : pr->u.time.offset;
        /* Early in a night range, say which night: the day the range started. */
        reason(why, "local time %s %02d:%02d (UTC%c%02d:%02d%s%s) is %s %02d:%02d-%02d:%02d%s",
               days[wday], minute / 60, minute % 60, pr->u.time.offset < 0 ? '-' : '+', off / 60,
               off % 60, early ? ", the night of " : "", early ? days[start_day] : "",
               ok ? "within" : "outside", from / 60, from % 60, to / 60, to % 60,
               pr->u.time.days == 0x7f ? "" : " on the chosen days");
    }
    return ok;
}

/* Consent lookups are remembered for the rest of the decision: rules often ask the same thing. */
static const struct pol_consent_memo *consent_memo(struct pol_ctx *c, uint32_t purpose)
{
    struct pol_consent_memo *m = &c->memo[purpose];
    if (*c->asked & (1u << purpose)) {
        return m;
    }
    *m = (struct pol_consent_memo){.purpose = c->p->purposes[purpose]};
    *c->asked |= (uint8_t)(1u << purpose);
    const struct barra_event *e = c->e;
    for (uint32_t i = 0; i < e->nsubjects; i++) {
        enum barra_consent_state st = BARRA_CONSENT_MISSING;
        if (c->consent && c->consent->lookup) {
            int r = c->consent->lookup(c->consent->userdata, e->subjects[i], m->purpose,
                                       e->has_time ? e->time : 0, &st);
            if (r < 0 || st > BARRA_CONSENT_EXPIRED) {
                m->err = r < 0 ? r : -BARRA_EINVAL;
                c->consent_err = m->err;
                break;
            }
        }
        m->states_seen |= 1u << st;
        m->granted += st == BARRA_CONSENT_GRANTED;
        m->total++;
    }
    return m;
}

static bool eval_consent(const struct pol_pred *pr, struct pol_ctx *c, struct buf *why)
{
    const struct pol_consent_memo *m = consent_memo(c, pr->u.consent.purpose);
    const char *purpose = m->purpose;
    bool ok;
    if (m->err < 0 || m->total == 0) {
        ok = false;
    } else if (pr->u.consent.all) {
        /* Every subject is in one of the wanted states. */
        ok = (m->states_seen & ~pr->u.consent.states) == 0;
    } else {
        ok = (m->states_seen & pr->u.consent.states) != 0;
    }
    if (why) {
        if (m->err < 0) {
            reason(why, "the consent registry could not answer for %s", purpose);
        } else if (m->total == 0) {
            reason(why, "the event names no data subjects, so no consent to %s is on record",
                   purpose);
        } else {
            char states[120] = "";
            size_t used = 0;
            for (int s = BARRA_CONSENT_MISSING; s <= BARRA_CONSENT_EXPIRED; s++) {
                if (m->states_seen & (1u << s)) {
                    int w = snprintf(states + used, sizeof(states) - used, "%s%s", used ? ", " : "",
                                     barra_consent_state_name((enum barra_consent_state)s));
                    used += w > 0 ? (size_t)w : 0;
                }
            }
            reason(why, "consent to %s: %u of %u data subjects granted (states seen: %s)", purpose,
                   m->granted, m->total, states);
        }
    }
    return ok;
}

static bool eval_mask(uint32_t mask, unsigned value, const char *field, const char *name,
                      struct buf *why)
{
    bool ok = (mask & (1u << value)) != 0;
    if (why) {
        if (value == 0 && strcmp(field, "kind") != 0) {
            reason(why, "%s is not given", field);
        } else {
            reason(why, "%s is %s", field, name);
        }
    }
    return ok;
}

static bool eval_file(const struct pol_pred *pr, struct pol_ctx *c, struct buf *why)
{
    const struct barra_event *e = c->e;
    bool ok = true;
    if (pr->u.file.types.n) {
        ok = eval_set_field(field(c, POL_F_FILE_TYPE), e->file_type, &pr->u.file.types, "file type",
                            c, why);
    }
    if ((pr->u.file.min_size > 0 || pr->u.file.max_size != UINT64_MAX) && (ok || why)) {
        bool in = e->has_file_size && e->file_size >= pr->u.file.min_size &&
                  e->file_size <= pr->u.file.max_size;
        if (why) {
            if (e->has_file_size) {
                reason(why, "file size %llu bytes is %s the range",
                       (unsigned long long)e->file_size, in ? "within" : "outside");
            } else {
                reason(why, "file size is not given");
            }
        }
        ok = ok && in;
    }
    return ok;
}

static bool eval_list(const struct pol_pred *pr, struct pol_ctx *c, struct buf *why)
{
    /* ALL ends at the first condition that fails, ANY at the first that holds; that condition
     * alone explains the outcome. Otherwise every condition does. */
    bool stop = pr->kind == PRED_ANY;
    struct pol_pred *const *kids = why ? pr->u.list.kids : pr->u.list.order;
    for (uint32_t i = 0; i < pr->u.list.n; i++) {
        if (pol_pred_eval(kids[i], c, NULL) == stop) {
            if (why) {
                (void)pol_pred_eval(kids[i], c, why);
            }
            return stop;
        }
    }
    if (why) {
        for (uint32_t i = 0; i < pr->u.list.n; i++) {
            (void)pol_pred_eval(pr->u.list.kids[i], c, why);
        }
    }
    return !stop;
}

static bool eval_not(const struct pol_pred *pr, struct pol_ctx *c, struct buf *why)
{
    bool any = false;
    for (uint32_t i = 0; i < pr->u.list.n && !any; i++) {
        any = pol_pred_eval(pr->u.list.order[i], c, NULL);
    }
    if (why) {
        struct buf inner;
        buf_init(&inner, 4096);
        for (uint32_t i = 0; i < pr->u.list.n; i++) {
            (void)pol_pred_eval(pr->u.list.kids[i], c, &inner);
        }
        for (size_t at = 0; at < inner.len; at += strlen(inner.data + at) + 1) {
            reason(why, "not: %s", inner.data + at);
        }
        buf_done(&inner);
    }
    return !any;
}

/* The symbol of an event field, looked up once per decision and only if a condition asks. */
static uint32_t field(struct pol_ctx *c, enum pol_field f)
{
    if (c->resolved & (1u << f)) {
        return c->field[f];
    }
    const struct pol_syms *s = &c->p->syms;
    const struct barra_event *e = c->e;
    uint32_t v = POL_NO_SYM;
    switch (f) {
    case POL_F_SOURCE:
        v = find_folded(s, e->source);
        break;
    case POL_F_CONVERSATION_ID:
        v = pol_syms_find(s, e->conversation_id);
        break;
    case POL_F_DEST_PLATFORM:
        v = find_folded(s, e->destination_platform);
        break;
    case POL_F_DEST_REGION:
        v = find_folded(s, e->destination_region);
        break;
    case POL_F_FILE_TYPE:
        v = find_folded(s, e->file_type);
        break;
    case POL_F_SENDER_ID:
        v = pol_syms_find(s, e->sender.id);
        break;
    case POL_F_SENDER_DEPARTMENT:
        v = find_folded(s, e->sender.department);
        break;
    case POL_F_SENDER_ROLE:
        v = find_folded(s, e->sender.role);
        break;
    case POL_NFIELDS:
        break;
    }
    c->field[f] = v;
    c->resolved |= 1u << f;
    return v;
}

bool pol_pred_needs_findings(const struct pol_pred *pr, uint32_t empty_tier)
{
    switch (pr->kind) {
    case PRED_FINDINGS:
        return pr->u.findings.min >= 1;
    case PRED_TIER:
        return (pr->u.tiers & (1u << empty_tier)) == 0;
    case PRED_ALL:
        for (uint32_t i = 0; i < pr->u.list.n; i++) {
            if (pol_pred_needs_findings(pr->u.list.kids[i], empty_tier)) {
                return true;
            }
        }
        return false;
    case PRED_ANY:
        for (uint32_t i = 0; i < pr->u.list.n; i++) {
            if (!pol_pred_needs_findings(pr->u.list.kids[i], empty_tier)) {
                return false;
            }
        }
        return true;
    default:
        return false; /* `not` included: it may hold precisely because nothing was found */
    }
}

uint64_t pol_type_bit(const struct barra_policy *p, uint32_t type_sym)
{
    for (uint32_t i = 0; i < p->ntypes; i++) {
        if (p->type_syms[i] == type_sym) {
            return (uint64_t)1 << i;
        }
    }
    return 0;
}

/* The types whose category is in the set. */
static uint64_t types_of_categories(const struct barra_policy *p, const struct pol_set *cats)
{
    uint64_t m = 0;
    for (uint32_t i = 0; i < p->ntypes; i++) {
        if (pol_set_has(cats, p->type_category_syms[i])) {
            m |= (uint64_t)1 << i;
        }
    }
    return m;
}

static int popcount(uint64_t v)
{
    return __builtin_popcountll(v);
}

uint64_t pol_pred_needs_types(const struct pol_pred *pr, const struct barra_policy *p)
{
    uint64_t all = p->ntypes == 64 ? UINT64_MAX : ((uint64_t)1 << p->ntypes) - 1;
    switch (pr->kind) {
    case PRED_FINDINGS: {
        const struct pol_findings_sel *sel = &pr->u.findings;
        if (sel->min < 1) {
            return 0;
        }
        uint64_t m = all;
        if (sel->categories.n) {
            m &= types_of_categories(p, &sel->categories);
        }
        if (sel->types.n) {
            uint64_t t = 0;
            for (uint32_t i = 0; i < sel->types.n; i++) {
                t |= pol_type_bit(p, sel->types.ids[i]);
            }
            m &= t;
        }
        return m ? m : all; /* an impossible selection: leave it to the evaluator */
    }
    case PRED_TIER:
        return (pr->u.tiers & (1u << p->empty_tier)) == 0 ? all : 0;
    case PRED_ALL: {
        /* Each condition must hold: the most selective one is a necessary condition. */
        uint64_t best = 0;
        for (uint32_t i = 0; i < pr->u.list.n; i++) {
            uint64_t m = pol_pred_needs_types(pr->u.list.kids[i], p);
            if (m && (best == 0 || popcount(m) < popcount(best))) {
                best = m;
            }
        }
        return best;
    }
    case PRED_ANY: {
        uint64_t m = 0;
        for (uint32_t i = 0; i < pr->u.list.n; i++) {
            uint64_t k = pol_pred_needs_types(pr->u.list.kids[i], p);
            if (k == 0) {
                return 0;
            }
            m |= k;
        }
        return m;
    }
    default:
        return 0;
    }
}

uint32_t pol_pred_tiers(const struct pol_pred *pr, uint32_t all)
{
    uint32_t m;
    switch (pr->kind) {
    case PRED_TIER:
        return pr->u.tiers;
    case PRED_ALL:
        m = all;
        for (uint32_t i = 0; i < pr->u.list.n; i++) {
            m &= pol_pred_tiers(pr->u.list.kids[i], all);
        }
        return m;
    case PRED_ANY:
        m = 0;
        for (uint32_t i = 0; i < pr->u.list.n; i++) {
            m |= pol_pred_tiers(pr->u.list.kids[i], all);
        }
        return m;
    default:
        return all;
    }
}

/* Only conditions that must hold for the whole rule to hold are used: the rule's condition itself
 * or the members of a top-level `all`. Each gives a necessary condition, never a sufficient one. */
static void gate_leaf(struct pol_rule_gate *g, const struct pol_pred *pr)
{
    switch (pr->kind) {
    case PRED_KIND:
        g->kinds = (uint8_t)(g->kinds ? g->kinds & pr->u.mask : pr->u.mask);
        break;
    case PRED_DIRECTION:
        g->directions = (uint8_t)(g->directions ? g->directions & pr->u.mask : pr->u.mask);
        break;
    case PRED_CONVERSATION:
        if (pr->u.conversation.types) {
            g->conversation_types =
                (uint8_t)(g->conversation_types ? g->conversation_types & pr->u.conversation.types
                                                : pr->u.conversation.types);
        }
        break;
    case PRED_DESTINATION:
        if (pr->u.destination.regions.n && g->regions == NULL) {
            g->regions = &pr->u.destination.regions;
        }
        break;
    case PRED_SENDER:
        if (pr->u.party.departments.n && g->departments == NULL) {
            g->departments = &pr->u.party.departments;
        }
        break;
    case PRED_RECIPIENT:
        g->needs_recipient = true;
        break;
    default:
        break;
    }
}

void pol_gate_from_event_conditions(struct pol_rule_gate *g, const struct pol_pred *when)
{
    if (when == NULL) {
        return;
    }
    if (when->kind != PRED_ALL) {
        gate_leaf(g, when);
        return;
    }
    for (uint32_t i = 0; i < when->u.list.n; i++) {
        gate_leaf(g, when->u.list.kids[i]);
    }
}

/* Whether letting the event through the gate guarantees condition pr (the rule's condition, or a
 * member of its top-level `all`). */
static bool gate_covers(const struct pol_rule_gate *g, const struct pol_pred *pr)
{
    switch (pr->kind) {
    case PRED_TIER:
        return (g->tiers & ~pr->u.tiers) == 0;
    case PRED_KIND:
        return g->kinds && (g->kinds & ~pr->u.mask) == 0;
    case PRED_DIRECTION:
        return g->directions && (g->directions & ~pr->u.mask) == 0;
    case PRED_CONVERSATION:
        return pr->u.conversation.ids.n == 0 && g->conversation_types &&
               (g->conversation_types & ~pr->u.conversation.types) == 0;
    case PRED_DESTINATION:
        return pr->u.destination.platforms.n == 0 && g->regions == &pr->u.destination.regions;
    case PRED_SENDER:
        return pr->u.party.ids.n == 0 && pr->u.party.roles.n == 0 &&
               g->departments == &pr->u.party.departments;
    default:
        return false;
    }
}

int pol_gate_rest(struct barra_policy *p, struct pol_rule_gate *g)
{
    const struct pol_pred *when = g->when;
    g->rest = NULL;
    if (when == NULL) {
        return 0;
    }
    if (when->kind != PRED_ALL) {
        g->rest = gate_covers(g, when) ? NULL : when;
        return 0;
    }
    uint32_t left = 0;
    for (uint32_t i = 0; i < when->u.list.n; i++) {
        left += !gate_covers(g, when->u.list.order[i]);
    }
    if (left == when->u.list.n) {
        g->rest = when;
        return 0;
    }
    if (left <= 1) {
        for (uint32_t i = 0; i < when->u.list.n; i++) {
            if (!gate_covers(g, when->u.list.order[i])) {
                g->rest = when->u.list.order[i];
            }
        }
        return 0;
    }
    struct pol_pred *rest = pol_arena_alloc(p, 1, sizeof(*rest));
    struct pol_pred **kids = pol_arena_alloc(p, left, sizeof(*kids));
    if (rest == NULL || kids == NULL) {
        return -BARRA_ENOMEM;
    }
    *rest = *when;
    rest->u.list.kids = rest->u.list.order = kids;
    rest->u.list.n = 0;
    for (uint32_t i = 0; i < when->u.list.n; i++) {
        if (!gate_covers(g, when->u.list.order[i])) {
            kids[rest->u.list.n++] = when->u.list.order[i];
        }
    }
    g->rest = rest;
    return 0;
}

void pol_rules_admitted(struct pol_ctx *c, uint64_t *out)
{
    const struct barra_policy *p = c->p;
    const struct barra_event *e = c->e;
    /* The event's symbols are looked up only when some gate names one. */
    uint32_t region = p->gates_on_region ? field(c, POL_F_DEST_REGION) : POL_NO_SYM;
    uint32_t dept = p->gates_on_department ? field(c, POL_F_SENDER_DEPARTMENT) : POL_NO_SYM;
    const uint64_t *by_region = region < p->syms.n && p->rules_by_region[region]
                                    ? p->rules_by_region[region]
                                    : p->rules_any_region;
    const uint64_t *by_dept = dept < p->syms.n && p->rules_by_department[dept]
                                  ? p->rules_by_department[dept]
                                  : p->rules_any_department;
    const uint64_t *kind = p->rules_by_kind[e->kind % POL_GATE_VALUES],
                   *conv = p->rules_by_conversation[e->conversation_type % POL_GATE_VALUES],
                   *dir = p->rules_by_direction[e->direction % POL_GATE_VALUES];
    for (uint32_t k = 0; k < p->rule_words; k++) {
        out[k] = kind[k] & conv[k] & dir[k] & by_region[k] & by_dept[k];
    }
    if (e->nrecipients == 0) {
        for (uint32_t k = 0; k < p->rule_words; k++) {
            out[k] &= p->rules_without_recipient[k];
        }
    }
}

uint32_t pol_assign_tier(struct pol_ctx *c)
{
    for (uint32_t t = c->p->ntiers; t-- > 1;) {
        if (pol_pred_eval(c->p->tiers[t].when, c, NULL)) {
            return t;
        }
    }
    return 0;
}

bool pol_pred_eval(const struct pol_pred *pr, struct pol_ctx *c, struct buf *why)
{
    const struct barra_event *e = c->e;
    switch (pr->kind) {
    case PRED_ALL:
    case PRED_ANY:
        return eval_list(pr, c, why);
    case PRED_NOT:
        return eval_not(pr, c, why);
    case PRED_TIER: {
        bool ok = (pr->u.tiers & (1u << c->tier)) != 0;
        if (why) {
            reason(why, "tier is %s", c->p->tiers[c->tier].name);
        }
        return ok;
    }
    case PRED_FINDINGS:
        return eval_findings(&pr->u.findings, c, why);
    case PRED_KIND:
        return eval_mask(pr->u.mask, e->kind, "kind", pol_kind_name(e->kind), why);
    case PRED_SOURCE:
        return eval_set_field(field(c, POL_F_SOURCE), e->source, &pr->u.set, "source", c, why);
    case PRED_CONVERSATION: {
        bool ok = true;
        if (pr->u.conversation.types) {
            ok = eval_mask(pr->u.conversation.types, e->conversation_type, "conversation type",
                           pol_conv_type_name(e->conversation_type), why);
        }
        if (pr->u.conversation.ids.n && (ok || why)) {
            ok = eval_set_field(field(c, POL_F_CONVERSATION_ID), e->conversation_id,
                                &pr->u.conversation.ids, "conversation id", c, why) &&
                 ok;
        }
        return ok;
    }
    case PRED_SENDER:
        return eval_party(
            &pr->u.party, &e->sender, pr->u.party.ids.n ? field(c, POL_F_SENDER_ID) : POL_NO_SYM,
            pr->u.party.departments.n ? field(c, POL_F_SENDER_DEPARTMENT) : POL_NO_SYM,
            pr->u.party.roles.n ? field(c, POL_F_SENDER_ROLE) : POL_NO_SYM, "sender", c, why);
    case PRED_RECIPIENT:
        return eval_recipient(&pr->u.party, c, why);
    case PRED_DESTINATION: {
        bool ok = true;
        if (pr->u.destination.platforms.n) {
            ok = eval_set_field(field(c, POL_F_DEST_PLATFORM), e->destination_platform,
                                &pr->u.destination.platforms, "destination platform", c, why);
        }
        if (pr->u.destination.regions.n && (ok || why)) {
            ok = eval_set_field(field(c, POL_F_DEST_REGION), e->destination_region,
                                &pr->u.destination.regions, "destination region", c, why) &&
                 ok;
        }
        return ok;
    }
    case PRED_DIRECTION:
        return eval_mask(pr->u.mask, e->direction, "direction", pol_direction_name(e->direction),
                         why);
    case PRED_FILE:
        return eval_file(pr, c, why);
    case PRED_TIME:
        return eval_time(pr, c, why);
    case PRED_CONSENT:
        return eval_consent(pr, c, why);
    }
    return false;
}
