/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a decision and writing it as JSON (docs/events.md, "Decisions"): the record the audit log
 * stores. It names types, offsets and keyed references of what was found, never the values. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/jsonw.h"
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

BARRA_EXPORT const char *barra_decision_route(const barra_decision_t *d)
{
    return d && d->deciding >= 0 && d->exception_reason == NULL
               ? d->policy->rules[d->deciding].route
               : NULL;
}

BARRA_EXPORT const char *barra_decision_consent_purpose(const barra_decision_t *d)
{
    return d && d->deciding >= 0 && d->exception_reason == NULL
               ? d->policy->rules[d->deciding].consent_purpose
               : NULL;
}

BARRA_EXPORT const char *barra_policy_route(const barra_policy_t *p, size_t i)
{
    for (size_t r = 0; p && r < p->nrules; r++) {
        if (p->rules[r].route && i-- == 0) {
            return p->rules[r].route;
        }
    }
    return NULL;
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
    barra_free(s);
}

/* ---- JSON, written straight into a buffer (a record per event must not cost a tree) ---- */

/* The rules that count: all that fired, or only the override rules when one of those fired. */
static bool counts(const barra_decision_t *d, const struct pol_rule *r)
{
    return !d->overridden || r->override;
}

static void string_list(struct buf *b, char *const *items, uint32_t n)
{
    (void)buf_append_char(b, '[');
    for (uint32_t i = 0; i < n; i++) {
        if (i) {
            (void)buf_append_char(b, ',');
        }
        (void)jsonw_string(b, items[i]);
    }
    (void)buf_append_char(b, ']');
}

static void fired_rules(struct buf *b, const barra_decision_t *d, uint32_t flags)
{
    const char *reason = d->reasons;
    (void)buf_append_char(b, '[');
    for (uint32_t k = 0; k < d->nfired; k++) {
        const struct pol_rule *r = &d->policy->rules[d->fired[k]];
        (void)buf_append_str(b, k ? ",{" : "{");
        (void)jsonw_key(b, "id");
        (void)jsonw_string(b, r->id);
        (void)buf_append_str(b, ",\"action\":");
        (void)jsonw_string(b, barra_action_name(r->action));
        if (r->override) {
            (void)buf_append_str(b, ",\"override\":true");
        }
        if (!counts(d, r)) {
            (void)buf_append_str(b, ",\"counted\":false");
        }
        (void)buf_append_str(b, ",\"citations\":");
        string_list(b, r->citations, r->ncitations);
        if ((flags & BARRA_DECISION_REASONS) && reason) {
            (void)buf_append_str(b, ",\"reasons\":[");
            for (bool first = true; *reason; reason += strlen(reason) + 1, first = false) {
                if (!first) {
                    (void)buf_append_char(b, ',');
                }
                (void)jsonw_string(b, reason);
            }
            reason++;
            (void)buf_append_char(b, ']');
        }
        (void)buf_append_char(b, '}');
    }
    (void)buf_append_char(b, ']');
}

static void findings_json(struct buf *b, const barra_decision_t *d)
{
    (void)buf_append_char(b, '[');
    for (size_t i = 0; i < d->nfindings; i++) {
        const struct pol_finding *f = &d->findings[i];
        (void)buf_append_str(b, i ? ",{\"type\":" : "{\"type\":");
        (void)jsonw_string(b, f->type);
        if (f->subtype) {
            (void)buf_append_str(b, ",\"subtype\":");
            (void)jsonw_string(b, f->subtype);
        }
        (void)buf_append_str(b, ",\"category\":");
        (void)jsonw_string(b, f->category ? f->category : "general");
        (void)buf_append_str(b, ",\"jurisdiction\":");
        (void)jsonw_string(b, f->jurisdiction ? f->jurisdiction : "unknown");
        (void)buf_append_str(b, ",\"start\":");
        (void)jsonw_uint(b, f->start);
        (void)buf_append_str(b, ",\"end\":");
        (void)jsonw_uint(b, f->end);
        (void)buf_append_str(b, ",\"score\":");
        (void)jsonw_score(b, f->score);
        if (f->flags & BARRA_FINDING_MASKED) {
            (void)buf_append_str(b, ",\"masked\":true");
        }
        if (f->flags & BARRA_FINDING_MINOR) {
            (void)buf_append_str(b, ",\"minor\":true");
        }
        char ref[77];
        if (d->key &&
            redact_reference(d->key, f->type, f->normalized, f->normalized_len, ref) == 0) {
            (void)buf_append_str(b, ",\"ref\":");
            (void)jsonw_string(b, ref);
        }
        (void)buf_append_char(b, '}');
    }
    (void)buf_append_char(b, ']');
}

/* Whether s is among the first n names gathered so far. */
static bool seen(char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], s) == 0) {
            return true;
        }
    }
    return false;
}

/* Citations or tags of the rules that count, each once, in the order they come. */
static void gathered(struct buf *b, const barra_decision_t *d, bool tags)
{
    char *names[256];
    size_t n = 0;
    for (uint32_t k = 0; k < d->nfired; k++) {
        const struct pol_rule *r = &d->policy->rules[d->fired[k]];
        char *const *list = tags ? r->tags : r->citations;
        uint32_t count = tags ? r->ntags : r->ncitations;
        for (uint32_t i = 0; counts(d, r) && i < count && n < 256; i++) {
            if (!seen(names, n, list[i])) {
                names[n++] = list[i];
            }
        }
    }
    string_list(b, names, (uint32_t)n);
}

/* The consent lookups made: purpose, how many subjects, how many granted; never who. */
static void consent_json(struct buf *b, const barra_decision_t *d)
{
    bool first = true;
    (void)buf_append_char(b, '[');
    for (uint32_t i = 0; i < d->policy->npurposes; i++) {
        const struct pol_consent_memo *m = &d->memo[i];
        if (!(d->asked & (1u << i))) {
            continue;
        }
        (void)buf_append_str(b, first ? "{\"purpose\":" : ",{\"purpose\":");
        first = false;
        (void)jsonw_string(b, m->purpose);
        (void)buf_append_str(b, ",\"subjects\":");
        (void)jsonw_uint(b, m->total);
        (void)buf_append_str(b, ",\"granted\":");
        (void)jsonw_uint(b, m->granted);
        if (m->err < 0) {
            (void)buf_append_str(b, ",\"error\":");
            (void)jsonw_string(b, barra_errname(m->err));
        }
        (void)buf_append_char(b, '}');
    }
    (void)buf_append_char(b, ']');
}

static void tip_json(struct buf *b, const barra_decision_t *d)
{
    const struct pol_tip *tip = decision_tip(d);
    if (tip == NULL) {
        (void)buf_append_str(b, "null");
        return;
    }
    for (size_t i = 0; i < POL_LANGS; i++) {
        (void)buf_append_char(b, i ? ',' : '{');
        (void)jsonw_key(b, pol_lang_names[i]);
        (void)jsonw_string(b, tip->text[i]);
    }
    (void)buf_append_char(b, '}');
}

static void time_json(struct buf *b, const barra_decision_t *d)
{
    time_t t = (time_t)d->time;
    struct tm tm;
    char out[32];
    if (!d->has_time || gmtime_r(&t, &tm) == NULL ||
        strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        (void)buf_append_str(b, "null");
        return;
    }
    (void)jsonw_string(b, out);
}

static void decision_json(struct buf *b, const barra_decision_t *d, uint32_t flags)
{
    const struct barra_policy *p = d->policy;
    (void)buf_append_str(b, "{\"schema\":\"barra.decision/1\",\"event_id\":");
    (void)jsonw_string(b, d->event_id);
    (void)buf_append_str(b, ",\"time\":");
    time_json(b, d);
    (void)buf_append_str(b, ",\"action\":");
    (void)jsonw_string(b, barra_action_name(d->action));
    (void)buf_append_str(b, ",\"tier\":");
    (void)jsonw_string(b, p->tiers[d->tier].name);
    (void)buf_append_str(b, ",\"deciding_rule\":");
    (void)jsonw_string(b, d->deciding >= 0 ? p->rules[d->deciding].id : NULL);
    if (d->exception_reason) {
        (void)buf_append_str(b, ",\"exception\":");
        (void)jsonw_string(b, d->exception_reason);
    }
    (void)buf_append_str(b, ",\"rules\":");
    fired_rules(b, d, flags);
    (void)buf_append_str(b, ",\"citations\":");
    gathered(b, d, false);
    (void)buf_append_str(b, ",\"tags\":");
    gathered(b, d, true);
    if (d->deciding >= 0 && p->rules[d->deciding].route) {
        (void)buf_append_str(b, ",\"route\":");
        (void)jsonw_string(b, p->rules[d->deciding].route);
    }
    if (d->deciding >= 0 && p->rules[d->deciding].consent_purpose) {
        (void)buf_append_str(b, ",\"consent_purpose\":");
        (void)jsonw_string(b, p->rules[d->deciding].consent_purpose);
    }
    (void)buf_append_str(b, ",\"consent\":");
    consent_json(b, d);
    if (!(flags & BARRA_DECISION_NO_TIP)) {
        (void)buf_append_str(b, ",\"tip\":");
        tip_json(b, d);
    }
    (void)buf_append_str(b, ",\"findings\":");
    findings_json(b, d);
    (void)buf_append_str(b, d->redacted ? ",\"redacted\":true" : ",\"redacted\":false");
    if (d->key) {
        (void)buf_append_str(b, ",\"key_id\":");
        (void)jsonw_string(b, barra_key_id(d->key));
    }
    (void)buf_append_str(b, ",\"versions\":{\"policy\":");
    (void)jsonw_string(b, p->version);
    (void)buf_append_str(b, ",\"policy_name\":");
    (void)jsonw_string(b, p->name);
    (void)buf_append_str(b, ",\"entity_rules\":");
    (void)jsonw_string(b, d->rules_version);
    (void)buf_append_str(b, ",\"classifier\":");
    (void)jsonw_string(b, d->engine_version);
    (void)buf_append_str(b, "}}");
}

/* Indents compact JSON by two spaces a level (strings are copied as they are). */
static int indent(const struct buf *in, struct buf *out)
{
    int depth = 0, r = 0;
    bool str = false;
    for (size_t i = 0; r == 0 && i < in->len; i++) {
        char c = in->data[i];
        if (str) {
            r = buf_append_char(out, c);
            if (c == '\\' && i + 1 < in->len) {
                r = buf_append_char(out, in->data[++i]);
            } else if (c == '"') {
                str = false;
            }
            continue;
        }
        bool empty = (c == '{' || c == '[') && i + 1 < in->len &&
                     (in->data[i + 1] == '}' || in->data[i + 1] == ']');
        if (c == '"') {
            str = true;
            r = buf_append_char(out, c);
        } else if ((c == '{' || c == '[') && !empty) {
            depth++;
            r = buf_printf(out, "%c\n%*s", c, 2 * depth, "");
        } else if ((c == '}' || c == ']') &&
                   !(i > 0 && (in->data[i - 1] == '{' || in->data[i - 1] == '['))) {
            depth--;
            r = buf_printf(out, "\n%*s%c", 2 * depth, "", c);
        } else if (c == ',') {
            r = buf_printf(out, ",\n%*s", 2 * depth, "");
        } else if (c == ':') {
            r = buf_append_str(out, ": ");
        } else {
            r = buf_append_char(out, c);
        }
    }
    return r;
}

BARRA_EXPORT int barra_decision_format_json(const barra_decision_t *d, uint32_t flags,
                                            char **ret_json, struct barra_error *reterr)
{
    if (d == NULL || d->policy == NULL || ret_json == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no decision");
    }
    struct buf b;
    buf_init(&b, (size_t)64 << 20);
    int r = buf_reserve(&b, 1024);
    if (r == 0) {
        decision_json(&b, d, flags);
        r = b.err; /* sticky: any write that failed makes the whole record fail */
    }
    if (r == 0 && (flags & BARRA_DECISION_PRETTY)) {
        struct buf pretty;
        buf_init(&pretty, (size_t)128 << 20);
        r = indent(&b, &pretty);
        buf_done(&b);
        b = pretty;
    }
    if (r < 0) {
        buf_done(&b);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory writing a decision");
    }
    *ret_json = b.data;
    return 0;
}
