/* SPDX-License-Identifier: Apache-2.0 */
/* Policy test cases: event -> expected decision, run through the real classifier and the real
 * event parser, so a case tests exactly what the gateway would do. */
#include "config.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/yamltree.h"
#include "policy/policy-int.h"

#include "core/banned.h"

/* Public and fixed on purpose: pseudonyms in expected texts must not change between runs. */
static const char test_key_bytes[] = "barra-policy-test-key-not-secret-v1";

struct case_run {
    const barra_policy_t *p;
    barra_scanner_t *scanner;
    barra_key_t *key;
    const char *file;
    struct barra_error *reterr;
    char failure[1024];
};

static int fail_at(struct case_run *cr, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct case_run *cr, const struct ynode *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return barra_error_set_at(cr->reterr, -BARRA_EPARSE, cr->file, n->line, n->column, "%s", msg);
}

/* A failed expectation: collected into one message per case. */
static void differ(struct case_run *cr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void differ(struct case_run *cr, const char *fmt, ...)
{
    size_t used = strlen(cr->failure);
    if (used + 4 >= sizeof(cr->failure)) {
        return;
    }
    if (used) {
        cr->failure[used++] = ';';
        cr->failure[used++] = ' ';
    }
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(cr->failure + used, sizeof(cr->failure) - used, fmt, ap);
    va_end(ap);
}

/* YAML -> JSON for events: unquoted whole numbers become integers, true/false booleans, so a case
 * can write the event as it would appear in JSON. */
static json_t *to_json(const struct ynode *n)
{
    if (n->kind == YNODE_SCALAR) {
        if (n->plain) {
            char *end;
            long long v = strtoll(n->value, &end, 10);
            if (n->value[0] != '\0' && *end == '\0') {
                return json_integer(v);
            }
            if (strcmp(n->value, "true") == 0 || strcmp(n->value, "false") == 0) {
                return json_boolean(n->value[0] == 't');
            }
            if (strcmp(n->value, "null") == 0 || strcmp(n->value, "~") == 0) {
                return json_null();
            }
        }
        return json_string(n->value);
    }
    json_t *out = n->kind == YNODE_SEQ ? json_array() : json_object();
    size_t count = n->kind == YNODE_SEQ ? n->n : n->n / 2;
    for (size_t i = 0; out && i < count; i++) {
        json_t *v = to_json(n->kind == YNODE_SEQ ? n->items[i] : n->items[2 * i + 1]);
        int r = v == NULL              ? -1
                : n->kind == YNODE_SEQ ? json_array_append_new(out, v)
                                       : json_object_set_new(out, n->items[2 * i]->value, v);
        if (r < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static int load_consents(struct case_run *cr, const struct ynode *list, barra_consent_memory_t *m)
{
    if (list->kind != YNODE_SEQ) {
        return fail_at(cr, list, "consents is a list of {subject, purpose, state}");
    }
    for (size_t i = 0; i < list->n; i++) {
        const struct ynode *c = list->items[i];
        const struct ynode *s = ytree_get(c, "subject"), *pu = ytree_get(c, "purpose"),
                           *st = ytree_get(c, "state"), *ex = ytree_get(c, "expires");
        if (c->kind != YNODE_MAP || !s || !pu || !st || s->kind != YNODE_SCALAR ||
            pu->kind != YNODE_SCALAR || st->kind != YNODE_SCALAR) {
            return fail_at(cr, c, "a consent has subject, purpose and state");
        }
        int state = -1;
        for (int k = BARRA_CONSENT_MISSING; k <= BARRA_CONSENT_EXPIRED; k++) {
            if (strcmp(st->value, barra_consent_state_name((enum barra_consent_state)k)) == 0) {
                state = k;
            }
        }
        int64_t until = 0;
        int32_t off;
        if (state < 0) {
            return fail_at(cr, st, "unknown consent state \"%s\"", st->value);
        }
        if (ex && (ex->kind != YNODE_SCALAR || pol_parse_time(ex->value, &until, &off) < 0)) {
            return fail_at(cr, ex, "expires must be RFC 3339");
        }
        if (barra_consent_memory_set(m, s->value, pu->value, (enum barra_consent_state)state,
                                     until) < 0) {
            return fail_at(cr, c, "cannot record this consent");
        }
    }
    return 0;
}

/* The same names, in any order, each as many times. */
static bool same_set(const struct ynode *want, const char *const *have, size_t nhave)
{
    if (want->kind != YNODE_SEQ || want->n != nhave) {
        return false;
    }
    for (size_t i = 0; i < want->n; i++) {
        const char *name = want->items[i]->value;
        size_t in_want = 0, in_have = 0;
        if (want->items[i]->kind != YNODE_SCALAR) {
            return false;
        }
        for (size_t j = 0; j < want->n; j++) {
            in_want +=
                want->items[j]->kind == YNODE_SCALAR && strcmp(want->items[j]->value, name) == 0;
        }
        for (size_t j = 0; j < nhave; j++) {
            in_have += strcmp(have[j], name) == 0;
        }
        if (in_want != in_have) {
            return false;
        }
    }
    return true;
}

static void list_text(const char *const *items, size_t n, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", items[i]);
        used += w > 0 ? (size_t)w : 0;
    }
}

static void check_list(struct case_run *cr, const char *what, const struct ynode *want,
                       const char *const *have, size_t nhave)
{
    if (!same_set(want, have, nhave)) {
        char got[400];
        list_text(have, nhave, got, sizeof(got));
        differ(cr, "%s: got [%s]", what, got);
    }
}

static void check_expect(struct case_run *cr, const struct ynode *exp, const barra_decision_t *d)
{
    const struct barra_policy *p = d->policy;
    const struct ynode *v;
    if ((v = ytree_get(exp, "action")) && strcmp(v->value, barra_action_name(d->action)) != 0) {
        differ(cr, "action: expected %s, got %s", v->value, barra_action_name(d->action));
    }
    if ((v = ytree_get(exp, "tier")) && strcmp(v->value, p->tiers[d->tier].name) != 0) {
        differ(cr, "tier: expected %s, got %s", v->value, p->tiers[d->tier].name);
    }
    if ((v = ytree_get(exp, "deciding_rule"))) {
        const char *got = d->deciding >= 0 ? p->rules[d->deciding].id : "none";
        if (strcmp(v->value, got) != 0) {
            differ(cr, "deciding_rule: expected %s, got %s", v->value, got);
        }
    }
    if ((v = ytree_get(exp, "exception"))) {
        bool want = strcmp(v->value, "true") == 0;
        if (want != (d->exception_reason != NULL)) {
            differ(cr, "exception: expected %s, got %s", want ? "one" : "none",
                   d->exception_reason ? d->exception_reason : "none");
        }
    }
    const char *ids[256], *tags[256];
    size_t nids = 0, ntags = 0;
    for (uint32_t k = 0; k < d->nfired && nids < 256; k++) {
        const struct pol_rule *r = &p->rules[d->fired[k]];
        ids[nids++] = r->id;
        for (uint32_t t = 0; t < r->ntags && ntags < 256; t++) {
            bool dup = false;
            for (size_t j = 0; j < ntags && !dup; j++) {
                dup = strcmp(tags[j], r->tags[t]) == 0;
            }
            if (!dup && (!d->overridden || r->override)) {
                tags[ntags++] = r->tags[t];
            }
        }
    }
    if ((v = ytree_get(exp, "rules"))) {
        check_list(cr, "rules", v, ids, nids);
    }
    if ((v = ytree_get(exp, "tags"))) {
        check_list(cr, "tags", v, tags, ntags);
    }
    if ((v = ytree_get(exp, "redacted_text"))) {
        if (d->redacted == NULL) {
            differ(cr, "redacted_text: nothing was redacted");
        } else if (strcmp(v->value, d->redacted) != 0) {
            differ(cr, "redacted_text: got \"%.300s\"", d->redacted);
        }
    }
}

static int check_expect_keys(struct case_run *cr, const struct ynode *exp)
{
    static const char *const keys[] = {"action",        "tier",        "deciding_rule",
                                       "exception",     "rules",       "tags",
                                       "redacted_text", "event_error", NULL};
    if (exp->kind != YNODE_MAP || exp->n == 0) {
        return fail_at(cr, exp, "expect is a mapping of what the decision must be");
    }
    for (size_t i = 0; i < exp->n / 2; i++) {
        const struct ynode *k = exp->items[2 * i], *v = exp->items[2 * i + 1];
        size_t j = 0;
        while (keys[j] && strcmp(keys[j], k->value) != 0) {
            j++;
        }
        if (keys[j] == NULL) {
            return fail_at(cr, k, "unknown expectation \"%s\"", k->value);
        }
        bool list = strcmp(k->value, "rules") == 0 || strcmp(k->value, "tags") == 0;
        if (list ? v->kind != YNODE_SEQ : v->kind != YNODE_SCALAR) {
            return fail_at(cr, v, "expectation \"%s\" takes %s", k->value,
                           list ? "a list" : "a value");
        }
    }
    return 0;
}

static int classify(struct case_run *cr, const barra_event_t *e, barra_findings_t *fs)
{
    size_t len = 0;
    const char *text = barra_event_text(e, &len);
    if (text == NULL) {
        return 0;
    }
    return barra_scanner_scan(cr->scanner, text, len, NULL, 0, barra_findings_collect, fs);
}

static int run_case(struct case_run *cr, const struct ynode *c, barra_policy_case_fn fn,
                    void *userdata, bool *ret_passed)
{
    static const char *const keys[] = {"name",   "event", "consents", "classification_failed",
                                       "expect", NULL};
    if (c->kind != YNODE_MAP) {
        return fail_at(cr, c, "a case is a mapping with name, event and expect");
    }
    for (size_t i = 0; i < c->n / 2; i++) {
        size_t j = 0;
        while (keys[j] && strcmp(keys[j], c->items[2 * i]->value) != 0) {
            j++;
        }
        if (keys[j] == NULL) {
            return fail_at(cr, c->items[2 * i], "unknown key \"%s\" in a case",
                           c->items[2 * i]->value);
        }
    }
    const struct ynode *name = ytree_get(c, "name"), *ev = ytree_get(c, "event"),
                       *exp = ytree_get(c, "expect"), *cons = ytree_get(c, "consents"),
                       *failed = ytree_get(c, "classification_failed");
    if (name == NULL || name->kind != YNODE_SCALAR || ev == NULL || exp == NULL) {
        return fail_at(cr, c, "a case needs name, event and expect");
    }
    int r = check_expect_keys(cr, exp);
    if (r < 0) {
        return r;
    }
    cr->failure[0] = '\0';
    barra_consent_memory_t *mem = NULL;
    barra_findings_t *fs = NULL;
    barra_event_t *e = NULL;
    barra_decision_t *d = NULL;
    struct barra_error err = {0};
    if ((r = barra_consent_memory_new(&mem)) < 0 || (r = barra_findings_new(&fs)) < 0) {
        goto out;
    }
    if (cons && (r = load_consents(cr, cons, mem)) < 0) {
        goto out;
    }
    json_t *j = to_json(ev);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text == NULL) {
        r = barra_error_set(cr->reterr, -BARRA_ENOMEM, "out of memory");
        goto out;
    }
    int er = barra_event_parse(text, strlen(text), &e, &err);
    free(text);
    const struct ynode *want_err = ytree_get(exp, "event_error");
    if (er < 0 || want_err) {
        if (want_err == NULL) {
            differ(cr, "the event was rejected: %s", err.message);
        } else if (er == 0) {
            differ(cr, "event_error: the event was accepted");
        } else if (strstr(err.message, want_err->value) == NULL) {
            differ(cr, "event_error: got \"%s\"", err.message);
        }
    } else {
        struct barra_consent_provider prov = barra_consent_memory_provider(mem);
        struct barra_decide_options opts = {
            .consent = &prov,
            .key = cr->key,
            .explain = true,
            .classification_failed = failed && strcmp(failed->value, "true") == 0,
        };
        if (!opts.classification_failed && (r = classify(cr, e, fs)) < 0) {
            r = barra_error_set(cr->reterr, r, "cannot classify the event of case \"%s\"",
                                name->value);
            goto out;
        }
        if ((r = barra_decide(cr->p, e, fs, &opts, &d, cr->reterr)) < 0) {
            goto out;
        }
        check_expect(cr, exp, d);
    }
    *ret_passed = cr->failure[0] == '\0';
    if (fn) {
        struct barra_policy_case_result res = {
            .name = name->value,
            .line = c->line,
            .passed = *ret_passed,
            .failure = *ret_passed ? NULL : cr->failure,
            .decision = d,
        };
        fn(&res, userdata);
    }
    r = 0;
out:
    barra_decision_free(d);
    barra_event_free(e);
    barra_findings_free(fs);
    barra_consent_memory_free(mem);
    return r;
}

BARRA_EXPORT int barra_policy_test(const barra_policy_t *p, const char *cases_path,
                                   barra_detector_t *detector, barra_policy_case_fn fn,
                                   void *userdata, struct barra_error *reterr)
{
    if (p == NULL || cases_path == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no policy or cases file");
    }
    struct case_run cr = {.p = p, .file = cases_path, .reterr = reterr};
    struct ynode *doc = NULL;
    barra_detector_t *own = NULL;
    int r = ytree_load_file(cases_path, &doc, reterr);
    if (r < 0) {
        return r;
    }
    const struct ynode *cases = doc->kind == YNODE_MAP ? ytree_get(doc, "cases") : NULL;
    if (cases == NULL || cases->kind != YNODE_SEQ || doc->n != 2) {
        r = barra_error_set_at(reterr, -BARRA_EPARSE, cases_path, doc->line, doc->column,
                               "a cases file holds \"cases:\" with a list of cases");
        goto out;
    }
    if (detector == NULL && (r = barra_detector_new(NULL, &own, reterr)) < 0) {
        goto out;
    }
    if ((r = barra_scanner_new(detector ? detector : own, 0, &cr.scanner, reterr)) < 0 ||
        (r = barra_key_from_bytes(test_key_bytes, sizeof(test_key_bytes) - 1, &cr.key, reterr)) <
            0) {
        goto out;
    }
    int failed = 0;
    for (size_t i = 0; i < cases->n; i++) {
        bool passed = false;
        if ((r = run_case(&cr, cases->items[i], fn, userdata, &passed)) < 0) {
            goto out;
        }
        failed += !passed;
    }
    r = failed;
out:
    barra_scanner_free(cr.scanner);
    barra_key_free(cr.key);
    barra_detector_unref(own);
    ytree_free(doc);
    return r;
}
