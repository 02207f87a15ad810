/* SPDX-License-Identifier: Apache-2.0 */
/* rules/entities/ -> struct det_catalog. Runs at build time for the shipped rules
 * (tools/barra-rulec) and at start-up only when a user points Barra at a rules directory of their
 * own. */
#include "config.h"

#include "detect/detect-rules.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/yamltree.h"
#include "detect/detect-shape.h"
#include "detect/detect-validate.h"

#include "core/banned.h"

#define RULES_MAX_TYPES    250
#define RULES_MAX_PATTERNS 4000

/* A keyword while the catalogue is being built: its meanings accumulate before they are flattened.
 */
struct kw_build {
    char *text;
    uint32_t len;
    uint8_t flags;
    struct det_keyword_ref *refs;
    uint32_t nrefs;
};

struct rules_builder {
    struct det_catalog *cat;
    struct det_shape_builder *digit, *keyword, *verify;
    uint16_t nverify;
    struct kw_build *kws;
    size_t nkws, capkws;
    size_t captypes, cappatterns, caphints;
    const char *file; /* for messages */
    const struct ynode *negative_sets;
    EVP_MD_CTX *sha;
    struct barra_error *reterr;
};

static int fail(struct rules_builder *b, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct rules_builder *b, const struct ynode *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return barra_error_set_at(b->reterr, -BARRA_ERULES, b->file, n ? n->line : 0, n ? n->column : 0,
                              "%s", msg);
}

static int oom(struct rules_builder *b)
{
    return barra_error_set(b->reterr, -BARRA_ENOMEM, "out of memory compiling %s", b->file);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return 0;
    }
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need) {
        c *= 2;
    }
    void *q = barra_reallocarray(*p, c, elem);
    if (q == NULL) {
        return -BARRA_ENOMEM;
    }
    *p = q;
    *cap = c;
    return 0;
}

/* ---- small readers for YAML values ---- */

static int want_kind(struct rules_builder *b, const struct ynode *n, enum ynode_kind k,
                     const char *what)
{
    if (n->kind != k) {
        char msg[200];
        (void)snprintf(msg, sizeof(msg), "%s must be %s, not %s", what, ytree_kind_name(k),
                       ytree_kind_name(n->kind));
        return fail(b, n, "%s", msg);
    }
    return 0;
}

static int get_string(struct rules_builder *b, const struct ynode *map, const char *key,
                      bool required, const char **ret)
{
    const struct ynode *n = ytree_get(map, key);
    if (n == NULL) {
        if (required) {
            return fail(b, map, "missing key \"%s\"", key);
        }
        *ret = NULL;
        return 0;
    }
    int r = want_kind(b, n, YNODE_SCALAR, key);
    if (r == 0) {
        *ret = n->value;
    }
    return r;
}

static int get_number(struct rules_builder *b, const struct ynode *map, const char *key, double lo,
                      double hi, double *ret)
{
    const struct ynode *n = ytree_get(map, key);
    if (n == NULL) {
        return 0; /* keep the default already in *ret */
    }
    int r = want_kind(b, n, YNODE_SCALAR, key);
    if (r < 0) {
        return r;
    }
    char *end;
    errno = 0;
    double v = strtod(n->value, &end);
    if (errno || end == n->value || *end != '\0' || v < lo || v > hi) {
        char msg[160];
        (void)snprintf(msg, sizeof(msg), "\"%s\" must be a number from %g to %g", key, lo, hi);
        return fail(b, n, "%s", msg);
    }
    *ret = v;
    return 0;
}

/* Every key of `map` must be one of `allowed` (NULL-terminated): a typo must not pass silently. */
static int check_keys(struct rules_builder *b, const struct ynode *map, const char *const *allowed)
{
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const char *k = map->items[i]->value;
        bool ok = false;
        for (size_t j = 0; allowed[j]; j++) {
            ok |= strcmp(k, allowed[j]) == 0;
        }
        if (!ok) {
            return fail(b, map->items[i], "unknown key \"%s\"", k);
        }
    }
    return 0;
}

/* ---- keywords ---- */

static bool ascii_letter(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool same_literal(const struct kw_build *k, const char *text, size_t len, uint8_t flags)
{
    if (k->len != len || (k->flags & DET_KW_CASELESS) != (flags & DET_KW_CASELESS)) {
        return false;
    }
    return (flags & DET_KW_CASELESS) ? strncasecmp(k->text, text, len) == 0
                                     : memcmp(k->text, text, len) == 0;
}

static int add_literal(struct rules_builder *b, const char *text, size_t len, uint16_t type,
                       uint8_t role, uint8_t side, float weight)
{
    uint8_t flags = 0;
    for (size_t i = 0; i < len; i++) {
        if (ascii_letter((unsigned char)text[i])) {
            flags |= DET_KW_CASELESS;
        }
    }
    if (ascii_letter((unsigned char)text[0]) || ascii_letter((unsigned char)text[len - 1])) {
        flags |= DET_KW_WORD;
    }
    struct kw_build *k = NULL;
    for (size_t i = 0; i < b->nkws; i++) {
        if (same_literal(&b->kws[i], text, len, flags)) {
            k = &b->kws[i];
            break;
        }
    }
    if (k == NULL) {
        if (grow((void **)&b->kws, &b->capkws, b->nkws + 1, sizeof(*b->kws)) < 0) {
            return oom(b);
        }
        k = &b->kws[b->nkws];
        memset(k, 0, sizeof(*k));
        k->text = barra_memdup(text, len);
        if (k->text == NULL) {
            return oom(b);
        }
        k->len = (uint32_t)len;
        k->flags = flags;
        b->nkws++;
    }
    for (uint32_t i = 0; i < k->nrefs; i++) {
        if (k->refs[i].type == type && k->refs[i].role == role) {
            if (weight > k->refs[i].weight) {
                k->refs[i].weight = weight;
            }
            k->refs[i].side |= side;
            return 0;
        }
    }
    void *q = barra_reallocarray(k->refs, k->nrefs + 1, sizeof(*k->refs));
    if (q == NULL) {
        return oom(b);
    }
    k->refs = q;
    k->refs[k->nrefs++] = (struct det_keyword_ref){weight, type, role, side};
    return 0;
}

/* Portuguese is often typed without accents ("diagnostico"): each accented word also gets its plain
 * form. Returns the length written to out, or 0 if the word has no accented letter. */
static size_t strip_accents(const char *text, size_t len, char *out, size_t cap)
{
    static const struct {
        const char *from;
        char to;
    } map[] = {
        {"á", 'a'}, {"à", 'a'}, {"â", 'a'}, {"ã", 'a'}, {"é", 'e'}, {"ê", 'e'}, {"í", 'i'},
        {"ó", 'o'}, {"ô", 'o'}, {"õ", 'o'}, {"ú", 'u'}, {"ç", 'c'}, {"Á", 'A'}, {"É", 'E'},
        {"Í", 'I'}, {"Ó", 'O'}, {"Ú", 'U'}, {"Ç", 'C'}, {"º", 'o'}, {"ª", 'a'},
    };
    size_t w = 0;
    bool changed = false;
    for (size_t i = 0; i < len && w + 1 < cap;) {
        bool hit = false;
        for (size_t m = 0; m < sizeof(map) / sizeof(map[0]); m++) {
            size_t k = strlen(map[m].from);
            if (i + k <= len && memcmp(text + i, map[m].from, k) == 0) {
                out[w++] = map[m].to;
                i += k;
                hit = changed = true;
                break;
            }
        }
        if (!hit) {
            out[w++] = text[i++];
        }
    }
    return changed ? w : 0;
}

static int add_word(struct rules_builder *b, const struct ynode *n, uint16_t type, uint8_t role,
                    uint8_t side, float weight)
{
    int r = want_kind(b, n, YNODE_SCALAR, "a word");
    if (r < 0) {
        return r;
    }
    size_t len = strlen(n->value);
    if (len < 2 || len > 200) {
        return fail(b, n, "word \"%s\" must be 2 to 200 bytes long", n->value);
    }
    r = add_literal(b, n->value, len, type, role, side, weight);
    char plain[256];
    size_t plen = r == 0 ? strip_accents(n->value, len, plain, sizeof(plain)) : 0;
    if (plen >= 2) {
        r = add_literal(b, plain, plen, type, role, side, weight);
    }
    return r;
}

/* A word group: {weight: W, side: before|after|both, zh-Hans: [...], zh-Hant: [...], en: [...],
 * pt: [...], any: [...]}. Context words count on both sides of a value by default, words that lower
 * a score only before it. */
static int add_group(struct rules_builder *b, const struct ynode *g, uint16_t type, uint8_t role,
                     double default_weight)
{
    static const char *const keys[] = {"weight", "side", "zh-Hans", "zh-Hant",
                                       "en",     "pt",   "any",     NULL};
    int r = want_kind(b, g, YNODE_MAP, "a word group");
    r = r ? r : check_keys(b, g, keys);
    double weight = default_weight;
    r = r ? r : get_number(b, g, "weight", 0, 1, &weight);
    const char *side_name = NULL;
    r = r ? r : get_string(b, g, "side", false, &side_name);
    uint8_t side = role == DET_ROLE_NEGATIVE ? DET_SIDE_BEFORE : DET_SIDE_BOTH;
    if (r == 0 && side_name) {
        if (strcmp(side_name, "before") == 0) {
            side = DET_SIDE_BEFORE;
        } else if (strcmp(side_name, "after") == 0) {
            side = DET_SIDE_AFTER;
        } else if (strcmp(side_name, "both") == 0) {
            side = DET_SIDE_BOTH;
        } else {
            r = fail(b, ytree_get(g, "side"), "side must be before, after or both, not \"%s\"",
                     side_name);
        }
    }
    for (size_t i = 0; r == 0 && i + 1 < g->n; i += 2) {
        if (strcmp(g->items[i]->value, "weight") == 0 || strcmp(g->items[i]->value, "side") == 0) {
            continue;
        }
        const struct ynode *list = g->items[i + 1];
        r = want_kind(b, list, YNODE_SEQ, g->items[i]->value);
        for (size_t j = 0; r == 0 && j < list->n; j++) {
            r = add_word(b, list->items[j], type, role, side, (float)weight);
        }
    }
    return r;
}

static int add_groups(struct rules_builder *b, const struct ynode *type_doc, const char *key,
                      uint16_t type, uint8_t role, double default_weight)
{
    const struct ynode *list = ytree_get(type_doc, key);
    if (list == NULL) {
        return 0;
    }
    int r = want_kind(b, list, YNODE_SEQ, key);
    for (size_t i = 0; r == 0 && i < list->n; i++) {
        r = add_group(b, list->items[i], type, role, default_weight);
    }
    return r;
}

/* ---- types and patterns ---- */

static int add_pattern(struct rules_builder *b, const struct ynode *p, uint16_t type)
{
    static const char *const keys[] = {"name",         "regex",  "validator", "base",
                                       "subtype",      "masked", "trigger",   "verify",
                                       "jurisdiction", "cap",    NULL};
    struct det_catalog *c = b->cat;
    int r = want_kind(b, p, YNODE_MAP, "a pattern");
    r = r ? r : check_keys(b, p, keys);
    const char *name, *regex, *validator, *subtype, *masked, *trigger, *verify, *jurisdiction;
    r = r ? r : get_string(b, p, "name", true, &name);
    r = r ? r : get_string(b, p, "regex", false, &regex);
    r = r ? r : get_string(b, p, "validator", false, &validator);
    r = r ? r : get_string(b, p, "subtype", false, &subtype);
    r = r ? r : get_string(b, p, "masked", false, &masked);
    r = r ? r : get_string(b, p, "trigger", false, &trigger);
    r = r ? r : get_string(b, p, "verify", false, &verify);
    r = r ? r : get_string(b, p, "jurisdiction", false, &jurisdiction);
    double base = 0.5, cap = 1.0;
    r = r ? r : get_number(b, p, "base", 0, 1, &base);
    r = r ? r : get_number(b, p, "cap", 0, 1, &cap);
    if (r < 0) {
        return r;
    }
    int v = validator ? det_validator_from_name(validator) : DET_V_NONE;
    if (v < 0) {
        return fail(b, ytree_get(p, "validator"), "unknown validator \"%s\"", validator);
    }
    if ((regex == NULL) != (v == DET_V_EMAIL)) {
        return fail(b, p, "%s",
                    regex ? "the email validator takes no regex" : "missing key \"regex\"");
    }
    if (trigger && strcmp(trigger, "digits") != 0 && strcmp(trigger, "keyword") != 0) {
        return fail(b, ytree_get(p, "trigger"), "trigger must be digits or keyword, not \"%s\"",
                    trigger);
    }
    if (masked && strcmp(masked, "true") != 0 && strcmp(masked, "false") != 0) {
        return fail(b, ytree_get(p, "masked"), "masked must be true or false, not \"%s\"", masked);
    }
    if (c->npatterns >= RULES_MAX_PATTERNS ||
        grow((void **)&c->patterns, &b->cappatterns, c->npatterns + 1, sizeof(*c->patterns)) < 0) {
        return oom(b);
    }
    uint16_t id = (uint16_t)c->npatterns;
    struct det_pattern *pat = &c->patterns[id];
    memset(pat, 0, sizeof(*pat));
    c->npatterns++;
    pat->name = barra_strdup(name);
    pat->subtype = subtype ? barra_strdup(subtype) : NULL;
    pat->jurisdiction = jurisdiction ? barra_strdup(jurisdiction) : NULL;
    if (pat->name == NULL || (subtype && pat->subtype == NULL) ||
        (jurisdiction && pat->jurisdiction == NULL)) {
        return oom(b);
    }
    pat->base = (float)base;
    pat->cap = (float)cap;
    pat->type = type;
    pat->validator = (uint8_t)v;
    pat->verify = DET_NO_VERIFY;
    bool on_keyword = trigger && strcmp(trigger, "keyword") == 0;
    pat->flags = (uint8_t)((masked && strcmp(masked, "true") == 0 ? DET_PAT_MASKED : 0) |
                           (on_keyword ? DET_PAT_ON_KEYWORD : 0));
    if (v == DET_V_EMAIL) {
        c->email_pattern = id;
        return 0;
    }
    struct barra_error e;
    const char *failed = "regex";
    r = det_shape_add(on_keyword ? b->keyword : b->digit, regex, id, &e);
    if (r == 0 && verify) {
        failed = "verify";
        pat->verify = b->nverify++;
        r = det_shape_add(b->verify, verify, pat->verify, &e);
    }
    if (r < 0) {
        const struct ynode *at = ytree_get(p, failed);
        return barra_error_set_at(b->reterr, r == -BARRA_ENOMEM ? r : -BARRA_ERULES, b->file,
                                  at->line, at->column, "%s", e.message);
    }
    return 0;
}

static int add_domain_hints(struct rules_builder *b, const struct ynode *map)
{
    struct det_catalog *c = b->cat;
    int r = want_kind(b, map, YNODE_MAP, "domain_jurisdiction");
    for (size_t i = 0; r == 0 && i + 1 < map->n; i += 2) {
        r = want_kind(b, map->items[i + 1], YNODE_SCALAR, "a jurisdiction");
        if (r == 0 &&
            grow((void **)&c->hints, &b->caphints, c->nhints + 1, sizeof(*c->hints)) < 0) {
            r = oom(b);
        }
        if (r == 0) {
            struct det_domain_hint *h = &c->hints[c->nhints++];
            h->suffix = barra_strdup(map->items[i]->value);
            h->jurisdiction = barra_strdup(map->items[i + 1]->value);
            if (h->suffix == NULL || h->jurisdiction == NULL) {
                r = oom(b);
            }
        }
    }
    return r;
}

static int add_negative_sets(struct rules_builder *b, const struct ynode *doc, uint16_t type)
{
    const struct ynode *names = ytree_get(doc, "negative_sets");
    if (names == NULL) {
        return 0;
    }
    int r = want_kind(b, names, YNODE_SEQ, "negative_sets");
    for (size_t i = 0; r == 0 && i < names->n; i++) {
        r = want_kind(b, names->items[i], YNODE_SCALAR, "a set name");
        const struct ynode *set = r ? NULL : ytree_get(b->negative_sets, names->items[i]->value);
        if (r == 0 && set == NULL) {
            r = fail(b, names->items[i], "no negative set \"%s\" in catalog.yaml",
                     names->items[i]->value);
        }
        r = r ? r : add_group(b, set, type, DET_ROLE_NEGATIVE, 0.7);
    }
    return r;
}

static int add_type(struct rules_builder *b, const struct ynode *doc)
{
    static const char *const keys[] = {"type",     "kind",
                                       "category", "jurisdiction",
                                       "order",    "description",
                                       "patterns", "context",
                                       "negative", "negative_sets",
                                       "triggers", "terms",
                                       "exclude",  "domain_jurisdiction",
                                       "notes",    NULL};
    struct det_catalog *c = b->cat;
    int r = want_kind(b, doc, YNODE_MAP, "a type file");
    r = r ? r : check_keys(b, doc, keys);
    const char *name, *kind, *category, *jurisdiction;
    r = r ? r : get_string(b, doc, "type", true, &name);
    r = r ? r : get_string(b, doc, "kind", true, &kind);
    r = r ? r : get_string(b, doc, "category", true, &category);
    r = r ? r : get_string(b, doc, "jurisdiction", true, &jurisdiction);
    double order = 100;
    r = r ? r : get_number(b, doc, "order", 0, 255, &order);
    if (r < 0) {
        return r;
    }
    bool term = strcmp(kind, "term") == 0;
    if (!term && strcmp(kind, "identifier") != 0) {
        return fail(b, ytree_get(doc, "kind"), "kind must be identifier or term, not \"%s\"", kind);
    }
    for (uint32_t i = 0; i < c->ntypes; i++) {
        if (strcmp(c->types[i].name, name) == 0) {
            return fail(b, ytree_get(doc, "type"), "type \"%s\" is defined twice", name);
        }
    }
    if (c->ntypes >= RULES_MAX_TYPES ||
        grow((void **)&c->types, &b->captypes, c->ntypes + 1, sizeof(*c->types)) < 0) {
        return oom(b);
    }
    uint16_t id = (uint16_t)c->ntypes;
    struct det_type *t = &c->types[id];
    memset(t, 0, sizeof(*t));
    c->ntypes++;
    t->name = barra_strdup(name);
    t->category = barra_strdup(category);
    t->jurisdiction = barra_strdup(jurisdiction);
    if (t->name == NULL || t->category == NULL || t->jurisdiction == NULL) {
        return oom(b);
    }
    t->kind = term ? DET_KIND_TERM : DET_KIND_IDENTIFIER;
    t->order = (uint8_t)order;
    const struct ynode *patterns = ytree_get(doc, "patterns");
    if (term == (patterns != NULL)) {
        return fail(b, doc, "%s",
                    term ? "a term type has terms, not patterns"
                         : "an identifier type needs patterns");
    }
    if (patterns) {
        r = want_kind(b, patterns, YNODE_SEQ, "patterns");
        for (size_t i = 0; r == 0 && i < patterns->n; i++) {
            r = add_pattern(b, patterns->items[i], id);
        }
    }
    r = r ? r : add_groups(b, doc, "context", id, DET_ROLE_CONTEXT, 0.8);
    r = r ? r : add_groups(b, doc, "negative", id, DET_ROLE_NEGATIVE, 0.7);
    r = r ? r : add_groups(b, doc, "triggers", id, DET_ROLE_TRIGGER, 1.0);
    r = r ? r : add_groups(b, doc, "terms", id, DET_ROLE_TERM, 0.8);
    r = r ? r : add_groups(b, doc, "exclude", id, DET_ROLE_EXCLUDE, 1.0);
    r = r ? r : add_negative_sets(b, doc, id);
    const struct ynode *hints = ytree_get(doc, "domain_jurisdiction");
    if (r == 0 && hints) {
        r = add_domain_hints(b, hints);
    }
    return r;
}

/* ---- catalog.yaml ---- */

static int read_scoring(struct rules_builder *b, const struct ynode *doc)
{
    static const char *const keys[] = {"threshold", "before",        "after",
                                       "near",      "far_factor",    "blocked_factor",
                                       "cooccur",   "cooccur_boost", NULL};
    struct det_scoring *sc = &b->cat->scoring;
    double threshold = 0.5, before = 120, after = 60, near = 40, far = 0.6, blocked = 0.4;
    double cooccur = 200, boost = 0.25;
    const struct ynode *s = ytree_get(doc, "scoring");
    int r = 0;
    if (s) {
        r = want_kind(b, s, YNODE_MAP, "scoring");
        r = r ? r : check_keys(b, s, keys);
        r = r ? r : get_number(b, s, "threshold", 0, 1, &threshold);
        r = r ? r : get_number(b, s, "before", 0, 400, &before);
        r = r ? r : get_number(b, s, "after", 0, 400, &after);
        r = r ? r : get_number(b, s, "near", 0, 400, &near);
        r = r ? r : get_number(b, s, "far_factor", 0, 1, &far);
        r = r ? r : get_number(b, s, "blocked_factor", 0, 1, &blocked);
        r = r ? r : get_number(b, s, "cooccur", 0, 400, &cooccur);
        r = r ? r : get_number(b, s, "cooccur_boost", 0, 1, &boost);
    }
    sc->threshold = (float)threshold;
    sc->before = (uint32_t)before;
    sc->after = (uint32_t)after;
    sc->near = (uint32_t)near;
    sc->far_factor = (float)far;
    sc->blocked_factor = (float)blocked;
    sc->cooccur = (uint32_t)cooccur;
    sc->cooccur_boost = (float)boost;
    return r;
}

static int read_prefectures(struct rules_builder *b, const char *dir, const struct ynode *doc)
{
    const char *rel;
    int r = get_string(b, doc, "prefectures", true, &rel);
    if (r < 0) {
        return r;
    }
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/%s", dir, rel);
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        return fail(b, ytree_get(doc, "prefectures"), "cannot open prefecture table %s", path);
    }
    char line[512];
    unsigned lineno = 0, count = 0;
    while (r == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        (void)EVP_DigestUpdate(b->sha, line, strlen(line));
        if (line[0] == '#' || line[0] == '\n') {
            continue;
        }
        unsigned code = 0;
        int i;
        for (i = 0; i < 4 && line[i] >= '0' && line[i] <= '9'; i++) {
            code = code * 10 + (unsigned)(line[i] - '0');
        }
        if (i != 4 || line[4] != '\t') {
            r = barra_error_set_at(b->reterr, -BARRA_ERULES, path, lineno, 1,
                                   "expected a four-digit code and a tab");
            break;
        }
        b->cat->prefectures[code >> 3] |= (uint8_t)(1u << (code & 7));
        count++;
    }
    (void)fclose(f);
    if (r == 0 && count == 0) {
        r = barra_error_set(b->reterr, -BARRA_ERULES, "%s lists no codes", path);
    }
    return r;
}

/* ---- the directory ---- */

static int hash_and_load(struct rules_builder *b, const char *path, const char *rel,
                         struct ynode **ret)
{
    int r = ytree_load_file(path, ret, b->reterr);
    if (r < 0) {
        return r;
    }
    /* The version names the rules by content: relative path and bytes of every file. */
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        return barra_error_set(b->reterr, -BARRA_EIO, "cannot reopen %s", path);
    }
    (void)EVP_DigestUpdate(b->sha, rel, strlen(rel) + 1);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        (void)EVP_DigestUpdate(b->sha, chunk, n);
    }
    (void)fclose(f);
    return 0;
}

static int yaml_filter(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".yaml") == 0;
}

static int load_types(struct rules_builder *b, const char *dir)
{
    char tdir[4096];
    (void)snprintf(tdir, sizeof(tdir), "%s/types", dir);
    struct dirent **list;
    int n = scandir(tdir, &list, yaml_filter, alphasort);
    if (n < 0) {
        int e = errno;
        return barra_error_set(b->reterr, -e, "cannot read %s: %s", tdir, strerror(e));
    }
    int r = 0;
    for (int i = 0; i < n; i++) {
        if (r == 0) {
            char path[4352], rel[512];
            (void)snprintf(path, sizeof(path), "%s/%s", tdir, list[i]->d_name);
            (void)snprintf(rel, sizeof(rel), "types/%s", list[i]->d_name);
            struct ynode *doc = NULL;
            b->file = path;
            r = hash_and_load(b, path, rel, &doc);
            r = r ? r : add_type(b, doc);
            ytree_free(doc);
        }
        free(list[i]); /* NOLINT: scandir() allocates with malloc */
    }
    free(list); /* NOLINT */
    if (r == 0 && b->cat->ntypes == 0) {
        r = barra_error_set(b->reterr, -BARRA_ERULES, "%s has no type files", tdir);
    }
    return r;
}

/* Flattens the keyword builders into the catalogue's arrays. */
static int flatten_keywords(struct rules_builder *b)
{
    struct det_catalog *c = b->cat;
    size_t nrefs = 0;
    for (size_t i = 0; i < b->nkws; i++) {
        nrefs += b->kws[i].nrefs;
    }
    c->keywords = barra_calloc(b->nkws ? b->nkws : 1, sizeof(*c->keywords));
    c->refs_list = barra_calloc(nrefs ? nrefs : 1, sizeof(*c->refs_list));
    if (c->keywords == NULL || c->refs_list == NULL) {
        return oom(b);
    }
    uint32_t at = 0;
    for (size_t i = 0; i < b->nkws; i++) {
        struct kw_build *k = &b->kws[i];
        for (uint32_t r = 0; r < k->nrefs; r++) {
            const struct det_keyword_ref *ref = &k->refs[r];
            if ((ref->role == DET_ROLE_TERM && ref->weight >= c->scoring.threshold) ||
                ref->role == DET_ROLE_TRIGGER || ref->role == DET_ROLE_EXCLUDE) {
                k->flags |= DET_KW_GLOBAL;
            }
        }
        c->keywords[i] = (struct det_keyword){k->text, k->len, at, (uint16_t)k->nrefs, k->flags};
        k->text = NULL;
        memcpy(c->refs_list + at, k->refs, k->nrefs * sizeof(*k->refs));
        at += k->nrefs;
    }
    c->nkeywords = (uint32_t)b->nkws;
    c->nrefs = at;
    return 0;
}

/* A literal no text contains (control bytes), added to the global database: with a 2-byte literal
 * among long Chinese ones Vectorscan picks a literal engine that runs about twice as fast on
 * Chinese text (measured; see docs/performance.md). Its matches are ignored. */
static const char steering_literal[] = "\x01\x02";

static int build_one_hs(struct det_catalog *c, int which, struct barra_error *reterr)
{
    size_t cap = (size_t)c->nkeywords + 1;
    const char **exprs = barra_calloc(cap, sizeof(char *));
    size_t *lens = barra_calloc(cap, sizeof(size_t));
    unsigned *flags = barra_calloc(cap, sizeof(unsigned));
    unsigned *ids = barra_calloc(cap, sizeof(unsigned));
    int r = 0;
    if (exprs == NULL || lens == NULL || flags == NULL || ids == NULL) {
        r = barra_error_set(reterr, -BARRA_ENOMEM, "out of memory building the keyword database");
    }
    unsigned n = 0;
    for (uint32_t i = 0; r == 0 && i < c->nkeywords; i++) {
        bool global = c->keywords[i].flags & DET_KW_GLOBAL;
        if (global != (which == DET_DB_GLOBAL)) {
            continue;
        }
        exprs[n] = c->keywords[i].text;
        lens[n] = c->keywords[i].len;
        flags[n] = (c->keywords[i].flags & DET_KW_CASELESS) ? HS_FLAG_CASELESS : 0;
        ids[n] = i;
        n++;
    }
    if (r == 0 && which == DET_DB_GLOBAL) {
        exprs[n] = steering_literal;
        lens[n] = sizeof(steering_literal) - 1;
        flags[n] = 0;
        ids[n] = UINT32_MAX;
        n++;
    }
    if (r == 0 && n == 0) {
        r = barra_error_set(reterr, -BARRA_ERULES, "the rules define no %s keywords",
                            which == DET_DB_GLOBAL ? "global" : "context");
    }
    if (r == 0) {
        hs_compile_error_t *err = NULL;
        if (hs_compile_lit_multi(exprs, flags, ids, lens, n, HS_MODE_BLOCK, NULL, &c->hs[which],
                                 &err) != HS_SUCCESS) {
            r = barra_error_set(reterr, -BARRA_EENGINE, "cannot compile keywords: %s",
                                err ? err->message : "unknown error");
            hs_free_compile_error(err);
            c->hs[which] = NULL;
        }
    }
    barra_free(exprs);
    barra_free(lens);
    barra_free(flags);
    barra_free(ids);
    return r;
}

void det_catalog_derive(struct det_catalog *c)
{
    c->max_local_keyword = c->max_keyword = 0;
    for (uint32_t i = 0; i < c->nkeywords; i++) {
        struct det_keyword *k = &c->keywords[i];
        c->max_keyword = k->len > c->max_keyword ? k->len : c->max_keyword;
        k->context_types = k->scoring_types = 0;
        k->roles = 0;
        for (uint32_t r = 0; r < k->nrefs; r++) {
            const struct det_keyword_ref *ref = &c->refs_list[k->first_ref + r];
            k->roles |= (uint8_t)(1u << ref->role);
            if (ref->role == DET_ROLE_CONTEXT) {
                k->context_types |= det_type_bit(ref->type);
            }
            if (ref->role == DET_ROLE_CONTEXT || ref->role == DET_ROLE_NEGATIVE) {
                k->scoring_types |= det_type_bit(ref->type);
            }
        }
        if (!(k->flags & DET_KW_GLOBAL) && k->len > c->max_local_keyword) {
            c->max_local_keyword = k->len;
        }
    }
}

int det_catalog_build_hs(struct det_catalog *c, struct barra_error *reterr)
{
    det_catalog_derive(c);
    for (int i = 0; i < 2; i++) {
        if (c->hs[i]) {
            hs_free_database(c->hs[i]);
            c->hs[i] = NULL;
        }
    }
    int r = build_one_hs(c, DET_DB_GLOBAL, reterr);
    return r ? r : build_one_hs(c, DET_DB_LOCAL, reterr);
}

static void builder_done(struct rules_builder *b)
{
    for (size_t i = 0; i < b->nkws; i++) {
        barra_free(b->kws[i].text);
        barra_free(b->kws[i].refs);
    }
    barra_free(b->kws);
    det_shape_builder_free(b->digit);
    det_shape_builder_free(b->keyword);
    det_shape_builder_free(b->verify);
    EVP_MD_CTX_free(b->sha);
}

static int build_automata(struct rules_builder *b)
{
    struct det_catalog *c = b->cat;
    int r = det_shape_build(b->digit, &c->digit_dfa, b->reterr);
    r = r ? r : det_shape_build(b->keyword, &c->keyword_dfa, b->reterr);
    r = r ? r : det_shape_build(b->verify, &c->verify_dfa, b->reterr);
    return r;
}

static int finish_version(struct rules_builder *b)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_DigestFinal_ex(b->sha, md, &mdlen) != 1 || mdlen != 32) {
        return barra_error_set(b->reterr, -BARRA_EIO, "cannot hash the rules");
    }
    for (int i = 0; i < 32; i++) {
        (void)snprintf(b->cat->version + 2 * i, 3, "%02x", md[i]);
    }
    return 0;
}

int det_catalog_compile(const char *dir, struct det_catalog **ret, struct barra_error *reterr)
{
    struct rules_builder b;
    memset(&b, 0, sizeof(b));
    b.reterr = reterr;
    b.cat = barra_calloc(1, sizeof(*b.cat));
    b.digit = det_shape_builder_new();
    b.keyword = det_shape_builder_new();
    b.verify = det_shape_builder_new();
    b.sha = EVP_MD_CTX_new();
    int r = 0;
    if (b.cat == NULL || b.digit == NULL || b.keyword == NULL || b.verify == NULL ||
        b.sha == NULL || EVP_DigestInit_ex(b.sha, EVP_sha256(), NULL) != 1) {
        r = barra_error_set(reterr, -BARRA_ENOMEM, "out of memory compiling rules");
    }
    struct ynode *catalog = NULL;
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/catalog.yaml", dir);
    if (r == 0) {
        atomic_init(&b.cat->refs, 1);
        b.cat->email_pattern = -1;
        b.file = path;
        r = hash_and_load(&b, path, "catalog.yaml", &catalog);
    }
    if (r == 0) {
        static const char *const keys[] = {"version", "scoring", "prefectures", "negative_sets",
                                           NULL};
        r = check_keys(&b, catalog, keys);
        r = r ? r : read_scoring(&b, catalog);
        r = r ? r : read_prefectures(&b, dir, catalog);
        b.negative_sets = ytree_get(catalog, "negative_sets");
    }
    r = r ? r : load_types(&b, dir);
    b.file = path;
    r = r ? r : flatten_keywords(&b);
    r = r ? r : build_automata(&b);
    r = r ? r : det_catalog_build_hs(b.cat, reterr);
    r = r ? r : finish_version(&b);
    ytree_free(catalog);
    builder_done(&b);
    if (r < 0) {
        det_catalog_free(b.cat);
        return r;
    }
    *ret = b.cat;
    return 0;
}

void det_catalog_free(struct det_catalog *c)
{
    if (c == NULL) {
        return;
    }
    for (uint32_t i = 0; i < c->ntypes; i++) {
        barra_free(c->types[i].name);
        barra_free(c->types[i].category);
        barra_free(c->types[i].jurisdiction);
    }
    for (uint32_t i = 0; i < c->npatterns; i++) {
        barra_free(c->patterns[i].name);
        barra_free(c->patterns[i].subtype);
        barra_free(c->patterns[i].jurisdiction);
    }
    for (uint32_t i = 0; i < c->nkeywords; i++) {
        barra_free(c->keywords[i].text);
    }
    for (uint32_t i = 0; i < c->nhints; i++) {
        barra_free(c->hints[i].suffix);
        barra_free(c->hints[i].jurisdiction);
    }
    barra_free(c->types);
    barra_free(c->patterns);
    barra_free(c->keywords);
    barra_free(c->refs_list);
    barra_free(c->hints);
    det_dfa_done(&c->digit_dfa);
    det_dfa_done(&c->keyword_dfa);
    det_dfa_done(&c->verify_dfa);
    for (int i = 0; i < 2; i++) {
        if (c->hs[i]) {
            hs_free_database(c->hs[i]);
        }
    }
    barra_free(c);
}
