/* SPDX-License-Identifier: Apache-2.0 */
/* decide(event, findings) -> decision. Tier first (the highest whose conditions hold), then every
 * rule in order; the most restrictive action of the rules that fired wins, unless an override rule
 * fired, in which case only override rules count. Anything that cannot be checked (classification
 * failed, the consent registry cannot answer, a pseudonym without a key) gives the exception
 * action.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "policy/policy-int.h"

#include "core/banned.h"

#define STACK_FINDINGS 64

bool pol_prefilter_off;

/* Returns the types (bits) of the findings. A type's category is fixed by the catalogue, so only
 * the type (and, if the policy asks about them, the jurisdiction) is looked up. */
static uint64_t resolve_findings(struct pol_ctx *c, const barra_findings_t *fs,
                                 struct pol_ctx_finding *out)
{
    const struct barra_policy *p = c->p;
    uint64_t types = 0;
    for (size_t i = 0; i < c->nfindings; i++) {
        const struct pol_finding *f = &fs->items[i];
        uint32_t type = pol_syms_find(&p->syms, f->type);
        uint64_t bit = pol_type_bit(p, type);
        out[i] = (struct pol_ctx_finding){
            .f = f,
            .type = type,
            .category = bit ? p->type_category_syms[__builtin_ctzll(bit)]
                            : pol_syms_find(&p->syms, f->category),
            .jurisdiction =
                p->uses_jurisdictions ? pol_syms_find(&p->syms, f->jurisdiction) : POL_NO_SYM,
        };
        types |= bit;
    }
    c->findings = out;
    return types;
}

static int write_buf(void *ud, const char *data, size_t len)
{
    return buf_append(ud, data, len);
}

/* The text with the findings chosen by the deciding set of redact rules masked. */
static int redact_text(struct pol_ctx *c, barra_decision_t *d, const barra_key_t *key)
{
    const struct barra_event *e = c->e;
    struct redact_span *spans = barra_calloc(c->nfindings + 1, sizeof(*spans));
    if (spans == NULL) {
        return -BARRA_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < c->nfindings; i++) {
        const struct pol_ctx_finding *f = &c->findings[i];
        bool chosen = false;
        for (uint32_t k = 0; k < d->nfired && !chosen; k++) {
            const struct pol_rule *r = &c->p->rules[d->fired[k]];
            chosen = r->action == BARRA_ACTION_REDACT && (!d->overridden || r->override) &&
                     pol_finding_selected(&r->redact, f);
        }
        if (chosen) {
            spans[n++] = (struct redact_span){
                .start = f->f->start,
                .end = f->f->end,
                .method = *pol_redact_method(c->p, f->type),
                .type = f->f->type,
                .normalized = f->f->normalized,
                .normalized_len = f->f->normalized_len,
            };
        }
    }
    pol_sort_spans(spans, n);
    struct buf out;
    buf_init(&out, 0);
    int r = buf_reserve(&out, e->text_len + 1);
    if (r == 0) {
        r = redact_apply(e->text, e->text_len, spans, n, key, write_buf, &out);
    }
    barra_free(spans);
    if (r < 0) {
        buf_done(&out);
        return r;
    }
    d->redacted = out.data ? out.data : barra_strdup("");
    d->redacted_len = out.len;
    return d->redacted ? 0 : -BARRA_ENOMEM;
}

static int record_findings(struct pol_ctx *c, barra_decision_t *d)
{
    if (c->nfindings == 0) {
        return 0;
    }
    if (c->nfindings > d->findings_cap) {
        struct pol_finding *f = barra_reallocarray(d->findings, c->nfindings, sizeof(*d->findings));
        if (f == NULL) {
            return -BARRA_ENOMEM;
        }
        d->findings = f;
        d->findings_cap = c->nfindings;
    }
    size_t need = 1; /* never a NULL buffer, even for empty values */
    for (size_t i = 0; i < c->nfindings; i++) {
        need += c->findings[i].f->normalized_len;
    }
    if (need > d->values_cap) {
        char *v = barra_malloc(need);
        if (v == NULL) {
            return -BARRA_ENOMEM;
        }
        if (d->values) {
            explicit_bzero(d->values, d->values_cap);
            barra_free(d->values);
        }
        d->values = v;
        d->values_cap = need;
    }
    for (size_t i = 0; i < c->nfindings; i++) {
        const struct pol_finding *f = c->findings[i].f;
        d->findings[i] = *f;
        d->findings[i].normalized = d->values + d->values_len;
        memcpy(d->values + d->values_len, f->normalized, f->normalized_len);
        d->values_len += f->normalized_len;
        d->nfindings++;
    }
    return 0;
}

/* Re-evaluates the fired rules to say why they fired. */
static int explain(struct pol_ctx *c, barra_decision_t *d)
{
    struct buf why;
    buf_init(&why, (size_t)1 << 20);
    for (uint32_t k = 0; k < d->nfired; k++) {
        const struct pol_rule *r = &c->p->rules[d->fired[k]];
        if (r->when) {
            (void)pol_pred_eval(r->when, c, &why);
        } else {
            (void)buf_append(&why, "always", sizeof("always"));
        }
        (void)buf_append(&why, "", 1);
    }
    d->reasons = why.data;
    d->reasons_len = why.len;
    return 0;
}

static void choose_action(const struct barra_policy *p, barra_decision_t *d)
{
    for (uint32_t k = 0; k < d->nfired; k++) {
        d->overridden |= p->rules[d->fired[k]].override;
    }
    d->action = p->default_action;
    d->deciding = -1;
    for (uint32_t k = 0; k < d->nfired; k++) {
        const struct pol_rule *r = &p->rules[d->fired[k]];
        if (d->overridden && !r->override) {
            continue;
        }
        if (d->deciding < 0 || r->action > d->action) {
            d->action = r->action;
            d->deciding = (int32_t)d->fired[k];
        }
    }
}

static void drop_redacted(barra_decision_t *d)
{
    if (d->redacted) {
        explicit_bzero(d->redacted, d->redacted_len);
        barra_free(d->redacted);
        d->redacted = NULL;
        d->redacted_len = 0;
    }
}

static void fail_closed(const struct barra_policy *p, barra_decision_t *d, const char *why)
{
    d->action = p->exception_action;
    d->exception_reason = why;
    d->deciding = -1;
    d->tier = p->ntiers - 1; /* what could not be checked is treated as the most sensitive */
    drop_redacted(d);
}

/* Evaluates the rules (only those that can fire without findings when nothing was found). */
/* With findings: only the rules in the sets of the types found (or needing none) and of the tier
 * are visited, in policy order. */
static int run_indexed_rules(struct pol_ctx *c, barra_decision_t *d, uint64_t types)
{
    const struct barra_policy *p = c->p;
    uint64_t stack[64], *cand = stack;
    uint32_t w = p->rule_words;
    if (w > 64 && (cand = barra_malloc(2 * w * sizeof(uint64_t))) == NULL) {
        return -BARRA_ENOMEM;
    }
    const uint64_t *tier = p->rules_by_tier[c->tier];
    for (uint32_t k = 0; k < w; k++) {
        cand[k] = p->rules_any_type[k];
    }
    for (uint64_t t = types; t; t &= t - 1) {
        const uint64_t *set = p->rules_by_type[__builtin_ctzll(t)];
        for (uint32_t k = 0; k < w; k++) {
            cand[k] |= set[k];
        }
    }
    uint64_t admitted_stack[64], *admitted = w > 64 ? cand + w : admitted_stack;
    pol_rules_admitted(c, admitted);
    for (uint32_t k = 0; k < w; k++) {
        for (uint64_t bits = cand[k] & tier[k] & admitted[k]; bits; bits &= bits - 1) {
            uint32_t i = k * 64 + (uint32_t)__builtin_ctzll(bits);
            const struct pol_rule_gate *g = &p->gates[i];
            if (g->rest == NULL || pol_pred_eval(g->rest, c, NULL)) {
                d->fired[d->nfired++] = i;
            }
        }
    }
    if (cand != stack) {
        barra_free(cand);
    }
    return 0;
}

static int run_rules(struct pol_ctx *c, barra_decision_t *d, uint64_t types)
{
    const struct barra_policy *p = c->p;
    bool empty = c->nfindings == 0 && !pol_prefilter_off;
    uint32_t n = empty ? p->nempty_rules : p->nrules;
    if (n > d->fired_cap) {
        uint32_t *f = barra_reallocarray(d->fired, p->nrules + 1, sizeof(*d->fired));
        if (f == NULL) {
            return -BARRA_ENOMEM;
        }
        d->fired = f;
        d->fired_cap = p->nrules + 1;
    }
    if (!empty && !pol_prefilter_off) {
        return run_indexed_rules(c, d, types);
    }
    /* The prefilter for the rules that may fire without findings: the same gates (tier, event). */
    uint64_t stack[64], *admitted = stack;
    if (empty) {
        if (p->rule_words > 64 &&
            (admitted = barra_malloc(p->rule_words * sizeof(uint64_t))) == NULL) {
            return -BARRA_ENOMEM;
        }
        pol_rules_admitted(c, admitted);
    }
    const uint64_t *tier = p->rules_by_tier[c->tier];
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = empty ? p->empty_rules[k] : k;
        const struct pol_rule_gate *g = &p->gates[i];
        if (empty && !((tier[i / 64] & admitted[i / 64]) >> (i % 64) & 1)) {
            continue; /* the prefilter: this rule cannot fire */
        }
        /* Past the gate, only what it does not guarantee is left to evaluate. */
        const struct pol_pred *when = empty ? g->rest : g->when;
        if (when == NULL || pol_pred_eval(when, c, NULL)) {
            d->fired[d->nfired++] = i;
        }
    }
    if (admitted != stack) {
        barra_free(admitted);
    }
    return 0;
}

static int decide(struct pol_ctx *c, const struct barra_decide_options *opts, uint64_t types,
                  barra_decision_t *d)
{
    const struct barra_policy *p = c->p;
    int r;
    if (opts->classification_failed) {
        fail_closed(p, d, "classification failed");
        return 0;
    }
    c->tier = c->nfindings ? pol_assign_tier(c) : p->empty_tier;
    d->tier = c->tier;
    if ((r = run_rules(c, d, types)) < 0) {
        return r;
    }
    if (c->consent_err < 0) {
        fail_closed(p, d, "the consent registry could not answer");
        return 0;
    }
    choose_action(p, d);
    if ((r = record_findings(c, d)) < 0) {
        return r;
    }
    if (d->action == BARRA_ACTION_REDACT && c->e->text) {
        r = redact_text(c, d, opts->key);
        if (r == -BARRA_EINVAL) {
            fail_closed(p, d, "a pseudonym was asked for but no key was given");
            r = 0;
        }
        if (r < 0) {
            return r;
        }
    }
    return opts->explain ? explain(c, d) : 0;
}

/* Empties a decision for reuse, keeping its buffers. */
static void reset(barra_decision_t *d, const barra_policy_t *p)
{
    /* Most decisions own nothing to free: no calls for them. */
    if (d->event_id) {
        barra_free(d->event_id);
        d->event_id = NULL;
    }
    if (d->reasons) {
        barra_free(d->reasons);
        d->reasons = NULL;
        d->reasons_len = 0;
    }
    drop_redacted(d);
    if (d->policy != p) {
        barra_policy_unref(d->policy);
        d->policy = barra_policy_ref((barra_policy_t *)p);
    }
    d->action = BARRA_ACTION_ALLOW;
    d->tier = 0;
    d->exception_reason = NULL;
    d->deciding = -1;
    d->nfired = 0;
    d->overridden = false;
    d->nfindings = 0;
    if (d->values_len) {
        explicit_bzero(d->values, d->values_len);
        d->values_len = 0;
    }
    d->key = NULL;
    d->has_time = false;
    d->asked = 0;
}

/* The versions a decision names: the policy's, unless the findings came from another detector. */
static void set_versions(barra_decision_t *d, const barra_policy_t *p, const barra_detector_t *det)
{
    if (d->rules_version && d->versions_from == det && d->versions_of == p) {
        return; /* the same as last time */
    }
    d->versions_from = det;
    d->versions_of = p;
    d->rules_version = p->rules_version;
    d->engine_version = p->engine_version;
    if (det == NULL) {
        return;
    }
    const char *rv = barra_detector_rules_version(det), *ev = barra_detector_engine_version(det);
    if (strcmp(rv, p->rules_version) != 0) {
        (void)snprintf(d->own_rules_version, sizeof(d->own_rules_version), "%s", rv);
        d->rules_version = d->own_rules_version;
    }
    if (strcmp(ev, p->engine_version) != 0) {
        (void)snprintf(d->own_engine_version, sizeof(d->own_engine_version), "%s", ev);
        d->engine_version = d->own_engine_version;
    }
}

BARRA_EXPORT int barra_decision_new(barra_decision_t **ret)
{
    if (ret == NULL) {
        return -BARRA_EINVAL;
    }
    *ret = barra_calloc(1, sizeof(**ret));
    if (*ret == NULL) {
        return -BARRA_ENOMEM;
    }
    (*ret)->deciding = -1;
    return 0;
}

BARRA_EXPORT int barra_decide_into(const barra_policy_t *p, const barra_event_t *e,
                                   const barra_findings_t *findings,
                                   const struct barra_decide_options *opts, barra_decision_t *d,
                                   struct barra_error *reterr)
{
    static const struct barra_decide_options no_opts;
    if (p == NULL || e == NULL || d == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no policy, event or decision");
    }
    if (opts == NULL) {
        opts = &no_opts;
    }
    reset(d, p);
    set_versions(d, p, opts->detector);
    d->key = opts->key;
    d->time = e->time;
    d->has_time = e->has_time;
    if (e->id && (d->event_id = barra_strdup(e->id)) == NULL) {
        fail_closed(p, d, "out of memory");
        return barra_error_set(reterr, -BARRA_ENOMEM, "cannot decide: out of memory");
    }
    if ((findings == NULL || findings->n == 0) && p->nempty_rules == 0 && !pol_prefilter_off &&
        !opts->explain && !opts->classification_failed &&
        p->default_action != BARRA_ACTION_REDACT) {
        /* Nothing found, and no rule can fire without a finding: the policy's answer for an
         * empty message (most chat messages), with nothing to evaluate. */
        d->tier = p->empty_tier;
        d->action = p->default_action;
        return 0;
    }
    /* Set field by field: zeroing the whole context (consent memos included) costs more than a
     * decision about a message without personal data. */
    struct pol_ctx c;
    c.p = p;
    c.e = e;
    c.consent = opts->consent;
    c.findings = NULL;
    c.nfindings = findings ? findings->n : 0;
    c.tier = 0;
    c.resolved = 0;
    c.consent_err = 0;
    c.memo = d->memo;
    c.asked = &d->asked; /* emptied by reset() */
    struct pol_ctx_finding stack[STACK_FINDINGS];
    struct pol_ctx_finding *resolved = stack;
    if (c.nfindings > STACK_FINDINGS) {
        resolved = barra_calloc(c.nfindings, sizeof(*resolved));
        if (resolved == NULL) {
            return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
        }
    }
    uint64_t types = resolve_findings(&c, findings, resolved);
    int r = decide(&c, opts, types, d);
    if (resolved != stack) {
        barra_free(resolved);
    }
    if (r < 0) {
        /* Never leave a half-made decision that could be read as an answer. */
        fail_closed(p, d, "out of memory");
        return barra_error_set(reterr, r, "cannot decide: %s", barra_strerror(r));
    }
    return 0;
}

BARRA_EXPORT int barra_decide(const barra_policy_t *p, const barra_event_t *e,
                              const barra_findings_t *findings,
                              const struct barra_decide_options *opts, barra_decision_t **ret,
                              struct barra_error *reterr)
{
    barra_decision_t *d;
    if (ret == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no result");
    }
    if (barra_decision_new(&d) < 0) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    int r = barra_decide_into(p, e, findings, opts, d, reterr);
    if (r < 0) {
        barra_decision_free(d);
        return r;
    }
    *ret = d;
    return 0;
}
