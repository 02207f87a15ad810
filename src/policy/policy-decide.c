/* SPDX-License-Identifier: Apache-2.0 */
/* decide(event, findings) -> decision. Tier first (the highest whose conditions hold), then every
 * rule in order; the most restrictive action of the rules that fired wins, unless an override rule
 * fired, in which case only override rules count. Anything that cannot be checked (classification
 * failed, the consent registry cannot answer, a pseudonym without a key) gives the exception action.
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

static void resolve_event(struct pol_ctx *c)
{
    const struct pol_syms *s = &c->p->syms;
    const struct barra_event *e = c->e;
    c->source = pol_syms_find_folded(s, e->source);
    c->conversation_id = pol_syms_find(s, e->conversation_id);
    c->dest_platform = pol_syms_find_folded(s, e->destination_platform);
    c->dest_region = pol_syms_find_folded(s, e->destination_region);
    c->file_type = pol_syms_find_folded(s, e->file_type);
    c->sender_id = pol_syms_find(s, e->sender.id);
    c->sender_department = pol_syms_find_folded(s, e->sender.department);
    c->sender_role = pol_syms_find_folded(s, e->sender.role);
}

static void resolve_findings(struct pol_ctx *c, const barra_findings_t *fs,
                             struct pol_ctx_finding *out)
{
    const struct pol_syms *s = &c->p->syms;
    for (size_t i = 0; i < c->nfindings; i++) {
        const struct pol_finding *f = &fs->items[i];
        out[i] = (struct pol_ctx_finding){
            .f = f,
            .type = pol_syms_find(s, f->type),
            .subtype = pol_syms_find(s, f->subtype),
            .category = pol_syms_find(s, f->category),
            .jurisdiction = pol_syms_find(s, f->jurisdiction),
        };
    }
    c->findings = out;
}

static uint32_t assign_tier(struct pol_ctx *c)
{
    for (uint32_t t = c->p->ntiers; t-- > 1;) {
        if (pol_pred_eval(c->p->tiers[t].when, c, NULL)) {
            return t;
        }
    }
    return 0;
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

static int record_findings(struct pol_ctx *c, barra_decision_t *d, const barra_key_t *key)
{
    if (c->nfindings == 0) {
        return 0;
    }
    d->findings = barra_calloc(c->nfindings, sizeof(*d->findings));
    if (d->findings == NULL) {
        return -BARRA_ENOMEM;
    }
    for (size_t i = 0; i < c->nfindings; i++) {
        const struct pol_finding *f = c->findings[i].f;
        struct pol_decided_finding *df = &d->findings[i];
        *df = (struct pol_decided_finding){
            .type = f->type,
            .subtype = f->subtype,
            .category = f->category,
            .jurisdiction = f->jurisdiction,
            .start = f->start,
            .end = f->end,
            .score = f->score,
            .flags = f->flags,
        };
        if (key) {
            int r = redact_reference(key, f->type, f->normalized, f->normalized_len, df->ref);
            if (r < 0) {
                return r;
            }
        }
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

static void fail_closed(const struct barra_policy *p, barra_decision_t *d, const char *why)
{
    d->action = p->exception_action;
    d->exception_reason = why;
    d->deciding = -1;
    d->tier = p->ntiers - 1; /* what could not be checked is treated as the most sensitive */
    if (d->redacted) {
        explicit_bzero(d->redacted, d->redacted_len);
        barra_free(d->redacted);
        d->redacted = NULL;
        d->redacted_len = 0;
    }
}

static int decide(struct pol_ctx *c, const struct barra_decide_options *opts,
                  barra_decision_t *d)
{
    const struct barra_policy *p = c->p;
    int r;
    d->time = c->e->time;
    d->has_time = c->e->has_time;
    if (c->e->id && (d->event_id = barra_strdup(c->e->id)) == NULL) {
        return -BARRA_ENOMEM;
    }
    if (opts->classification_failed) {
        fail_closed(p, d, "classification failed");
        return 0;
    }
    c->tier = assign_tier(c);
    d->tier = c->tier;
    d->fired = barra_malloc(((size_t)p->nrules + 1) * sizeof(*d->fired));
    if (d->fired == NULL) {
        return -BARRA_ENOMEM;
    }
    for (uint32_t i = 0; i < p->nrules; i++) {
        const struct pol_rule *rule = &p->rules[i];
        if (rule->when == NULL || pol_pred_eval(rule->when, c, NULL)) {
            d->fired[d->nfired++] = i;
        }
    }
    memcpy(d->memo, c->memo, sizeof(d->memo));
    if (c->consent_err < 0) {
        fail_closed(p, d, "the consent registry could not answer");
        return 0;
    }
    choose_action(p, d);
    if ((r = record_findings(c, d, opts->key)) < 0) {
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

BARRA_EXPORT int barra_decide(const barra_policy_t *p, const barra_event_t *e,
                              const barra_findings_t *findings,
                              const struct barra_decide_options *opts, barra_decision_t **ret,
                              struct barra_error *reterr)
{
    static const struct barra_decide_options no_opts;
    if (p == NULL || e == NULL || ret == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no policy, event or result");
    }
    if (opts == NULL) {
        opts = &no_opts;
    }
    barra_decision_t *d = barra_calloc(1, sizeof(*d));
    if (d == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    d->policy = barra_policy_ref((barra_policy_t *)p);
    const barra_detector_t *det = opts->detector;
    memcpy(d->rules_version, det ? barra_detector_rules_version(det) : p->rules_version, 64);
    (void)snprintf(d->engine_version, sizeof(d->engine_version), "%s",
                   det ? barra_detector_engine_version(det) : p->engine_version);
    if (opts->key) {
        memcpy(d->key_id, barra_key_id(opts->key), sizeof(d->key_id));
    }

    struct pol_ctx c = {.p = p, .e = e, .consent = opts->consent};
    c.nfindings = findings ? findings->n : 0;
    struct pol_ctx_finding stack[STACK_FINDINGS];
    struct pol_ctx_finding *resolved = stack;
    if (c.nfindings > STACK_FINDINGS) {
        resolved = barra_calloc(c.nfindings, sizeof(*resolved));
        if (resolved == NULL) {
            barra_decision_free(d);
            return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
        }
    }
    resolve_event(&c);
    resolve_findings(&c, findings, resolved);
    int r = decide(&c, opts, d);
    if (resolved != stack) {
        barra_free(resolved);
    }
    if (r < 0) {
        barra_decision_free(d);
        return barra_error_set(reterr, r, "cannot decide: %s", barra_strerror(r));
    }
    *ret = d;
    return 0;
}
