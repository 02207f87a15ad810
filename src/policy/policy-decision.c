/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a decision and writing it as JSON (docs/events.md, "Decisions"): the record the audit log
 * stores. It names types, offsets and keyed references of what was found, never the values. */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "policy/policy-int.h"

#include "core/banned.h"

BARRA_EXPORT barra_decision_t *barra_decision_free(barra_decision_t *d)
{
    if (d == NULL) {
        return NULL;
    }
    if (d->redacted) {
        explicit_bzero(d->redacted, d->redacted_len);
        barra_free(d->redacted);
    }
    barra_free(d->event_id);
    barra_free(d->fired);
    barra_free(d->reasons);
    barra_free(d->findings);
    if (d->values) {
        explicit_bzero(d->values, d->values_cap);
        barra_free(d->values);
    }
    barra_policy_unref(d->policy);
    barra_free(d);
    return NULL;
}

BARRA_EXPORT enum barra_action barra_decision_action(const barra_decision_t *d)
{
    return d ? d->action : BARRA_ACTION_BLOCK;
}

BARRA_EXPORT const char *barra_decision_tier(const barra_decision_t *d)
{
    return d && d->policy ? d->policy->tiers[d->tier].name : NULL;
}

BARRA_EXPORT size_t barra_decision_rule_count(const barra_decision_t *d)
{
    return d ? d->nfired : 0;
}

BARRA_EXPORT const char *barra_decision_rule_id(const barra_decision_t *d, size_t i)
{
    return d && i < d->nfired ? d->policy->rules[d->fired[i]].id : NULL;
}

BARRA_EXPORT const char *barra_decision_deciding_rule(const barra_decision_t *d)
{
    return d && d->deciding >= 0 ? d->policy->rules[d->deciding].id : NULL;
}

static const struct pol_tip *decision_tip(const barra_decision_t *d)
{
    if (d->exception_reason) {
        return &d->policy->exception_tip;
    }
    if (d->deciding >= 0 && d->policy->rules[d->deciding].tip.text[0]) {
        return &d->policy->rules[d->deciding].tip;
    }
    return NULL;
}

BARRA_EXPORT const char *barra_decision_tip(const barra_decision_t *d, const char *lang)
{
    const struct pol_tip *tip = d ? decision_tip(d) : NULL;
    for (size_t i = 0; tip && lang && i < POL_LANGS; i++) {
        if (strcmp(pol_lang_names[i], lang) == 0) {
            return tip->text[i];
        }
    }
    return NULL;
}

BARRA_EXPORT const char *barra_decision_redacted_text(const barra_decision_t *d, size_t *ret_len)
{
    if (d == NULL || d->redacted == NULL) {
        return NULL;
    }
    if (ret_len) {
        *ret_len = d->redacted_len;
    }
    return d->redacted;
}

BARRA_EXPORT void barra_string_free(char *s)
{
    free(s); /* made by jansson, which allocates with malloc */
}

/* ---- JSON ---- */

/* Adds v to obj under key; on failure remembers it (checked once at the end). */
static void put(json_t *obj, const char *key, json_t *v, bool *ok)
{
    if (v == NULL || json_object_set_new(obj, key, v) < 0) {
        *ok = false;
    }
}

static void push(json_t *arr, json_t *v, bool *ok)
{
    if (v == NULL || json_array_append_new(arr, v) < 0) {
        *ok = false;
    }
}

static json_t *string_list(char *const *items, uint32_t n, bool *ok)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < n; i++) {
        push(a, json_string(items[i]), ok);
    }
    return a;
}

static bool has_string(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (strcmp(json_string_value(v), s) == 0) {
            return true;
        }
    }
    return false;
}

/* The rules that count: all that fired, or only the override rules when one of those fired. */
static bool counts(const barra_decision_t *d, const struct pol_rule *r)
{
    return !d->overridden || r->override;
}

static json_t *fired_rules(const barra_decision_t *d, uint32_t flags, bool *ok)
{
    json_t *rules = json_array();
    const char *reason = d->reasons;
    for (uint32_t k = 0; rules && k < d->nfired; k++) {
        const struct pol_rule *r = &d->policy->rules[d->fired[k]];
        json_t *o = json_object();
        push(rules, o, ok);
        if (o == NULL) {
            break;
        }
        put(o, "id", json_string(r->id), ok);
        put(o, "action", json_string(barra_action_name(r->action)), ok);
        if (r->override) {
            put(o, "override", json_true(), ok);
        }
        if (!counts(d, r)) {
            put(o, "counted", json_false(), ok);
        }
        put(o, "citations", string_list(r->citations, r->ncitations, ok), ok);
        if ((flags & BARRA_DECISION_REASONS) && reason) {
            json_t *why = json_array();
            for (; why && *reason; reason += strlen(reason) + 1) {
                push(why, json_string(reason), ok);
            }
            reason++;
            put(o, "reasons", why, ok);
        }
    }
    return rules;
}

static json_t *findings_json(const barra_decision_t *d, bool *ok)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < d->nfindings; i++) {
        const struct pol_decided_finding *f = &d->findings[i];
        json_t *o = json_object();
        push(arr, o, ok);
        if (o == NULL) {
            break;
        }
        put(o, "type", json_string(f->type), ok);
        if (f->subtype) {
            put(o, "subtype", json_string(f->subtype), ok);
        }
        put(o, "category", json_string(f->category ? f->category : "general"), ok);
        put(o, "jurisdiction", json_string(f->jurisdiction ? f->jurisdiction : "unknown"), ok);
        put(o, "start", json_integer((json_int_t)f->start), ok);
        put(o, "end", json_integer((json_int_t)f->end), ok);
        put(o, "score", json_real((double)(int)(f->score * 1000 + 0.5) / 1000), ok);
        if (f->flags & BARRA_FINDING_MASKED) {
            put(o, "masked", json_true(), ok);
        }
        if (f->flags & BARRA_FINDING_MINOR) {
            put(o, "minor", json_true(), ok);
        }
        char ref[77];
        if (d->key &&
            redact_reference(d->key, f->type, d->values + f->value_off, f->value_len, ref) == 0) {
            put(o, "ref", json_string(ref), ok);
        }
    }
    return arr;
}

/* Citations and tags of the rules that count, the route or consent purpose of the deciding rule. */
static void add_outcome(const barra_decision_t *d, json_t *root, bool *ok)
{
    const struct barra_policy *p = d->policy;
    json_t *citations = json_array(), *tags = json_array();
    for (uint32_t k = 0; citations && tags && k < d->nfired; k++) {
        const struct pol_rule *r = &p->rules[d->fired[k]];
        if (!counts(d, r)) {
            continue;
        }
        for (uint32_t i = 0; i < r->ncitations; i++) {
            if (!has_string(citations, r->citations[i])) {
                push(citations, json_string(r->citations[i]), ok);
            }
        }
        for (uint32_t i = 0; i < r->ntags; i++) {
            if (!has_string(tags, r->tags[i])) {
                push(tags, json_string(r->tags[i]), ok);
            }
        }
    }
    put(root, "citations", citations, ok);
    put(root, "tags", tags, ok);
    if (d->deciding >= 0) {
        const struct pol_rule *r = &p->rules[d->deciding];
        if (r->route) {
            put(root, "route", json_string(r->route), ok);
        }
        if (r->consent_purpose) {
            put(root, "consent_purpose", json_string(r->consent_purpose), ok);
        }
    }
}

/* The consent lookups made: purpose, how many subjects, how many granted; never who. */
static json_t *consent_json(const barra_decision_t *d, bool *ok)
{
    json_t *consent = json_array();
    for (uint32_t i = 0; consent && i < d->policy->npurposes; i++) {
        const struct pol_consent_memo *m = &d->memo[i];
        if (!m->done) {
            continue;
        }
        json_t *o = json_pack("{s:s, s:I, s:I}", "purpose", m->purpose, "subjects",
                              (json_int_t)m->total, "granted", (json_int_t)m->granted);
        if (o && m->err < 0) {
            put(o, "error", json_string(barra_errname(m->err)), ok);
        }
        push(consent, o, ok);
    }
    return consent;
}

static json_t *tip_json(const barra_decision_t *d, bool *ok)
{
    const struct pol_tip *tip = decision_tip(d);
    if (tip == NULL) {
        return json_null();
    }
    json_t *o = json_object();
    for (size_t i = 0; o && i < POL_LANGS; i++) {
        put(o, pol_lang_names[i], json_string(tip->text[i]), ok);
    }
    return o;
}

static json_t *time_json(const barra_decision_t *d)
{
    if (!d->has_time) {
        return json_null();
    }
    time_t t = (time_t)d->time;
    struct tm tm;
    char out[32];
    if (gmtime_r(&t, &tm) == NULL || strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        return json_null();
    }
    return json_string(out);
}

static json_t *decision_json(const barra_decision_t *d, uint32_t flags, bool *ok)
{
    const struct barra_policy *p = d->policy;
    json_t *root = json_object();
    if (root == NULL) {
        *ok = false;
        return NULL;
    }
    put(root, "schema", json_string("barra.decision/1"), ok);
    put(root, "event_id", d->event_id ? json_string(d->event_id) : json_null(), ok);
    put(root, "time", time_json(d), ok);
    put(root, "action", json_string(barra_action_name(d->action)), ok);
    put(root, "tier", json_string(p->tiers[d->tier].name), ok);
    put(root, "deciding_rule",
        d->deciding >= 0 ? json_string(p->rules[d->deciding].id) : json_null(), ok);
    if (d->exception_reason) {
        put(root, "exception", json_string(d->exception_reason), ok);
    }
    put(root, "rules", fired_rules(d, flags, ok), ok);
    add_outcome(d, root, ok);
    put(root, "consent", consent_json(d, ok), ok);
    put(root, "tip", tip_json(d, ok), ok);
    put(root, "findings", findings_json(d, ok), ok);
    put(root, "redacted", json_boolean(d->redacted != NULL), ok);
    if (d->key) {
        put(root, "key_id", json_string(barra_key_id(d->key)), ok);
    }
    json_t *v = json_object();
    put(v, "policy", json_string(p->version), ok);
    put(v, "policy_name", json_string(p->name), ok);
    put(v, "entity_rules", json_string(d->rules_version), ok);
    put(v, "classifier", json_string(d->engine_version), ok);
    put(root, "versions", v, ok);
    return root;
}

BARRA_EXPORT int barra_decision_format_json(const barra_decision_t *d, uint32_t flags,
                                            char **ret_json, struct barra_error *reterr)
{
    if (d == NULL || ret_json == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no decision");
    }
    bool ok = true;
    json_t *root = decision_json(d, flags, &ok);
    size_t fmt =
        (flags & BARRA_DECISION_PRETTY ? JSON_INDENT(2) : JSON_COMPACT) | JSON_REAL_PRECISION(6);
    char *s = ok && root ? json_dumps(root, fmt) : NULL;
    json_decref(root);
    if (s == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory formatting a decision");
    }
    *ret_json = s;
    return 0;
}
