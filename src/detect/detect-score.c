/* SPDX-License-Identifier: Apache-2.0 */
/* From candidates to findings: keywords near a candidate raise or lower its score, the best
 * interpretation of each stretch of text wins, and sensitive-category terms are added. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "detect/detect-scan-int.h"

#ifdef DET_HAVE_AVX2_PATH
#include <immintrin.h>
#endif

#include "core/banned.h"

/* Index of the first hit (in order of their end) that ends at or after pos. */
static size_t first_hit_ending_at_or_after(const struct barra_scanner *s, size_t pos)
{
    size_t lo = 0, hi = s->nhits;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->hits[mid].end < pos) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Where a candidate's surroundings change: line ends, clause punctuation, and the nearest other
 * candidates. A keyword counts for a value on its own line and clause; how much it counts beyond
 * those depends on what it is (see keyword_factor). */
struct around {
    uint32_t nl1, nl2;     /* just after the last two newlines before the candidate, or 0 */
    uint32_t nl_after;     /* the first newline after it, or UINT32_MAX */
    uint32_t comma_before; /* start of the last clause mark (，,、;。！？ ...) before it, or 0 */
    uint32_t sentence_before; /* start of the last sentence mark (。！？;；!?) before it, or 0 */
    bool has_comma_before, has_sentence_before;
    uint32_t comma_after;    /* start of the first clause mark after it, or UINT32_MAX */
    uint32_t sentence_after; /* ... sentence mark, or UINT32_MAX */
    uint32_t block_before;   /* latest start of another type's candidate wholly before, or none */
    bool has_block_before;
    uint32_t same_before; /* latest start of a same-type candidate wholly before, or none */
    bool has_same_before;
    uint32_t block_after; /* earliest end of another type's candidate wholly after, or MAX */
    uint32_t next_start;  /* start of the next candidate of any type after it, or MAX */
};

/* The bytes a clause mark can end with: the ASCII marks and the last bytes of the full-width and
 * ideographic ones. Most bytes are none of these, and are passed over with one look-up (or 32 at
 * a time). One list makes both the table and the vector comparison. */
#define MARK_LAST_BYTES(X) X(',') X(';') X('!') X('?') X(0x81) X(0x82) X(0x8C) X(0x9B) X(0x9F)
#define MARK_AS_TRUE(b)    [b] = true,
#define MARK_AS_BYTE(b)    b,
static const bool mark_last_byte[256] = {MARK_LAST_BYTES(MARK_AS_TRUE)};

/* The clause mark that ends at buf[i] (ASCII , ; ! ? or the full-width and ideographic ones), as
 * 1 (comma-like) or 2 (ends a sentence); 0 if none. Sets *ret_len to its length. */
static inline int clause_mark_ending_at(const uint8_t *buf, size_t i, size_t lo, size_t *ret_len)
{
    uint8_t b = buf[i];
    *ret_len = 1;
    if (!mark_last_byte[b]) {
        return 0;
    }
    if (b == ',') {
        return 1;
    }
    if (b == ';' || b == '!' || b == '?') {
        return 2;
    }
    if (i < lo + 2) {
        return 0;
    }
    *ret_len = 3;
    uint8_t b0 = buf[i - 2], b1 = buf[i - 1];
    if (b0 == 0xEF && b1 == 0xBC) {
        return b == 0x8C ? 1 : (b == 0x9B || b == 0x81 || b == 0x9F) ? 2 : 0; /* ， ； ！ ？ */
    }
    if (b0 == 0xE3 && b1 == 0x80) {
        return b == 0x81 ? 1 : b == 0x82 ? 2 : 0; /* 、 。 */
    }
    return 0;
}

#ifdef DET_HAVE_AVX2_PATH
/* Bit i set when p[i] is a byte a clause mark can end with (mark_last_byte), for 32 bytes. */
__attribute__((target("avx2"))) static uint32_t mark_bytes_avx2(const uint8_t *p)
{
    static const uint8_t last[] = {MARK_LAST_BYTES(MARK_AS_BYTE)};
    __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p), m = _mm256_setzero_si256();
    for (size_t i = 0; i < sizeof(last); i++) {
        m = _mm256_or_si256(m, _mm256_cmpeq_epi8(v, _mm256_set1_epi8((char)last[i])));
    }
    return (uint32_t)_mm256_movemask_epi8(m);
}
#endif

/* The last position in [lo, i) holding a byte a clause mark can end with, or SIZE_MAX. Marks are
 * tens of bytes apart: 32 bytes are looked at together where the CPU can. */
static size_t prev_mark_byte(const uint8_t *buf, size_t lo, size_t i)
{
#ifdef DET_HAVE_AVX2_PATH
    if (det_have_avx2()) {
        for (; i >= lo + 32; i -= 32) {
            uint32_t m = mark_bytes_avx2(buf + i - 32);
            if (m) {
                return i - 32 + (size_t)(31 - __builtin_clz(m));
            }
        }
    }
#endif
    while (i-- > lo) {
        if (mark_last_byte[buf[i]]) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* The first position in [i, hi) holding such a byte, or SIZE_MAX. */
static size_t next_mark_byte(const uint8_t *buf, size_t i, size_t hi)
{
#ifdef DET_HAVE_AVX2_PATH
    if (det_have_avx2()) {
        for (; i + 32 <= hi; i += 32) {
            uint32_t m = mark_bytes_avx2(buf + i);
            if (m) {
                return i + (size_t)__builtin_ctz(m);
            }
        }
    }
#endif
    for (; i < hi; i++) {
        if (mark_last_byte[buf[i]]) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* Finds the line and clause marks around c, looking back only as far as `lo` (the earliest keyword
 * that could count) and forward only to `hi`. */
static void find_marks(const uint8_t *buf, size_t len, const struct det_cand *c, uint32_t lo,
                       uint32_t hi_limit, struct around *a)
{
    const uint8_t *p = memrchr(buf + lo, '\n', c->start - lo);
    a->nl1 = p ? (uint32_t)(p - buf) + 1 : 0;
    p = p && p > buf + lo ? memrchr(buf + lo, '\n', (size_t)(p - (buf + lo))) : NULL;
    a->nl2 = p ? (uint32_t)(p - buf) + 1 : 0;
    size_t hi = hi_limit < len ? hi_limit : len;
    p = memchr(buf + c->end, '\n', hi - c->end);
    a->nl_after = p ? (uint32_t)(p - buf) : UINT32_MAX;
    a->has_comma_before = a->has_sentence_before = false;
    for (size_t i = c->start;
         !a->has_sentence_before && (i = prev_mark_byte(buf, lo, i)) != SIZE_MAX;) {
        size_t n;
        int k = clause_mark_ending_at(buf, i, lo, &n);
        if (k && !a->has_comma_before) {
            a->has_comma_before = true;
            a->comma_before = (uint32_t)(i + 1 - n);
        }
        if (k == 2) {
            a->has_sentence_before = true;
            a->sentence_before = (uint32_t)(i + 1 - n);
        }
    }
    a->comma_after = a->sentence_after = UINT32_MAX;
    for (size_t i = c->end;
         a->sentence_after == UINT32_MAX && (i = next_mark_byte(buf, i, hi)) != SIZE_MAX; i++) {
        size_t n;
        int k = clause_mark_ending_at(buf, i, c->end, &n);
        if (k && a->comma_after == UINT32_MAX) {
            a->comma_after = (uint32_t)(i + 1 - n);
        }
        if (k == 2) {
            a->sentence_after = (uint32_t)(i + 1 - n);
        }
    }
}

/* The candidates of other types that separate `c` from its keywords, and the next candidate. */
static void find_neighbours(const struct barra_scanner *s, size_t i, struct around *a)
{
    const struct det_cand *c = &s->cands[i];
    const struct det_scoring *sc = &s->cat->scoring;
    a->has_block_before = a->has_same_before = false;
    a->block_before = a->same_before = 0;
    for (size_t j = i; j-- > 0;) {
        const struct det_cand *o = &s->cands[j];
        if (o->start + sc->before + DET_MAX_CANDIDATE < c->start) {
            break;
        }
        if (o->end > c->start) {
            continue;
        }
        if (o->type != c->type && (!a->has_block_before || o->start > a->block_before)) {
            a->block_before = o->start;
            a->has_block_before = true;
        } else if (o->type == c->type && (!a->has_same_before || o->start > a->same_before)) {
            a->same_before = o->start;
            a->has_same_before = true;
        }
    }
    a->block_after = a->next_start = UINT32_MAX;
    for (size_t j = i + 1; j < s->ncands; j++) {
        const struct det_cand *o = &s->cands[j];
        if (o->start > c->end + sc->after) {
            break;
        }
        if (o->start >= c->end && o->start < a->next_start) {
            a->next_start = o->start;
        }
        if (o->start >= c->end && o->type != c->type && o->end < a->block_after) {
            a->block_after = o->end;
        }
    }
}

/* Whether buf[from, to) holds a run of four or more digits: another number between a word and
 * the value, to which the word belongs instead ("订单号 7106... pls transfer to 4662 ..."). */
static bool number_between(const uint8_t *buf, uint32_t from, uint32_t to)
{
    unsigned run = 0;
    for (uint32_t i = from; i < to; i++) {
        run = (uint8_t)(buf[i] - '0') < 10 ? run + 1 : 0;
        if (run >= 4) {
            return true;
        }
    }
    return false;
}

/* Whether the keyword at h is followed by a colon (':' or '：', maybe after a space). */
static bool label_with_colon(const uint8_t *buf, size_t len, const struct det_hit *h)
{
    size_t k = h->end;
    if (k < len && buf[k] == ' ') {
        k++;
    }
    return (k < len && buf[k] == ':') ||
           (k + 2 < len && buf[k] == 0xEF && buf[k + 1] == 0xBC && buf[k + 2] == 0x9A);
}

/* How much one keyword hit counts for candidate c, given the keyword's role and side:
 * - before the value, context words count on its line and the line before (a form's label), less
 *   across a sentence end or another candidate; words that lower the score count only within the
 *   value's clause and only if no other number stands between;
 * - after the value, context words count within its clause, unless they label the next value;
 *   units ("元", "HKD") count only right behind the value and not when a number follows them. */
static float keyword_factor(const struct det_scoring *sc, const uint8_t *buf, size_t len,
                            const struct around *a, const struct det_cand *c,
                            const struct det_hit *h, const struct det_keyword_ref *ref)
{
    bool negative = ref->role == DET_ROLE_NEGATIVE;
    float f;
    if (h->end <= c->start) {
        uint32_t d = c->start - h->end;
        if (!(ref->side & DET_SIDE_BEFORE) || d > sc->before) {
            return 0;
        }
        bool across_line = a->nl1 && h->end < a->nl1;
        bool across_comma = a->has_comma_before && h->end <= a->comma_before;
        bool across_sentence = a->has_sentence_before && h->end <= a->sentence_before;
        if (negative && (across_line || across_comma || number_between(buf, h->end, c->start))) {
            return 0;
        }
        if (across_line && a->nl2 && h->end < a->nl2) {
            return 0;
        }
        f = d <= sc->near ? 1.0f : sc->far_factor;
        f *= across_line ? 0.75f : 1.0f;
        f *= across_sentence ? 0.5f : 1.0f;
        if (a->has_block_before && a->block_before >= h->end) {
            f *= sc->blocked_factor;
        } else if (a->has_same_before && a->same_before >= h->end) {
            f *= 0.5f; /* a label reaching past another value of its type counts less */
        }
        return f;
    }
    if (h->start < c->end) {
        return 0; /* a keyword inside the candidate says nothing about it */
    }
    uint32_t d = h->start - c->end;
    if (!(ref->side & DET_SIDE_AFTER) || d > sc->after || h->start > a->nl_after ||
        h->start > a->comma_after) {
        return 0;
    }
    if (negative) {
        size_t k = h->end;
        while (k < len && k < (size_t)h->end + 2 && buf[k] == ' ') {
            k++;
        }
        bool number_follows = k < len && (uint8_t)(buf[k] - '0') < 10;
        return d <= 2 && !number_follows ? 1.0f : 0;
    }
    f = d <= sc->near ? 1.0f : sc->far_factor;
    if (label_with_colon(buf, len, h)) {
        return 0; /* "台胞證：..." labels what follows it */
    }
    if (a->next_start != UINT32_MAX && a->next_start >= h->end && a->next_start - h->end <= d) {
        f *= sc->blocked_factor; /* the label of the next value (ties go to it) */
    }
    if (a->block_after != UINT32_MAX && a->block_after <= h->start) {
        f *= sc->blocked_factor;
    }
    return f;
}

/* Context gathered for one candidate: positive keywords combine (noisy-OR: two weak hints make a
 * stronger one), the strongest negative counts, and whichever kind is nearer wins over the other.
 */
struct context {
    float pos_miss; /* product of (1 - weight) over positive hits */
    float neg;
    uint32_t pos_dist, neg_dist;
};

static uint32_t hit_distance(const struct det_cand *c, const struct det_hit *h)
{
    return h->end <= c->start ? c->start - h->end : h->start - c->end;
}

static void apply_hit(const struct barra_scanner *s, const uint8_t *buf, size_t len,
                      const struct around *a, const struct det_cand *c, const struct det_hit *h,
                      bool label, struct context *ctx)
{
    const struct det_catalog *cat = s->cat;
    const struct det_keyword *k = &cat->keywords[h->kw];
    if (!(k->scoring_types & det_type_bit(c->type))) {
        return;
    }
    for (uint32_t r = 0; r < k->nrefs; r++) {
        const struct det_keyword_ref *ref = &cat->refs_list[k->first_ref + r];
        if (ref->type != c->type ||
            (ref->role != DET_ROLE_CONTEXT && ref->role != DET_ROLE_NEGATIVE)) {
            continue;
        }
        /* A label (column header, field name) stands just before the value. */
        float f = label ? 1.0f : keyword_factor(&cat->scoring, buf, len, a, c, h, ref);
        if (f <= 0) {
            continue;
        }
        uint32_t dist = label ? 0 : hit_distance(c, h);
        float wgt = ref->weight * f;
        if (ref->role == DET_ROLE_CONTEXT) {
            ctx->pos_miss *= 1.0f - wgt;
            if (dist < ctx->pos_dist) {
                ctx->pos_dist = dist;
            }
        } else {
            if (wgt > ctx->neg) {
                ctx->neg = wgt;
            }
            if (dist < ctx->neg_dist) {
                ctx->neg_dist = dist;
            }
        }
    }
}

void det_score_candidates(struct barra_scanner *s, const struct det_window *w)
{
    const struct det_scoring *sc = &s->cat->scoring;
    /* Candidates come in order of start, hits in order of end: the first hit that can count
     * for a candidate only moves forward. */
    size_t first = 0;
    for (size_t i = 0; i < s->ncands; i++) {
        struct det_cand *c = &s->cands[i];
        size_t from = c->start > sc->before ? c->start - sc->before : 0;
        while (first < s->nhits && s->hits[first].end < from) {
            first++;
        }
        /* The marks matter only between the candidate and its keywords: look no farther. */
        uint32_t lo = c->start, hi = c->end;
        for (size_t h = first; h < s->nhits && s->hits[h].start <= c->end + sc->after; h++) {
            if (s->hits[h].end <= c->start && s->hits[h].end < lo) {
                lo = s->hits[h].end;
            }
            if (s->hits[h].start >= c->end && s->hits[h].start + 1 > hi) {
                hi = s->hits[h].start + 1;
            }
        }
        struct around a;
        find_marks(w->buf, w->len, c, lo, hi, &a);
        find_neighbours(s, i, &a);
        struct context ctx = {1.0f, 0, UINT32_MAX, UINT32_MAX};
        for (size_t h = first; h < s->nhits; h++) {
            const struct det_hit *hit = &s->hits[h];
            if (hit->start > c->end + sc->after) {
                if (hit->end > c->end + sc->after + DET_MAX_CANDIDATE) {
                    break;
                }
                continue;
            }
            if (!hit->shadowed) {
                apply_hit(s, w->buf, w->len, &a, c, hit, false, &ctx);
            }
        }
        for (size_t h = 0; h < s->nlabel; h++) {
            if (!s->label_hits[h].shadowed) {
                apply_hit(s, w->buf, w->len, &a, c, &s->label_hits[h], true, &ctx);
            }
        }
        float pos = 1.0f - ctx.pos_miss;
        float neg = ctx.neg;
        if (pos > 0 && neg > 0) {
            if (ctx.pos_dist < ctx.neg_dist) {
                neg *= sc->blocked_factor;
            } else if (ctx.neg_dist < ctx.pos_dist) {
                pos *= sc->blocked_factor;
            }
        }
        float score = c->base + (1.0f - c->base) * pos;
        score *= 1.0f - neg;
        float cap = c->pattern != UINT16_MAX ? s->cat->patterns[c->pattern].cap : 1.0f;
        c->score = score < 0 ? 0 : score > cap ? cap : score;
    }
}

static int cmp_by_score(const void *a, const void *b, void *ctx)
{
    const struct barra_scanner *s = ctx;
    const struct det_cand *x = &s->cands[*(const uint32_t *)a],
                          *y = &s->cands[*(const uint32_t *)b];
    if (x->score != y->score) {
        return x->score > y->score ? -1 : 1;
    }
    uint32_t lx = x->end - x->start, ly = y->end - y->start;
    if (lx != ly) {
        return lx > ly ? -1 : 1;
    }
    int ox = s->cat->types[x->type].order, oy = s->cat->types[y->type].order;
    return ox != oy ? ox - oy : (int)x->type - (int)y->type;
}

/* Index of the first of cands[0..n) (sorted by start) starting at or after pos. */
static size_t first_starting_at_or_after(const struct det_cand *cands, size_t n, uint32_t pos)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cands[mid].start < pos) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Whether a chosen one of cands[0..n) (sorted by start) overlaps [start, end). Candidates are at
 * most DET_MAX_CANDIDATE long, so only those starting shortly before `start` can reach into it. */
static bool overlaps_chosen(const struct det_cand *cands, size_t n, uint32_t start, uint32_t end)
{
    uint32_t from = start > DET_MAX_CANDIDATE ? start - DET_MAX_CANDIDATE : 0;
    for (size_t i = first_starting_at_or_after(cands, n, from); i < n && cands[i].start < end;
         i++) {
        if (cands[i].chosen && cands[i].end > start) {
            return true;
        }
    }
    return false;
}

/* Greedy by score among cands[from, to): the best interpretation wins, ties to the longer span
 * and then to the type listed first. */
static int choose_among(struct barra_scanner *s, size_t from, size_t to)
{
    uint32_t local[64], *order = local;
    size_t n = to - from;
    if (n > sizeof(local) / sizeof(local[0]) &&
        (order = barra_reallocarray(NULL, n, sizeof(uint32_t))) == NULL) {
        return -BARRA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        order[i] = (uint32_t)(from + i);
        s->cands[from + i].chosen = false;
    }
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            uint32_t x = order[i];
            size_t j = i;
            for (; j > 0 && cmp_by_score(&x, &order[j - 1], s) < 0; j--) {
                order[j] = order[j - 1];
            }
            order[j] = x;
        }
    } else {
        qsort_r(order, n, sizeof(uint32_t), cmp_by_score, s);
    }
    for (size_t k = 0; k < n; k++) {
        struct det_cand *c = &s->cands[order[k]];
        if (c->score < s->min_score) {
            break;
        }
        if (!overlaps_chosen(s->cands + from, n, c->start, c->end)) {
            c->chosen = true;
        }
    }
    if (order != local) {
        barra_free(order);
    }
    return 0;
}

/* Only overlapping candidates compete, so the greedy choice is made within each run of them
 * (most runs are a single candidate) instead of over a sort of them all: the same choice. */
static int choose_identifiers(struct barra_scanner *s)
{
    for (size_t i = 0, j; i < s->ncands; i = j) {
        uint32_t reach = s->cands[i].end;
        for (j = i + 1; j < s->ncands && s->cands[j].start < reach; j++) {
            reach = s->cands[j].end > reach ? s->cands[j].end : reach;
        }
        if (j == i + 1) {
            s->cands[i].chosen = s->cands[i].score >= s->min_score;
            continue;
        }
        int r = choose_among(s, i, j);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

static bool hit_has_role(const struct det_catalog *cat, const struct det_hit *h, uint8_t role)
{
    return cat->keywords[h->kw].roles & (1u << role);
}

/* A term hit is dropped when a longer word covers it: a longer term or an exclusion ("人工智能"
 * around "人工"), a word that lowers scores ("流水号" around "流水"), or, for a weak term, any
 * keyword
 * ("藍卡號碼" around "卡號"). */
static bool term_covered(const struct barra_scanner *s, size_t i, bool weak)
{
    const struct det_hit *h = &s->hits[i];
    for (size_t j = first_hit_ending_at_or_after(s, h->end); j < s->nhits; j++) {
        const struct det_hit *o = &s->hits[j];
        if (o->end > h->end + DET_MAX_CANDIDATE) {
            break;
        }
        if (j == i || o->start > h->start || o->end < h->end ||
            (o->end - o->start) <= (h->end - h->start)) {
            continue;
        }
        if (weak || hit_has_role(s->cat, o, DET_ROLE_TERM) ||
            hit_has_role(s->cat, o, DET_ROLE_EXCLUDE) ||
            hit_has_role(s->cat, o, DET_ROLE_NEGATIVE)) {
            return true;
        }
    }
    return false;
}

/* Whether a blank line separates [a_end, b_start): a new paragraph or record, which no context
 * crosses. */
static bool blank_line_between(const uint8_t *buf, uint32_t a_end, uint32_t b_start)
{
    return b_start > a_end && memmem(buf + a_end, b_start - a_end, "\n\n", 2) != NULL;
}

static bool apart(const uint8_t *buf, uint32_t s1, uint32_t e1, uint32_t s2, uint32_t e2)
{
    return e1 <= s2 ? blank_line_between(buf, e1, s2) : blank_line_between(buf, e2, s1);
}

/* Whether a chosen identifier or a strong term lies within `dist` bytes of [start, end), in the
 * same paragraph. Identifiers (cands[0..nident)) are sorted by start; terms follow in the order of
 * their end. */
static bool has_company(const struct barra_scanner *s, const uint8_t *buf, size_t nident,
                        uint32_t start, uint32_t end, uint32_t dist)
{
    uint32_t lo = start > dist + DET_MAX_CANDIDATE ? start - dist - DET_MAX_CANDIDATE : 0;
    for (size_t i = first_starting_at_or_after(s->cands, nident, lo);
         i < nident && s->cands[i].start <= end + dist; i++) {
        const struct det_cand *o = &s->cands[i];
        if (o->chosen && o->end + dist >= start && !apart(buf, o->start, o->end, start, end)) {
            return true;
        }
    }
    size_t i = nident, hi = s->ncands;
    uint32_t from = start > dist ? start - dist : 0;
    while (i < hi) {
        size_t mid = (i + hi) / 2;
        if (s->cands[mid].end < from) {
            i = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (; i < s->ncands && s->cands[i].start <= end + dist; i++) {
        const struct det_cand *o = &s->cands[i];
        if (o->base >= s->min_score && !(o->start == start && o->end == end) &&
            !apart(buf, o->start, o->end, start, end)) {
            return true;
        }
    }
    return false;
}

/* Whether the word at h is the label of a chosen identifier right beside it ("信用卡 6225 ..."):
 * the identifier already says it, so the word is not reported again as a term. */
static bool labels_chosen(const struct barra_scanner *s, const uint8_t *buf, size_t nident,
                          const struct det_hit *h)
{
    const struct det_catalog *cat = s->cat;
    const struct det_keyword *k = &cat->keywords[h->kw];
    uint32_t near = cat->scoring.near;
    uint32_t lo = h->start > near + DET_MAX_CANDIDATE ? h->start - near - DET_MAX_CANDIDATE : 0;
    for (size_t i = first_starting_at_or_after(s->cands, nident, lo);
         i < nident && s->cands[i].start <= h->end + near; i++) {
        const struct det_cand *o = &s->cands[i];
        if (!o->chosen || o->end + near < h->start ||
            apart(buf, o->start, o->end, h->start, h->end)) {
            continue;
        }
        for (uint32_t r = 0; r < k->nrefs; r++) {
            const struct det_keyword_ref *ref = &cat->refs_list[k->first_ref + r];
            if (ref->role == DET_ROLE_CONTEXT && ref->type == o->type) {
                return true;
            }
        }
    }
    return false;
}

static int add_terms(struct barra_scanner *s, const uint8_t *buf)
{
    const struct det_catalog *cat = s->cat;
    size_t nident = s->nident = s->ncands;
    for (size_t i = 0; i < s->nhits; i++) {
        const struct det_hit *h = &s->hits[i];
        const struct det_keyword *k = &cat->keywords[h->kw];
        if (!(k->roles & (1u << DET_ROLE_TERM))) {
            continue;
        }
        for (uint32_t r = 0; r < k->nrefs; r++) {
            const struct det_keyword_ref *ref = &cat->refs_list[k->first_ref + r];
            if (ref->role != DET_ROLE_TERM) {
                continue;
            }
            if (overlaps_chosen(s->cands, nident, h->start, h->end) ||
                term_covered(s, i, ref->weight < s->min_score) ||
                labels_chosen(s, buf, nident, h)) {
                break;
            }
            const struct det_type *t = &cat->types[ref->type];
            struct det_cand c = {
                .start = h->start,
                .end = h->end,
                .base = ref->weight,
                .score = ref->weight,
                .type = ref->type,
                .pattern = UINT16_MAX,
                .flags = BARRA_FINDING_TERM,
                .jurisdiction = t->jurisdiction,
                .category = t->category,
                .chosen = true,
            };
            int e = det_cand_push(s, &c);
            if (e < 0) {
                return e;
            }
        }
    }
    /* Weak terms ("位置", "hotel") count only in company: near an identifier or a strong term. */
    const struct det_scoring *sc = &cat->scoring;
    for (size_t i = nident; i < s->ncands; i++) {
        struct det_cand *c = &s->cands[i];
        if (c->score < s->min_score && has_company(s, buf, nident, c->start, c->end, sc->cooccur)) {
            c->score += sc->cooccur_boost;
            if (c->score > 1) {
                c->score = 1;
            }
        }
    }
    for (size_t i = nident; i < s->ncands; i++) {
        s->cands[i].chosen = s->cands[i].score >= s->min_score;
    }
    return 0;
}

int det_choose_findings(struct barra_scanner *s, const struct det_window *w)
{
    int r = choose_identifiers(s);
    if (r < 0) {
        return r;
    }
    return add_terms(s, w->buf);
}
