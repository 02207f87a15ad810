/* SPDX-License-Identifier: Apache-2.0 */
/* A recursive-descent reader. The input is checked as UTF-8 once, up front, with the vectorised
 * validator, so scanning strings only has to look for quotes, backslashes and control bytes.
 * Children are gathered on a scratch stack while a container is open and copied into the arena,
 * contiguous, when it closes. */
#include "config.h"

#include "core/jsonr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <barra/error.h>

#include "core/alloc.h"
#include "core/utf8.h"

#include "core/banned.h"

struct jr_chunk {
    struct jr_chunk *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

/* Scratch entries: a value with the key it has in the open object (NULL in arrays). */
struct jr_slot {
    const char *key;
    uint32_t key_len;
    struct jr_value value;
};

struct jr_reader {
    const char *p, *start, *end;
    struct jr_doc *doc;
    struct jr_error *err;
    struct jr_slot *stack;
    size_t depth_slots, stack_cap;
    unsigned depth;
    size_t chunk_hint;
};

static void *arena_alloc(struct jr_reader *r, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct jr_chunk *c = r->doc->chunks;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > r->chunk_hint ? n : r->chunk_hint;
        c = barra_malloc(sizeof(*c) + cap);
        if (c == NULL) {
            return NULL;
        }
        c->next = r->doc->chunks;
        c->used = 0;
        c->cap = cap;
        r->doc->chunks = c;
        r->chunk_hint = cap * 2;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static int fail(struct jr_reader *r, const char *what)
{
    uint32_t line = 1, col = 1;
    for (const char *q = r->start; q < r->p && q < r->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)*q & 0xc0) != 0x80) {
            col++;
        }
    }
    (void)snprintf(r->err->text, sizeof(r->err->text), "%s", what);
    r->err->line = line;
    r->err->column = col;
    return -BARRA_EFORMAT;
}

static int oom(struct jr_reader *r)
{
    (void)snprintf(r->err->text, sizeof(r->err->text), "out of memory");
    r->err->line = r->err->column = 0;
    return -BARRA_ENOMEM;
}

static void skip_space(struct jr_reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t')) {
        r->p++;
    }
}

static int hex4(const char *p, uint32_t *ret)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) {
            return -1;
        }
        v = v << 4 | (uint32_t)d;
    }
    *ret = v;
    return 0;
}

/* The first byte at or after p (before end) that a string reader must stop at: a quote, a
 * backslash or a control character; end if none. Text between them is copied as it is. */
static const char *next_special(const char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    const __m128i control = _mm_set1_epi8(0x1f);
    for (; end - p >= 16; p += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* c < 0x20 exactly when min(c, 0x1f) == c, unsigned */
        __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                         _mm_cmpeq_epi8(_mm_min_epu8(v, control), v));
        unsigned bits = (unsigned)_mm_movemask_epi8(hit);
        if (bits) {
            return p + __builtin_ctz(bits);
        }
    }
#endif
    while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) {
        p++;
    }
    return p;
}

/* Reads a string (r->p at the opening quote) into the arena. */
static int read_string(struct jr_reader *r, const char **ret, uint32_t *ret_len)
{
    const char *s = ++r->p;
    const char *q = s;
    /* First pass: find the end and whether anything needs decoding. */
    bool plain = true;
    for (;;) {
        q = next_special(q, r->end);
        if (q >= r->end || *q == '"') {
            break;
        }
        if ((unsigned char)*q < 0x20) {
            r->p = q;
            return fail(r, "a control character in a string (escape it)");
        }
        plain = false; /* a backslash: skip it and the character it escapes */
        q = r->end - q > 2 ? q + 2 : r->end;
    }
    if (q >= r->end) {
        r->p = s - 1;
        return fail(r, "a string is not closed");
    }
    size_t raw = (size_t)(q - s);
    if (raw > UINT32_MAX - 1) {
        return fail(r, "a string is too long");
    }
    char *out = arena_alloc(r, raw + 1);
    if (out == NULL) {
        return oom(r);
    }
    if (plain) {
        memcpy(out, s, raw);
        out[raw] = '\0';
        *ret = out;
        *ret_len = (uint32_t)raw;
        r->p = q + 1;
        return 0;
    }
    char *o = out;
    for (const char *p = s; p < q;) {
        const char *b = memchr(p, '\\', (size_t)(q - p));
        size_t run = (size_t)((b ? b : q) - p);
        memcpy(o, p, run);
        o += run;
        p += run;
        if (p == q) {
            break;
        }
        p++;
        switch (*p) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '/':
            *o++ = '/';
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            uint32_t cp, lo;
            if (q - p < 5 || hex4(p + 1, &cp) < 0) {
                r->p = p - 1;
                return fail(r, "\\u needs four hex digits");
            }
            p += 4;
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                r->p = p - 5;
                return fail(r, "a lone low surrogate in a \\u escape");
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (q - p < 7 || p[1] != '\\' || p[2] != 'u' || hex4(p + 3, &lo) < 0 ||
                    lo < 0xdc00 || lo > 0xdfff) {
                    r->p = p - 5;
                    return fail(r, "a high surrogate in a \\u escape without its low half");
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            }
            o += utf8_encode(cp, o);
            break;
        }
        default:
            r->p = p - 1;
            return fail(r, "an unknown escape in a string");
        }
        p++;
    }
    *o = '\0';
    *ret = out;
    *ret_len = (uint32_t)(o - out);
    r->p = q + 1;
    return 0;
}

static int read_number(struct jr_reader *r, struct jr_value *v)
{
    const char *s = r->p, *p = s;
    bool real = false;
    if (p < r->end && *p == '-') {
        p++;
    }
    if (p < r->end && *p == '0') {
        p++;
    } else if (p < r->end && *p >= '1' && *p <= '9') {
        while (p < r->end && *p >= '0' && *p <= '9') {
            p++;
        }
    } else {
        return fail(r, "an invalid number");
    }
    if (p < r->end && *p == '.') {
        real = true;
        p++;
        if (p >= r->end || *p < '0' || *p > '9') {
            r->p = p;
            return fail(r, "a number needs digits after its decimal point");
        }
        while (p < r->end && *p >= '0' && *p <= '9') {
            p++;
        }
    }
    if (p < r->end && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < r->end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= r->end || *p < '0' || *p > '9') {
            r->p = p;
            return fail(r, "a number needs digits in its exponent");
        }
        while (p < r->end && *p >= '0' && *p <= '9') {
            p++;
        }
    }
    char buf[128];
    size_t n = (size_t)(p - s);
    if (n >= sizeof(buf)) {
        return fail(r, "a number is too long");
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    if (real) {
        double d = strtod(buf, NULL);
        if (isinf(d)) { /* underflow to a tiny or zero value is not an error */
            return fail(r, "a real number overflows");
        }
        v->type = JR_REAL;
        v->u.d = d;
    } else {
        long long i = strtoll(buf, NULL, 10);
        if (errno == ERANGE) {
            return fail(r, "an integer beyond 64 bits");
        }
        v->type = JR_INTEGER;
        v->u.i = i;
    }
    r->p = p;
    return 0;
}

static int push(struct jr_reader *r, const char *key, uint32_t key_len)
{
    if (r->depth_slots == r->stack_cap) {
        size_t cap = r->stack_cap ? r->stack_cap * 2 : 64;
        struct jr_slot *s = barra_reallocarray(r->stack, cap, sizeof(*s));
        if (s == NULL) {
            return oom(r);
        }
        r->stack = s;
        r->stack_cap = cap;
    }
    r->stack[r->depth_slots].key = key;
    r->stack[r->depth_slots].key_len = key_len;
    r->depth_slots++;
    return 0;
}

static int cmp_members(const void *a, const void *b)
{
    const struct jr_member *x = *(const struct jr_member *const *)a;
    const struct jr_member *y = *(const struct jr_member *const *)b;
    if (x->key_len != y->key_len) {
        return x->key_len < y->key_len ? -1 : 1;
    }
    return memcmp(x->key, y->key, x->key_len);
}

/* Whether two members of an object have the same key: pairwise for small objects, sorted for
 * large ones (so that a document of many keys cannot cost quadratic time). */
static bool has_duplicate(const struct jr_member *m, size_t n)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            for (size_t j = 0; j < i; j++) {
                if (m[i].key_len == m[j].key_len && memcmp(m[i].key, m[j].key, m[i].key_len) == 0) {
                    return true;
                }
            }
        }
        return false;
    }
    const struct jr_member **sorted = barra_reallocarray(NULL, n, sizeof(*sorted));
    if (sorted == NULL) {
        return true; /* refused rather than unchecked */
    }
    for (size_t i = 0; i < n; i++) {
        sorted[i] = &m[i];
    }
    qsort(sorted, n, sizeof(*sorted), cmp_members);
    bool dup = false;
    for (size_t i = 1; i < n && !dup; i++) {
        dup = cmp_members(&sorted[i - 1], &sorted[i]) == 0;
    }
    barra_free(sorted);
    return dup;
}

static int read_value(struct jr_reader *r, struct jr_value *v);

static int read_container(struct jr_reader *r, struct jr_value *v, bool object)
{
    if (++r->depth > JR_MAX_DEPTH) {
        return fail(r, "nested too deeply");
    }
    char close = object ? '}' : ']';
    size_t base = r->depth_slots;
    r->p++;
    skip_space(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
    } else {
        for (;;) {
            const char *key = NULL;
            uint32_t key_len = 0;
            int e;
            if (object) {
                if (r->p >= r->end || *r->p != '"') {
                    return fail(r, "an object key must be a string");
                }
                if ((e = read_string(r, &key, &key_len)) < 0) {
                    return e;
                }
                if (strlen(key) != key_len) {
                    return fail(r, "an object key holds a NUL character");
                }
                skip_space(r);
                if (r->p >= r->end || *r->p != ':') {
                    return fail(r, "a ':' must follow an object key");
                }
                r->p++;
                skip_space(r);
            }
            if ((e = push(r, key, key_len)) < 0) {
                return e;
            }
            /* The slot may move when the stack grows: read into a local value. */
            struct jr_value child;
            if ((e = read_value(r, &child)) < 0) {
                return e;
            }
            r->stack[r->depth_slots - 1].value = child;
            skip_space(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                skip_space(r);
                continue;
            }
            if (r->p < r->end && *r->p == close) {
                r->p++;
                break;
            }
            return fail(r, object ? "expected ',' or '}' in an object"
                                  : "expected ',' or ']' in an array");
        }
    }
    size_t n = r->depth_slots - base;
    if (n > UINT32_MAX) {
        return fail(r, "a container has too many members");
    }
    v->type = object ? JR_OBJECT : JR_ARRAY;
    v->n = (uint32_t)n;
    if (object) {
        struct jr_member *m = n ? arena_alloc(r, n * sizeof(*m)) : NULL;
        if (n && m == NULL) {
            return oom(r);
        }
        for (size_t i = 0; i < n; i++) {
            m[i].key = r->stack[base + i].key;
            m[i].key_len = r->stack[base + i].key_len;
            m[i].value = r->stack[base + i].value;
        }
        if (has_duplicate(m, n)) {
            r->p--;
            return fail(r, "an object has the same key twice");
        }
        v->u.members = m;
    } else {
        struct jr_value *items = n ? arena_alloc(r, n * sizeof(*items)) : NULL;
        if (n && items == NULL) {
            return oom(r);
        }
        for (size_t i = 0; i < n; i++) {
            items[i] = r->stack[base + i].value;
        }
        v->u.items = items;
    }
    r->depth_slots = base;
    r->depth--;
    return 0;
}

static int read_literal(struct jr_reader *r, const char *word, enum jr_type type,
                        struct jr_value *v)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) {
        return fail(r, "an invalid value");
    }
    r->p += n;
    v->type = type;
    v->n = 0;
    return 0;
}

static int read_value(struct jr_reader *r, struct jr_value *v)
{
    memset(v, 0, sizeof(*v));
    if (r->p >= r->end) {
        return fail(r, "a value is missing");
    }
    switch (*r->p) {
    case '{':
        return read_container(r, v, true);
    case '[':
        return read_container(r, v, false);
    case '"': {
        v->type = JR_STRING;
        return read_string(r, &v->u.s, &v->n);
    }
    case 't':
        return read_literal(r, "true", JR_TRUE, v);
    case 'f':
        return read_literal(r, "false", JR_FALSE, v);
    case 'n':
        return read_literal(r, "null", JR_NULL, v);
    default:
        return read_number(r, v);
    }
}

int jr_parse(const char *text, size_t len, struct jr_doc *doc, struct jr_error *err)
{
    memset(doc, 0, sizeof(*doc));
    struct jr_reader r = {
        .p = text,
        .start = text,
        .end = text + len,
        .doc = doc,
        .err = err,
        .chunk_hint = len + len / 2 + 256,
    };
    if (!utf8_is_valid(text, len)) {
        r.p = text + utf8_first_invalid(text, len);
        return fail(&r, "invalid UTF-8");
    }
    skip_space(&r);
    int e = read_value(&r, &doc->root);
    if (e == 0) {
        skip_space(&r);
        if (r.p != r.end) {
            e = fail(&r, "text after the end of the JSON value");
        }
    }
    barra_free(r.stack);
    return e;
}

void jr_free(struct jr_doc *doc)
{
    for (struct jr_chunk *c = doc->chunks, *next; c; c = next) {
        next = c->next;
        barra_free(c);
    }
    doc->chunks = NULL;
}

const struct jr_value *jr_get(const struct jr_value *v, const char *key)
{
    if (v == NULL || v->type != JR_OBJECT) {
        return NULL;
    }
    for (uint32_t i = 0; i < v->n; i++) {
        if (strcmp(v->u.members[i].key, key) == 0) {
            return &v->u.members[i].value;
        }
    }
    return NULL;
}
