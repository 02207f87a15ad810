/* SPDX-License-Identifier: Apache-2.0 */
/* Reads Sigma rules (detection and correlation) and Barra's extensions into struct mon_rules.
 * Everything unknown — a field, a modifier, a key, a correlation type — is an error with its line
 * and column: a rule that silently matches nothing is worse than one that does not load. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/yamltree.h"
#include "monitor/rule-int.h"

#include "core/banned.h"

enum { MAX_RULES = 4096, MAX_VALUES = 4096, MAX_FILES = 4096 };

struct ctx {
    const char *file;
    struct barra_error *err;
};

static int bad(struct ctx *x, const struct ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(struct ctx *x, const struct ynode *at, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return barra_error_set_at(x->err, -BARRA_EINVAL, x->file, at ? at->line : 1,
                              at ? at->column : 1, "%s", msg);
}

static char *lower_dup(const char *s)
{
    char *d = barra_strdup(s);
    for (char *p = d; p && *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    return d;
}

int mon_parse_span(const char *s, int64_t *ret_ms)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (end == s || v <= 0 || v > 3650LL * 86400 || end[0] == '\0' || end[1] != '\0' ||
        !isdigit((unsigned char)s[0])) {
        return -1;
    }
    int64_t unit = end[0] == 's'   ? 1000
                   : end[0] == 'm' ? 60000
                   : end[0] == 'h' ? 3600000
                   : end[0] == 'd' ? 86400000
                                   : 0;
    if (unit == 0 || v * unit > 3650LL * 86400000) {
        return -1;
    }
    *ret_ms = v * unit;
    return 0;
}

static void test_free(struct mon_test *t)
{
    for (size_t i = 0; i < t->n; i++) {
        barra_free(t->values[i]);
        if (t->re) {
            regfree(&t->re[i]);
        }
    }
    barra_free(t->values);
    barra_free(t->lens);
    barra_free(t->nums);
    barra_free(t->re);
    barra_free(t->cidr);
}

static void node_free(struct mon_node *n)
{
    if (n) {
        for (size_t i = 0; i < n->n; i++) {
            node_free(n->kid[i]);
        }
        barra_free(n->kid);
        barra_free(n);
    }
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        barra_free(v[i]);
    }
    barra_free(v);
}

static void rule_free(struct mon_rule *r)
{
    barra_free(r->id);
    barra_free(r->name);
    barra_free(r->title);
    barra_free(r->level);
    barra_free(r->file);
    barra_free(r->category);
    strv_free(r->articles, r->narticles);
    strv_free(r->controls, r->ncontrols);
    for (size_t i = 0; i < r->nsel; i++) {
        for (size_t a = 0; a < r->sel[i].nalt; a++) {
            for (size_t k = 0; k < r->sel[i].alt[a].n; k++) {
                test_free(&r->sel[i].alt[a].t[k]);
            }
            barra_free(r->sel[i].alt[a].t);
        }
        barra_free(r->sel[i].alt);
        barra_free(r->sel[i].name);
    }
    barra_free(r->sel);
    node_free(r->cond);
    barra_free(r->users);
}

struct mon_rules *mon_rules_free(struct mon_rules *rs)
{
    if (rs) {
        for (size_t i = 0; i < rs->n; i++) {
            rule_free(&rs->r[i]);
        }
        barra_free(rs->r);
        for (size_t i = 0; i < rs->nbuckets; i++) {
            barra_free(rs->by_action[i].action);
            barra_free(rs->by_action[i].rules);
        }
        barra_free(rs->by_action);
        barra_free(rs);
    }
    return NULL;
}

size_t mon_rules_count(const struct mon_rules *rs)
{
    return rs->n;
}

/* ---- selections ---- */

static int parse_cidr(const char *s, struct mon_cidr *c)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n >= sizeof(addr)) {
        return -1;
    }
    memcpy(addr, s, n);
    addr[n] = '\0';
    c->family = strchr(addr, ':') ? 6 : 4;
    if (inet_pton(c->family == 6 ? AF_INET6 : AF_INET, addr, c->addr) != 1) {
        return -1;
    }
    unsigned max = c->family == 6 ? 128 : 32;
    c->bits = max;
    if (slash) {
        char *end = NULL;
        unsigned long b = strtoul(slash + 1, &end, 10);
        if (end == slash + 1 || *end || b > max) {
            return -1;
        }
        c->bits = (unsigned)b;
    }
    return 0;
}

/* Whether glibc's regcomp can compile the pattern in bounded memory: it copies the tree for each
 * + ? and {n,m}, so their product is capped, and two quantifiers in a row (undefined in POSIX ERE,
 * and doubling the tree each time) are refused. Counted over the whole pattern, whatever the
 * nesting: an over-estimate. */
static bool regex_cheap(const char *re)
{
    double cost = 1;
    bool after_quantifier = false;
    if (strlen(re) > 1024) {
        return false;
    }
    for (const char *p = re; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            after_quantifier = false;
            continue;
        }
        bool quantifier = *p == '+' || *p == '?' || *p == '*' || *p == '{';
        if (quantifier && after_quantifier) {
            return false;
        }
        if (*p == '+' || *p == '?') {
            cost *= 2;
        } else if (*p == '{') {
            char *end = NULL;
            unsigned long lo = strtoul(p + 1, &end, 10), hi = lo;
            if (end && *end == ',') {
                hi = end[1] == '}' ? lo + 1 : strtoul(end + 1, &end, 10);
            }
            cost *= (double)(hi > lo ? hi : lo) + 1;
            while (*p && *p != '}') {
                p++;
            }
            if (*p == '\0') {
                break;
            }
        }
        after_quantifier = quantifier;
    }
    return cost <= 4096;
}

/* `field|mod|mod: values` */
static int parse_test(struct ctx *x, const struct ynode *key, const struct ynode *val,
                      struct mon_test *t)
{
    char spec[256];
    (void)snprintf(spec, sizeof(spec), "%s", key->value);
    char *save = NULL, *name = strtok_r(spec, "|", &save);
    if (name == NULL || mon_field_of(name, &t->field) < 0) {
        return bad(x, key,
                   "unknown field \"%s\" (fields: id, actor, action, resource, count, bytes, ip, "
                   "country, client, device, department, outcome, tier, plugin, destination.host, "
                   "destination.ip, "
                   "destination.region, source)",
                   name ? name : "");
    }
    t->op = OP_EQ;
    bool op_set = false;
    for (char *m = strtok_r(NULL, "|", &save); m; m = strtok_r(NULL, "|", &save)) {
        static const struct {
            const char *name;
            enum mon_op op;
            enum mon_cmp cmp;
        } ops[] = {{"contains", OP_CONTAINS, CMP_EQ},
                   {"startswith", OP_STARTS, CMP_EQ},
                   {"endswith", OP_ENDS, CMP_EQ},
                   {"re", OP_RE, CMP_EQ},
                   {"cidr", OP_CIDR, CMP_EQ},
                   {"exists", OP_EXISTS, CMP_EQ},
                   {"gt", OP_NUM, CMP_GT},
                   {"gte", OP_NUM, CMP_GTE},
                   {"lt", OP_NUM, CMP_LT},
                   {"lte", OP_NUM, CMP_LTE}};
        bool known = false;
        if (strcmp(m, "all") == 0) {
            t->all = known = true;
        } else if (strcmp(m, "cased") == 0) {
            t->cased = known = true;
        }
        for (size_t i = 0; !known && i < sizeof(ops) / sizeof(ops[0]); i++) {
            if (strcmp(m, ops[i].name) == 0) {
                if (op_set) {
                    return bad(x, key,
                               "\"%s\": one of contains, startswith, endswith, re, cidr, "
                               "exists, gt, gte, lt, lte at a time",
                               key->value);
                }
                t->op = ops[i].op;
                t->cmp = ops[i].cmp;
                op_set = known = true;
            }
        }
        if (!known) {
            return bad(x, key,
                       "unknown modifier \"%s\" (Barra knows contains, startswith, endswith, re, "
                       "cidr, exists, all, cased, gt, gte, lt, lte)",
                       m);
        }
    }
    const struct ynode *const *items;
    size_t n = ytree_as_list(&val, &items);
    if (n == 0 || n > MAX_VALUES) {
        return bad(x, val, "\"%s\" needs between 1 and 4096 values", key->value);
    }
    if (t->op == OP_EXISTS) {
        if (n != 1 || items[0]->kind != YNODE_SCALAR ||
            (strcmp(items[0]->value, "true") && strcmp(items[0]->value, "false"))) {
            return bad(x, val, "|exists takes true or false");
        }
        t->want = strcmp(items[0]->value, "true") == 0;
        return 0;
    }
    t->values = barra_calloc(n, sizeof(*t->values));
    t->lens = barra_calloc(n, sizeof(*t->lens));
    t->nums = barra_calloc(n, sizeof(*t->nums));
    if (t->values == NULL || t->lens == NULL || t->nums == NULL) {
        return -BARRA_ENOMEM;
    }
    if (t->op == OP_RE && (t->re = barra_calloc(n, sizeof(*t->re))) == NULL) {
        return -BARRA_ENOMEM;
    }
    if (t->op == OP_CIDR && (t->cidr = barra_calloc(n, sizeof(*t->cidr))) == NULL) {
        return -BARRA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct ynode *v = items[i];
        if (v->kind != YNODE_SCALAR) {
            return bad(x, v, "\"%s\": values are strings or numbers", key->value);
        }
        if (v->plain && (strcmp(v->value, "null") == 0 || strcmp(v->value, "~") == 0)) {
            if (n != 1 || t->op != OP_EQ) {
                return bad(x, v, "null stands alone, without modifiers: the field is absent");
            }
            t->null = true;
            return 0;
        }
        t->values[i] = t->cased || t->op == OP_RE ? barra_strdup(v->value) : lower_dup(v->value);
        if (t->values[i] == NULL) {
            return -BARRA_ENOMEM;
        }
        t->lens[i] = strlen(t->values[i]);
        t->n = i + 1;
        if (t->op == OP_NUM) {
            char *end = NULL;
            t->nums[i] = strtod(v->value, &end);
            if (end == v->value || *end) {
                return bad(x, v, "\"%s\" compares numbers: \"%s\" is not one", key->value,
                           v->value);
            }
        } else if (t->op == OP_RE && !regex_cheap(v->value)) {
            t->n = i; /* this one is not compiled */
            barra_free(t->values[i]);
            t->values[i] = NULL;
            return bad(x, v,
                       "\"%.40s\": too costly a regular expression (two quantifiers in a row, "
                       "or too many repetitions)",
                       v->value);
        } else if (t->op == OP_RE) {
            int e =
                regcomp(&t->re[i], v->value, REG_EXTENDED | REG_NOSUB | (t->cased ? 0 : REG_ICASE));
            if (e != 0) {
                t->n = i; /* this one is not compiled */
                barra_free(t->values[i]);
                t->values[i] = NULL;
                return bad(x, v, "\"%s\": not a POSIX extended regular expression", v->value);
            }
        } else if (t->op == OP_CIDR && parse_cidr(v->value, &t->cidr[i]) < 0) {
            return bad(x, v, "\"%s\" is not an address range (10.0.0.0/8, 2001:db8::/32)",
                       v->value);
        }
    }
    return 0;
}

static int parse_conj(struct ctx *x, const struct ynode *map, struct mon_conj *c)
{
    if (map->kind != YNODE_MAP || map->n == 0) {
        return bad(x, map,
                   "a selection is a mapping of fields to values, or a list of them "
                   "(keyword lists are not supported)");
    }
    c->t = barra_calloc(map->n / 2, sizeof(*c->t));
    if (c->t == NULL) {
        return -BARRA_ENOMEM;
    }
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        int r = parse_test(x, map->items[i], map->items[i + 1], &c->t[c->n++]);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

static int parse_selection(struct ctx *x, const struct ynode *key, const struct ynode *val,
                           struct mon_sel *s)
{
    if ((s->name = barra_strdup(key->value)) == NULL) {
        return -BARRA_ENOMEM;
    }
    const struct ynode *const *items;
    size_t n = ytree_as_list(&val, &items);
    s->alt = barra_calloc(n ? n : 1, sizeof(*s->alt));
    if (s->alt == NULL) {
        return -BARRA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int r = parse_conj(x, items[i], &s->alt[s->nalt++]);
        if (r < 0) {
            return r;
        }
    }
    return n ? 0 : bad(x, val, "selection \"%s\" is empty", key->value);
}

/* ---- conditions: or < and < not; "1 of x*", "all of them" ---- */

struct lexer {
    struct ctx *x;
    const struct ynode *at;
    const char *p;
    const struct mon_rule *r;
};

static void skip_space(struct lexer *l)
{
    while (*l->p == ' ' || *l->p == '\t') {
        l->p++;
    }
}

static bool word(struct lexer *l, const char *w)
{
    skip_space(l);
    size_t n = strlen(w);
    if (strncmp(l->p, w, n) == 0 && !isalnum((unsigned char)l->p[n]) && l->p[n] != '_' &&
        l->p[n] != '*') {
        l->p += n;
        return true;
    }
    return false;
}

static struct mon_node *node_new(enum mon_node_kind k)
{
    struct mon_node *n = barra_calloc(1, sizeof(struct mon_node));
    if (n) {
        n->kind = k;
    }
    return n;
}

static int node_add(struct mon_node *parent, struct mon_node *kid)
{
    struct mon_node **v = barra_reallocarray(parent->kid, parent->n + 1, sizeof(*v));
    if (v == NULL) {
        node_free(kid);
        return -BARRA_ENOMEM;
    }
    parent->kid = v;
    v[parent->n++] = kid;
    return 0;
}

static bool glob_match(const char *pat, const char *s)
{
    if (*pat == '\0') {
        return *s == '\0';
    }
    if (*pat == '*') {
        for (;; s++) {
            if (glob_match(pat + 1, s)) {
                return true;
            }
            if (*s == '\0') {
                return false;
            }
        }
    }
    return *s && *pat == *s && glob_match(pat + 1, s + 1);
}

static int parse_or(struct lexer *l, struct mon_node **ret, int depth);

static int parse_atom(struct lexer *l, struct mon_node **ret, int depth)
{
    *ret = NULL;
    if (depth > 32) {
        return bad(l->x, l->at, "the condition nests too deep");
    }
    /* Ownership: on success *ret holds the node; on failure nothing is left allocated. */
    if (word(l, "not")) {
        struct mon_node *kid = NULL, *n = node_new(NODE_NOT);
        int r = n ? parse_atom(l, &kid, depth + 1) : -BARRA_ENOMEM;
        if (r == 0) {
            r = node_add(n, kid); /* frees kid when it fails */
        }
        if (r < 0) {
            node_free(n);
            return r;
        }
        *ret = n;
        return 0;
    }
    skip_space(l);
    if (*l->p == '(') {
        l->p++;
        struct mon_node *inner = NULL;
        int r = parse_or(l, &inner, depth + 1);
        if (r < 0) {
            return r;
        }
        skip_space(l);
        if (*l->p != ')') {
            node_free(inner);
            return bad(l->x, l->at, "a \"(\" in the condition is not closed");
        }
        l->p++;
        *ret = inner;
        return 0;
    }
    bool one = word(l, "1"), all = !one && word(l, "all");
    if (one || all) {
        if (!word(l, "of")) {
            return bad(l->x, l->at, "\"1 of\" or \"all of\" is followed by a name pattern");
        }
        skip_space(l);
        char pat[128];
        size_t k = 0;
        while ((isalnum((unsigned char)*l->p) || *l->p == '_' || *l->p == '*' || *l->p == '-') &&
               k + 1 < sizeof(pat)) {
            pat[k++] = *l->p++;
        }
        pat[k] = '\0';
        struct mon_node *n = node_new(one ? NODE_OR : NODE_AND);
        if (n == NULL) {
            return -BARRA_ENOMEM;
        }
        for (size_t i = 0; i < l->r->nsel; i++) {
            if (strcmp(pat, "them") == 0 || glob_match(pat, l->r->sel[i].name)) {
                struct mon_node *s = node_new(NODE_SEL);
                int r = s ? (s->sel = i, node_add(n, s)) : -BARRA_ENOMEM;
                if (r < 0) {
                    node_free(n);
                    return r;
                }
            }
        }
        if (n->n == 0) {
            node_free(n);
            return bad(l->x, l->at, "no selection is named like \"%s\"", pat);
        }
        *ret = n;
        return 0;
    }
    char name[128];
    size_t k = 0;
    while ((isalnum((unsigned char)*l->p) || *l->p == '_' || *l->p == '-') &&
           k + 1 < sizeof(name)) {
        name[k++] = *l->p++;
    }
    name[k] = '\0';
    for (size_t i = 0; k && i < l->r->nsel; i++) {
        if (strcmp(name, l->r->sel[i].name) == 0) {
            struct mon_node *s = node_new(NODE_SEL);
            if (s == NULL) {
                return -BARRA_ENOMEM;
            }
            s->kind = NODE_SEL;
            s->sel = i;
            *ret = s;
            return 0;
        }
    }
    return bad(l->x, l->at,
               k ? "the condition names \"%s\", which is not a selection"
                 : "the condition has \"%.20s\" where a selection belongs",
               k ? name : l->p);
}

static int parse_chain(struct lexer *l, struct mon_node **ret, int depth, bool is_or)
{
    *ret = NULL;
    struct mon_node *first = NULL;
    int r = is_or ? parse_chain(l, &first, depth, false) : parse_atom(l, &first, depth);
    if (r < 0) {
        return r;
    }
    if (!word(l, is_or ? "or" : "and")) {
        *ret = first;
        return 0;
    }
    struct mon_node *n = node_new(is_or ? NODE_OR : NODE_AND);
    if (n == NULL) {
        node_free(first);
        return -BARRA_ENOMEM;
    }
    r = node_add(n, first);
    do {
        struct mon_node *next = NULL;
        if (r == 0) {
            r = is_or ? parse_chain(l, &next, depth, false) : parse_atom(l, &next, depth);
        }
        if (r == 0) {
            r = node_add(n, next);
        }
    } while (r == 0 && word(l, is_or ? "or" : "and"));
    if (r < 0) {
        node_free(n);
        return r;
    }
    *ret = n;
    return 0;
}

static int parse_or(struct lexer *l, struct mon_node **ret, int depth)
{
    return parse_chain(l, ret, depth, true);
}

static int parse_condition(struct ctx *x, const struct ynode *v, struct mon_rule *r)
{
    const struct ynode *const *items;
    size_t n = ytree_as_list(&v, &items);
    struct mon_node *any = node_new(NODE_OR);
    if (any == NULL) {
        return -BARRA_ENOMEM;
    }
    any->kind = NODE_OR;
    r->cond = any;
    for (size_t i = 0; i < n; i++) {
        if (items[i]->kind != YNODE_SCALAR) {
            return bad(x, items[i], "a condition is a text such as \"selection and not filter\"");
        }
        struct lexer l = {.x = x, .at = items[i], .p = items[i]->value, .r = r};
        struct mon_node *c = NULL;
        int e = parse_or(&l, &c, 0);
        skip_space(&l);
        if (e == 0 && *l.p) {
            node_free(c);
            return bad(x, items[i], "the condition goes on where it should end: \"%.30s\"", l.p);
        }
        if (e == 0) {
            e = node_add(any, c);
        } else {
            node_free(c);
        }
        if (e < 0) {
            return e;
        }
    }
    return 0;
}

static int parse_detection(struct ctx *x, const struct ynode *det, struct mon_rule *r)
{
    if (det->kind != YNODE_MAP) {
        return bad(x, det, "detection is a mapping of selections and a condition");
    }
    r->sel = barra_calloc(det->n / 2 + 1, sizeof(*r->sel));
    if (r->sel == NULL) {
        return -BARRA_ENOMEM;
    }
    const struct ynode *cond = NULL;
    for (size_t i = 0; i + 1 < det->n; i += 2) {
        if (strcmp(det->items[i]->value, "condition") == 0) {
            cond = det->items[i + 1];
            continue;
        }
        if (strcmp(det->items[i]->value, "timeframe") == 0) {
            return bad(x, det->items[i], "timeframe is Sigma's old way: write a correlation rule");
        }
        int e = parse_selection(x, det->items[i], det->items[i + 1], &r->sel[r->nsel++]);
        if (e < 0) {
            return e;
        }
    }
    if (cond == NULL) {
        return bad(x, det, "detection needs a condition");
    }
    return parse_condition(x, cond, r);
}

/* ---- rules ---- */

static int scalar_dup(struct ctx *x, const struct ynode *v, const char *what, char **ret)
{
    if (v->kind != YNODE_SCALAR || v->value[0] == '\0') {
        return bad(x, v, "%s is a non-empty text", what);
    }
    return (*ret = barra_strdup(v->value)) ? 0 : -BARRA_ENOMEM;
}

static int strv_parse(struct ctx *x, const struct ynode *v, const char *what, char ***ret,
                      size_t *ret_n)
{
    const struct ynode *const *items;
    size_t n = ytree_as_list(&v, &items);
    *ret = barra_calloc(n + 1, sizeof(char *));
    if (*ret == NULL) {
        return -BARRA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int e = scalar_dup(x, items[i], what, &(*ret)[i]);
        if (e < 0) {
            return e;
        }
        *ret_n = i + 1;
    }
    return 0;
}

static int parse_extension(struct ctx *x, const struct ynode *ext, struct mon_rule *r)
{
    if (ext->kind != YNODE_MAP) {
        return bad(x, ext, "x-barra is a mapping");
    }
    for (size_t i = 0; i + 1 < ext->n; i += 2) {
        const char *k = ext->items[i]->value;
        const struct ynode *v = ext->items[i + 1];
        int e = 0;
        if (strcmp(k, "off_hours") == 0) {
            if (v->kind != YNODE_SCALAR ||
                (strcmp(v->value, "true") && strcmp(v->value, "false"))) {
                return bad(x, v, "off_hours is true or false");
            }
            r->off_hours = strcmp(v->value, "true") == 0;
        } else if (strcmp(k, "suppress") == 0) {
            if (v->kind != YNODE_SCALAR || mon_parse_span(v->value, &r->suppress_ms) < 0) {
                return bad(x, v, "suppress is a duration: 30s, 15m, 1h, 1d");
            }
        } else if (strcmp(k, "articles") == 0) {
            e = strv_parse(x, v, "an article id", &r->articles, &r->narticles);
        } else if (strcmp(k, "controls") == 0) {
            e = strv_parse(x, v, "a control id", &r->controls, &r->ncontrols);
        } else {
            return bad(x, ext->items[i],
                       "unknown x-barra key \"%s\" (off_hours, suppress, articles, controls)", k);
        }
        if (e < 0) {
            return e;
        }
    }
    return 0;
}

static int parse_group(struct ctx *x, const struct ynode *v, struct mon_rule *r)
{
    const struct ynode *const *items;
    size_t n = ytree_as_list(&v, &items);
    if (n == 0 || n > MON_MAX_GROUP) {
        return bad(x, v, "group-by names one to four fields");
    }
    for (size_t i = 0; i < n; i++) {
        if (items[i]->kind != YNODE_SCALAR || mon_field_of(items[i]->value, &r->group[i]) < 0) {
            return bad(x, items[i], "group-by: \"%s\" is not an event field",
                       items[i]->kind == YNODE_SCALAR ? items[i]->value : "?");
        }
    }
    r->ngroup = n;
    return 0;
}

static int parse_correlation(struct ctx *x, const struct ynode *c, struct mon_rule *r,
                             const struct ynode **ret_rules)
{
    static const struct {
        const char *name;
        enum mon_corr type;
    } types[] = {{"event_count", CORR_EVENT_COUNT},
                 {"value_count", CORR_VALUE_COUNT},
                 {"value_sum", CORR_VALUE_SUM},
                 {"temporal", CORR_TEMPORAL},
                 {"temporal_ordered", CORR_TEMPORAL_ORDERED},
                 {"new_value", CORR_NEW_VALUE},
                 {"dormant", CORR_DORMANT},
                 {"geo_velocity", CORR_GEO_VELOCITY}};
    if (c->kind != YNODE_MAP) {
        return bad(x, c, "correlation is a mapping");
    }
    const struct ynode *type = ytree_get(c, "type"), *v;
    for (size_t i = 0; type && type->kind == YNODE_SCALAR && i < sizeof(types) / sizeof(types[0]);
         i++) {
        if (strcmp(type->value, types[i].name) == 0) {
            r->corr = types[i].type;
        }
    }
    if (r->corr == CORR_NONE) {
        return bad(x, type ? type : c,
                   "correlation type is event_count, value_count, value_sum, temporal, "
                   "temporal_ordered, or Barra's new_value, dormant or geo_velocity");
    }
    for (size_t i = 0; i + 1 < c->n; i += 2) {
        static const char *const keys[] = {"type",      "rules",    "group-by", "timespan",
                                           "condition", "generate", "learning", "field",
                                           "max_kmh",   "min_km",   NULL};
        bool known = false;
        for (size_t k = 0; keys[k]; k++) {
            known |= strcmp(c->items[i]->value, keys[k]) == 0;
        }
        if (!known) {
            return bad(x, c->items[i], "unknown correlation key \"%s\"", c->items[i]->value);
        }
    }
    if ((*ret_rules = ytree_get(c, "rules")) == NULL) {
        return bad(x, c, "a correlation names its rules");
    }
    int e;
    if ((v = ytree_get(c, "group-by")) == NULL) {
        return bad(x, c, "a correlation needs group-by (e.g. [actor])");
    }
    if ((e = parse_group(x, v, r)) < 0) {
        return e;
    }
    if ((v = ytree_get(c, "timespan")) == NULL || v->kind != YNODE_SCALAR ||
        mon_parse_span(v->value, &r->span_ms) < 0) {
        return bad(x, v ? v : c, "a correlation needs a timespan: 30s, 15m, 1h, 30d");
    }
    if ((v = ytree_get(c, "learning")) != NULL &&
        (v->kind != YNODE_SCALAR || mon_parse_span(v->value, &r->learning_ms) < 0)) {
        return bad(x, v, "learning is a duration: 7d, 30d");
    }
    if (v && r->corr != CORR_NEW_VALUE && r->corr != CORR_DORMANT) {
        return bad(x, v, "learning belongs to new_value and dormant correlations");
    }
    r->max_kmh = 1000;
    r->min_km = 500;
    const struct ynode *speed = ytree_get(c, "max_kmh"), *dist = ytree_get(c, "min_km");
    if ((speed || dist) && r->corr != CORR_GEO_VELOCITY) {
        return bad(x, speed ? speed : dist, "max_kmh and min_km belong to geo_velocity");
    }
    char *tail = NULL;
    if (speed && (speed->kind != YNODE_SCALAR ||
                  (r->max_kmh = strtod(speed->value, &tail), *tail || r->max_kmh <= 0))) {
        return bad(x, speed, "max_kmh is a speed in km/h, more than 0");
    }
    if (dist && (dist->kind != YNODE_SCALAR ||
                 (r->min_km = strtod(dist->value, &tail), *tail || r->min_km < 0))) {
        return bad(x, dist, "min_km is a distance in km");
    }
    bool needs_field =
        r->corr == CORR_VALUE_COUNT || r->corr == CORR_VALUE_SUM || r->corr == CORR_NEW_VALUE;
    const struct ynode *cond = ytree_get(c, "condition");
    const struct ynode *field = ytree_get(c, "field");
    if (cond && cond->kind == YNODE_MAP && ytree_get(cond, "field")) {
        field = ytree_get(cond, "field"); /* Sigma puts value_count's field in the condition */
    }
    if (needs_field != (field != NULL) ||
        (field && (field->kind != YNODE_SCALAR || mon_field_of(field->value, &r->field) < 0))) {
        return bad(x, field ? field : c,
                   needs_field ? "this correlation needs a field (an event field)"
                               : "only value_count, value_sum and new_value take a field");
    }
    if (r->corr == CORR_VALUE_SUM && r->field != MF_COUNT && r->field != MF_BYTES) {
        return bad(x, field, "value_sum adds up count or bytes");
    }
    bool counts =
        r->corr == CORR_EVENT_COUNT || r->corr == CORR_VALUE_COUNT || r->corr == CORR_VALUE_SUM;
    if (counts != (cond != NULL)) {
        return bad(x, cond ? cond : c,
                   counts ? "this correlation needs a condition such as {gte: 100}"
                          : "only event_count, value_count and value_sum take a condition");
    }
    if (cond) {
        size_t ncmp = 0;
        for (size_t i = 0; cond->kind == YNODE_MAP && i + 1 < cond->n; i += 2) {
            const char *k = cond->items[i]->value;
            if (strcmp(k, "field") == 0) {
                continue;
            }
            char *end = NULL;
            const char *num = cond->items[i + 1]->value;
            if (strcmp(k, "gte") && strcmp(k, "gt")) {
                return bad(x, cond->items[i],
                           "\"%s\": Barra alerts when a count reaches a threshold (gte, gt); "
                           "fewer-than conditions need a timer and are not supported",
                           k);
            }
            if (cond->items[i + 1]->kind != YNODE_SCALAR ||
                (r->threshold = strtod(num, &end), end == num || *end || r->threshold < 1)) {
                return bad(x, cond->items[i + 1], "the threshold is a number of at least 1");
            }
            r->cmp = strcmp(k, "gte") == 0 ? CMP_GTE : CMP_GT;
            ncmp++;
        }
        if (ncmp != 1) {
            return bad(x, cond, "the condition is one of {gte: N} or {gt: N}");
        }
    }
    if ((v = ytree_get(c, "generate")) != NULL &&
        (v->kind != YNODE_SCALAR || (strcmp(v->value, "true") && strcmp(v->value, "false")))) {
        return bad(x, v, "generate is true or false");
    }
    return 0;
}

static int parse_rule(struct ctx *x, const struct ynode *doc, struct mon_rule *r,
                      const struct ynode **ret_refs, bool *ret_generate)
{
    static const char *const keys[] = {
        "title",  "id",        "name",       "status",      "description", "author",
        "date",   "modified",  "references", "tags",        "level",       "falsepositives",
        "fields", "logsource", "detection",  "correlation", "license",     "related",
        "scope",  "taxonomy",  "x-barra",    NULL};
    if (doc->kind != YNODE_MAP) {
        return bad(x, doc, "a rule is a mapping");
    }
    for (size_t i = 0; i + 1 < doc->n; i += 2) {
        bool known = false;
        for (size_t k = 0; keys[k]; k++) {
            known |= strcmp(doc->items[i]->value, keys[k]) == 0;
        }
        if (!known) {
            return bad(x, doc->items[i], "unknown key \"%s\" in a rule", doc->items[i]->value);
        }
    }
    const struct ynode *v;
    int e;
    r->line = doc->line;
    if ((r->file = barra_strdup(x->file)) == NULL) {
        return -BARRA_ENOMEM;
    }
    if ((v = ytree_get(doc, "title")) == NULL) {
        return bad(x, doc, "a rule needs a title");
    }
    if ((e = scalar_dup(x, v, "title", &r->title)) < 0) {
        return e;
    }
    if ((v = ytree_get(doc, "id")) == NULL) {
        return bad(x, doc, "a rule needs an id");
    }
    if ((e = scalar_dup(x, v, "id", &r->id)) < 0) {
        return e;
    }
    if ((v = ytree_get(doc, "name")) && (e = scalar_dup(x, v, "name", &r->name)) < 0) {
        return e;
    }
    v = ytree_get(doc, "level");
    static const char *const levels[] = {"informational", "low", "medium", "high", "critical"};
    bool level_ok = v == NULL;
    for (size_t i = 0; v && v->kind == YNODE_SCALAR && i < 5; i++) {
        level_ok |= strcmp(v->value, levels[i]) == 0;
    }
    if (!level_ok) {
        return bad(x, v, "level is informational, low, medium, high or critical");
    }
    if ((r->level = barra_strdup(v ? v->value : "medium")) == NULL) {
        return -BARRA_ENOMEM;
    }
    if ((v = ytree_get(doc, "x-barra")) && (e = parse_extension(x, v, r)) < 0) {
        return e;
    }
    const struct ynode *det = ytree_get(doc, "detection"), *corr = ytree_get(doc, "correlation");
    if ((det == NULL) == (corr == NULL)) {
        return bad(x, doc, "a rule has either a detection or a correlation");
    }
    if (det) {
        const struct ynode *ls = ytree_get(doc, "logsource"), *cat;
        if (ls && (cat = ytree_get(ls, "category")) != NULL &&
            (e = scalar_dup(x, cat, "logsource category", &r->category)) < 0) {
            return e;
        }
        return parse_detection(x, det, r);
    }
    if (r->off_hours) {
        return bad(x, ytree_get(doc, "x-barra"), "off_hours belongs to detection rules");
    }
    const struct ynode *gen = ytree_get(corr, "generate");
    *ret_generate = gen && gen->kind == YNODE_SCALAR && strcmp(gen->value, "true") == 0;
    e = parse_correlation(x, corr, r, ret_refs);
    if (e == 0 && r->suppress_ms == 0) {
        r->suppress_ms = r->span_ms; /* one alert per group and window by default */
    }
    return e;
}

/* ---- files ---- */

static void shift_lines(struct ynode *n, uint32_t by)
{
    n->line += by;
    for (size_t i = 0; i < n->n; i++) {
        shift_lines(n->items[i], by);
    }
}

static int grow(struct mon_rules *rs)
{
    if (rs->n >= MAX_RULES) {
        return -1;
    }
    struct mon_rule *v = barra_reallocarray(rs->r, rs->n + 1, sizeof(*v));
    if (v == NULL) {
        return -BARRA_ENOMEM;
    }
    rs->r = v;
    memset(&rs->r[rs->n], 0, sizeof(rs->r[rs->n]));
    return 0;
}

/* What a correlation names, kept until every file is read. */
struct pending {
    size_t rule;
    struct ynode *doc; /* owns the document the names are in */
    const struct ynode *names;
    bool generate;
    char *file;
};

struct loader {
    struct mon_rules *rs;
    struct pending *p;
    size_t np;
    struct barra_error *err;
};

/* One YAML document of a file: a rule. */
static int load_doc(struct loader *ld, struct ynode *doc, const char *file)
{
    struct ctx x = {.file = file, .err = ld->err};
    int e = grow(ld->rs);
    if (e == -1) {
        ytree_free(doc);
        return bad(&x, doc, "more than 4096 rules");
    }
    if (e < 0) {
        ytree_free(doc);
        return e;
    }
    struct mon_rule *r = &ld->rs->r[ld->rs->n++];
    const struct ynode *refs = NULL;
    bool generate = false;
    e = parse_rule(&x, doc, r, &refs, &generate);
    if (e < 0 || refs == NULL) {
        ytree_free(doc);
        return e;
    }
    struct pending *v = barra_reallocarray(ld->p, ld->np + 1, sizeof(*v));
    if (v == NULL) {
        ytree_free(doc);
        return -BARRA_ENOMEM;
    }
    ld->p = v;
    ld->p[ld->np++] = (struct pending){
        .rule = ld->rs->n - 1, .doc = doc, .names = refs, .generate = generate, .file = r->file};
    return 0;
}

static int load_text(struct loader *ld, const char *text, size_t len, const char *path);

/* A file of one or more documents separated by lines "---". */
static int load_file(struct loader *ld, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return barra_error_set(ld->err, -BARRA_EIO, "%s: cannot be read", path);
    }
    char *text = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 65536 > cap) {
            if (cap > (16u << 20)) {
                (void)fclose(f);
                barra_free(text);
                return barra_error_set(ld->err, -BARRA_EINVAL, "%s: larger than 16 MiB", path);
            }
            char *t = barra_reallocarray(text, cap + 65536 + 1, 1);
            if (t == NULL) {
                (void)fclose(f);
                barra_free(text);
                return -BARRA_ENOMEM;
            }
            text = t;
            cap += 65536;
        }
        size_t k = fread(text + len, 1, cap - len, f);
        len += k;
        if (k == 0) {
            break;
        }
    }
    (void)fclose(f);
    text[len] = '\0';
    int e = load_text(ld, text, len, path);
    barra_free(text);
    return e;
}

/* The documents of one file's text, separated by lines "---". */
static int load_text(struct loader *ld, const char *text, size_t len, const char *path)
{
    int e = 0;
    uint32_t line = 0, start_line = 0;
    size_t start = 0;
    for (size_t i = 0; e == 0 && i <= len; i++) {
        if (i < len && text[i] != '\n') {
            continue;
        }
        /* the line [line_start, i) */
        size_t line_start = i;
        while (line_start > 0 && text[line_start - 1] != '\n') {
            line_start--;
        }
        bool sep = i - line_start >= 3 && strncmp(text + line_start, "---", 3) == 0 &&
                   strspn(text + line_start + 3, " \t\r") >= i - line_start - 3;
        if (sep || i == len) {
            size_t end = sep ? line_start : len;
            bool blank = true;
            for (size_t k = start; k < end && blank; k++) {
                blank = text[k] == ' ' || text[k] == '\n' || text[k] == '\r' || text[k] == '\t';
            }
            /* a document of comments only is blank too: ytree gives an empty map */
            struct ynode *doc = NULL;
            if (!blank) {
                e = ytree_load_string(text + start, end - start, path, &doc, ld->err);
                if (e < 0 && ld->err && ld->err->line) {
                    ld->err->line += start_line;
                }
                if (e == 0 && doc->kind == YNODE_MAP && doc->n == 0) {
                    ytree_free(doc);
                } else if (e == 0) {
                    shift_lines(doc, start_line);
                    e = load_doc(ld, doc, path);
                }
            }
            start = i + 1;
            start_line = line + 1;
        }
        line++;
    }
    return e;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool yaml_name(const char *n)
{
    size_t k = strlen(n);
    return (k > 4 && strcmp(n + k - 4, ".yml") == 0) || (k > 5 && strcmp(n + k - 5, ".yaml") == 0);
}

/* Every *.yml and *.yaml of a folder and its subfolders but `tests` (rule test cases), in name
 * order. */
static int load_dir(struct loader *ld, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return depth == 0 ? load_file(ld, dir) : 0;
    }
    char **names = NULL;
    size_t n = 0;
    int e = 0;
    for (struct dirent *de; e == 0 && (de = readdir(d)) != NULL;) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "tests") == 0 ||
            strcmp(de->d_name, "calendar") == 0 || n >= MAX_FILES) {
            continue;
        }
        char **v = barra_reallocarray(names, n + 1, sizeof(*v));
        if (v == NULL || (v[n] = barra_malloc(strlen(dir) + strlen(de->d_name) + 2)) == NULL) {
            names = v ? v : names;
            e = -BARRA_ENOMEM;
            break;
        }
        names = v;
        (void)snprintf(names[n], strlen(dir) + strlen(de->d_name) + 2, "%s/%s", dir, de->d_name);
        n++;
    }
    (void)closedir(d);
    if (n > 1) {
        qsort(names, n, sizeof(*names), cmp_str);
    }
    for (size_t i = 0; e == 0 && i < n; i++) {
        DIR *sub = depth < 4 ? opendir(names[i]) : NULL;
        if (sub) {
            (void)closedir(sub);
            e = load_dir(ld, names[i], depth + 1);
        } else if (yaml_name(names[i])) {
            e = load_file(ld, names[i]);
        }
    }
    strv_free(names, n);
    return e;
}

static int find_rule(const struct mon_rules *rs, const char *name)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (strcmp(rs->r[i].id, name) == 0 || (rs->r[i].name && strcmp(rs->r[i].name, name) == 0)) {
            return (int)i;
        }
    }
    return -1;
}

/* Correlations to their rules; every id once; detection rules into buckets by action. */
static int link(struct loader *ld)
{
    struct mon_rules *rs = ld->rs;
    for (size_t i = 0; i < rs->n; i++) {
        int other = find_rule(rs, rs->r[i].id);
        if (other >= 0 && (size_t)other != i) {
            struct ctx x = {.file = rs->r[i].file, .err = ld->err};
            return barra_error_set_at(x.err, -BARRA_EINVAL, rs->r[i].file, rs->r[i].line, 1,
                                      "rule id \"%s\" is used twice (also in %s)", rs->r[i].id,
                                      rs->r[other].file);
        }
        rs->r[i].alone = rs->r[i].corr == CORR_NONE;
    }
    for (size_t k = 0; k < ld->np; k++) {
        struct pending *p = &ld->p[k];
        struct mon_rule *c = &rs->r[p->rule];
        struct ctx x = {.file = p->file, .err = ld->err};
        const struct ynode *const *items;
        size_t n = ytree_as_list(&p->names, &items);
        if (n == 0 || n > MON_MAX_REFS) {
            return bad(&x, p->names, "a correlation names one to eight rules");
        }
        for (size_t i = 0; i < n; i++) {
            int at = items[i]->kind == YNODE_SCALAR ? find_rule(rs, items[i]->value) : -1;
            if (at < 0) {
                return bad(&x, items[i], "no rule has the id or name \"%s\"",
                           items[i]->kind == YNODE_SCALAR ? items[i]->value : "?");
            }
            if (rs->r[at].corr != CORR_NONE) {
                return bad(&x, items[i], "\"%s\" is a correlation: chains are not supported yet",
                           items[i]->value);
            }
            c->refs[c->nrefs++] = (size_t)at;
            struct mon_rule *base = &rs->r[at];
            size_t *u = barra_reallocarray(base->users, base->nusers + 1, sizeof(*u));
            if (u == NULL) {
                return -BARRA_ENOMEM;
            }
            base->users = u;
            u[base->nusers++] = p->rule;
            base->alone = p->generate; /* Sigma: base rules of a correlation alert only if asked */
        }
        if ((c->corr == CORR_TEMPORAL || c->corr == CORR_TEMPORAL_ORDERED) && n < 2) {
            return bad(&x, p->names, "a temporal correlation names at least two rules");
        }
        c->index = rs->ncorr++;
    }
    for (size_t i = 0; i < rs->n; i++) {
        struct mon_rule *r = &rs->r[i];
        if (r->corr != CORR_NONE) {
            continue;
        }
        size_t b = 0;
        while (b < rs->nbuckets &&
               !(r->category == NULL ? rs->by_action[b].action == NULL
                                     : rs->by_action[b].action &&
                                           strcmp(rs->by_action[b].action, r->category) == 0)) {
            b++;
        }
        if (b == rs->nbuckets) {
            struct mon_bucket *v = barra_reallocarray(rs->by_action, b + 1, sizeof(*v));
            if (v == NULL) {
                return -BARRA_ENOMEM;
            }
            rs->by_action = v;
            v[b] = (struct mon_bucket){0};
            if (r->category && (v[b].action = barra_strdup(r->category)) == NULL) {
                return -BARRA_ENOMEM;
            }
            rs->nbuckets++;
        }
        size_t *v = barra_reallocarray(rs->by_action[b].rules, rs->by_action[b].n + 1, sizeof(*v));
        if (v == NULL) {
            return -BARRA_ENOMEM;
        }
        rs->by_action[b].rules = v;
        v[rs->by_action[b].n++] = i;
    }
    return 0;
}

static int load_rules(const char *path, const char *text, size_t len,
                      const struct mon_calendar *cal, struct mon_rules **ret,
                      struct barra_error *err)
{
    *ret = NULL;
    struct mon_rules *rs = barra_calloc(1, sizeof(*rs));
    if (rs == NULL) {
        return -BARRA_ENOMEM;
    }
    rs->cal = cal;
    struct loader ld = {.rs = rs, .err = err};
    int e = text ? load_text(&ld, text, len, path) : load_dir(&ld, path, 0);
    if (e == 0) {
        e = link(&ld);
    }
    for (size_t i = 0; e == 0 && i < rs->n; i++) {
        if (rs->r[i].off_hours && cal == NULL) {
            e = barra_error_set_at(err, -BARRA_EINVAL, rs->r[i].file, rs->r[i].line, 1,
                                   "rule \"%s\" is about off-hours: give a working calendar",
                                   rs->r[i].id);
        }
    }
    for (size_t k = 0; k < ld.np; k++) {
        ytree_free(ld.p[k].doc);
    }
    barra_free(ld.p);
    if (e == 0 && rs->n == 0) {
        e = barra_error_set(err, -BARRA_EINVAL, "%s: no rules (*.yml, *.yaml)", path);
    }
    if (e < 0) {
        mon_rules_free(rs);
        return e;
    }
    *ret = rs;
    return 0;
}

int mon_rules_load(const char *path, const struct mon_calendar *cal, struct mon_rules **ret,
                   struct barra_error *err)
{
    return load_rules(path, NULL, 0, cal, ret, err);
}

int mon_rules_from_text(const char *text, size_t len, const char *name,
                        const struct mon_calendar *cal, struct mon_rules **ret,
                        struct barra_error *err)
{
    return load_rules(name, text, len, cal, ret, err);
}

const struct mon_geo *mon_rules_geo(const struct mon_rules *rs)
{
    return rs->geo;
}

size_t mon_rules_set_geo(struct mon_rules *rs, const struct mon_geo *geo, const char **first)
{
    rs->geo = geo;
    size_t inactive = 0;
    for (size_t i = 0; geo == NULL && i < rs->n; i++) {
        if (rs->r[i].corr == CORR_GEO_VELOCITY && inactive++ == 0 && first) {
            *first = rs->r[i].id;
        }
    }
    return inactive;
}

const struct mon_bucket *mon_rules_bucket(const struct mon_rules *rs, const char *action)
{
    for (size_t b = 0; b < rs->nbuckets; b++) {
        if (action ? rs->by_action[b].action && strcmp(rs->by_action[b].action, action) == 0
                   : rs->by_action[b].action == NULL) {
            return &rs->by_action[b];
        }
    }
    return NULL;
}
