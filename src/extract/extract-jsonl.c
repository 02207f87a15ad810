/* SPDX-License-Identifier: Apache-2.0 */
/* A JSON Lines record reader for the scan path: one pass over the bytes, full validation of the
 * JSON grammar, and unescaping only of the strings asked for (a general JSON library builds a whole
 * tree and runs several times slower here). */
#include "config.h"

#include <string.h>

#include <barra/extract.h>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/utf8.h"

#include "core/banned.h"

#define JSONL_MAX_DEPTH 64
#define JSONL_MAX_PATH  1024

struct field_slot {
    size_t path_off, path_len;   /* into paths */
    size_t value_off, value_len; /* into values */
};

struct barra_jsonl {
    char **fields;
    size_t *field_lens;
    size_t nfields;
    char *id_field;
    bool all;

    struct buf values;
    struct buf paths;
    struct field_slot *slots;
    size_t nslots, capslots;
    struct barra_jsonl_field *out;
    size_t capout;
    bool have_id;
    size_t id_off, id_len;
};

struct parser {
    barra_jsonl_t *j;
    const char *start, *p, *end;
    char path[JSONL_MAX_PATH];
    size_t path_len;
    bool path_overflow;
    int depth;
    struct barra_error *reterr;
};

BARRA_EXPORT barra_jsonl_t *barra_jsonl_free(barra_jsonl_t *j)
{
    if (j == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < j->nfields; i++) {
        barra_free(j->fields[i]);
    }
    barra_free(j->fields);
    barra_free(j->field_lens);
    barra_free(j->id_field);
    buf_done(&j->values);
    buf_done(&j->paths);
    barra_free(j->slots);
    barra_free(j->out);
    barra_free(j);
    return NULL;
}

BARRA_EXPORT int barra_jsonl_new(const char *const *fields, size_t nfields, const char *id_field,
                                 barra_jsonl_t **ret, struct barra_error *reterr)
{
    if (ret == NULL || (nfields && fields == NULL)) {
        return barra_error_set(reterr, -BARRA_EINVAL, "invalid JSON Lines reader arguments");
    }
    barra_jsonl_t *j = barra_calloc(1, sizeof(*j));
    if (j == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    buf_init(&j->values, 0);
    buf_init(&j->paths, 0);
    j->all = nfields == 0;
    j->fields = barra_calloc(nfields ? nfields : 1, sizeof(char *));
    j->field_lens = barra_calloc(nfields ? nfields : 1, sizeof(size_t));
    bool oom = j->fields == NULL || j->field_lens == NULL;
    for (size_t i = 0; !oom && i < nfields; i++) {
        j->fields[i] = barra_strdup(fields[i]);
        oom = j->fields[i] == NULL;
        j->field_lens[i] = oom ? 0 : strlen(fields[i]);
        j->nfields += !oom;
    }
    if (!oom && id_field) {
        j->id_field = barra_strdup(id_field);
        oom = j->id_field == NULL;
    }
    if (oom) {
        barra_jsonl_free(j);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    *ret = j;
    return 0;
}

static int fail(struct parser *ps, const char *what)
{
    return barra_error_set_at(ps->reterr, -BARRA_EFORMAT, NULL, 0,
                              (uint32_t)(ps->p - ps->start) + 1, "%s at byte %zu", what,
                              (size_t)(ps->p - ps->start) + 1);
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n')) {
        ps->p++;
    }
}

/* ---- what the caller asked for ---- */

static bool wanted_exact(const barra_jsonl_t *j, const char *path, size_t n)
{
    if (j->all) {
        return true;
    }
    for (size_t i = 0; i < j->nfields; i++) {
        if (j->field_lens[i] == n && memcmp(j->fields[i], path, n) == 0) {
            return true;
        }
    }
    return false;
}

static bool is_id(const barra_jsonl_t *j, const char *path, size_t n)
{
    return j->id_field && strlen(j->id_field) == n && memcmp(j->id_field, path, n) == 0;
}

/* ---- strings ---- */

/* Advances to the next '"', '\\' or control byte. */
static const char *scan_string_run(const char *p, const char *end)
{
#if defined(__x86_64__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1F);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
        /* Unsigned v <= 0x1F: min(v, 0x1F) == v. */
        hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
        int m = _mm_movemask_epi8(hit);
        if (m) {
            return p + __builtin_ctz((unsigned)m);
        }
        p += 16;
    }
#endif
    while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) {
        p++;
    }
    return p;
}

static int hex4(const char *p, uint32_t *ret)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (uint32_t)(c - '0');
        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            v |= (uint32_t)((c | 0x20) - 'a' + 10);
        } else {
            return -1;
        }
    }
    *ret = v;
    return 0;
}

/* A \u escape (p after "\u"), with a following low surrogate when p is a high one. */
static int unicode_escape(struct parser *ps, uint32_t *ret_cp)
{
    uint32_t cp;
    if (ps->end - ps->p < 4 || hex4(ps->p, &cp) < 0) {
        return fail(ps, "bad \\u escape");
    }
    ps->p += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
        ps->p[1] == 'u') {
        uint32_t lo;
        if (hex4(ps->p + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
            ps->p += 6;
            *ret_cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            return 0;
        }
    }
    *ret_cp = (cp >= 0xD800 && cp <= 0xDFFF) ? UTF8_REPLACEMENT : cp;
    return 0;
}

/* Parses a string (p at the opening quote). With `out`, appends the unescaped value to it. */
static int parse_string(struct parser *ps, struct buf *out)
{
    ps->p++;
    for (;;) {
        const char *run = scan_string_run(ps->p, ps->end);
        if (out && run > ps->p && buf_append(out, ps->p, (size_t)(run - ps->p)) < 0) {
            return barra_error_set(ps->reterr, -BARRA_ENOMEM, "out of memory");
        }
        ps->p = run;
        if (ps->p >= ps->end) {
            return fail(ps, "unterminated string");
        }
        char c = *ps->p;
        if (c == '"') {
            ps->p++;
            return 0;
        }
        if (c != '\\') {
            return fail(ps, "control character in string");
        }
        if (ps->end - ps->p < 2) {
            return fail(ps, "unterminated escape");
        }
        char e = ps->p[1];
        ps->p += 2;
        char lit;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            lit = e;
            break;
        case 'b':
            lit = '\b';
            break;
        case 'f':
            lit = '\f';
            break;
        case 'n':
            lit = '\n';
            break;
        case 'r':
            lit = '\r';
            break;
        case 't':
            lit = '\t';
            break;
        case 'u': {
            uint32_t cp;
            int r = unicode_escape(ps, &cp);
            if (r < 0) {
                return r;
            }
            char enc[4];
            size_t k = utf8_encode(cp, enc);
            if (out && buf_append(out, enc, k) < 0) {
                return barra_error_set(ps->reterr, -BARRA_ENOMEM, "out of memory");
            }
            continue;
        }
        default:
            ps->p--;
            return fail(ps, "bad escape");
        }
        if (out && buf_append_char(out, lit) < 0) {
            return barra_error_set(ps->reterr, -BARRA_ENOMEM, "out of memory");
        }
    }
}

/* ---- other values ---- */

static int parse_number(struct parser *ps, const char **ret_start)
{
    const char *s = ps->p;
    *ret_start = s;
    if (ps->p < ps->end && *ps->p == '-') {
        ps->p++;
    }
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
        return fail(ps, "bad number");
    }
    if (*ps->p == '0') {
        ps->p++;
    } else {
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            ps->p++;
        }
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
            return fail(ps, "bad number");
        }
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            ps->p++;
        }
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) {
            ps->p++;
        }
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
            return fail(ps, "bad number");
        }
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            ps->p++;
        }
    }
    return 0;
}

static int parse_literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
        return fail(ps, "unexpected character");
    }
    ps->p += n;
    return 0;
}

static int add_slot(struct parser *ps, size_t value_off)
{
    barra_jsonl_t *j = ps->j;
    if (j->nslots == j->capslots) {
        size_t cap = j->capslots ? j->capslots * 2 : 8;
        void *q = barra_reallocarray(j->slots, cap, sizeof(*j->slots));
        if (q == NULL) {
            return barra_error_set(ps->reterr, -BARRA_ENOMEM, "out of memory");
        }
        j->slots = q;
        j->capslots = cap;
    }
    size_t path_off = j->paths.len;
    if (buf_append(&j->paths, ps->path, ps->path_len) < 0) {
        return barra_error_set(ps->reterr, -BARRA_ENOMEM, "out of memory");
    }
    j->slots[j->nslots++] =
        (struct field_slot){path_off, ps->path_len, value_off, j->values.len - value_off};
    return 0;
}

static int parse_value(struct parser *ps);

/* After a member of an object or an element of an array: 1 if another follows (',' consumed), 0 at
 * the closing character (consumed), or an error naming what was expected. */
static int next_member(struct parser *ps, char close, const char *expected)
{
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
        ps->p++;
        return 1;
    }
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 0;
    }
    return fail(ps, expected);
}

/* Extends the current path by ".key" or "[i]"; returns the old length to restore. */
static size_t path_push_key(struct parser *ps, const char *key, size_t n)
{
    size_t old = ps->path_len;
    size_t need = (old ? 1 : 0) + n;
    if (old + need >= JSONL_MAX_PATH) {
        ps->path_overflow = true;
        return old;
    }
    if (old) {
        ps->path[ps->path_len++] = '.';
    }
    memcpy(ps->path + ps->path_len, key, n);
    ps->path_len += n;
    return old;
}

static size_t path_push_index(struct parser *ps, size_t index)
{
    size_t old = ps->path_len;
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "[%zu]", index);
    if (n < 0 || old + (size_t)n >= JSONL_MAX_PATH) {
        ps->path_overflow = true;
        return old;
    }
    memcpy(ps->path + old, tmp, (size_t)n);
    ps->path_len += (size_t)n;
    return old;
}

static int parse_object(struct parser *ps)
{
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return 0;
    }
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != '"') {
            return fail(ps, "expected a key");
        }
        /* A key without escapes (nearly all) goes into the path as it stands. */
        size_t old;
        int r;
        const char *run = scan_string_run(ps->p + 1, ps->end);
        if (run < ps->end && *run == '"') {
            old = path_push_key(ps, ps->p + 1, (size_t)(run - ps->p - 1));
            ps->p = run + 1;
        } else {
            struct buf key; /* no limit of its own: the record's length bounds it */
            buf_init(&key, 0);
            r = parse_string(ps, &key);
            if (r < 0) {
                buf_done(&key);
                return r;
            }
            old = path_push_key(ps, key.data ? key.data : "", key.len);
            buf_done(&key);
        }
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            return fail(ps, "expected ':'");
        }
        ps->p++;
        skip_ws(ps);
        r = parse_value(ps);
        ps->path_len = old;
        r = r < 0 ? r : next_member(ps, '}', "expected ',' or '}'");
        if (r <= 0) {
            return r;
        }
    }
}

static int parse_array(struct parser *ps)
{
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return 0;
    }
    for (size_t i = 0;; i++) {
        skip_ws(ps);
        size_t old = path_push_index(ps, i);
        int r = parse_value(ps);
        ps->path_len = old;
        r = r < 0 ? r : next_member(ps, ']', "expected ',' or ']'");
        if (r <= 0) {
            return r;
        }
    }
}

static int parse_value(struct parser *ps)
{
    if (ps->p >= ps->end) {
        return fail(ps, "unexpected end of record");
    }
    barra_jsonl_t *j = ps->j;
    bool id = !ps->path_overflow && is_id(j, ps->path, ps->path_len);
    switch (*ps->p) {
    case '{':
    case '[': {
        if (++ps->depth > JSONL_MAX_DEPTH) {
            return fail(ps, "nested too deeply");
        }
        int r = *ps->p == '{' ? parse_object(ps) : parse_array(ps);
        ps->depth--;
        return r;
    }
    case '"': {
        bool want = !ps->path_overflow && wanted_exact(j, ps->path, ps->path_len);
        size_t off = j->values.len;
        int r = parse_string(ps, want || id ? &j->values : NULL);
        if (r == 0 && id) {
            j->have_id = true;
            j->id_off = off;
            j->id_len = j->values.len - off;
        }
        if (r == 0 && want) {
            r = add_slot(ps, off);
        }
        return r;
    }
    case 't':
        return parse_literal(ps, "true");
    case 'f':
        return parse_literal(ps, "false");
    case 'n':
        return parse_literal(ps, "null");
    default: {
        const char *num;
        int r = parse_number(ps, &num);
        if (r == 0 && id) {
            j->have_id = true;
            j->id_off = j->values.len;
            j->id_len = (size_t)(ps->p - num);
            if (buf_append(&j->values, num, j->id_len) < 0) {
                return barra_error_set(ps->reterr, -BARRA_ENOMEM, "out of memory");
            }
        }
        return r;
    }
    }
}

BARRA_EXPORT int barra_jsonl_parse(barra_jsonl_t *j, const char *line, size_t len,
                                   struct barra_error *reterr)
{
    if (j == NULL || (line == NULL && len)) {
        return barra_error_set(reterr, -BARRA_EINVAL, "invalid arguments");
    }
    if (j->values.data) {
        explicit_bzero(j->values.data, j->values.len);
    }
    buf_clear(&j->values);
    buf_clear(&j->paths);
    j->nslots = 0;
    j->have_id = false;
    struct parser ps = {.j = j, .start = line, .p = line, .end = line + len, .reterr = reterr};
    skip_ws(&ps);
    if (ps.p >= ps.end || *ps.p != '{') {
        return fail(&ps, ps.p >= ps.end ? "empty record" : "a record must be a JSON object");
    }
    int r = parse_value(&ps);
    if (r < 0) {
        j->nslots = 0;
        return r;
    }
    skip_ws(&ps);
    if (ps.p != ps.end) {
        j->nslots = 0;
        return fail(&ps, "text after the end of the record");
    }
    if (j->nslots > j->capout) {
        void *q = barra_reallocarray(j->out, j->nslots, sizeof(*j->out));
        if (q == NULL) {
            return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
        }
        j->out = q;
        j->capout = j->nslots;
    }
    for (size_t i = 0; i < j->nslots; i++) {
        const struct field_slot *s = &j->slots[i];
        j->out[i] = (struct barra_jsonl_field){
            j->paths.data ? j->paths.data + s->path_off : "", s->path_len,
            j->values.data ? j->values.data + s->value_off : "", s->value_len};
    }
    return 0;
}

BARRA_EXPORT size_t barra_utf8_check(const char *p, size_t n)
{
    if (p == NULL || n == 0) {
        return 0;
    }
    return utf8_is_valid(p, n) ? n : utf8_first_invalid(p, n);
}

BARRA_EXPORT size_t barra_jsonl_field_count(const barra_jsonl_t *j)
{
    return j ? j->nslots : 0;
}

BARRA_EXPORT const struct barra_jsonl_field *barra_jsonl_field(const barra_jsonl_t *j, size_t i)
{
    return j && i < j->nslots ? &j->out[i] : NULL;
}

BARRA_EXPORT const char *barra_jsonl_id(const barra_jsonl_t *j, size_t *ret_len)
{
    if (j == NULL || !j->have_id) {
        return NULL;
    }
    if (ret_len) {
        *ret_len = j->id_len;
    }
    return j->values.data + j->id_off;
}
