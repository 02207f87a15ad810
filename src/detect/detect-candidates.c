/* SPDX-License-Identifier: Apache-2.0 */
/* Finding candidates in a window: keyword hits (one Vectorscan pass), then shapes tried only where a
 * trigger is — a digit run, an '@', or a keyword that announces a date of birth. Most bytes are neither,
 * so the trigger search runs at memory speed and the automaton runs on a few characters per trigger. */
#include "config.h"

#include "detect/detect-scan-int.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DET_HAVE_AVX2_PATH 1
#endif

#include "core/alloc.h"
#include "core/utf8.h"
#include "detect/detect-fold.h"
#include "detect/detect-shape.h"
#include "detect/detect-validate.h"
#include "core/banned.h"

/* Separators seen inside a candidate (for the rules that keep grouped numbers whole). */
enum sep_bits {
    SEP_SPACE = 1u << 0,
    SEP_DASH = 1u << 1,
    SEP_DOT = 1u << 2,
    SEP_SLASH = 1u << 3,
};

static unsigned sep_bit(uint32_t cp)
{
    switch (cp) {
    case ' ':
        return SEP_SPACE;
    case '-':
        return SEP_DASH;
    case '.':
        return SEP_DOT;
    case '/':
        return SEP_SLASH;
    default:
        return 0;
    }
}

static int grow_array(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return 0;
    }
    size_t c = *cap ? *cap * 2 : 64;
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

int det_cand_push(struct barra_scanner *s, const struct det_cand *c)
{
    int r = grow_array((void **)&s->cands, &s->capcands, s->ncands + 1, sizeof(*s->cands));
    if (r < 0) {
        return r;
    }
    s->cands[s->ncands++] = *c;
    return 0;
}

/* ---- keyword hits ---- */

struct hit_ctx {
    struct barra_scanner *s;
    const uint8_t *buf;
    size_t len;
    bool label;
    int err;
};

static bool ascii_alpha(uint8_t b)
{
    return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
}

static int on_hs_match(unsigned int id, unsigned long long from, unsigned long long to,
                       unsigned int flags, void *ctx)
{
    (void)from;
    (void)flags;
    struct hit_ctx *hc = ctx;
    struct barra_scanner *s = hc->s;
    const struct det_keyword *kw = &s->cat->keywords[id];
    size_t end = (size_t)to;
    size_t start = end - kw->len;
    if (kw->flags & DET_KW_WORD) {
        /* An ASCII word must not be part of a longer word ("pin" in "shipping"). */
        if ((start > 0 && ascii_alpha(hc->buf[start - 1]) && ascii_alpha(hc->buf[start])) ||
            (end < hc->len && ascii_alpha(hc->buf[end]) && ascii_alpha(hc->buf[end - 1]))) {
            return 0;
        }
    }
    struct det_hit **arr = hc->label ? &s->label_hits : &s->hits;
    size_t *n = hc->label ? &s->nlabel : &s->nhits;
    size_t *cap = hc->label ? &s->caplabel : &s->caphits;
    int r = grow_array((void **)arr, cap, *n + 1, sizeof(**arr));
    if (r < 0) {
        hc->err = r;
        return 1;
    }
    (*arr)[(*n)++] = (struct det_hit){(uint32_t)start, (uint32_t)end, id, hc->label, false};
    return 0;
}

static int hs_pass(struct barra_scanner *s, const uint8_t *buf, size_t len, bool label)
{
    if (len == 0) {
        return 0;
    }
    struct hit_ctx hc = {s, buf, len, label, 0};
    hs_error_t e = hs_scan(s->cat->hs, (const char *)buf, (unsigned int)len, 0, s->hs, on_hs_match,
                           &hc);
    if (hc.err) {
        return hc.err;
    }
    return e == HS_SUCCESS ? 0 : -BARRA_EENGINE;
}

/* Marks hits that lie inside a longer hit. Hits arrive in order of their end, so a hit that contains
 * hit i ends at or after it and starts no later; literals are short, so the search is short too. */
static void mark_shadowed(struct det_hit *hits, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n && hits[j].end < hits[i].end + 256; j++) {
            if (hits[j].start <= hits[i].start && hits[j].end >= hits[i].end &&
                hits[j].end - hits[j].start > hits[i].end - hits[i].start) {
                hits[i].shadowed = true;
                break;
            }
        }
        for (size_t j = i; j-- > 0 && hits[j].end == hits[i].end;) {
            if (hits[j].start < hits[i].start) {
                hits[i].shadowed = true;
                break;
            }
        }
    }
}

int det_find_hits(struct barra_scanner *s, const struct det_window *w)
{
    s->nhits = 0;
    int r = hs_pass(s, w->buf, w->len, false);
    if (r == 0) {
        mark_shadowed(s->hits, s->nhits);
    }
    return r;
}

int det_find_label_hits(struct barra_scanner *s, const char *label, size_t len)
{
    s->nlabel = 0;
    int r = label ? hs_pass(s, (const uint8_t *)label, len, true) : 0;
    if (r == 0) {
        mark_shadowed(s->label_hits, s->nlabel);
    }
    return r;
}

/* ---- triggers ---- */

static bool is_fullwidth_digit(const uint8_t *p, const uint8_t *end)
{
    return end - p >= 3 && p[0] == 0xEF && p[1] == 0xBC && (uint8_t)(p[2] - 0x90) < 10;
}

static bool is_fullwidth_at(const uint8_t *p, const uint8_t *end)
{
    return end - p >= 3 && p[0] == 0xEF && p[1] == 0xBC && p[2] == 0xA0;
}

static bool is_trigger(const uint8_t *p, const uint8_t *end)
{
    return (uint8_t)(*p - '0') < 10 || *p == '@' || is_fullwidth_digit(p, end) ||
           is_fullwidth_at(p, end);
}

#ifdef DET_HAVE_AVX2_PATH
/* Bit i set where p[i] is an ASCII digit, '@', or starts a full-width digit or '@'. Reads p[0..34). */
__attribute__((target("avx2"))) static uint32_t trigger_mask_avx2(const uint8_t *p)
{
    __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 1));
    __m256i v2 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 2));
    __m256i d = _mm256_sub_epi8(v0, _mm256_set1_epi8('0'));
    __m256i digit = _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(9)), d);
    __m256i at = _mm256_cmpeq_epi8(v0, _mm256_set1_epi8('@'));
    __m256i fw = _mm256_and_si256(_mm256_cmpeq_epi8(v0, _mm256_set1_epi8((char)0xEF)),
                                  _mm256_cmpeq_epi8(v1, _mm256_set1_epi8((char)0xBC)));
    __m256i d2 = _mm256_sub_epi8(v2, _mm256_set1_epi8((char)0x90));
    __m256i fw_tail = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(d2, _mm256_set1_epi8(9)), d2),
                                      _mm256_cmpeq_epi8(v2, _mm256_set1_epi8((char)0xA0)));
    __m256i any = _mm256_or_si256(_mm256_or_si256(digit, at), _mm256_and_si256(fw, fw_tail));
    return (uint32_t)_mm256_movemask_epi8(any);
}
#endif

static bool have_avx2(void)
{
#ifdef DET_HAVE_AVX2_PATH
    static int cached = -1;
    if (cached < 0) {
        cached = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return cached == 1;
#else
    return false;
#endif
}

/* First trigger at or after `pos` and before `to`; `to` if none. */
static size_t next_trigger(const uint8_t *buf, size_t len, size_t pos, size_t to, bool avx2)
{
#ifdef DET_HAVE_AVX2_PATH
    if (avx2) {
        while (pos < to && pos + 34 <= len) {
            uint32_t m = trigger_mask_avx2(buf + pos);
            if (m) {
                size_t t = pos + (size_t)__builtin_ctz(m);
                return t < to ? t : to;
            }
            pos += 32;
        }
    }
#else
    (void)avx2;
#endif
    const uint8_t *end = buf + len;
    for (; pos < to; pos++) {
        if (is_trigger(buf + pos, end)) {
            return pos;
        }
    }
    return to;
}

/* ---- boundaries ---- */

/* The folded character that ends at `pos`, with its start; false at the buffer start. */
static bool char_before(const struct det_window *w, size_t pos, uint32_t *ret_cp, size_t *ret_start)
{
    if (pos == 0) {
        return false;
    }
    const uint8_t *q = utf8_prev(w->buf, w->buf + pos);
    size_t n;
    *ret_cp = det_folded_at(q, w->buf + w->len, &n);
    *ret_start = (size_t)(q - w->buf);
    return true;
}

static uint32_t char_at(const struct det_window *w, size_t pos, size_t *ret_len)
{
    return det_folded_at(w->buf + pos, w->buf + w->len, ret_len);
}

/* A candidate may start at `pos` only if no letter or digit touches it on the left. */
static bool start_ok(const struct det_window *w, size_t pos)
{
    uint32_t cp;
    size_t at;
    if (!char_before(w, pos, &cp, &at)) {
        return w->at_start;
    }
    return !det_is_alnum(cp);
}

/* A candidate [start, end) with internal separators `seps` may end at `end` if no letter or digit
 * touches it, and it is not one group of a longer grouped number ("6225 8800" of "6225 8800 1234 5675")
 * nor the integer part of a decimal. The same holds, mirrored, at its start. */
static bool bounds_ok(const struct det_window *w, size_t start, size_t end, unsigned seps)
{
    if (end >= w->len) {
        return w->at_end;
    }
    size_t n1, n2;
    uint32_t next = char_at(w, end, &n1);
    if (det_is_alnum(next)) {
        return false;
    }
    unsigned nb = sep_bit(next);
    if (nb && end + n1 < w->len) {
        uint32_t after = char_at(w, end + n1, &n2);
        if (det_is_digit(after) && ((nb & seps) || (seps == 0 && nb == SEP_DOT))) {
            return false;
        }
    }
    uint32_t prev, prev2;
    size_t at, at2;
    if (char_before(w, start, &prev, &at) && (nb = sep_bit(prev)) != 0 &&
        char_before(w, at, &prev2, &at2) && (det_is_digit(prev2) || prev2 == '*') &&
        ((nb & seps) || (seps == 0 && nb == SEP_DOT && det_is_digit(prev2)))) {
        return false;
    }
    return true;
}

/* ---- normalising a candidate ---- */

/* Writes the canonical form of buf[start, end) to s->tmp: upper-case ASCII letters, digits, '*' and
 * any non-ASCII character, without separators; or, when `keep_all`, every folded character (dates need
 * their separators and 年月日). Returns the separators seen. */
static int normalise(struct barra_scanner *s, const struct det_window *w, size_t start, size_t end,
                     bool keep_all, unsigned *ret_seps)
{
    buf_clear(&s->tmp);
    unsigned seps = 0;
    for (size_t p = start; p < end;) {
        size_t n;
        uint32_t cp = char_at(w, p, &n);
        p += n;
        seps |= sep_bit(cp);
        if (!keep_all && (sep_bit(cp) || cp == '(' || cp == ')' || cp == '+')) {
            continue;
        }
        if (cp >= 'a' && cp <= 'z' && !keep_all) {
            cp -= 32;
        }
        char out[4];
        size_t k = utf8_encode(cp, out);
        int r = buf_append(&s->tmp, out, k);
        if (r < 0) {
            return r;
        }
    }
    *ret_seps = seps;
    return 0;
}

/* Whether the normalised value is accepted, whole, by verify pattern `id` (number-range checks). */
static bool verify_ok(const struct det_catalog *c, uint16_t id, const char *s, size_t n)
{
    const struct det_dfa *d = &c->verify_dfa;
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    uint32_t st = 1;
    while (p < end) {
        uint32_t cp;
        p += utf8_decode(p, end, &cp);
        st = det_dfa_next(d, st, cp);
        if (st == 0) {
            return false;
        }
    }
    for (uint32_t i = d->accept_index[st]; i < d->accept_index[st + 1]; i++) {
        if (d->accept_list[i] == id) {
            return true;
        }
    }
    return false;
}

/* Validates every pattern the automaton accepted for [start, end) and keeps those that pass. */
static int accept_span(struct barra_scanner *s, const struct det_window *w, const struct det_dfa *dfa,
                       uint32_t state, size_t start, size_t end, size_t *max_end)
{
    const struct det_catalog *c = s->cat;
    unsigned seps = 0;
    bool have_compact = false, have_full = false, bounds_checked = false;
    size_t compact_off = 0, compact_len = 0, full_off = 0, full_len = 0;
    for (uint32_t i = dfa->accept_index[state]; i < dfa->accept_index[state + 1]; i++) {
        const struct det_pattern *pat = &c->patterns[dfa->accept_list[i]];
        bool full = pat->validator == DET_V_DATE;
        if (!(full ? have_full : have_compact)) {
            int r = normalise(s, w, start, end, full, &seps);
            if (r < 0) {
                return r;
            }
            size_t off = s->norm.len;
            r = buf_append(&s->norm, s->tmp.data, s->tmp.len);
            if (r < 0) {
                return r;
            }
            if (full) {
                have_full = true;
                full_off = off;
                full_len = s->tmp.len;
            } else {
                have_compact = true;
                compact_off = off;
                compact_len = s->tmp.len;
            }
        }
        if (!bounds_checked) {
            if (!bounds_ok(w, start, end, pat->validator == DET_V_DATE ? 0 : seps)) {
                return 0;
            }
            bounds_checked = true;
        }
        size_t off = full ? full_off : compact_off;
        size_t len = full ? full_len : compact_len;
        struct det_verdict v;
        if (!det_validate((enum det_validator)pat->validator, c, s->norm.data + off, len, s->today,
                          &v) ||
            (pat->verify != DET_NO_VERIFY && !verify_ok(c, pat->verify, s->norm.data + off, len))) {
            continue;
        }
        const struct det_type *t = &c->types[pat->type];
        struct det_cand cand = {
            .start = (uint32_t)start,
            .end = (uint32_t)end,
            .base = pat->base * v.factor,
            .type = pat->type,
            .pattern = dfa->accept_list[i],
            .flags = ((pat->flags & DET_PAT_MASKED) ? BARRA_FINDING_MASKED : 0) |
                     (v.minor ? BARRA_FINDING_MINOR : 0),
            .subtype = v.subtype ? v.subtype : pat->subtype,
            .jurisdiction = v.jurisdiction  ? v.jurisdiction
                            : pat->jurisdiction ? pat->jurisdiction
                                                : t->jurisdiction,
            .category = v.category ? v.category : t->category,
            .birth = v.birth,
            .norm_off = (uint32_t)off,
            .norm_len = (uint32_t)len,
        };
        int r = det_cand_push(s, &cand);
        if (r < 0) {
            return r;
        }
        if (end > *max_end) {
            *max_end = end;
        }
    }
    return 0;
}

/* Runs `dfa` from `start`; every accepting position past `must_pass` is validated. */
static int run_dfa(struct barra_scanner *s, const struct det_window *w, const struct det_dfa *dfa,
                   size_t start, size_t must_pass, size_t *max_end)
{
    size_t limit = start + DET_MAX_CANDIDATE < w->len ? start + DET_MAX_CANDIDATE : w->len;
    uint32_t st = 1;
    for (size_t p = start; p < limit;) {
        size_t n;
        uint32_t cp = char_at(w, p, &n);
        st = det_dfa_next(dfa, st, cp);
        if (st == 0) {
            break;
        }
        p += n;
        if (p > must_pass && dfa->accept_index[st + 1] != dfa->accept_index[st]) {
            int r = accept_span(s, w, dfa, st, start, p, max_end);
            if (r < 0) {
                return r;
            }
        }
    }
    return 0;
}

/* ---- digit triggers ---- */

static bool is_digit_at(const uint8_t *p, const uint8_t *end)
{
    return (uint8_t)(*p - '0') < 10 || is_fullwidth_digit(p, end);
}

/* Whether a short digit run may belong to something longer: a letter, '+', '(' or mask right before
 * it, or a separator joining it to more digits on either side. Short runs without that ("3点", "500元",
 * "10:30") are most of the digits in chat and are dismissed here. */
static bool short_run_may_join(const struct det_window *w, size_t t, size_t r)
{
    size_t n;
    if (r < w->len) {
        uint32_t next = char_at(w, r, &n);
        if (next == '*' || next == '(' || next == ')' || det_is_alpha(next)) {
            return true;
        }
        if (sep_bit(next) && r + n < w->len) {
            uint32_t after = char_at(w, r + n, &n);
            if (det_is_digit(after) || after == '*' || after == '(') {
                return true;
            }
        }
    }
    uint32_t prev;
    size_t at;
    if (char_before(w, t, &prev, &at)) {
        if (det_is_alpha(prev) || prev == '+' || prev == '(' || prev == '*') {
            return true;
        }
        uint32_t prev2;
        size_t at2;
        if (sep_bit(prev) && char_before(w, at, &prev2, &at2) &&
            (det_is_alnum(prev2) || prev2 == '*' || prev2 == ')')) {
            return true;
        }
    }
    return false;
}

/* Handles the digit run starting at t; returns where the trigger search resumes. */
static int on_digits(struct barra_scanner *s, const struct det_window *w, size_t t, size_t *ret_next)
{
    const uint8_t *b = w->buf, *end = w->buf + w->len;
    size_t r = t;
    unsigned nd = 0;
    while (r < w->len && is_digit_at(b + r, end)) {
        r += b[r] < 0x80 ? 1 : 3;
        nd++;
    }
    *ret_next = r;
    uint32_t prev;
    size_t at;
    if (char_before(w, t, &prev, &at) && det_is_digit(prev)) {
        return 0; /* the middle of a run handled before */
    }
    if (nd > 20 || (nd < 6 && !short_run_may_join(w, t, r))) {
        return 0;
    }
    size_t starts[DET_MAX_LEAD + 1];
    int ns = 0;
    starts[ns++] = t;
    for (size_t q = t; ns <= DET_MAX_LEAD && q > 0;) {
        q = (size_t)(utf8_prev(b, b + q) - b);
        if (b[q] == '\n' || b[q] == '\r' || b[q] == '\t') {
            break;
        }
        starts[ns++] = q;
    }
    size_t max_end = r;
    for (int i = ns - 1; i >= 0; i--) {
        if (!start_ok(w, starts[i])) {
            continue;
        }
        int e = run_dfa(s, w, &s->cat->digit_dfa, starts[i], t, &max_end);
        if (e < 0) {
            return e;
        }
    }
    *ret_next = max_end;
    return 0;
}

/* ---- e-mail ---- */

static bool email_local_char(uint8_t b)
{
    return ascii_alpha(b) || (uint8_t)(b - '0') < 10 || b == '.' || b == '_' || b == '%' ||
           b == '+' || b == '-';
}

static bool email_domain_char(uint8_t b)
{
    return ascii_alpha(b) || (uint8_t)(b - '0') < 10 || b == '.' || b == '-';
}

/* Checks the domain: at least two labels of 1-63 characters not starting or ending with '-', and an
 * alphabetic top-level label of two or more letters. */
static bool email_domain_ok(const uint8_t *d, size_t n)
{
    size_t label = 0, labels = 0, last_start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || d[i] == '.') {
            if (label == 0 || label > 63 || d[i - label] == '-' || d[i - 1] == '-') {
                return false;
            }
            labels++;
            last_start = i - label;
            label = 0;
        } else {
            label++;
        }
    }
    if (labels < 2 || n > 255 || n - last_start < 2) {
        return false;
    }
    for (size_t i = last_start; i < n; i++) {
        if (!ascii_alpha(d[i])) {
            return false;
        }
    }
    return true;
}

/* The jurisdiction a mail domain suggests (qq.com, .hk ...), from the catalogue's hints. */
static const char *email_jurisdiction(const struct det_catalog *c, const uint8_t *d, size_t n)
{
    for (uint32_t i = 0; i < c->nhints; i++) {
        const char *suffix = c->hints[i].suffix;
        size_t k = strlen(suffix);
        if (n >= k && strncasecmp((const char *)d + n - k, suffix, k) == 0 &&
            (suffix[0] == '.' || n == k || d[n - k - 1] == '.')) {
            return c->hints[i].jurisdiction;
        }
    }
    return NULL;
}

static int on_at(struct barra_scanner *s, const struct det_window *w, size_t t, size_t *ret_next)
{
    const uint8_t *b = w->buf;
    size_t at_len = b[t] == '@' ? 1 : 3;
    *ret_next = t + at_len;
    if (s->cat->email_pattern < 0) {
        return 0;
    }
    size_t q = t;
    while (q > 0 && email_local_char(b[q - 1]) && t - q <= 64) {
        q--;
    }
    while (q < t && b[q] == '.') {
        q++;
    }
    size_t e = t + at_len;
    while (e < w->len && email_domain_char(b[e]) && e - t < 256) {
        e++;
    }
    while (e > t + at_len && (b[e - 1] == '.' || b[e - 1] == '-')) {
        e--;
    }
    if (q == t || t - q > 64 || b[t - 1] == '.' || (q == 0 && !w->at_start) ||
        (e == w->len && !w->at_end)) {
        return 0;
    }
    for (size_t i = q + 1; i < t; i++) {
        if (b[i] == '.' && b[i - 1] == '.') {
            return 0;
        }
    }
    if (!email_domain_ok(b + t + at_len, e - t - at_len)) {
        return 0;
    }
    const struct det_pattern *pat = &s->cat->patterns[s->cat->email_pattern];
    const struct det_type *type = &s->cat->types[pat->type];
    const char *jur = email_jurisdiction(s->cat, b + t + at_len, e - t - at_len);
    size_t off = s->norm.len;
    int r = buf_append(&s->norm, b + q, t - q);
    r = r ? r : buf_append_char(&s->norm, '@');
    r = r ? r : buf_append(&s->norm, b + t + at_len, e - t - at_len);
    if (r < 0) {
        return r;
    }
    struct det_cand cand = {
        .start = (uint32_t)q,
        .end = (uint32_t)e,
        .base = pat->base,
        .type = pat->type,
        .pattern = (uint16_t)s->cat->email_pattern,
        .jurisdiction = jur ? jur : type->jurisdiction,
        .category = type->category,
        .norm_off = (uint32_t)off,
        .norm_len = (uint32_t)(s->norm.len - off),
    };
    *ret_next = e;
    return det_cand_push(s, &cand);
}

/* ---- keyword-triggered patterns (dates of birth) ---- */

static bool keyword_triggers(const struct det_catalog *c, uint32_t kw)
{
    const struct det_keyword *k = &c->keywords[kw];
    for (uint32_t i = 0; i < k->nrefs; i++) {
        if (c->refs_list[k->first_ref + i].role == DET_ROLE_TRIGGER) {
            return true;
        }
    }
    return false;
}

/* Dates are looked for in the few characters after a trigger keyword ("出生日期：1990年3月7日",
 * "DOB 07/03/1990") and just before it ("1990年3月7日出生"). */
static int on_trigger_keyword(struct barra_scanner *s, const struct det_window *w,
                              const struct det_hit *h)
{
    const struct det_dfa *dfa = &s->cat->keyword_dfa;
    size_t max_end = 0;
    size_t p = h->end;
    for (int i = 0; i < 12 && p < w->len; i++) {
        uint32_t prev;
        size_t at, n;
        if (!(char_before(w, p, &prev, &at) && det_is_digit(prev))) {
            int r = run_dfa(s, w, dfa, p, p, &max_end);
            if (r < 0) {
                return r;
            }
        }
        uint32_t cp = char_at(w, p, &n);
        if (cp == '\n') {
            break;
        }
        p += n;
    }
    /* Before the keyword: try starts up to 40 bytes back whose match ends right at the keyword. */
    size_t from = h->start > 40 ? h->start - 40 : 0;
    size_t before = s->ncands;
    for (p = from; p < h->start;) {
        size_t n;
        uint32_t cp = char_at(w, p, &n);
        uint32_t prev;
        size_t at;
        if ((det_is_digit(cp) || cp >= 0x3007) &&
            !(char_before(w, p, &prev, &at) && det_is_digit(prev))) {
            int r = run_dfa(s, w, dfa, p, p, &max_end);
            if (r < 0) {
                return r;
            }
        }
        p += n;
    }
    /* Keep only the "before" matches that end within a few bytes of the keyword. */
    size_t keep = before;
    for (size_t i = before; i < s->ncands; i++) {
        if (s->cands[i].end <= h->start && h->start - s->cands[i].end <= 6) {
            s->cands[keep++] = s->cands[i];
        }
    }
    s->ncands = keep;
    return 0;
}

int det_find_candidates(struct barra_scanner *s, const struct det_window *w)
{
    s->ncands = 0;
    buf_clear(&s->norm);
    const struct det_catalog *c = s->cat;
    /* Candidates matter as far as the owned part's context reaches. */
    size_t margin = DET_MAX_CANDIDATE + c->scoring.before + c->scoring.after + c->scoring.cooccur;
    size_t from = w->own_from > margin ? w->own_from - margin : 0;
    size_t to = w->own_to + margin < w->len ? w->own_to + margin : w->len;
    bool avx2 = have_avx2();
    const uint8_t *end = w->buf + w->len;
    for (size_t pos = from; pos < to;) {
        size_t t = next_trigger(w->buf, w->len, pos, to, avx2);
        if (t >= to) {
            break;
        }
        size_t next;
        int r = (w->buf[t] == '@' || is_fullwidth_at(w->buf + t, end))
                    ? on_at(s, w, t, &next)
                    : on_digits(s, w, t, &next);
        if (r < 0) {
            return r;
        }
        pos = next > t ? next : t + 1;
    }
    for (size_t i = 0; i < s->nhits; i++) {
        const struct det_hit *h = &s->hits[i];
        if (h->end + DET_MAX_CANDIDATE >= from && h->start <= to && keyword_triggers(c, h->kw)) {
            int r = on_trigger_keyword(s, w, h);
            if (r < 0) {
                return r;
            }
        }
    }
    return 0;
}
