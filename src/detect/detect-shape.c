/* SPDX-License-Identifier: Apache-2.0 */
/* Regex dialect -> AST -> Thompson NFA -> DFA by subset construction. Runs when rules are compiled
 * (at build time for the shipped rules), never on the scan path. */
#include "config.h"

#include "detect/detect-shape.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/utf8.h"

#include "core/banned.h"

#define SHAPE_MAX_REPEAT 64
#define SHAPE_MAX_NFA    200000
#define SHAPE_MAX_DFA    60000
#define SHAPE_NO_STATE   UINT32_MAX
#define SHAPE_CP_MAX     0x110000u

/* ---- character sets: sorted, disjoint ranges [lo, hi] ---- */

struct cset {
    uint32_t n;
    uint32_t (*r)[2];
};

/* ---- AST ---- */

enum ast_kind { AST_SET, AST_CAT, AST_ALT, AST_REP, AST_EMPTY };

struct ast {
    enum ast_kind kind;
    uint32_t set;
    struct ast *a, *b;
    int min, max; /* max < 0: unbounded */
};

/* ---- NFA ---- */

enum nfa_kind { NFA_CHAR, NFA_EPS, NFA_SPLIT, NFA_MATCH };

struct nfa_state {
    uint8_t kind;
    uint16_t pattern;
    uint32_t set;
    uint32_t out1, out2;
};

struct det_shape_builder {
    struct cset *sets;
    uint32_t nsets, capsets;
    struct nfa_state *nfa;
    uint32_t nnfa, capnfa;
    uint32_t *starts; /* start state of each pattern */
    uint32_t nstarts, capstarts;
};

struct parser {
    struct det_shape_builder *b;
    const char *src;
    const char *p;
    struct barra_error *reterr;
    int err;
};

struct det_shape_builder *det_shape_builder_new(void)
{
    return barra_calloc(1, sizeof(struct det_shape_builder));
}

struct det_shape_builder *det_shape_builder_free(struct det_shape_builder *b)
{
    if (b == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < b->nsets; i++) {
        barra_free(b->sets[i].r);
    }
    barra_free(b->sets);
    barra_free(b->nfa);
    barra_free(b->starts);
    barra_free(b);
    return NULL;
}

static int grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap) {
        return 0;
    }
    uint32_t c = *cap ? *cap * 2 : 16;
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

/* ---- sets ---- */

static int cset_add_range(struct cset *s, uint32_t lo, uint32_t hi)
{
    /* Insert then normalise (sort + merge); sets are tiny. */
    void *q = barra_reallocarray(s->r, s->n + 1, sizeof(*s->r));
    if (q == NULL) {
        return -BARRA_ENOMEM;
    }
    s->r = q;
    s->r[s->n][0] = lo;
    s->r[s->n][1] = hi;
    s->n++;
    for (uint32_t i = 1; i < s->n; i++) {
        for (uint32_t j = i; j > 0 && s->r[j - 1][0] > s->r[j][0]; j--) {
            uint32_t t0 = s->r[j][0], t1 = s->r[j][1];
            s->r[j][0] = s->r[j - 1][0];
            s->r[j][1] = s->r[j - 1][1];
            s->r[j - 1][0] = t0;
            s->r[j - 1][1] = t1;
        }
    }
    uint32_t w = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        if (w > 0 && s->r[i][0] <= s->r[w - 1][1] + 1) {
            if (s->r[i][1] > s->r[w - 1][1]) {
                s->r[w - 1][1] = s->r[i][1];
            }
        } else {
            s->r[w][0] = s->r[i][0];
            s->r[w][1] = s->r[i][1];
            w++;
        }
    }
    s->n = w;
    return 0;
}

static int cset_negate(struct cset *s)
{
    struct cset out = {0, NULL};
    uint32_t next = 0;
    int r = 0;
    for (uint32_t i = 0; i < s->n && r == 0; i++) {
        if (s->r[i][0] > next) {
            r = cset_add_range(&out, next, s->r[i][0] - 1);
        }
        next = s->r[i][1] + 1;
    }
    if (r == 0 && next < SHAPE_CP_MAX) {
        r = cset_add_range(&out, next, SHAPE_CP_MAX - 1);
    }
    barra_free(s->r);
    *s = out;
    return r;
}

static bool cset_equal(const struct cset *a, const struct cset *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->r, b->r, a->n * sizeof(*a->r)) == 0);
}

/* Takes ownership of *s; returns the index of an equal set already known or of the new one. */
static int builder_intern_set(struct det_shape_builder *b, struct cset *s, uint32_t *ret)
{
    for (uint32_t i = 0; i < b->nsets; i++) {
        if (cset_equal(&b->sets[i], s)) {
            barra_free(s->r);
            *ret = i;
            return 0;
        }
    }
    if (grow((void **)&b->sets, &b->capsets, b->nsets + 1, sizeof(*b->sets)) < 0) {
        barra_free(s->r);
        return -BARRA_ENOMEM;
    }
    b->sets[b->nsets] = *s;
    *ret = b->nsets++;
    return 0;
}

/* ---- parser ---- */

static int parse_fail(struct parser *ps, const char *what)
{
    if (ps->err == 0) {
        ps->err =
            barra_error_set_at(ps->reterr, -BARRA_EPARSE, NULL, 0, (uint32_t)(ps->p - ps->src) + 1,
                               "pattern \"%s\": %s", ps->src, what);
    }
    return ps->err;
}

static struct ast *ast_new(struct parser *ps, enum ast_kind kind)
{
    struct ast *a = barra_calloc(1, sizeof(*a));
    if (a == NULL) {
        ps->err = ps->err ? ps->err : -BARRA_ENOMEM;
        (void)barra_error_set(ps->reterr, -BARRA_ENOMEM, "out of memory compiling patterns");
        return NULL;
    }
    a->kind = kind;
    return a;
}

static void ast_free(struct ast *a)
{
    if (a == NULL) {
        return;
    }
    ast_free(a->a);
    ast_free(a->b);
    barra_free(a);
}

static uint32_t parse_char(struct parser *ps)
{
    uint32_t cp;
    const uint8_t *p = (const uint8_t *)ps->p;
    size_t n = utf8_decode(p, p + strlen(ps->p), &cp);
    ps->p += n;
    return cp;
}

/* Escapes naming a class: \d digit, \u upper-case letter, \l any letter, \w letter or digit, \s
 * space. */
static int escape_set(struct parser *ps, char e, struct cset *s)
{
    int r = 0;
    switch (e) {
    case 'd':
        r = cset_add_range(s, '0', '9');
        break;
    case 'u':
        r = cset_add_range(s, 'A', 'Z');
        break;
    case 'l':
        r = cset_add_range(s, 'A', 'Z');
        r = r ? r : cset_add_range(s, 'a', 'z');
        break;
    case 'w':
        r = cset_add_range(s, 'A', 'Z');
        r = r ? r : cset_add_range(s, 'a', 'z');
        r = r ? r : cset_add_range(s, '0', '9');
        break;
    case 's':
        r = cset_add_range(s, ' ', ' ');
        break;
    default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
            return parse_fail(ps, "unknown escape");
        }
        r = cset_add_range(s, (uint32_t)(unsigned char)e, (uint32_t)(unsigned char)e);
        break;
    }
    return r;
}

static int parse_class(struct parser *ps, struct cset *s)
{
    bool negate = false;
    if (*ps->p == '^') {
        negate = true;
        ps->p++;
    }
    bool first = true;
    while (*ps->p && (*ps->p != ']' || first)) {
        first = false;
        uint32_t lo;
        if (*ps->p == '\\') {
            ps->p++;
            if (*ps->p == '\0') {
                return parse_fail(ps, "pattern ends inside an escape");
            }
            char e = *ps->p++;
            int r = escape_set(ps, e, s);
            if (r < 0) {
                return r;
            }
            continue;
        }
        lo = parse_char(ps);
        uint32_t hi = lo;
        if (ps->p[0] == '-' && ps->p[1] != ']' && ps->p[1] != '\0') {
            ps->p++;
            hi = parse_char(ps);
            if (hi < lo) {
                return parse_fail(ps, "range out of order");
            }
        }
        int r = cset_add_range(s, lo, hi);
        if (r < 0) {
            return r;
        }
    }
    if (*ps->p != ']') {
        return parse_fail(ps, "unterminated [");
    }
    ps->p++;
    return negate ? cset_negate(s) : 0;
}

static struct ast *parse_alt(struct parser *ps);

static struct ast *set_node(struct parser *ps, struct cset *s)
{
    uint32_t id;
    if (builder_intern_set(ps->b, s, &id) < 0) {
        (void)parse_fail(ps, "out of memory");
        return NULL;
    }
    struct ast *a = ast_new(ps, AST_SET);
    if (a) {
        a->set = id;
    }
    return a;
}

static struct ast *parse_atom(struct parser *ps)
{
    struct cset s = {0, NULL};
    char c = *ps->p;
    if (c == '(') {
        ps->p++;
        if (ps->p[0] == '?' && ps->p[1] == ':') {
            ps->p += 2; /* (?:...) is an ordinary group here: nothing is captured anyway */
        }
        struct ast *inner = parse_alt(ps);
        if (inner == NULL) {
            return NULL;
        }
        if (*ps->p != ')') {
            ast_free(inner);
            (void)parse_fail(ps, "missing )");
            return NULL;
        }
        ps->p++;
        return inner;
    }
    int r = 0;
    if (c == '[') {
        ps->p++;
        r = parse_class(ps, &s);
    } else if (c == '\\') {
        ps->p++;
        if (*ps->p == '\0') {
            r = parse_fail(ps, "pattern ends inside an escape");
        } else {
            r = escape_set(ps, *ps->p++, &s);
        }
    } else if (c == '.') {
        ps->p++;
        r = cset_add_range(&s, 0, '\n' - 1);
        r = r ? r : cset_add_range(&s, '\n' + 1, SHAPE_CP_MAX - 1);
    } else if (c == ')' || c == '|' || c == '*' || c == '+' || c == '?' || c == '{' || c == ']') {
        r = parse_fail(ps, "unexpected metacharacter (escape it with \\)");
    } else {
        uint32_t cp = parse_char(ps);
        r = cset_add_range(&s, cp, cp);
    }
    if (r < 0) {
        barra_free(s.r);
        if (ps->err == 0) {
            ps->err = r;
        }
        return NULL;
    }
    return set_node(ps, &s);
}

static bool parse_int(struct parser *ps, int *ret)
{
    int v = 0;
    bool any = false;
    while (*ps->p >= '0' && *ps->p <= '9') {
        v = v * 10 + (*ps->p - '0');
        if (v > SHAPE_MAX_REPEAT) {
            return false;
        }
        ps->p++;
        any = true;
    }
    *ret = v;
    return any;
}

static struct ast *parse_repeat(struct parser *ps)
{
    struct ast *a = parse_atom(ps);
    while (a && (*ps->p == '?' || *ps->p == '*' || *ps->p == '+' || *ps->p == '{')) {
        int min = 0, max = -1;
        char c = *ps->p++;
        if (c == '?') {
            max = 1;
        } else if (c == '+') {
            min = 1;
        } else if (c == '{') {
            if (!parse_int(ps, &min)) {
                (void)parse_fail(ps, "bad repetition count (0-64)");
                ast_free(a);
                return NULL;
            }
            max = min;
            if (*ps->p == ',') {
                ps->p++;
                if (*ps->p == '}') {
                    max = -1;
                } else if (!parse_int(ps, &max) || max < min) {
                    (void)parse_fail(ps, "bad repetition bound");
                    ast_free(a);
                    return NULL;
                }
            }
            if (*ps->p != '}') {
                (void)parse_fail(ps, "missing }");
                ast_free(a);
                return NULL;
            }
            ps->p++;
        }
        struct ast *rep = ast_new(ps, AST_REP);
        if (rep == NULL) {
            ast_free(a);
            return NULL;
        }
        rep->a = a;
        rep->min = min;
        rep->max = max;
        a = rep;
    }
    return a;
}

static struct ast *parse_concat(struct parser *ps)
{
    struct ast *left = NULL;
    while (*ps->p && *ps->p != '|' && *ps->p != ')') {
        struct ast *right = parse_repeat(ps);
        if (right == NULL) {
            ast_free(left);
            return NULL;
        }
        if (left == NULL) {
            left = right;
            continue;
        }
        struct ast *cat = ast_new(ps, AST_CAT);
        if (cat == NULL) {
            ast_free(left);
            ast_free(right);
            return NULL;
        }
        cat->a = left;
        cat->b = right;
        left = cat;
    }
    if (left == NULL) {
        left = ast_new(ps, AST_EMPTY);
    }
    return left;
}

static struct ast *parse_alt(struct parser *ps)
{
    struct ast *left = parse_concat(ps);
    while (left && *ps->p == '|') {
        ps->p++;
        struct ast *right = parse_concat(ps);
        if (right == NULL) {
            ast_free(left);
            return NULL;
        }
        struct ast *alt = ast_new(ps, AST_ALT);
        if (alt == NULL) {
            ast_free(left);
            ast_free(right);
            return NULL;
        }
        alt->a = left;
        alt->b = right;
        left = alt;
    }
    return left;
}

/* ---- Thompson construction ---- */

struct frag {
    uint32_t start, end; /* end is an NFA_EPS state whose out1 is still open */
};

static int nfa_add(struct det_shape_builder *b, uint8_t kind, uint32_t set, uint32_t *ret)
{
    if (b->nnfa >= SHAPE_MAX_NFA) {
        return -BARRA_E2BIG;
    }
    if (grow((void **)&b->nfa, &b->capnfa, b->nnfa + 1, sizeof(*b->nfa)) < 0) {
        return -BARRA_ENOMEM;
    }
    struct nfa_state *s = &b->nfa[b->nnfa];
    s->kind = kind;
    s->set = set;
    s->pattern = 0;
    s->out1 = SHAPE_NO_STATE;
    s->out2 = SHAPE_NO_STATE;
    *ret = b->nnfa++;
    return 0;
}

static int build_frag(struct det_shape_builder *b, const struct ast *a, struct frag *ret);

static int frag_eps(struct det_shape_builder *b, struct frag *ret)
{
    uint32_t e;
    int r = nfa_add(b, NFA_EPS, 0, &e);
    if (r == 0) {
        ret->start = ret->end = e;
    }
    return r;
}

/* x? as a fragment: SPLIT(x, end). */
static int frag_optional(struct det_shape_builder *b, const struct ast *x, struct frag *ret)
{
    struct frag f;
    uint32_t split, end;
    int r = build_frag(b, x, &f);
    r = r ? r : nfa_add(b, NFA_SPLIT, 0, &split);
    r = r ? r : nfa_add(b, NFA_EPS, 0, &end);
    if (r) {
        return r;
    }
    b->nfa[split].out1 = f.start;
    b->nfa[split].out2 = end;
    b->nfa[f.end].out1 = end;
    ret->start = split;
    ret->end = end;
    return 0;
}

static int frag_star(struct det_shape_builder *b, const struct ast *x, struct frag *ret)
{
    struct frag f;
    uint32_t split, end;
    int r = build_frag(b, x, &f);
    r = r ? r : nfa_add(b, NFA_SPLIT, 0, &split);
    r = r ? r : nfa_add(b, NFA_EPS, 0, &end);
    if (r) {
        return r;
    }
    b->nfa[split].out1 = f.start;
    b->nfa[split].out2 = end;
    b->nfa[f.end].out1 = split;
    ret->start = split;
    ret->end = end;
    return 0;
}

static int frag_repeat(struct det_shape_builder *b, const struct ast *a, struct frag *ret)
{
    struct frag acc;
    int r = frag_eps(b, &acc);
    for (int i = 0; i < a->min && r == 0; i++) {
        struct frag f;
        r = build_frag(b, a->a, &f);
        if (r == 0) {
            b->nfa[acc.end].out1 = f.start;
            acc.end = f.end;
        }
    }
    int optional = a->max < 0 ? 1 : a->max - a->min;
    for (int i = 0; i < optional && r == 0; i++) {
        struct frag f;
        r = a->max < 0 ? frag_star(b, a->a, &f) : frag_optional(b, a->a, &f);
        if (r == 0) {
            b->nfa[acc.end].out1 = f.start;
            acc.end = f.end;
        }
    }
    if (r == 0) {
        *ret = acc;
    }
    return r;
}

static int build_frag(struct det_shape_builder *b, const struct ast *a, struct frag *ret)
{
    int r;
    switch (a->kind) {
    case AST_EMPTY:
        return frag_eps(b, ret);
    case AST_SET: {
        uint32_t c, e;
        r = nfa_add(b, NFA_CHAR, a->set, &c);
        r = r ? r : nfa_add(b, NFA_EPS, 0, &e);
        if (r == 0) {
            b->nfa[c].out1 = e;
            ret->start = c;
            ret->end = e;
        }
        return r;
    }
    case AST_CAT: {
        struct frag x, y;
        r = build_frag(b, a->a, &x);
        r = r ? r : build_frag(b, a->b, &y);
        if (r == 0) {
            b->nfa[x.end].out1 = y.start;
            ret->start = x.start;
            ret->end = y.end;
        }
        return r;
    }
    case AST_ALT: {
        struct frag x, y;
        uint32_t split, end;
        r = build_frag(b, a->a, &x);
        r = r ? r : build_frag(b, a->b, &y);
        r = r ? r : nfa_add(b, NFA_SPLIT, 0, &split);
        r = r ? r : nfa_add(b, NFA_EPS, 0, &end);
        if (r == 0) {
            b->nfa[split].out1 = x.start;
            b->nfa[split].out2 = y.start;
            b->nfa[x.end].out1 = end;
            b->nfa[y.end].out1 = end;
            ret->start = split;
            ret->end = end;
        }
        return r;
    }
    case AST_REP:
        return frag_repeat(b, a, ret);
    }
    return -BARRA_EINVAL;
}

int det_shape_add(struct det_shape_builder *b, const char *regex, uint16_t pattern_id,
                  struct barra_error *reterr)
{
    struct parser ps = {b, regex, regex, reterr, 0};
    struct ast *a = parse_alt(&ps);
    if (a && *ps.p != '\0') {
        (void)parse_fail(&ps, "unbalanced )");
    }
    if (a == NULL || ps.err) {
        ast_free(a);
        return ps.err ? ps.err : -BARRA_ENOMEM;
    }
    struct frag f;
    uint32_t match;
    int r = build_frag(b, a, &f);
    ast_free(a);
    r = r ? r : nfa_add(b, NFA_MATCH, 0, &match);
    r = r ? r : grow((void **)&b->starts, &b->capstarts, b->nstarts + 1, sizeof(*b->starts));
    if (r) {
        return barra_error_set(reterr, r, "pattern \"%s\": %s", regex,
                               r == -BARRA_E2BIG ? "too many states" : "out of memory");
    }
    b->nfa[match].pattern = pattern_id;
    b->nfa[f.end].out1 = match;
    b->starts[b->nstarts++] = f.start;
    return 0;
}

/* ---- alphabet: partition code points into classes that no set tells apart ---- */

struct alphabet {
    uint32_t nbounds;
    uint32_t *bounds;   /* sorted interval starts; interval i = [bounds[i], bounds[i+1]) */
    uint16_t *class_of; /* per interval */
    uint32_t nclasses;
    uint8_t *member; /* nclasses * nsets: does class c belong to set s */
};

static bool cset_contains(const struct cset *s, uint32_t cp)
{
    for (uint32_t i = 0; i < s->n; i++) {
        if (cp >= s->r[i][0] && cp <= s->r[i][1]) {
            return true;
        }
    }
    return false;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void alphabet_done(struct alphabet *al)
{
    barra_free(al->bounds);
    barra_free(al->class_of);
    barra_free(al->member);
}

static int alphabet_build(const struct det_shape_builder *b, struct alphabet *al)
{
    memset(al, 0, sizeof(*al));
    uint32_t cap = 2;
    for (uint32_t i = 0; i < b->nsets; i++) {
        cap += 2 * b->sets[i].n;
    }
    al->bounds = barra_reallocarray(NULL, cap, sizeof(uint32_t));
    if (al->bounds == NULL) {
        return -BARRA_ENOMEM;
    }
    uint32_t n = 0;
    al->bounds[n++] = 0;
    for (uint32_t i = 0; i < b->nsets; i++) {
        for (uint32_t j = 0; j < b->sets[i].n; j++) {
            al->bounds[n++] = b->sets[i].r[j][0];
            if (b->sets[i].r[j][1] + 1 < SHAPE_CP_MAX) {
                al->bounds[n++] = b->sets[i].r[j][1] + 1;
            }
        }
    }
    qsort(al->bounds, n, sizeof(uint32_t), cmp_u32);
    uint32_t w = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (w == 0 || al->bounds[w - 1] != al->bounds[i]) {
            al->bounds[w++] = al->bounds[i];
        }
    }
    al->nbounds = w;
    size_t nsets = b->nsets ? b->nsets : 1;
    uint8_t *sig = barra_calloc((size_t)w * nsets, 1);
    al->class_of = barra_calloc(w, sizeof(uint16_t));
    al->member = barra_calloc((size_t)w * nsets, 1);
    if (sig == NULL || al->class_of == NULL || al->member == NULL) {
        barra_free(sig);
        return -BARRA_ENOMEM;
    }
    /* Class 0 is "in no set": the dead class. Intervals with equal membership share a class. */
    al->nclasses = 1;
    for (uint32_t i = 0; i < w; i++) {
        uint8_t *s = sig + (size_t)i * nsets;
        bool any = false;
        for (uint32_t k = 0; k < b->nsets; k++) {
            s[k] = cset_contains(&b->sets[k], al->bounds[i]);
            any |= s[k];
        }
        if (!any) {
            al->class_of[i] = 0;
            continue;
        }
        uint32_t c;
        for (c = 1; c < al->nclasses; c++) {
            if (memcmp(al->member + (size_t)c * nsets, s, nsets) == 0) {
                break;
            }
        }
        if (c == al->nclasses) {
            if (al->nclasses >= UINT16_MAX) {
                barra_free(sig);
                return -BARRA_E2BIG;
            }
            memcpy(al->member + (size_t)c * nsets, s, nsets);
            al->nclasses++;
        }
        al->class_of[i] = (uint16_t)c;
    }
    barra_free(sig);
    return 0;
}

static uint16_t alphabet_class(const struct alphabet *al, uint32_t cp)
{
    uint32_t lo = 0, hi = al->nbounds;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (al->bounds[mid] <= cp) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return al->class_of[lo - 1];
}

/* ---- subset construction ---- */

struct dstate {
    uint32_t off, n; /* into the pool of NFA state ids (CHAR and MATCH states only), sorted */
};

struct subset {
    const struct det_shape_builder *b;
    uint32_t *stack;
    uint32_t *mark; /* generation stamps per NFA state */
    uint32_t gen;
    uint32_t *scratch;
    uint32_t nscratch;
    uint32_t *pool;
    uint32_t npool, cappool;
    struct dstate *states;
    uint32_t nstates, capstates;
    uint32_t *table; /* open-addressing hash of state sets -> DFA id + 1 */
    uint32_t tablecap;
};

static void closure_add(struct subset *ss, uint32_t s)
{
    uint32_t top = 0;
    ss->stack[top++] = s;
    while (top) {
        uint32_t x = ss->stack[--top];
        if (x == SHAPE_NO_STATE || ss->mark[x] == ss->gen) {
            continue;
        }
        ss->mark[x] = ss->gen;
        const struct nfa_state *st = &ss->b->nfa[x];
        if (st->kind == NFA_CHAR || st->kind == NFA_MATCH) {
            ss->scratch[ss->nscratch++] = x;
        }
        if (st->kind == NFA_EPS || st->kind == NFA_SPLIT) {
            ss->stack[top++] = st->out1;
            if (st->kind == NFA_SPLIT) {
                ss->stack[top++] = st->out2;
            }
        }
    }
}

static uint64_t set_hash(const uint32_t *v, uint32_t n)
{
    uint64_t h = 1469598103934665603ull ^ n;
    for (uint32_t i = 0; i < n; i++) {
        h = (h ^ v[i]) * 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static int subset_rehash(struct subset *ss)
{
    uint32_t cap = ss->tablecap ? ss->tablecap * 2 : 1024;
    uint32_t *t = barra_calloc(cap, sizeof(uint32_t));
    if (t == NULL) {
        return -BARRA_ENOMEM;
    }
    for (uint32_t i = 0; i < ss->nstates; i++) {
        if (ss->states[i].n == 0) {
            continue; /* the dead and empty start states are never looked up */
        }
        uint64_t h = set_hash(ss->pool + ss->states[i].off, ss->states[i].n);
        uint32_t k = (uint32_t)(h & (cap - 1));
        while (t[k]) {
            k = (k + 1) & (cap - 1);
        }
        t[k] = i + 1;
    }
    barra_free(ss->table);
    ss->table = t;
    ss->tablecap = cap;
    return 0;
}

/* Finds or adds the DFA state for scratch[0..nscratch) (sorted here). */
static int subset_intern(struct subset *ss, uint32_t *ret)
{
    if (ss->nscratch > 1) {
        qsort(ss->scratch, ss->nscratch, sizeof(uint32_t), cmp_u32);
    }
    if (ss->nscratch == 0) {
        *ret = 0;
        return 0;
    }
    if ((ss->nstates + 1) * 2 >= ss->tablecap && subset_rehash(ss) < 0) {
        return -BARRA_ENOMEM;
    }
    uint64_t h = set_hash(ss->scratch, ss->nscratch);
    uint32_t k = (uint32_t)(h & (ss->tablecap - 1));
    while (ss->table[k]) {
        const struct dstate *d = &ss->states[ss->table[k] - 1];
        if (d->n == ss->nscratch && d->n > 0 &&
            memcmp(ss->pool + d->off, ss->scratch, d->n * sizeof(uint32_t)) == 0) {
            *ret = ss->table[k] - 1;
            return 0;
        }
        k = (k + 1) & (ss->tablecap - 1);
    }
    if (ss->nstates >= SHAPE_MAX_DFA) {
        return -BARRA_E2BIG;
    }
    if (grow((void **)&ss->pool, &ss->cappool, ss->npool + ss->nscratch, sizeof(uint32_t)) < 0 ||
        grow((void **)&ss->states, &ss->capstates, ss->nstates + 1, sizeof(*ss->states)) < 0) {
        return -BARRA_ENOMEM;
    }
    memcpy(ss->pool + ss->npool, ss->scratch, ss->nscratch * sizeof(uint32_t));
    ss->states[ss->nstates].off = ss->npool;
    ss->states[ss->nstates].n = ss->nscratch;
    ss->npool += ss->nscratch;
    ss->table[k] = ss->nstates + 1;
    *ret = ss->nstates++;
    return 0;
}

static void subset_done(struct subset *ss)
{
    barra_free(ss->stack);
    barra_free(ss->mark);
    barra_free(ss->scratch);
    barra_free(ss->pool);
    barra_free(ss->states);
    barra_free(ss->table);
}

/* Copies the alphabet into the DFA's lookup form: a table for ASCII, merged ranges above. */
static int dfa_set_alphabet(struct det_dfa *d, const struct alphabet *al)
{
    for (uint32_t cp = 0; cp < 128; cp++) {
        d->ascii_class[cp] = alphabet_class(al, cp);
    }
    d->range_lo = barra_reallocarray(NULL, al->nbounds + 1, sizeof(uint32_t));
    d->range_class = barra_reallocarray(NULL, al->nbounds + 1, sizeof(uint16_t));
    if (d->range_lo == NULL || d->range_class == NULL) {
        return -BARRA_ENOMEM;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < al->nbounds; i++) {
        uint32_t lo = al->bounds[i];
        uint32_t hi = i + 1 < al->nbounds ? al->bounds[i + 1] : SHAPE_CP_MAX;
        if (hi <= 128) {
            continue;
        }
        if (lo < 128) {
            lo = 128;
        }
        if (n > 0 && d->range_class[n - 1] == al->class_of[i]) {
            continue;
        }
        d->range_lo[n] = lo;
        d->range_class[n] = al->class_of[i];
        n++;
    }
    d->nranges = n;
    d->nclasses = al->nclasses;
    return 0;
}

static int subset_run(struct subset *ss, const struct alphabet *al, struct det_dfa *d)
{
    const struct det_shape_builder *b = ss->b;
    /* DFA state 0 is dead (the empty set); state 1 is the start. */
    ss->gen++;
    ss->nscratch = 0;
    for (uint32_t i = 0; i < b->nstarts; i++) {
        closure_add(ss, b->starts[i]);
    }
    /* Id 0 is the dead state: the empty set, which subset_intern() never stores. */
    ss->states = barra_reallocarray(ss->states, 1, sizeof(*ss->states));
    if (ss->states == NULL) {
        return -BARRA_ENOMEM;
    }
    ss->capstates = 1;
    ss->states[0].off = 0;
    ss->states[0].n = 0;
    ss->nstates = 1;
    uint32_t start;
    int r = 0;
    if (ss->nscratch == 0) {
        /* No patterns: a start state that leads nowhere. */
        if (grow((void **)&ss->states, &ss->capstates, 2, sizeof(*ss->states)) < 0) {
            return -BARRA_ENOMEM;
        }
        ss->states[1].off = 0;
        ss->states[1].n = 0;
        ss->nstates = 2;
        start = 1;
    } else {
        r = subset_intern(ss, &start);
    }
    if (r < 0) {
        return r;
    }
    size_t cap_trans = 0;
    for (uint32_t cur = 1; cur < ss->nstates; cur++) {
        if ((size_t)ss->nstates * al->nclasses > cap_trans) {
            size_t c = cap_trans ? cap_trans : (size_t)256 * al->nclasses;
            while (c < (size_t)ss->nstates * al->nclasses) {
                c *= 2;
            }
            uint16_t *t = barra_reallocarray(d->trans, c, sizeof(uint16_t));
            if (t == NULL) {
                return -BARRA_ENOMEM;
            }
            d->trans = t;
            cap_trans = c;
        }
        for (uint32_t c = 0; c < al->nclasses; c++) {
            ss->gen++;
            ss->nscratch = 0;
            const struct dstate *ds = &ss->states[cur];
            for (uint32_t k = 0; k < ds->n; k++) {
                const struct nfa_state *st = &b->nfa[ss->pool[ds->off + k]];
                if (st->kind == NFA_CHAR && c != 0 &&
                    al->member[(size_t)c * (b->nsets ? b->nsets : 1) + st->set]) {
                    closure_add(ss, st->out1);
                }
            }
            uint32_t next;
            r = subset_intern(ss, &next);
            if (r < 0) {
                return r;
            }
            d->trans[(size_t)cur * al->nclasses + c] = (uint16_t)next;
        }
    }
    for (uint32_t c = 0; c < al->nclasses; c++) {
        d->trans[c] = 0;
    }
    d->nstates = ss->nstates;
    return 0;
}

static int dfa_collect_accepts(const struct subset *ss, struct det_dfa *d)
{
    const struct det_shape_builder *b = ss->b;
    d->accept_index = barra_calloc((size_t)d->nstates + 1, sizeof(uint32_t));
    uint32_t total = 0;
    for (uint32_t i = 0; i < d->nstates; i++) {
        for (uint32_t k = 0; k < ss->states[i].n; k++) {
            total += b->nfa[ss->pool[ss->states[i].off + k]].kind == NFA_MATCH;
        }
    }
    d->accept_list = barra_calloc(total ? total : 1, sizeof(uint16_t));
    if (d->accept_index == NULL || d->accept_list == NULL) {
        return -BARRA_ENOMEM;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < d->nstates; i++) {
        d->accept_index[i] = n;
        for (uint32_t k = 0; k < ss->states[i].n; k++) {
            const struct nfa_state *st = &b->nfa[ss->pool[ss->states[i].off + k]];
            if (st->kind == NFA_MATCH) {
                d->accept_list[n++] = st->pattern;
            }
        }
    }
    d->accept_index[d->nstates] = n;
    d->naccept = n;
    return 0;
}

int det_shape_build(struct det_shape_builder *b, struct det_dfa *ret, struct barra_error *reterr)
{
    struct alphabet al;
    struct det_dfa d;
    memset(&d, 0, sizeof(d));
    int r = alphabet_build(b, &al);
    if (r < 0) {
        alphabet_done(&al);
        return barra_error_set(reterr, r, "cannot build the pattern alphabet: %s",
                               barra_strerror(r));
    }
    struct subset ss;
    memset(&ss, 0, sizeof(ss));
    ss.b = b;
    size_t nn = b->nnfa ? b->nnfa : 1;
    ss.stack = barra_calloc(nn * 2 + 2, sizeof(uint32_t));
    ss.mark = barra_calloc(nn, sizeof(uint32_t));
    ss.scratch = barra_calloc(nn, sizeof(uint32_t));
    if (ss.stack == NULL || ss.mark == NULL || ss.scratch == NULL) {
        r = -BARRA_ENOMEM;
    }
    r = r ? r : dfa_set_alphabet(&d, &al);
    r = r ? r : subset_run(&ss, &al, &d);
    r = r ? r : dfa_collect_accepts(&ss, &d);
    subset_done(&ss);
    alphabet_done(&al);
    if (r < 0) {
        det_dfa_done(&d);
        return barra_error_set(reterr, r, "cannot build the pattern automaton: %s",
                               r == -BARRA_E2BIG ? "too many states" : barra_strerror(r));
    }
    r = det_dfa_derive(&d);
    if (r < 0) {
        det_dfa_done(&d);
        return barra_error_set(reterr, r, "out of memory building the pattern automaton");
    }
    *ret = d;
    return 0;
}

int det_dfa_derive(struct det_dfa *d)
{
    barra_free(d->can_start);
    d->can_start = barra_calloc(0x10000 / 8, 1);
    if (d->can_start == NULL) {
        return -BARRA_ENOMEM;
    }
    if (d->nstates < 2) {
        return 0;
    }
    const uint16_t *start = d->trans + d->nclasses;
    for (uint32_t cp = 0; cp < 128; cp++) {
        if (start[d->ascii_class[cp]]) {
            d->can_start[cp >> 3] |= (uint8_t)(1u << (cp & 7));
        }
    }
    /* Above ASCII, whole ranges share a class: set them range by range. */
    for (uint32_t i = 0; i < d->nranges && d->range_lo[i] < 0x10000; i++) {
        uint32_t hi = i + 1 < d->nranges ? d->range_lo[i + 1] : 0x10000;
        if (!start[d->range_class[i]]) {
            continue;
        }
        for (uint32_t cp = d->range_lo[i]; cp < hi && cp < 0x10000; cp++) {
            d->can_start[cp >> 3] |= (uint8_t)(1u << (cp & 7));
        }
    }
    return 0;
}

void det_dfa_done(struct det_dfa *d)
{
    barra_free(d->can_start);
    barra_free(d->trans);
    barra_free(d->accept_index);
    barra_free(d->accept_list);
    barra_free(d->range_lo);
    barra_free(d->range_class);
    memset(d, 0, sizeof(*d));
}
