/* SPDX-License-Identifier: Apache-2.0 */
/* The scanner: windows over the text (the whole text at once, or a stream in pieces), and findings
 * handed to the caller in order. A stream is cut into owned parts of DET_CHUNK bytes, each scanned
 * with DET_MARGIN bytes of context on both sides, so that every finding and its context are seen
 * whole and the result does not depend on how the text was cut. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <barra/detect.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/utf8.h"
#include "detect/detect-scan-int.h"

#include "core/banned.h"

#define DET_CHUNK  (1u << 20)
#define DET_MARGIN 2048u

BARRA_EXPORT int barra_scanner_new(barra_detector_t *d, uint32_t flags, barra_scanner_t **ret,
                                   struct barra_error *reterr)
{
    if (d == NULL || ret == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no detector or no place for the scanner");
    }
    barra_scanner_t *s = barra_calloc(1, sizeof(*s));
    if (s == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory creating a scanner");
    }
    s->det = barra_detector_ref(d);
    s->cat = d->cat;
    s->flags = flags;
    s->min_score = d->min_score;
    s->today = d->today;
    buf_init(&s->norm, 0);
    buf_init(&s->win, 0);
    s->line_no = 1;
    if (hs_alloc_scratch(s->cat->hs[DET_DB_GLOBAL], &s->hs) != HS_SUCCESS ||
        hs_alloc_scratch(s->cat->hs[DET_DB_LOCAL], &s->hs) != HS_SUCCESS) {
        barra_scanner_free(s);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory for pattern-engine scratch");
    }
    *ret = s;
    return 0;
}

BARRA_EXPORT barra_scanner_t *barra_scanner_free(barra_scanner_t *s)
{
    if (s == NULL) {
        return NULL;
    }
    if (s->hs) {
        hs_free_scratch(s->hs);
    }
    barra_free(s->hits);
    barra_free(s->label_hits);
    barra_free(s->cands);
    barra_free(s->cands_spare);
    barra_free(s->trigs);
    barra_free(s->regions);
    buf_done(&s->norm);
    buf_done(&s->win);
    barra_detector_unref(s->det);
    barra_free(s);
    return NULL;
}

BARRA_EXPORT void barra_scanner_set_progress(barra_scanner_t *s, barra_progress_fn fn,
                                             void *userdata)
{
    s->progress = fn;
    s->progress_data = userdata;
}

BARRA_EXPORT void barra_scanner_stats(const barra_scanner_t *s, struct barra_scan_stats *ret)
{
    *ret = s->stats;
}

/* ---- lines ---- */

/* Advances the line counter to stream offset `to`; buf holds the stream from offset `base` (when a
 * whole text is being scanned in place, its start is used instead: the counter may lag behind the
 * current window). */
static void lines_advance(barra_scanner_t *s, const uint8_t *buf, uint64_t base, uint64_t to)
{
    if (to <= s->line_pos) {
        return;
    }
    if (s->lines_text) {
        buf = s->lines_text;
        base = 0;
    }
    const uint8_t *p = buf + (s->line_pos - base);
    size_t n = (size_t)(to - s->line_pos);
    size_t lines = utf8_count_byte(p, n, '\n');
    if (lines) {
        const uint8_t *last = memrchr(p, '\n', n);
        s->line_no += lines;
        s->line_start = base + (uint64_t)(last - buf) + 1;
    }
    s->line_pos = to;
}

/* ---- one window ---- */

static void check_utf8(barra_scanner_t *s, const struct det_window *w, uint64_t base)
{
    const char *p = (const char *)w->buf + w->own_from;
    size_t n = w->own_to - w->own_from;
    if (utf8_is_valid(p, n)) {
        return;
    }
    size_t off = 0;
    while (off < n) {
        size_t bad = utf8_first_invalid(p + off, n - off);
        if (bad == n - off) {
            break;
        }
        if (s->stats.invalid_utf8 == 0) {
            s->stats.first_invalid = base + w->own_from + off + bad;
            if (s->flags & BARRA_SCAN_LINES) {
                lines_advance(s, w->buf, base, s->stats.first_invalid);
                s->stats.first_invalid_line = s->line_no;
            }
        }
        s->stats.invalid_utf8++;
        off += bad + 1;
    }
}

static int cmp_emit(const void *a, const void *b, void *ctx)
{
    const struct det_cand *cands = ctx;
    const struct det_cand *x = &cands[*(const uint32_t *)a], *y = &cands[*(const uint32_t *)b];
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (x->end != y->end) {
        return x->end < y->end ? -1 : 1;
    }
    return (int)x->type - (int)y->type;
}

static bool owned_choice(const struct det_cand *c, const struct det_window *w)
{
    return c->chosen && c->start >= w->own_from && c->start < w->own_to;
}

static int emit(barra_scanner_t *s, const struct det_window *w, uint64_t base, barra_finding_fn fn,
                void *ud)
{
    size_t n = 0;
    for (size_t i = 0; i < s->ncands; i++) {
        n += owned_choice(&s->cands[i], w);
    }
    if (n == 0) {
        return 0;
    }
    /* Identifiers (cands[0, nident)) are in order of start already; terms follow in the order
     * of their ends. Both are put in one order by a merge, not a sort of them all. */
    uint32_t *order = barra_reallocarray(NULL, 2 * n, sizeof(uint32_t)), *terms;
    if (order == NULL) {
        return -BARRA_ENOMEM;
    }
    size_t nid = 0, nterms = 0;
    for (size_t i = 0; i < s->nident; i++) {
        if (owned_choice(&s->cands[i], w)) {
            order[n + nid++] = (uint32_t)i;
        }
    }
    terms = order + n + nid;
    for (size_t i = s->nident; i < s->ncands; i++) {
        if (owned_choice(&s->cands[i], w)) {
            terms[nterms++] = (uint32_t)i;
        }
    }
    bool sorted = true;
    for (size_t i = 1; i < nterms && sorted; i++) {
        sorted = cmp_emit(&terms[i - 1], &terms[i], s->cands) <= 0;
    }
    if (!sorted) {
        qsort_r(terms, nterms, sizeof(uint32_t), cmp_emit, s->cands);
    }
    const uint32_t *ids = order + n;
    for (size_t i = 0, a = 0, b = 0; i < n; i++) {
        bool take_id = b == nterms || (a < nid && cmp_emit(&ids[a], &terms[b], s->cands) <= 0);
        order[i] = take_id ? ids[a++] : terms[b++];
    }
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        const struct det_cand *c = &s->cands[order[i]];
        const struct det_type *t = &s->cat->types[c->type];
        struct barra_finding f = {
            .type = t->name,
            .subtype = c->subtype,
            .category = (c->flags & BARRA_FINDING_MINOR) && t->kind == DET_KIND_IDENTIFIER
                            ? "minor"
                            : c->category,
            .jurisdiction = c->jurisdiction,
            .start = base + c->start,
            .end = base + c->end,
            .score = (double)c->score,
            .flags = c->flags,
            .birth_date = c->birth,
            .value = (const char *)w->buf + c->start,
            .value_len = c->end - c->start,
        };
        if (c->norm_len) {
            f.normalized = s->norm.data + c->norm_off;
            f.normalized_len = c->norm_len;
        } else {
            f.normalized = f.value;
            f.normalized_len = f.value_len;
        }
        if (s->flags & BARRA_SCAN_LINES) {
            lines_advance(s, w->buf, base, f.start);
            f.line = s->line_no;
            f.column = f.start - s->line_start + 1;
        }
        if (fn(&f, ud) != 0) {
            r = -BARRA_ECANCELED;
        }
    }
    barra_free(order);
    return r;
}

static int scan_window(barra_scanner_t *s, const struct det_window *w, uint64_t base,
                       barra_finding_fn fn, void *ud)
{
    if (s->flags & BARRA_SCAN_CHECK_UTF8) {
        check_utf8(s, w, base);
    }
    s->stats.bytes += w->own_to - w->own_from;
    if (s->progress) {
        s->progress(s->stats.bytes, s->progress_data);
    }
    int r = det_find_hits(s, w);
    r = r ? r : det_find_candidates(s, w);
    if (r == 0) {
        det_score_candidates(s, w);
        r = det_choose_findings(s, w);
    }
    r = r ? r : emit(s, w, base, fn, ud);
    /* The window's normalised values may hold personal data. */
    if (s->norm.data) {
        explicit_bzero(s->norm.data, s->norm.len);
    }
    buf_clear(&s->norm);
    return r;
}

/* The first feed after a finished stream (or a one-shot scan) starts a new stream from scratch. */
static void begin_stream_if_needed(barra_scanner_t *s)
{
    if (s->stats_final) {
        memset(&s->stats, 0, sizeof(s->stats));
        s->stats_final = false;
        s->line_pos = 0;
        s->line_no = 1;
        s->line_start = 0;
    }
}

static void reset_stream(barra_scanner_t *s)
{
    if (s->win.data) {
        explicit_bzero(s->win.data, s->win.len);
    }
    buf_clear(&s->win);
    s->win_base = 0;
    s->own_from = 0;
    s->line_pos = 0;
    s->line_no = 1;
    s->line_start = 0;
    s->stats_final = true;
    s->nlabel = 0;
}

/* Where the owned part that starts at `from` should end: DET_CHUNK later, moved back so that it
 * does not split a character. */
static size_t chunk_end(const uint8_t *b, size_t len, size_t from)
{
    if (len - from <= DET_CHUNK) {
        return len;
    }
    size_t to = from + DET_CHUNK;
    for (int i = 0; i < 3 && to > from && (b[to] & 0xC0) == 0x80; i++) {
        to--;
    }
    return to;
}

BARRA_EXPORT int barra_scanner_scan(barra_scanner_t *s, const char *text, size_t len,
                                    const char *label, size_t label_len, barra_finding_fn fn,
                                    void *userdata)
{
    if (s == NULL || (text == NULL && len) || fn == NULL) {
        return -BARRA_EINVAL;
    }
    memset(&s->stats, 0, sizeof(s->stats));
    s->line_pos = 0;
    s->line_no = 1;
    s->line_start = 0;
    /* The text is contiguous already: each owned part is scanned in place, with its margins. */
    const uint8_t *b = (const uint8_t *)(text ? text : "");
    s->lines_text = b;
    int r = det_find_label_hits(s, label, label ? label_len : 0);
    for (size_t from = 0; r == 0 && (from < len || from == 0);) {
        size_t to = chunk_end(b, len, from);
        size_t lo = from > DET_MARGIN ? from - DET_MARGIN : 0;
        size_t hi = len - to > DET_MARGIN ? to + DET_MARGIN : len;
        struct det_window w = {b + lo, hi - lo, from - lo, to - lo, lo == 0, hi == len};
        r = scan_window(s, &w, lo, fn, userdata);
        if (to >= len) {
            break;
        }
        from = to;
    }
    s->lines_text = NULL;
    s->nlabel = 0;
    s->stats_final = true;
    return r;
}

/* Scans the next owned part of the window and drops what no later part needs. */
static int advance_window(barra_scanner_t *s, bool at_end, barra_finding_fn fn, void *ud)
{
    const uint8_t *b = (const uint8_t *)(s->win.data ? s->win.data : "");
    size_t own_to = s->win.len;
    if (!at_end) {
        own_to = s->own_from + DET_CHUNK;
        /* Never split a character between two owned parts. */
        for (int i = 0; i < 3 && own_to > s->own_from && (b[own_to] & 0xC0) == 0x80; i++) {
            own_to--;
        }
    }
    struct det_window w = {b, s->win.len, s->own_from, own_to, s->win_base == 0, at_end};
    int r = scan_window(s, &w, s->win_base, fn, ud);
    if (r < 0 || at_end) {
        return r;
    }
    size_t drop = own_to > DET_MARGIN ? own_to - DET_MARGIN : 0;
    if (s->flags & BARRA_SCAN_LINES) {
        lines_advance(s, b, s->win_base, s->win_base + drop);
    }
    explicit_bzero(s->win.data, drop);
    memmove(s->win.data, s->win.data + drop, s->win.len - drop);
    s->win.len -= drop;
    s->win_base += drop;
    s->own_from = own_to - drop;
    return 0;
}

BARRA_EXPORT int barra_scanner_feed(barra_scanner_t *s, const char *data, size_t len,
                                    barra_finding_fn fn, void *userdata)
{
    if (s == NULL || (data == NULL && len) || fn == NULL) {
        return -BARRA_EINVAL;
    }
    begin_stream_if_needed(s);
    const size_t window_max = DET_CHUNK + 3 * DET_MARGIN;
    while (len > 0) {
        size_t room = window_max - s->win.len;
        size_t take = len < room ? len : room;
        int r = buf_append(&s->win, data, take);
        if (r < 0) {
            return r;
        }
        data += take;
        len -= take;
        while (s->win.len >= s->own_from + DET_CHUNK + DET_MARGIN) {
            r = advance_window(s, false, fn, userdata);
            if (r < 0) {
                reset_stream(s);
                return r;
            }
        }
    }
    return 0;
}

BARRA_EXPORT int barra_scanner_finish(barra_scanner_t *s, barra_finding_fn fn, void *userdata)
{
    if (s == NULL || fn == NULL) {
        return -BARRA_EINVAL;
    }
    begin_stream_if_needed(s);
    int r = advance_window(s, true, fn, userdata);
    reset_stream(s);
    return r;
}
