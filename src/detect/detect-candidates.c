/* SPDX-License-Identifier: Apache-2.0 */
/* Finding candidates in a window: keyword hits (one Vectorscan pass), then shapes tried only where
 * a trigger is — a digit run, an '@', or a keyword that announces a date of birth. Most bytes are
 * neither, so the trigger search runs at memory speed and the automaton runs on a few characters
 * per trigger. */
#include "config.h"

#include <string.h>

#include "detect/detect-scan-int.h"

#ifdef DET_HAVE_AVX2_PATH
#include <immintrin.h>
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

static int cmp_cand_start(const struct det_cand *x, const struct det_cand *y)
{
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (x->end != y->end) {
        return x->end < y->end ? -1 : 1;
    }
    return (int)x->type - (int)y->type;
}

/* The end of the run of candidates in order that begins at i. */
static size_t run_end(const struct det_cand *c, size_t i, size_t n)
{
    for (i++; i < n && cmp_cand_start(&c[i - 1], &c[i]) <= 0; i++) {
    }
    return i;
}

static void merge_runs(const struct det_cand *a, size_t na, const struct det_cand *b, size_t nb,
                       struct det_cand *out)
{
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        out[k++] = cmp_cand_start(&b[j], &a[i]) < 0 ? b[j++] : a[i++];
    }
    while (i < na) {
        out[k++] = a[i++];
    }
    while (j < nb) {
        out[k++] = b[j++];
    }
}

int det_sort_candidates(struct barra_scanner *s)
{
    size_t n = s->ncands;
    if (run_end(s->cands, 0, n) >= n) {
        return 0;
    }
    int r = grow_array((void **)&s->cands_spare, &s->capcands_spare, n, sizeof(*s->cands));
    if (r < 0) {
        return r;
    }
    for (size_t runs = 0; runs != 1;) {
        runs = 0;
        for (size_t i = 0, mid, end; i < n; i = end, runs++) {
            mid = run_end(s->cands, i, n);
            end = mid < n ? run_end(s->cands, mid, n) : n;
            merge_runs(s->cands + i, mid - i, s->cands + mid, end - mid, s->cands_spare + i);
        }
        struct det_cand *t = s->cands;
        size_t cap = s->capcands;
        s->cands = s->cands_spare;
        s->capcands = s->capcands_spare;
        s->cands_spare = t;
        s->capcands_spare = cap;
    }
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
    const uint8_t *buf; /* the whole window (or label): word boundaries may look outside the part */
    size_t len;
    size_t base;      /* offset of the part scanned */
    size_t keep_from; /* hits ending before this were reported by an earlier pass */
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
    if (id >= s->cat->nkeywords) {
        return 0; /* the steering literal */
    }
    const struct det_keyword *kw = &s->cat->keywords[id];
    size_t end = hc->base + (size_t)to;
    size_t start = end - kw->len;
    if (end < hc->keep_from) {
        return 0;
    }
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

/* Runs keyword database `which` over buf[from, to) of the window (or over a label). */
static int hs_pass(struct barra_scanner *s, int which, const uint8_t *buf, size_t from, size_t to,
                   size_t keep_from, bool label)
{
    if (to <= from) {
        return 0;
    }
    struct hit_ctx hc = {s, buf, to, from, keep_from, label, 0};
    hs_error_t e = hs_scan(s->cat->hs[which], (const char *)buf + from, (unsigned int)(to - from),
                           0, s->hs, on_hs_match, &hc);
    if (hc.err) {
        return hc.err;
    }
    return e == HS_SUCCESS ? 0 : -BARRA_EENGINE;
}

static int cmp_hit_end(const void *a, const void *b)
{
    const struct det_hit *x = a, *y = b;
    if (x->end != y->end) {
        return x->end < y->end ? -1 : 1;
    }
    return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_region(const void *a, const void *b)
{
    const struct det_region *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Marks hits that lie inside a longer hit. Hits arrive in order of their end, so a hit that
 * contains hit i ends at or after it and starts no later; literals are short, so the search is
 * short too. */
static void mark_shadowed(struct det_hit *hits, size_t n, size_t longest)
{
    for (size_t i = 0; i < n; i++) {
        /* A hit covering this one ends within the longest keyword of its start. */
        size_t reach = hits[i].start + longest;
        for (size_t j = i + 1; j < n && hits[j].end <= reach && hits[j].end < hits[i].end + 256;
             j++) {
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
    return hs_pass(s, DET_DB_GLOBAL, w->buf, 0, w->len, 0, false);
}

int det_find_label_hits(struct barra_scanner *s, const char *label, size_t len)
{
    s->nlabel = 0;
    if (label == NULL || len == 0) {
        return 0;
    }
    const uint8_t *b = (const uint8_t *)label;
    int r = hs_pass(s, DET_DB_GLOBAL, b, 0, len, 0, true);
    r = r ? r : hs_pass(s, DET_DB_LOCAL, b, 0, len, 0, true);
    if (r == 0) {
        if (s->nlabel > 1) {
            qsort(s->label_hits, s->nlabel, sizeof(*s->label_hits), cmp_hit_end);
        }
        mark_shadowed(s->label_hits, s->nlabel, s->cat->max_keyword);
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
/* Bit i set where p[i] starts a run of ASCII digits (`prev_digit`: p[-1] is a digit), is '@', or
 * starts a full-width digit or '@'. Reads p[0..34). */
__attribute__((target("avx2"))) static inline uint32_t trigger_mask_avx2(const uint8_t *p,
                                                                         bool prev_digit)
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
    __m256i fw_tail =
        _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(d2, _mm256_set1_epi8(9)), d2),
                        _mm256_cmpeq_epi8(v2, _mm256_set1_epi8((char)0xA0)));
    uint32_t dm = (uint32_t)_mm256_movemask_epi8(digit);
    uint32_t starts = dm & ~((dm << 1) | (prev_digit ? 1u : 0u));
    __m256i other = _mm256_or_si256(at, _mm256_and_si256(fw, fw_tail));
    return starts | (uint32_t)_mm256_movemask_epi8(other);
}
#endif

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

/* Whether the token (letters and digits) that ends at `pos` is a short run of digits (at most 8,
 * the longest group people type): only then can it be an earlier group of the same grouped number.
 */
static bool digit_token_before(const struct det_window *w, size_t pos)
{
    for (size_t n = 0; pos > 0; n++) {
        uint32_t cp;
        size_t at;
        if (!char_before(w, pos, &cp, &at) || !det_is_alnum(cp)) {
            return true;
        }
        if (!det_is_digit(cp) || n == 8) {
            return false;
        }
        pos = at;
    }
    return true;
}

static bool digit_token_at(const struct det_window *w, size_t pos)
{
    for (size_t n = 0; pos < w->len; n++) {
        size_t len;
        uint32_t cp = char_at(w, pos, &len);
        if (!det_is_alnum(cp)) {
            return true;
        }
        if (!det_is_digit(cp) || n == 8) {
            return false;
        }
        pos += len;
    }
    return true;
}

/* A candidate [start, end) with internal separators `seps` may end at `end` if no letter or digit
 * touches it, and it is not one group of a longer grouped number ("6225 8800" of "6225 8800 1234
 * 5675") nor the integer part of a decimal. The same holds, mirrored, at its start. A neighbouring
 * token with letters ("K0254835 5453 0338 ...") is a different thing, not another group. */
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
        if (det_is_digit(after) && ((nb & seps) || (seps == 0 && nb == SEP_DOT)) &&
            digit_token_at(w, end + n1)) {
            return false;
        }
    }
    uint32_t prev, prev2;
    size_t at, at2;
    if (!char_before(w, start, &prev, &at)) {
        return true;
    }
    nb = sep_bit(prev);
    if (nb && char_before(w, at, &prev2, &at2) && (det_is_digit(prev2) || prev2 == '*') &&
        ((nb & seps) || (seps == 0 && nb == SEP_DOT && det_is_digit(prev2))) &&
        (prev2 == '*' || digit_token_before(w, at))) {
        return false;
    }
    return true;
}

/* ---- normalising a candidate ---- */

/* Appends the canonical form of buf[start, end) to s->norm: upper-case ASCII letters, digits, '*'
 * and any non-ASCII character, without separators; or, when `keep_all`, every folded character
 * (dates need their separators and 年月日). Sets the separators seen and where the value is. */
static int normalise(struct barra_scanner *s, const struct det_window *w, size_t start, size_t end,
                     bool keep_all, unsigned *ret_seps, size_t *ret_off, size_t *ret_len)
{
    char out[DET_MAX_CANDIDATE * 4];
    size_t n = 0;
    unsigned seps = 0;
    for (size_t p = start; p < end;) {
        size_t len;
        uint32_t cp = char_at(w, p, &len);
        p += len;
        unsigned sb = sep_bit(cp);
        seps |= sb;
        if (!keep_all && (sb || cp == '(' || cp == ')' || cp == '+')) {
            continue;
        }
        if (cp < 0x80) {
            out[n++] = (char)(cp >= 'a' && cp <= 'z' && !keep_all ? cp - 32 : cp);
        } else {
            n += utf8_encode(cp, out + n);
        }
    }
    *ret_seps = seps;
    *ret_off = s->norm.len;
    *ret_len = n;
    return buf_append(&s->norm, out, n);
}

/* Separators inside [start, end), for the boundary rules (before anything is normalised). */
static unsigned separators_in(const struct det_window *w, size_t start, size_t end)
{
    unsigned seps = 0;
    for (size_t p = start; p < end; p++) {
        uint8_t b = w->buf[p];
        if (b == ' ' || b == '-' || b == '.' || b == '/') {
            seps |= sep_bit(b);
        } else if (b >= 0x80) {
            size_t len;
            seps |= sep_bit(char_at(w, p, &len));
            p += len - 1;
        }
    }
    return seps;
}

/* Whether a positive keyword of `type` is near a candidate ending at `end` (or in the label),
 * looking from the first hit that ends within reach before it: a pattern whose score without
 * context is below the threshold is not worth a candidate otherwise. */
static bool context_near(const struct barra_scanner *s, uint16_t type, size_t first_hit, size_t end)
{
    const struct det_catalog *c = s->cat;
    const struct det_scoring *sc = &c->scoring;
    for (int pass = 0; pass < 2; pass++) {
        const struct det_hit *hits = pass ? s->label_hits : s->hits;
        size_t n = pass ? s->nlabel : s->nhits;
        for (size_t i = pass ? 0 : first_hit; i < n; i++) {
            if (!pass && hits[i].start > end + sc->after) {
                break;
            }
            const struct det_keyword *k = &c->keywords[hits[i].kw];
            if (!(k->context_types & det_type_bit(type))) {
                continue;
            }
            for (uint32_t r = 0; r < k->nrefs; r++) {
                const struct det_keyword_ref *ref = &c->refs_list[k->first_ref + r];
                if (ref->type == type && ref->role == DET_ROLE_CONTEXT) {
                    return true;
                }
            }
        }
    }
    return false;
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
static int accept_span(struct barra_scanner *s, const struct det_window *w,
                       const struct det_dfa *dfa, uint32_t state, size_t start, size_t end,
                       size_t *max_end)
{
    const struct det_catalog *c = s->cat;
    size_t next_len;
    if (end < w->len && det_is_alnum(char_at(w, end, &next_len))) {
        return 0; /* the common case inside a longer run: no need to look further */
    }
    unsigned seps = separators_in(w, start, end);
    bool dates_only = true;
    for (uint32_t i = dfa->accept_index[state]; i < dfa->accept_index[state + 1]; i++) {
        dates_only &= c->patterns[dfa->accept_list[i]].validator == DET_V_DATE;
    }
    if (!bounds_ok(w, start, end, dates_only ? 0 : seps)) {
        return 0;
    }
    bool have[2] = {false, false};
    size_t offs[2] = {0, 0}, lens[2] = {0, 0};
    for (uint32_t i = dfa->accept_index[state]; i < dfa->accept_index[state + 1]; i++) {
        const struct det_pattern *pat = &c->patterns[dfa->accept_list[i]];
        int full = pat->validator == DET_V_DATE;
        if (!have[full]) {
            unsigned ignored;
            int r = normalise(s, w, start, end, full, &ignored, &offs[full], &lens[full]);
            if (r < 0) {
                return r;
            }
            have[full] = true;
        }
        const char *value = s->norm.data + offs[full];
        struct det_verdict v;
        if (!det_validate((enum det_validator)pat->validator, c, value, lens[full], s->today, &v) ||
            (pat->verify != DET_NO_VERIFY && !verify_ok(c, pat->verify, value, lens[full]))) {
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
            .jurisdiction = v.jurisdiction      ? v.jurisdiction
                            : pat->jurisdiction ? pat->jurisdiction
                                                : t->jurisdiction,
            .category = v.category ? v.category : t->category,
            .birth = v.birth,
            .norm_off = (uint32_t)offs[full],
            .norm_len = (uint32_t)lens[full],
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

/* Whether a short digit run may belong to something longer: a mask or bracket next to it, two
 * letters or a letter after a non-ASCII character right before it ("AB1234", "粤B12345", "粤
 * B12345"), a '+' or
 * '(' before it, or a separator joining it to more digits ("9123 4567", "+853 6612") or to letters
 * by a dash ("MA-12-34"). Short runs without that ("3点", "500元", "10:30", "room 12", "Q3") are
 * most of the digits in chat and are dismissed here. */
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
    uint32_t prev, prev2;
    size_t at, at2;
    if (!char_before(w, t, &prev, &at)) {
        return false;
    }
    if (prev == '+' || prev == '(' || prev == '*') {
        return true;
    }
    if (!char_before(w, at, &prev2, &at2)) {
        return false;
    }
    if (det_is_alpha(prev)) {
        uint32_t prev3;
        size_t at3;
        return det_is_alpha(prev2) || prev2 >= 0x80 ||
               (prev2 == ' ' && char_before(w, at2, &prev3, &at3) && prev3 >= 0x80); /* 粤 B12345 */
    }
    /* Joined to digits, or to letters by a dash or dot ("MA-12", "京A·12345"), or after a space to
     * capitals ("AB 1234"; "room 12" is no plate). */
    return sep_bit(prev) && (det_is_digit(prev2) || prev2 == '*' || prev2 == ')' ||
                             ((prev == '-' || prev == '.') && det_is_alpha(prev2)) ||
                             (prev == ' ' && prev2 >= 'A' && prev2 <= 'Z'));
}

/* Whether the digit run at t (ending at *ret_end) may start or belong to a candidate. Most runs in
 * chat are short and stand alone; they are dismissed here, before any automaton runs, mostly by
 * looking at the raw bytes around them. */
static bool digit_run_wanted(const struct det_window *w, size_t t, size_t *ret_end)
{
    const uint8_t *b = w->buf, *end = w->buf + w->len;
    size_t r = t;
    unsigned nd = 0;
    for (;;) {
        while (r < w->len && (uint8_t)(b[r] - '0') < 10) {
            r++;
            nd++;
        }
        if (r < w->len && b[r] == 0xEF && is_fullwidth_digit(b + r, end)) {
            r += 3;
            nd++;
            continue;
        }
        break;
    }
    *ret_end = r;
    uint8_t before = t ? b[t - 1] : 0;
    if ((uint8_t)(before - '0') < 10 ||
        (t >= 3 && b[t - 3] == 0xEF && b[t - 2] == 0xBC && (uint8_t)(before - 0x90) < 10)) {
        return false; /* the middle of a run (ASCII or full-width) handled before */
    }
    if (nd > 20) {
        return false;
    }
    if (nd >= 6) {
        return true;
    }
    /* A short run next to plain CJK text or ASCII punctuation other than the joiners stands alone.
     */
    uint8_t after = r < w->len ? b[r] : 0;
    bool after_plain =
        after < 0x80
            ? !(after == '*' || after == '(' || after == ')' || after == ' ' || after == '-' ||
                after == '.' || after == '/' || ((after | 0x20) >= 'a' && (after | 0x20) <= 'z'))
            : (after >= 0xE4 && after <= 0xE9);
    bool before_plain = before < 0x80
                            ? !(before == '+' || before == '(' || before == '*' || before == ' ' ||
                                before == '-' || before == '.' || before == '/' ||
                                ((before | 0x20) >= 'a' && (before | 0x20) <= 'z'))
                            : (t >= 3 && b[t - 3] >= 0xE4 && b[t - 3] <= 0xE9);
    if (after_plain && before_plain) {
        return false;
    }
    return short_run_may_join(w, t, r);
}

/* Tries the shapes that can start at or a few characters before the digit run at t: letters, '+',
 * '(' or a province character may lead ("AB987654(3)", "+853 ...", "粤B12345", "March 7, 1990").
 * Only characters that can begin some shape are tried, so the walk back stops at ordinary Chinese.
 */
static int on_digits(struct barra_scanner *s, const struct det_window *w, size_t t, size_t r,
                     size_t *ret_next)
{
    const uint8_t *b = w->buf;
    const struct det_dfa *dfa = &s->cat->digit_dfa;
    size_t starts[DET_MAX_LEAD + 1];
    int ns = 0;
    starts[ns++] = t;
    for (size_t q = t, walked = 0; walked < DET_MAX_LEAD && q > 0; walked++) {
        q = (size_t)(utf8_prev(b, b + q) - b);
        size_t len;
        uint32_t cp = char_at(w, q, &len);
        if (cp == '\n' || cp == '\r' || cp == '\t' || (cp >= 0x80 && !det_dfa_can_start(dfa, cp))) {
            break;
        }
        if (det_dfa_can_start(dfa, cp)) {
            starts[ns++] = q;
        }
    }
    size_t max_end = r;
    for (int i = ns - 1; i >= 0; i--) {
        if (!start_ok(w, starts[i])) {
            continue;
        }
        int e = run_dfa(s, w, dfa, starts[i], t, &max_end);
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
    return c->keywords[kw].roles & (1u << DET_ROLE_TRIGGER);
}

/* Dates are looked for in the few characters after a trigger keyword ("出生日期：1990年3月7日",
 * "DOB 07/03/1990") and just before it ("1990年3月7日出生"). */
static int on_trigger_keyword(struct barra_scanner *s, const struct det_window *w,
                              const struct det_hit *h)
{
    const struct det_dfa *dfa = &s->cat->keyword_dfa;
    size_t max_end = 0;
    size_t p = h->end;
    /* After the keyword: a few characters (": ", "是", "為") but not past the clause. */
    for (int i = 0; i < 6 && p < w->len; i++) {
        uint32_t prev;
        size_t at, n;
        if (!(char_before(w, p, &prev, &at) && det_is_digit(prev))) {
            int r = run_dfa(s, w, dfa, p, p, &max_end);
            if (r < 0) {
                return r;
            }
        }
        uint32_t cp = char_at(w, p, &n);
        if (cp == '\n' || cp == ',' || cp == ';' || cp == 0xFF0C || cp == 0x3002 || cp == 0xFF1B) {
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

static int push_trigger(struct barra_scanner *s, size_t pos, size_t end, bool at)
{
    int r = grow_array((void **)&s->trigs, &s->captrigs, s->ntrigs + 1, sizeof(*s->trigs));
    if (r == 0) {
        s->trigs[s->ntrigs++] = (struct det_trigger){(uint32_t)pos, (uint32_t)end, at};
    }
    return r;
}

/* Visits the trigger bits of one 32-byte block at pos; `skip` is where the last digit run ended. */
static inline int visit_block(struct barra_scanner *s, const struct det_window *w, size_t pos,
                              uint32_t mask, size_t to, size_t *skip)
{
    const uint8_t *end = w->buf + w->len;
    if (*skip > pos) {
        /* Drop the bits of a run already handled (all of them if it covers the block). */
        mask = *skip - pos >= 32 ? 0 : mask & ~((1u << (*skip - pos)) - 1u);
    }
    while (mask) {
        size_t t = pos + (size_t)__builtin_ctz(mask);
        mask &= mask - 1;
        if (t >= to) {
            break;
        }
        size_t next = t + 1;
        bool at = w->buf[t] == '@' || is_fullwidth_at(w->buf + t, end);
        if (at || digit_run_wanted(w, t, &next)) {
            int r = push_trigger(s, t, next, at);
            if (r < 0) {
                return r;
            }
        }
        *skip = next;
        if (next > pos) {
            mask = next - pos >= 32 ? 0 : mask & ~((1u << (next - pos)) - 1u);
        }
    }
    return 0;
}

#ifdef DET_HAVE_AVX2_PATH
/* The block loop compiled for AVX2, so that the mask is computed inline. Returns where it stopped
 * (the tail is left to the portable loop). */
__attribute__((target("avx2"))) static int collect_avx2(struct barra_scanner *s,
                                                        const struct det_window *w, size_t from,
                                                        size_t to, size_t *skip, size_t *ret_pos)
{
    size_t pos = from;
    for (; pos < to && pos + 34 <= w->len; pos += 32) {
        uint32_t mask =
            trigger_mask_avx2(w->buf + pos, pos > 0 && (uint8_t)(w->buf[pos - 1] - '0') < 10);
        if (mask) {
            int r = visit_block(s, w, pos, mask, to, skip);
            if (r < 0) {
                return r;
            }
        }
    }
    *ret_pos = pos;
    return 0;
}
#endif

/* Phase A: the triggers worth a closer look, in order. The trigger bytes of each 32-byte block are
 * found at once (one bit per digit run) and visited bit by bit. */
static int collect_triggers(struct barra_scanner *s, const struct det_window *w, size_t from,
                            size_t to)
{
    const uint8_t *end = w->buf + w->len;
    s->ntrigs = 0;
    size_t skip = from, pos = from;
#ifdef DET_HAVE_AVX2_PATH
    if (det_have_avx2()) {
        int r = collect_avx2(s, w, from, to, &skip, &pos);
        if (r < 0) {
            return r;
        }
    }
#endif
    for (; pos < to; pos++) {
        if (pos >= skip && is_trigger(w->buf + pos, end) &&
            (pos == 0 || (uint8_t)(w->buf[pos - 1] - '0') >= 10 || w->buf[pos] == '@')) {
            int r = visit_block(s, w, pos, 1, to, &skip);
            if (r < 0) {
                return r;
            }
        }
    }
    return 0;
}

/* The global hits (hits[0..nglobal)) and the local ones after them are each in order of their end
 * (regions are scanned in order and do not overlap): merge the two runs into one. */
static int merge_hits(struct barra_scanner *s, size_t nglobal)
{
    size_t n = s->nhits, nlocal = n - nglobal;
    struct det_hit *local = barra_memdup(s->hits + nglobal, nlocal * sizeof(*s->hits));
    if (local == NULL) {
        return -BARRA_ENOMEM;
    }
    size_t i = nglobal, j = nlocal, k = n;
    while (j > 0) {
        if (i > 0 && cmp_hit_end(&s->hits[i - 1], &local[j - 1]) > 0) {
            s->hits[--k] = s->hits[--i];
        } else {
            s->hits[--k] = local[--j];
        }
    }
    barra_free(local);
    return 0;
}

/* Regions come nearly in order (a region starts before the previous one only when its word or
 * value is longer): insertion sort, unless the input makes it move too much. */
static void sort_regions(struct det_region *r, size_t n)
{
    size_t moves = 0;
    for (size_t i = 1; i < n; i++) {
        struct det_region x = r[i];
        size_t j = i;
        for (; j > 0 && r[j - 1].lo > x.lo; j--) {
            r[j] = r[j - 1];
        }
        r[j] = x;
        moves += i - j;
        if (moves > 8 * n) {
            qsort(r, n, sizeof(*r), cmp_region);
            return;
        }
    }
}

/* Two lists of regions, each in order of start, read as one. */
struct region_pair {
    const struct det_region *a;
    size_t na, ia;
    const struct det_region *b;
    size_t nb, ib;
};

static const struct det_region *next_region(struct region_pair *p)
{
    if (p->ia < p->na && (p->ib == p->nb || p->a[p->ia].lo <= p->b[p->ib].lo)) {
        return &p->a[p->ia++];
    }
    return p->ib < p->nb ? &p->b[p->ib++] : NULL;
}

/* Phase B: the local keywords (context, negative words, weak terms), looked for only where they can
 * matter: around the candidates and around strong terms. The regions are merged and widened by the
 * longest literal so that no keyword is cut at a region's edge. The candidates are in order here,
 * and so are their regions; the strong terms' regions nearly so. */
static int find_local_hits(struct barra_scanner *s, const struct det_window *w)
{
    const struct det_catalog *c = s->cat;
    const struct det_scoring *sc = &c->scoring;
    size_t nglobal = s->nhits;
    size_t pad = c->max_local_keyword;
    size_t nreg = s->ncands + nglobal;
    if (nreg == 0) {
        return 0;
    }
    int r = grow_array((void **)&s->regions, &s->capregions, nreg, sizeof(*s->regions));
    if (r < 0) {
        return r;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->ncands; i++) {
        size_t lo = s->cands[i].start, hi = (size_t)s->cands[i].end + sc->after + pad;
        s->regions[k++] =
            (struct det_region){lo > sc->before + pad ? lo - sc->before - pad : 0, hi};
    }
    for (size_t i = 0; i < nglobal; i++) {
        size_t reach = sc->cooccur + pad;
        size_t lo = s->hits[i].start, hi = (size_t)s->hits[i].end + reach;
        s->regions[k++] = (struct det_region){lo > reach ? lo - reach : 0, hi};
    }
    /* Each kind is in order of start or nearly so: put each in order, then merge the two. */
    struct region_pair rp = {s->regions, s->ncands, 0, s->regions + s->ncands, nglobal, 0};
    sort_regions(s->regions, s->ncands);
    sort_regions(s->regions + s->ncands, nglobal);
    const struct det_region *g = next_region(&rp);
    size_t cur_lo = g->lo, cur_hi = g->hi;
    while (r == 0) {
        g = next_region(&rp);
        if (g && g->lo <= cur_hi) {
            cur_hi = g->hi > cur_hi ? g->hi : cur_hi;
            continue;
        }
        r = hs_pass(s, DET_DB_LOCAL, w->buf, cur_lo, cur_hi < w->len ? cur_hi : w->len, 0, false);
        if (g == NULL) {
            break;
        }
        cur_lo = g->lo;
        cur_hi = g->hi;
    }
    if (r == 0 && s->nhits > nglobal) {
        r = merge_hits(s, nglobal);
    }
    if (r == 0) {
        mark_shadowed(s->hits, s->nhits, s->cat->max_keyword);
    }
    return r;
}

/* Phase D: a candidate whose shape alone scores below the threshold stays only with a keyword of
 * its type nearby (an 8-digit number is not a permit number without the word for it). */
static void drop_uncontexted(struct barra_scanner *s)
{
    size_t before = s->cat->scoring.before;
    /* Candidates are in order of start and hits in order of end: the first hit that can count
     * for a candidate only moves forward. */
    size_t keep = 0, first = 0;
    for (size_t i = 0; i < s->ncands; i++) {
        const struct det_cand *c = &s->cands[i];
        size_t from = c->start > before ? c->start - before : 0;
        while (first < s->nhits && s->hits[first].end < from) {
            first++;
        }
        if (c->base < s->min_score && !context_near(s, c->type, first, c->end)) {
            continue;
        }
        s->cands[keep++] = *c;
    }
    s->ncands = keep;
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
    int r = collect_triggers(s, w, from, to);
    size_t resume = 0;
    for (size_t i = 0; r == 0 && i < s->ntrigs; i++) {
        const struct det_trigger *t = &s->trigs[i];
        if (t->pos < resume) {
            continue; /* inside a candidate already found */
        }
        size_t next = t->end;
        r = t->at ? on_at(s, w, t->pos, &next) : on_digits(s, w, t->pos, t->end, &next);
        resume = next;
    }
    for (size_t i = 0; r == 0 && i < s->nhits; i++) {
        const struct det_hit *h = &s->hits[i];
        if (h->end + DET_MAX_CANDIDATE >= from && h->start <= to && keyword_triggers(c, h->kw)) {
            r = on_trigger_keyword(s, w, h);
        }
    }
    /* A label that announces a birth date ("出生日期" as a column header) triggers at the start. */
    for (size_t i = 0; r == 0 && i < s->nlabel && w->at_start; i++) {
        if (keyword_triggers(c, s->label_hits[i].kw)) {
            struct det_hit at_start = {0, 0, s->label_hits[i].kw, true, false};
            r = on_trigger_keyword(s, w, &at_start);
            break;
        }
    }
    r = r ? r : det_sort_candidates(s);
    r = r ? r : find_local_hits(s, w);
    if (r == 0) {
        drop_uncontexted(s);
    }
    return r;
}
