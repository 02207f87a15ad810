/* SPDX-License-Identifier: Apache-2.0 */
/* From candidates to findings: keywords near a candidate raise or lower its score, the best
 * interpretation of each stretch of text wins, and sensitive-category terms are added. */
#include "config.h"

#include "detect/detect-scan-int.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/banned.h"

static int cmp_cand_start(const void *a, const void *b)
{
    const struct det_cand *x = a, *y = b;
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (x->end != y->end) {
        return x->end < y->end ? -1 : 1;
    }
    return (int)x->type - (int)y->type;
}

/* Index of the first hit whose end is >= pos (hits are in end order, as Vectorscan reports them). */
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

/* The candidates that separate `c` from its keywords: the latest start of a candidate wholly before
 * it, and the earliest end of one wholly after it. */
static void neighbours(const struct barra_scanner *s, size_t i, uint32_t *ret_before,
                       uint32_t *ret_after)
{
    const struct det_cand *c = &s->cands[i];
    const struct det_scoring *sc = &s->cat->scoring;
    uint32_t before = 0, after = UINT32_MAX;
    bool any_before = false;
    for (size_t j = i; j-- > 0;) {
        const struct det_cand *o = &s->cands[j];
        if (o->start + sc->before + DET_MAX_CANDIDATE < c->start) {
            break;
        }
        if (o->end <= c->start && (!any_before || o->start > before)) {
            before = o->start;
            any_before = true;
        }
    }
    for (size_t j = i + 1; j < s->ncands; j++) {
        const struct det_cand *o = &s->cands[j];
        if (o->start > c->end + sc->after) {
            break;
        }
        if (o->start >= c->end && o->end < after) {
            after = o->end;
        }
    }
    *ret_before = any_before ? before : 0;
    if (!any_before) {
        *ret_before = UINT32_MAX; /* nothing before: no keyword is blocked */
    }
    *ret_after = after;
}

/* Where the lines around a candidate end: a keyword on the candidate's own line counts fully, one on
 * the line before counts at 0.75 (forms put labels there), others not; after the candidate only its
 * own line counts. */
struct lines_around {
    uint32_t nl1;      /* offset just after the last newline before the candidate, or 0 */
    uint32_t nl2;      /* just after the one before that, or 0 */
    uint32_t nl_after; /* offset of the first newline after it, or UINT32_MAX */
};

static void find_lines_around(const uint8_t *buf, size_t len, const struct det_cand *c,
                              uint32_t before, uint32_t after, struct lines_around *ret)
{
    uint32_t lo = c->start > before ? c->start - before : 0;
    const uint8_t *p = memrchr(buf + lo, '\n', c->start - lo);
    ret->nl1 = p ? (uint32_t)(p - buf) + 1 : 0;
    p = p && p > buf + lo ? memrchr(buf + lo, '\n', (size_t)(p - (buf + lo))) : NULL;
    ret->nl2 = p ? (uint32_t)(p - buf) + 1 : 0;
    size_t hi = (size_t)c->end + after < len ? (size_t)c->end + after : len;
    p = memchr(buf + c->end, '\n', hi - c->end);
    ret->nl_after = p ? (uint32_t)(p - buf) : UINT32_MAX;
}

/* Weight of a keyword hit for candidate c: by distance, by line, and by whether another candidate lies
 * between. Words after a candidate that would lower it must be right behind it ("元"). */
static float hit_factor(const struct det_scoring *sc, const struct lines_around *la,
                        const struct det_cand *c, const struct det_hit *h, bool negative,
                        uint32_t block_before, uint32_t block_after)
{
    uint32_t d;
    bool blocked;
    float f = 1.0f;
    if (h->end <= c->start) {
        d = c->start - h->end;
        if (d > sc->before) {
            return 0;
        }
        blocked = block_before != UINT32_MAX && block_before >= h->end;
        if (la->nl1 && h->end < la->nl1) {
            if (la->nl2 && h->end < la->nl2) {
                return 0; /* two lines up or more */
            }
            f = 0.75f;
        }
    } else if (h->start >= c->end) {
        d = h->start - c->end;
        if (d > sc->after || (negative && d > sc->near) || h->start > la->nl_after) {
            return 0;
        }
        blocked = block_after != UINT32_MAX && block_after <= h->start;
    } else {
        return 0; /* a keyword inside the candidate says nothing about it */
    }
    f *= d <= sc->near ? 1.0f : sc->far_factor;
    return blocked ? f * sc->blocked_factor : f;
}

/* Context gathered for one candidate: positive keywords combine (noisy-OR: two weak hints make a
 * stronger one), the strongest negative counts, and whichever kind is nearer wins over the other. */
struct context {
    float pos_miss; /* product of (1 - weight) over positive hits */
    float neg;
    uint32_t pos_dist, neg_dist;
};

static void apply_refs(const struct det_catalog *cat, const struct det_cand *c, uint32_t kw,
                       const float f[2], uint32_t dist, struct context *ctx)
{
    const struct det_keyword *k = &cat->keywords[kw];
    for (uint32_t r = 0; r < k->nrefs; r++) {
        const struct det_keyword_ref *ref = &cat->refs_list[k->first_ref + r];
        if (ref->type != c->type) {
            continue;
        }
        if (ref->role == DET_ROLE_CONTEXT && f[0] > 0) {
            ctx->pos_miss *= 1.0f - ref->weight * f[0];
            if (dist < ctx->pos_dist) {
                ctx->pos_dist = dist;
            }
        } else if (ref->role == DET_ROLE_NEGATIVE && f[1] > 0) {
            float wgt = ref->weight * f[1];
            if (wgt > ctx->neg) {
                ctx->neg = wgt;
            }
            if (dist < ctx->neg_dist) {
                ctx->neg_dist = dist;
            }
        }
    }
}

static uint32_t hit_distance(const struct det_cand *c, const struct det_hit *h)
{
    return h->end <= c->start ? c->start - h->end : h->start - c->end;
}

void det_score_candidates(struct barra_scanner *s, const struct det_window *w)
{
    const struct det_catalog *cat = s->cat;
    const struct det_scoring *sc = &cat->scoring;
    qsort(s->cands, s->ncands, sizeof(*s->cands), cmp_cand_start);
    for (size_t i = 0; i < s->ncands; i++) {
        struct det_cand *c = &s->cands[i];
        uint32_t block_before, block_after;
        neighbours(s, i, &block_before, &block_after);
        struct context ctx = {1.0f, 0, UINT32_MAX, UINT32_MAX};
        struct lines_around la;
        find_lines_around(w->buf, w->len, c, sc->before, sc->after, &la);
        size_t from = c->start > sc->before ? c->start - sc->before : 0;
        for (size_t h = first_hit_ending_at_or_after(s, from); h < s->nhits; h++) {
            const struct det_hit *hit = &s->hits[h];
            if (hit->start > c->end + sc->after) {
                if (hit->end > c->end + sc->after + DET_MAX_CANDIDATE) {
                    break;
                }
                continue;
            }
            if (hit->shadowed) {
                continue;
            }
            float f[2] = {hit_factor(sc, &la, c, hit, false, block_before, block_after),
                          hit_factor(sc, &la, c, hit, true, block_before, block_after)};
            if (f[0] > 0 || f[1] > 0) {
                apply_refs(cat, c, hit->kw, f, hit_distance(c, hit), &ctx);
            }
        }
        for (size_t h = 0; h < s->nlabel; h++) {
            if (!s->label_hits[h].shadowed) {
                static const float full[2] = {1.0f, 1.0f};
                apply_refs(cat, c, s->label_hits[h].kw, full, 0, &ctx);
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
        c->score = score < 0 ? 0 : score > 1 ? 1 : score;
    }
}

static int cmp_by_score(const void *a, const void *b, void *ctx)
{
    const struct det_cand *cands = ctx;
    const struct det_cand *x = &cands[*(const uint32_t *)a], *y = &cands[*(const uint32_t *)b];
    if (x->score != y->score) {
        return x->score > y->score ? -1 : 1;
    }
    uint32_t lx = x->end - x->start, ly = y->end - y->start;
    if (lx != ly) {
        return lx > ly ? -1 : 1;
    }
    return (int)x->type - (int)y->type;
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

/* Whether a chosen one of cands[0..n) (sorted by start) overlaps [start, end). Candidates are at most
 * DET_MAX_CANDIDATE long, so only those starting shortly before `start` can reach into it. */
static bool overlaps_chosen(const struct det_cand *cands, size_t n, uint32_t start, uint32_t end)
{
    uint32_t from = start > DET_MAX_CANDIDATE ? start - DET_MAX_CANDIDATE : 0;
    for (size_t i = first_starting_at_or_after(cands, n, from); i < n && cands[i].start < end; i++) {
        if (cands[i].chosen && cands[i].end > start) {
            return true;
        }
    }
    return false;
}

/* Greedy by score: the best interpretation of each stretch of text wins, ties to the longer span and
 * then to the type listed first. */
static int choose_identifiers(struct barra_scanner *s)
{
    size_t n = s->ncands;
    if (n == 0) {
        return 0;
    }
    uint32_t *order = barra_reallocarray(NULL, n, sizeof(uint32_t));
    if (order == NULL) {
        return -BARRA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        order[i] = (uint32_t)i;
        s->cands[i].chosen = false;
    }
    qsort_r(order, n, sizeof(uint32_t), cmp_by_score, s->cands);
    for (size_t k = 0; k < n; k++) {
        struct det_cand *c = &s->cands[order[k]];
        if (c->score < s->min_score) {
            break;
        }
        if (!overlaps_chosen(s->cands, n, c->start, c->end)) {
            c->chosen = true;
        }
    }
    barra_free(order);
    return 0;
}

static bool hit_has_role(const struct det_catalog *cat, const struct det_hit *h, uint8_t role)
{
    const struct det_keyword *k = &cat->keywords[h->kw];
    for (uint32_t r = 0; r < k->nrefs; r++) {
        if (cat->refs_list[k->first_ref + r].role == role) {
            return true;
        }
    }
    return false;
}

/* A term hit is dropped when a longer term or an exclusion ("人工智能" around "人工") covers it. */
static bool term_covered(const struct barra_scanner *s, size_t i)
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
        if (hit_has_role(s->cat, o, DET_ROLE_TERM) || hit_has_role(s->cat, o, DET_ROLE_EXCLUDE)) {
            return true;
        }
    }
    return false;
}

/* Whether a chosen identifier or a strong term lies within `dist` bytes of [start, end). Identifiers
 * (cands[0..nident)) are sorted by start; terms follow in the order of their end. */
static bool has_company(const struct barra_scanner *s, size_t nident, uint32_t start, uint32_t end,
                        uint32_t dist)
{
    uint32_t lo = start > dist + DET_MAX_CANDIDATE ? start - dist - DET_MAX_CANDIDATE : 0;
    for (size_t i = first_starting_at_or_after(s->cands, nident, lo);
         i < nident && s->cands[i].start <= end + dist; i++) {
        const struct det_cand *o = &s->cands[i];
        if (o->chosen && o->end + dist >= start) {
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
        if (o->base >= s->min_score && !(o->start == start && o->end == end)) {
            return true;
        }
    }
    return false;
}

static int add_terms(struct barra_scanner *s)
{
    const struct det_catalog *cat = s->cat;
    size_t nident = s->ncands;
    for (size_t i = 0; i < s->nhits; i++) {
        const struct det_hit *h = &s->hits[i];
        const struct det_keyword *k = &cat->keywords[h->kw];
        for (uint32_t r = 0; r < k->nrefs; r++) {
            const struct det_keyword_ref *ref = &cat->refs_list[k->first_ref + r];
            if (ref->role != DET_ROLE_TERM) {
                continue;
            }
            if (overlaps_chosen(s->cands, nident, h->start, h->end) || term_covered(s, i)) {
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
        if (c->score < s->min_score &&
            has_company(s, nident, c->start, c->end, sc->cooccur)) {
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
    (void)w;
    int r = choose_identifiers(s);
    if (r < 0) {
        return r;
    }
    return add_terms(s);
}
