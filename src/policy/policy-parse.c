/* SPDX-License-Identifier: Apache-2.0 */
/* Policy files (docs/policy.md) -> an immutable struct barra_policy. Every mistake is reported with
 * its line and column; nothing is guessed. */
#include "config.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/yamltree.h"
#include "policy/policy-int.h"

#include "core/banned.h"

#define POL_MAX_RULES    10000
#define POL_MAX_NAME     200
#define POL_MAX_TIP      2000
#define POL_MAX_TAGS     32
#define POL_MAX_CITATION 32

const char *const pol_lang_names[POL_LANGS] = {"en", "zh-Hant", "zh-Hans", "pt"};

int pol_fail(struct pol_parser *ps, const struct ynode *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return barra_error_set_at(ps->reterr, -BARRA_EPARSE, ps->file, n ? n->line : 0,
                              n ? n->column : 0, "%s", msg);
}

int pol_oom(struct pol_parser *ps)
{
    return barra_error_set(ps->reterr, -BARRA_ENOMEM, "out of memory compiling %s", ps->file);
}

int pol_check_keys(struct pol_parser *ps, const struct ynode *map, const char *what,
                   const char *const *allowed)
{
    if (map->kind != YNODE_MAP) {
        return pol_fail(ps, map, "%s takes a mapping, not %s", what, ytree_kind_name(map->kind));
    }
    for (size_t i = 0; i < map->n / 2; i++) {
        const struct ynode *k = map->items[2 * i];
        size_t j = 0;
        while (allowed[j] && strcmp(allowed[j], k->value) != 0) {
            j++;
        }
        if (allowed[j] == NULL) {
            char list[300] = "";
            size_t used = 0;
            for (j = 0; allowed[j] && used < sizeof(list); j++) {
                int w =
                    snprintf(list + used, sizeof(list) - used, "%s%s", j ? ", " : "", allowed[j]);
                used += w > 0 ? (size_t)w : 0;
            }
            return pol_fail(ps, k, "unknown key \"%s\" in %s (expected %s)", k->value, what, list);
        }
    }
    return 0;
}

static int intern_item(struct pol_parser *ps, const struct ynode *it, bool fold, uint32_t *ret)
{
    char low[POL_MAX_NAME + 1];
    size_t n = strlen(it->value);
    if (n == 0 || n > POL_MAX_NAME) {
        return pol_fail(ps, it, "a name has 1 to %d bytes", POL_MAX_NAME);
    }
    for (size_t i = 0; i <= n; i++) {
        char c = it->value[i];
        low[i] = (char)(fold && c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    return pol_syms_intern(&ps->p->syms, low, ret) < 0 ? pol_oom(ps) : 0;
}

int pol_parse_set(struct pol_parser *ps, const struct ynode *n, const char *what,
                  int (*check)(struct pol_parser *ps, const struct ynode *item), bool fold,
                  struct pol_set *ret)
{
    const struct ynode *const *items;
    size_t count = ytree_as_list(&n, &items);
    if (n->kind != YNODE_SEQ && n->kind != YNODE_SCALAR) {
        return pol_fail(ps, n, "%s takes a name or a list of names, not %s", what,
                        ytree_kind_name(n->kind));
    }
    if (count == 0) {
        return pol_fail(ps, n, "%s is an empty list", what);
    }
    ret->n = 0;
    ret->ids = pol_arena_alloc(ps->p, count, sizeof(*ret->ids));
    if (ret->ids == NULL) {
        return pol_oom(ps);
    }
    for (size_t i = 0; i < count; i++) {
        const struct ynode *it = items[i];
        if (it->kind != YNODE_SCALAR) {
            return pol_fail(ps, it, "%s lists names, not %s", what, ytree_kind_name(it->kind));
        }
        int r = check ? check(ps, it) : 0;
        uint32_t id;
        if (r < 0 || (r = intern_item(ps, it, fold, &id)) < 0) {
            return r;
        }
        if (!pol_set_has(ret, id)) {
            ret->ids[ret->n++] = id;
        }
    }
    return 0;
}

int pol_parse_action(struct pol_parser *ps, const struct ynode *n, enum barra_action *ret)
{
    if (n->kind == YNODE_SCALAR) {
        for (int a = BARRA_ACTION_ALLOW; a <= BARRA_ACTION_BLOCK; a++) {
            if (strcmp(n->value, barra_action_name((enum barra_action)a)) == 0) {
                *ret = (enum barra_action)a;
                return 0;
            }
        }
    }
    return pol_fail(ps, n,
                    "an action is one of allow, tag, redact, route_local, require_consent, block");
}

static int get_text(struct pol_parser *ps, const struct ynode *map, const char *key, size_t max,
                    bool required, char **ret)
{
    const struct ynode *v = ytree_get(map, key);
    if (v == NULL) {
        return required ? pol_fail(ps, map, "missing \"%s\"", key) : 0;
    }
    if (v->kind != YNODE_SCALAR) {
        return pol_fail(ps, v, "\"%s\" takes text, not %s", key, ytree_kind_name(v->kind));
    }
    size_t n = strlen(v->value);
    if ((required && n == 0) || n > max) {
        return pol_fail(ps, v, "\"%s\" has 1 to %zu bytes", key, max);
    }
    *ret = barra_strdup(v->value);
    return *ret ? 0 : pol_oom(ps);
}

static int parse_tip(struct pol_parser *ps, const struct ynode *n, struct pol_tip *tip)
{
    static const char *const keys[] = {"en", "zh-Hant", "zh-Hans", "pt", NULL};
    int r = pol_check_keys(ps, n, "tip", keys);
    for (size_t i = 0; r == 0 && i < POL_LANGS; i++) {
        r = get_text(ps, n, pol_lang_names[i], POL_MAX_TIP, true, &tip->text[i]);
        if (r < 0 && ytree_get(n, pol_lang_names[i]) == NULL) {
            r = pol_fail(ps, n,
                         "the tip has no \"%s\" text; every tip is written in en, zh-Hant, zh-Hans "
                         "and pt",
                         pol_lang_names[i]);
        }
    }
    return r;
}

static void tip_done(struct pol_tip *tip)
{
    for (size_t i = 0; i < POL_LANGS; i++) {
        barra_free(tip->text[i]);
        tip->text[i] = NULL;
    }
}

/* ---- redaction methods ---- */

static int parse_method(struct pol_parser *ps, const struct ynode *n, struct redact_method *ret)
{
    static const char *const keys[] = {"method", "keep_last", NULL};
    const struct ynode *m = n, *keep = NULL;
    if (n->kind == YNODE_MAP) {
        int r = pol_check_keys(ps, n, "redaction method", keys);
        if (r < 0) {
            return r;
        }
        m = ytree_get(n, "method");
        keep = ytree_get(n, "keep_last");
        if (m == NULL) {
            return pol_fail(ps, n, "a redaction method needs \"method\"");
        }
    }
    static const struct {
        const char *name;
        enum redact_kind kind;
    } kinds[] = {{"mask", REDACT_MASK},
                 {"partial", REDACT_PARTIAL},
                 {"pseudonym", REDACT_PSEUDONYM},
                 {"remove", REDACT_REMOVE}};
    size_t i = 0;
    while (m->kind == YNODE_SCALAR && i < 4 && strcmp(kinds[i].name, m->value) != 0) {
        i++;
    }
    if (m->kind != YNODE_SCALAR || i == 4) {
        return pol_fail(ps, m, "a redaction method is mask, partial, pseudonym or remove");
    }
    ret->kind = kinds[i].kind;
    ret->keep_last = 0;
    if (ret->kind == REDACT_PARTIAL) {
        char *end = NULL;
        long v = keep && keep->kind == YNODE_SCALAR ? strtol(keep->value, &end, 10) : -1;
        if (end == NULL || end == keep->value || *end != '\0' || v < 1 || v > 32) {
            return pol_fail(ps, keep ? keep : n,
                            "partial masking needs keep_last: N with N from 1 to 32, e.g. "
                            "{method: partial, keep_last: 4}");
        }
        ret->keep_last = (uint32_t)v;
    } else if (keep) {
        return pol_fail(ps, keep, "keep_last applies only to the partial method");
    }
    return 0;
}

static int type_is_known(struct pol_parser *ps, const char *name)
{
    size_t n = barra_detector_type_count(ps->detector);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(barra_detector_type_name(ps->detector, i), name) == 0) {
            return 1;
        }
    }
    return 0;
}

static int parse_redaction(struct pol_parser *ps, const struct ynode *n)
{
    static const char *const keys[] = {"default", "types", NULL};
    struct pol_redaction *rd = &ps->p->redaction;
    int r = pol_check_keys(ps, n, "redaction", keys);
    const struct ynode *def = ytree_get(n, "default"), *types = ytree_get(n, "types");
    if (r == 0 && def) {
        r = parse_method(ps, def, &rd->fallback);
    }
    if (r < 0 || types == NULL) {
        return r;
    }
    if (types->kind != YNODE_MAP) {
        return pol_fail(ps, types, "redaction types maps a type to a method, not %s",
                        ytree_kind_name(types->kind));
    }
    rd->type_syms = barra_calloc(types->n + 1, sizeof(*rd->type_syms));
    rd->methods = barra_calloc(types->n + 1, sizeof(*rd->methods));
    if (rd->type_syms == NULL || rd->methods == NULL) {
        return pol_oom(ps);
    }
    for (size_t i = 0; i < types->n / 2; i++) {
        const struct ynode *k = types->items[2 * i];
        if (!type_is_known(ps, k->value)) {
            return pol_fail(ps, k, "unknown finding type \"%s\" (docs/entities.md lists them)",
                            k->value);
        }
        if ((r = intern_item(ps, k, false, &rd->type_syms[rd->n])) < 0 ||
            (r = parse_method(ps, types->items[2 * i + 1], &rd->methods[rd->n])) < 0) {
            return r;
        }
        rd->n++;
    }
    return 0;
}

/* ---- tiers and rules ---- */

static int parse_tiers(struct pol_parser *ps, const struct ynode *n)
{
    struct barra_policy *p = ps->p;
    if (n->kind != YNODE_SEQ || n->n == 0) {
        return pol_fail(ps, n, "tiers is a list of tiers, lowest first");
    }
    if (n->n > POL_MAX_TIERS) {
        return pol_fail(ps, n, "a policy has at most %d tiers", POL_MAX_TIERS);
    }
    p->tiers = barra_calloc(n->n, sizeof(*p->tiers));
    if (p->tiers == NULL) {
        return pol_oom(ps);
    }
    static const char *const keys[] = {"name", "description", "when", NULL};
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *t = n->items[i];
        struct pol_tier *tier = &p->tiers[i];
        int r = pol_check_keys(ps, t, "a tier", keys);
        if (r == 0) {
            r = get_text(ps, t, "name", POL_MAX_NAME, true, &tier->name);
        }
        if (r == 0) {
            r = get_text(ps, t, "description", POL_MAX_TIP, false, &tier->description);
        }
        p->ntiers++;
        if (r < 0) {
            return r;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(p->tiers[j].name, tier->name) == 0) {
                return pol_fail(ps, ytree_get(t, "name"), "tier \"%s\" is defined twice",
                                tier->name);
            }
        }
        const struct ynode *when = ytree_get(t, "when");
        if (i == 0 && when) {
            return pol_fail(ps, when,
                            "the first tier is the default for data that meets no other tier; "
                            "it takes no \"when\"");
        }
        if (i > 0 && when == NULL) {
            return pol_fail(ps, t, "tier \"%s\" needs a \"when\" (only the first tier has none)",
                            tier->name);
        }
        if (when && (r = pol_pred_parse(ps, when, true, &tier->when)) < 0) {
            return r;
        }
    }
    return 0;
}

static bool valid_rule_id(const char *s)
{
    if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0])) {
        return false;
    }
    for (; *s; s++) {
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && !strchr("-_.", *s)) {
            return false;
        }
    }
    return true;
}

static int parse_strings(struct pol_parser *ps, const struct ynode *n, const char *what, size_t max,
                         char ***ret, uint32_t *ret_n)
{
    if (n->kind != YNODE_SEQ || n->n == 0 || n->n > max) {
        return pol_fail(ps, n, "%s is a list of 1 to %zu names", what, max);
    }
    *ret = barra_calloc(n->n, sizeof(char *));
    if (*ret == NULL) {
        return pol_oom(ps);
    }
    for (size_t i = 0; i < n->n; i++) {
        const struct ynode *it = n->items[i];
        if (it->kind != YNODE_SCALAR || it->value[0] == '\0' || strlen(it->value) > POL_MAX_NAME) {
            return pol_fail(ps, it, "%s lists names of 1 to %d bytes", what, POL_MAX_NAME);
        }
        if (((*ret)[i] = barra_strdup(it->value)) == NULL) {
            return pol_oom(ps);
        }
        (*ret_n)++;
    }
    return 0;
}

static int parse_rule_action(struct pol_parser *ps, const struct ynode *n, struct pol_rule *rule)
{
    const struct ynode *v;
    int r = 0;
    if ((v = ytree_get(n, "override")) != NULL) {
        if (v->kind != YNODE_SCALAR || (strcmp(v->value, "true") && strcmp(v->value, "false"))) {
            return pol_fail(ps, v, "override must be true or false");
        }
        rule->override = strcmp(v->value, "true") == 0;
    }
    if ((v = ytree_get(n, "tags")) != NULL &&
        (r = parse_strings(ps, v, "tags", POL_MAX_TAGS, &rule->tags, &rule->ntags)) < 0) {
        return r;
    }
    if (rule->action == BARRA_ACTION_TAG && rule->ntags == 0) {
        return pol_fail(ps, n, "rule \"%s\" tags, so it needs tags: [...]", rule->id);
    }
    pol_findings_sel_init(&rule->redact);
    rule->redact.min = 0;
    if ((v = ytree_get(n, "redact")) != NULL) {
        if (rule->action != BARRA_ACTION_REDACT) {
            return pol_fail(ps, v, "\"redact\" belongs to rules whose action is redact");
        }
        if (v->kind != YNODE_MAP) {
            return pol_fail(ps, v, "redact selects findings with a mapping such as {types: [...]}");
        }
        if (ytree_get(v, "count")) {
            return pol_fail(ps, ytree_get(v, "count"), "redact selects findings; it has no count");
        }
        if ((r = pol_parse_findings_sel(ps, v, &rule->redact)) < 0) {
            return r;
        }
    }
    v = ytree_get(n, "consent_purpose");
    if (rule->action == BARRA_ACTION_REQUIRE_CONSENT) {
        if ((r = get_text(ps, n, "consent_purpose", POL_MAX_NAME, true, &rule->consent_purpose)) <
            0) {
            return ytree_get(n, "consent_purpose")
                       ? r
                       : pol_fail(ps, n,
                                  "rule \"%s\" requires consent, so it needs "
                                  "consent_purpose (e.g. cross_border)",
                                  rule->id);
        }
    } else if (v) {
        return pol_fail(ps, v, "\"consent_purpose\" belongs to rules that require consent");
    }
    v = ytree_get(n, "route");
    if (rule->action == BARRA_ACTION_ROUTE_LOCAL) {
        if ((r = get_text(ps, n, "route", POL_MAX_NAME, true, &rule->route)) < 0) {
            return v ? r
                     : pol_fail(ps, n,
                                "rule \"%s\" routes locally, so it needs route: the local "
                                "store's name",
                                rule->id);
        }
    } else if (v) {
        return pol_fail(ps, v, "\"route\" belongs to rules whose action is route_local");
    }
    return 0;
}

static int parse_citations(struct pol_parser *ps, const struct ynode *n, struct pol_rule *rule)
{
    const struct ynode *v = ytree_get(n, "citations");
    if (v == NULL) {
        if (rule->action == BARRA_ACTION_ALLOW) {
            return 0;
        }
        return pol_fail(ps, n,
                        "rule \"%s\" needs citations: the articles it rests on (ids from "
                        "rules/law/articles.yaml)",
                        rule->id);
    }
    int r =
        parse_strings(ps, v, "citations", POL_MAX_CITATION, &rule->citations, &rule->ncitations);
    for (size_t i = 0; r == 0 && i < rule->ncitations; i++) {
        if (!pol_articles_has(ps->articles, rule->citations[i])) {
            r = pol_fail(ps, v->items[i],
                         "unknown article \"%s\" (rules/law/articles.yaml lists those that can be "
                         "cited)",
                         rule->citations[i]);
        }
    }
    return r;
}

static int parse_rule(struct pol_parser *ps, const struct ynode *n, struct pol_rule *rule)
{
    static const char *const keys[] = {"id",       "description", "when",   "action",
                                       "override", "tags",        "redact", "consent_purpose",
                                       "route",    "citations",   "tip",    NULL};
    int r = pol_check_keys(ps, n, "a rule", keys);
    if (r < 0 || (r = get_text(ps, n, "id", POL_MAX_NAME, true, &rule->id)) < 0) {
        return r;
    }
    rule->line = n->line;
    if (!valid_rule_id(rule->id)) {
        return pol_fail(ps, ytree_get(n, "id"),
                        "rule id \"%s\" must be lowercase letters, digits, '-', '_' and '.'",
                        rule->id);
    }
    if ((r = get_text(ps, n, "description", POL_MAX_TIP, false, &rule->description)) < 0) {
        return r;
    }
    const struct ynode *when = ytree_get(n, "when"), *action = ytree_get(n, "action");
    if (when == NULL) {
        return pol_fail(ps, n,
                        "rule \"%s\" has no \"when\" (write when: always to match every "
                        "event)",
                        rule->id);
    }
    if (when->kind == YNODE_SCALAR && strcmp(when->value, "always") == 0) {
        rule->when = NULL;
    } else if ((r = pol_pred_parse(ps, when, false, &rule->when)) < 0) {
        return r;
    }
    if (action == NULL) {
        return pol_fail(ps, n, "rule \"%s\" has no \"action\"", rule->id);
    }
    if ((r = pol_parse_action(ps, action, &rule->action)) < 0 ||
        (r = parse_rule_action(ps, n, rule)) < 0 || (r = parse_citations(ps, n, rule)) < 0) {
        return r;
    }
    const struct ynode *tip = ytree_get(n, "tip");
    if (tip) {
        return parse_tip(ps, tip, &rule->tip);
    }
    if (rule->action != BARRA_ACTION_ALLOW) {
        return pol_fail(ps, n,
                        "rule \"%s\" needs a tip telling the sender what happened and why, in en, "
                        "zh-Hant, zh-Hans and pt",
                        rule->id);
    }
    return 0;
}

static int parse_rules(struct pol_parser *ps, const struct ynode *n)
{
    struct barra_policy *p = ps->p;
    if (n->kind != YNODE_SEQ) {
        return pol_fail(ps, n, "rules is a list of rules, not %s", ytree_kind_name(n->kind));
    }
    if (n->n > POL_MAX_RULES) {
        return pol_fail(ps, n, "a policy has at most %d rules", POL_MAX_RULES);
    }
    p->rules = barra_calloc(n->n + 1, sizeof(*p->rules));
    if (p->rules == NULL) {
        return pol_oom(ps);
    }
    for (size_t i = 0; i < n->n; i++) {
        int r = parse_rule(ps, n->items[i], &p->rules[i]);
        p->nrules++;
        if (r < 0) {
            return r;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(p->rules[j].id, p->rules[i].id) == 0) {
                return pol_fail(ps, ytree_get(n->items[i], "id"),
                                "rule id \"%s\" is used twice (first on line %u)", p->rules[i].id,
                                p->rules[j].line);
            }
        }
    }
    return 0;
}

/* Shown when classification failed and the exception action applies, unless the policy says
 * otherwise. */
static const char *const default_exception_tip[POL_LANGS] = {
    "Barra could not finish checking this content (the classifier, the consent registry or the "
    "configuration failed), so it was held back as a precaution. Try again, or ask your "
    "data-protection officer.",
    "Barra 未能完成檢查此內容（分類、同意紀錄或設定出現問題），為審慎起見已暫緩傳送。請重試，或聯絡您的個人資料保護主任。",
    "Barra 未能完成检查此内容（分类、同意记录或配置出现问题），为审慎起见已暂缓发送。请重试，或联系您的个人信息保护负责人。",
    "O Barra não conseguiu concluir a verificação deste conteúdo (falhou a classificação, o registo "
    "de consentimentos ou a configuração), pelo que foi retido por precaução. Tente de novo ou "
    "contacte o encarregado da protecção de dados.",
};

static int parse_header(struct pol_parser *ps, const struct ynode *n)
{
    struct barra_policy *p = ps->p;
    static const char *const keys[] = {
        "name", "description", "default_action", "exception_action", "exception_tip", NULL};
    int r = pol_check_keys(ps, n, "policy", keys);
    if (r < 0 || (r = get_text(ps, n, "name", POL_MAX_NAME, true, &p->name)) < 0 ||
        (r = get_text(ps, n, "description", POL_MAX_TIP, false, &p->description)) < 0) {
        return r;
    }
    const struct ynode *v;
    if ((v = ytree_get(n, "default_action")) != NULL &&
        (r = pol_parse_action(ps, v, &p->default_action)) < 0) {
        return r;
    }
    if ((v = ytree_get(n, "exception_action")) != NULL &&
        (r = pol_parse_action(ps, v, &p->exception_action)) < 0) {
        return r;
    }
    if (p->exception_action == BARRA_ACTION_REQUIRE_CONSENT ||
        p->exception_action == BARRA_ACTION_ROUTE_LOCAL) {
        return pol_fail(ps, v, "the exception action is block, redact, tag or allow");
    }
    if ((v = ytree_get(n, "exception_tip")) != NULL) {
        return parse_tip(ps, v, &p->exception_tip);
    }
    for (size_t i = 0; i < POL_LANGS; i++) {
        if ((p->exception_tip.text[i] = barra_strdup(default_exception_tip[i])) == NULL) {
            return pol_oom(ps);
        }
    }
    return 0;
}

/* Content with no findings always has the same tier, and most rules need a finding to fire: both
 * are worked out once here so that deciding about the many messages without personal data costs
 * almost nothing. */
/* Every type of the catalogue gets a bit, for the rules' prefilter. */
static int number_types(struct pol_parser *ps)
{
    struct barra_policy *p = ps->p;
    size_t n = barra_detector_type_count(ps->detector);
    for (size_t i = 0; i < n && p->ntypes < 64; i++) {
        if (pol_syms_intern(&p->syms, barra_detector_type_name(ps->detector, i),
                            &p->type_syms[p->ntypes]) < 0 ||
            pol_syms_intern(&p->syms, barra_detector_type_category(ps->detector, i),
                            &p->type_category_syms[p->ntypes]) < 0) {
            return pol_oom(ps);
        }
        p->ntypes++;
    }
    return 0;
}

void *pol_arena_alloc(struct barra_policy *p, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size / 2) {
        return NULL;
    }
    size_t n =
        (count * size + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t);
    struct pol_arena_chunk *c = p->arena;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = c ? 2 * c->cap : 16384;
        while (cap < n) {
            cap *= 2;
        }
        struct pol_arena_chunk *fresh = barra_malloc(sizeof(*fresh) + cap);
        if (fresh == NULL) {
            return NULL;
        }
        fresh->next = c;
        fresh->used = 0;
        fresh->cap = cap;
        p->arena = c = fresh;
    }
    void *out = (char *)c->data + c->used;
    c->used += n;
    memset(out, 0, n);
    return out;
}

/* Sets rule i's bit in `sets[s]` for each symbol s of the gate's set (allocating the set on
 * first use as a copy of `any`, the rules without such a gate). */
static bool index_by_symbol(struct barra_policy *p, uint64_t **sets, const uint64_t *any,
                            const struct pol_set *gate, uint32_t i)
{
    for (uint32_t k = 0; k < gate->n; k++) {
        uint32_t s = gate->ids[k];
        if (s >= p->syms.n) {
            continue;
        }
        if (sets[s] == NULL) {
            if ((sets[s] = pol_arena_alloc(p, p->rule_words, sizeof(uint64_t))) == NULL) {
                return false;
            }
            memcpy(sets[s], any, p->rule_words * sizeof(uint64_t));
        }
        sets[s][i / 64] |= (uint64_t)1 << (i % 64);
    }
    return true;
}

/* The rule sets by the event's gated fields (see struct barra_policy). */
static int index_rules_by_event(struct pol_parser *ps)
{
    struct barra_policy *p = ps->p;
    uint32_t w = p->rule_words;
    bool ok = true;
    for (uint32_t v = 0; ok && v < POL_GATE_VALUES; v++) {
        ok = (p->rules_by_kind[v] = pol_arena_alloc(p, w, sizeof(uint64_t))) &&
             (p->rules_by_conversation[v] = pol_arena_alloc(p, w, sizeof(uint64_t))) &&
             (p->rules_by_direction[v] = pol_arena_alloc(p, w, sizeof(uint64_t)));
    }
    ok = ok && (p->rules_any_region = pol_arena_alloc(p, w, sizeof(uint64_t))) &&
         (p->rules_without_recipient = pol_arena_alloc(p, w, sizeof(uint64_t))) &&
         (p->rules_any_department = pol_arena_alloc(p, w, sizeof(uint64_t))) &&
         (p->rules_by_region = pol_arena_alloc(p, p->syms.n + 1, sizeof(uint64_t *))) &&
         (p->rules_by_department = pol_arena_alloc(p, p->syms.n + 1, sizeof(uint64_t *)));
    if (!ok) {
        return pol_oom(ps);
    }
    for (uint32_t i = 0; i < p->nrules; i++) {
        const struct pol_rule_gate *g = &p->gates[i];
        uint64_t bit = (uint64_t)1 << (i % 64);
        for (uint32_t v = 0; v < POL_GATE_VALUES; v++) {
            /* A mask of 0 is no gate (see pol_rules_admitted). */
            if (g->kinds == 0 || (g->kinds & (1u << v))) {
                p->rules_by_kind[v][i / 64] |= bit;
            }
            if (g->conversation_types == 0 || (g->conversation_types & (1u << v))) {
                p->rules_by_conversation[v][i / 64] |= bit;
            }
            if (g->directions == 0 || (g->directions & (1u << v))) {
                p->rules_by_direction[v][i / 64] |= bit;
            }
        }
        if (g->regions == NULL) {
            p->rules_any_region[i / 64] |= bit;
        }
        if (g->departments == NULL) {
            p->rules_any_department[i / 64] |= bit;
        }
        p->gates_on_region |= g->regions != NULL;
        p->gates_on_department |= g->departments != NULL;
        if (!g->needs_recipient) {
            p->rules_without_recipient[i / 64] |= bit;
        }
    }
    /* The symbol sets start from the rules without a gate, complete by now. */
    for (uint32_t i = 0; i < p->nrules; i++) {
        const struct pol_rule_gate *g = &p->gates[i];
        if ((g->regions &&
             !index_by_symbol(p, p->rules_by_region, p->rules_any_region, g->regions, i)) ||
            (g->departments && !index_by_symbol(p, p->rules_by_department, p->rules_any_department,
                                                g->departments, i))) {
            return pol_oom(ps);
        }
    }
    return 0;
}

/* The rule sets by type and by tier (see struct barra_policy). */
static int index_rules(struct pol_parser *ps)
{
    struct barra_policy *p = ps->p;
    uint32_t w = (p->nrules + 63) / 64 + 1;
    bool ok = true;
    p->rule_words = w;
    p->rules_any_type = pol_arena_alloc(p, w, sizeof(uint64_t));
    ok = p->rules_any_type != NULL;
    for (uint32_t t = 0; ok && t < p->ntypes; t++) {
        ok = (p->rules_by_type[t] = pol_arena_alloc(p, w, sizeof(uint64_t))) != NULL;
    }
    for (uint32_t k = 0; ok && k < p->ntiers; k++) {
        ok = (p->rules_by_tier[k] = pol_arena_alloc(p, w, sizeof(uint64_t))) != NULL;
    }
    if (!ok) {
        return pol_oom(ps);
    }
    for (uint32_t i = 0; i < p->nrules; i++) {
        const struct pol_rule_gate *g = &p->gates[i];
        uint64_t bit = (uint64_t)1 << (i % 64);
        if (g->needs_types == 0) {
            p->rules_any_type[i / 64] |= bit;
        }
        for (uint32_t t = 0; t < p->ntypes; t++) {
            if (g->needs_types & ((uint64_t)1 << t)) {
                p->rules_by_type[t][i / 64] |= bit;
            }
        }
        for (uint32_t k = 0; k < p->ntiers; k++) {
            if (g->tiers & (1u << k)) {
                p->rules_by_tier[k][i / 64] |= bit;
            }
        }
    }
    return index_rules_by_event(ps);
}

static int build_prefilter(struct pol_parser *ps)
{
    struct barra_policy *p = ps->p;
    int r = number_types(ps);
    if (r < 0) {
        return r;
    }
    struct pol_consent_memo memo[POL_MAX_PURPOSES];
    uint8_t asked = 0;
    struct pol_ctx empty = {.p = p, .memo = memo, .asked = &asked};
    p->empty_tier = pol_assign_tier(&empty);
    p->empty_rules = barra_calloc(p->nrules + 1, sizeof(*p->empty_rules));
    p->gates = pol_arena_alloc(p, p->nrules + 1, sizeof(*p->gates));
    if (p->empty_rules == NULL || p->gates == NULL) {
        return pol_oom(ps);
    }
    for (uint32_t i = 0; i < p->nrules; i++) {
        struct pol_rule *rule = &p->rules[i];
        rule->needs_findings = rule->when && pol_pred_needs_findings(rule->when, p->empty_tier);
        rule->needs_types = rule->when ? pol_pred_needs_types(rule->when, p) : 0;
        uint32_t all = p->ntiers == 32 ? UINT32_MAX : (1u << p->ntiers) - 1;
        rule->tiers = rule->when ? pol_pred_tiers(rule->when, all) : all;
        p->gates[i] = (struct pol_rule_gate){
            .needs_types = rule->needs_types, .tiers = rule->tiers, .when = rule->when};
        pol_gate_from_event_conditions(&p->gates[i], rule->when);
        if (pol_gate_rest(p, &p->gates[i]) < 0) {
            return pol_oom(ps);
        }
        if (!rule->needs_findings) {
            p->empty_rules[p->nempty_rules++] = i;
        }
    }
    return index_rules(ps);
}

static int parse_document(struct pol_parser *ps, const struct ynode *doc)
{
    static const char *const keys[] = {"policy", "tiers", "redaction", "rules", NULL};
    int r = pol_check_keys(ps, doc, "the policy file", keys);
    if (r < 0) {
        return r;
    }
    const struct ynode *head = ytree_get(doc, "policy"), *tiers = ytree_get(doc, "tiers"),
                       *redaction = ytree_get(doc, "redaction"), *rules = ytree_get(doc, "rules");
    if (head == NULL) {
        return pol_fail(ps, doc, "missing \"policy\" (its name and defaults)");
    }
    if (tiers == NULL) {
        return pol_fail(ps, doc, "missing \"tiers\"");
    }
    if (rules == NULL) {
        return pol_fail(ps, doc, "missing \"rules\"");
    }
    if ((r = parse_header(ps, head)) < 0 || (r = parse_tiers(ps, tiers)) < 0) {
        return r;
    }
    if (redaction && (r = parse_redaction(ps, redaction)) < 0) {
        return r;
    }
    if ((r = parse_rules(ps, rules)) < 0) {
        return r;
    }
    return build_prefilter(ps);
}

static void rule_done(struct pol_rule *r)
{
    barra_free(r->id);
    barra_free(r->description);
    for (uint32_t i = 0; i < r->ntags; i++) {
        barra_free(r->tags[i]);
    }
    barra_free(r->tags);
    barra_free(r->consent_purpose);
    barra_free(r->route);
    for (uint32_t i = 0; i < r->ncitations; i++) {
        barra_free(r->citations[i]);
    }
    barra_free(r->citations);
    tip_done(&r->tip);
}

static void policy_free(struct barra_policy *p)
{
    for (uint32_t i = 0; i < p->nrules; i++) {
        rule_done(&p->rules[i]);
    }
    barra_free(p->rules);
    barra_free(p->empty_rules);
    for (uint32_t i = 0; i < p->ntiers; i++) {
        barra_free(p->tiers[i].name);
        barra_free(p->tiers[i].description);
    }
    barra_free(p->tiers);
    barra_free(p->redaction.type_syms);
    barra_free(p->redaction.methods);
    for (uint32_t i = 0; i < p->npurposes; i++) {
        barra_free(p->purposes[i]);
    }
    tip_done(&p->exception_tip);
    pol_syms_done(&p->syms);
    pol_articles_free(p->articles);
    for (struct pol_arena_chunk *c = p->arena, *next; c; c = next) {
        next = c->next;
        barra_free(c);
    }
    barra_free(p->name);
    barra_free(p->description);
    barra_free(p);
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
        memset(md, 0, sizeof(md));
    }
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

BARRA_EXPORT void barra_policy_options_init(struct barra_policy_options *opts)
{
    if (opts) {
        memset(opts, 0, sizeof(*opts));
    }
}

BARRA_EXPORT int barra_policy_compile(const char *yaml, size_t len, const char *name,
                                      const struct barra_policy_options *opts, barra_policy_t **ret,
                                      struct barra_error *reterr)
{
    if (yaml == NULL || ret == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no policy text");
    }
    struct barra_policy_options defaults;
    if (opts == NULL) {
        barra_policy_options_init(&defaults);
        opts = &defaults;
    }
    struct pol_parser ps = {.file = name ? name : "<policy>", .reterr = reterr};
    barra_detector_t *own_detector = NULL;
    struct ynode *doc = NULL;
    int r;
    ps.p = barra_calloc(1, sizeof(*ps.p));
    if (ps.p == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    atomic_init(&ps.p->refs, 1);
    ps.p->exception_action = BARRA_ACTION_BLOCK;
    ps.p->redaction.fallback.kind = REDACT_MASK;
    ps.detector = opts->detector;
    if (ps.detector == NULL) {
        if ((r = barra_detector_new(NULL, &own_detector, reterr)) < 0) {
            goto out_free;
        }
        ps.detector = own_detector;
    }
    (void)snprintf(ps.p->rules_version, sizeof(ps.p->rules_version), "%s",
                   barra_detector_rules_version(ps.detector));
    (void)snprintf(ps.p->engine_version, sizeof(ps.p->engine_version), "%s",
                   barra_detector_engine_version(ps.detector));
    if ((r = pol_articles_load(opts->articles_path, &ps.p->articles, reterr)) < 0) {
        goto out_free;
    }
    ps.articles = ps.p->articles;
    sha256_hex(yaml, len, ps.p->version);
    if ((r = ytree_load_string(yaml, len, ps.file, &doc, reterr)) < 0) {
        goto out_free;
    }
    if ((r = parse_document(&ps, doc)) < 0) {
        goto out_free;
    }
    ytree_free(doc);
    barra_detector_unref(own_detector);
    *ret = ps.p;
    return 0;

out_free:
    ytree_free(doc);
    barra_detector_unref(own_detector);
    policy_free(ps.p);
    return r;
}

BARRA_EXPORT int barra_policy_load(const char *path, const struct barra_policy_options *opts,
                                   barra_policy_t **ret, struct barra_error *reterr)
{
    if (path == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no policy file given");
    }
    FILE *f = fopen(path, "rbe");
    if (f == NULL) {
        return barra_error_set(reterr, -BARRA_ENOENT, "cannot open policy \"%s\"", path);
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    int r = 0;
    for (;;) {
        if (cap - len < 65536) {
            if (cap >= ((size_t)16 << 20)) {
                r = barra_error_set(reterr, -BARRA_ELIMIT, "policy \"%s\" is larger than 16 MiB",
                                    path);
                break;
            }
            cap = cap ? cap * 2 : 65536;
            char *t = barra_reallocarray(text, cap, 1);
            if (t == NULL) {
                r = barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
                break;
            }
            text = t;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                r = barra_error_set(reterr, -BARRA_EIO, "cannot read policy \"%s\"", path);
            }
            break;
        }
    }
    (void)fclose(f);
    if (r == 0) {
        r = barra_policy_compile(text ? text : "", len, path, opts, ret, reterr);
    }
    barra_free(text);
    return r;
}

BARRA_EXPORT barra_policy_t *barra_policy_ref(barra_policy_t *p)
{
    if (p) {
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    }
    return p;
}

BARRA_EXPORT barra_policy_t *barra_policy_unref(barra_policy_t *p)
{
    if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
        policy_free(p);
    }
    return NULL;
}

BARRA_EXPORT const char *barra_policy_name(const barra_policy_t *p)
{
    return p ? p->name : NULL;
}

BARRA_EXPORT const char *barra_policy_version(const barra_policy_t *p)
{
    return p ? p->version : NULL;
}

BARRA_EXPORT size_t barra_policy_rule_count(const barra_policy_t *p)
{
    return p ? p->nrules : 0;
}

BARRA_EXPORT const char *barra_action_name(enum barra_action a)
{
    static const char *const names[] = {"allow",           "tag",  "redact", "route_local",
                                        "require_consent", "block"};
    return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : NULL;
}
