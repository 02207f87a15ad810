/* SPDX-License-Identifier: Apache-2.0 */
/* The scanner's working state, shared by detect-scan.c (streaming and emission),
 * detect-candidates.c (finding candidates) and detect-score.c (context, overlaps, terms). Private
 * to src/detect/. */
#ifndef BARRA_DETECT_SCAN_INT_H
#define BARRA_DETECT_SCAN_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/detect.h>

#include "core/buf.h"
#include "detect/detect-int.h"

/* Longest candidate, in bytes; no identifier is longer (the longest shapes are ~25 characters). */
#define DET_MAX_CANDIDATE 160
/* Characters looked at before a trigger for a candidate's start (letters, '+', a province). */
#define DET_MAX_LEAD 4

struct barra_detector {
    _Atomic uint32_t refs;
    struct det_catalog *cat;
    float min_score;
    int32_t today;
};

/* A keyword occurrence. Offsets are into the window; label hits have `label` set and no offsets. */
struct det_hit {
    uint32_t start, end;
    uint32_t kw;
    bool label;
    bool shadowed; /* inside a longer hit ("ID" in "order ID"): says nothing on its own */
};

/* A place where a candidate may start: a digit run worth a look, or an '@'. */
struct det_trigger {
    uint32_t pos, end; /* end: where the digit run ends */
    bool at;
};

struct det_region {
    size_t lo, hi;
};

struct det_cand {
    uint32_t start, end; /* window offsets */
    float base;          /* before context */
    float score;
    uint16_t type;
    uint16_t pattern; /* UINT16_MAX for terms */
    uint32_t flags;   /* BARRA_FINDING_* */
    const char *subtype, *jurisdiction, *category;
    int32_t birth;
    uint32_t norm_off; /* into barra_scanner.norm */
    uint32_t norm_len;
    bool chosen;
};

struct barra_scanner {
    barra_detector_t *det;
    const struct det_catalog *cat;
    hs_scratch_t *hs;
    uint32_t flags;
    float min_score;
    int32_t today;

    struct det_hit *hits;
    size_t nhits, caphits;
    struct det_hit *label_hits;
    size_t nlabel, caplabel;
    struct det_cand *cands;
    size_t ncands, capcands;
    size_t nident; /* cands[0, nident) are identifiers, in order of start; terms follow */
    struct det_cand *cands_spare; /* where det_sort_candidates() merges to */
    size_t capcands_spare;
    struct det_trigger *trigs;
    size_t ntrigs, captrigs;
    struct det_region *regions;
    size_t capregions;
    struct buf norm; /* normalised values of this window's candidates */

    /* Streaming: the window holds context before the owned part and look-ahead after it. */
    struct buf win;
    uint64_t win_base; /* stream offset of win.data[0] */
    size_t own_from;   /* window offset where the next owned part starts */
    bool stream_started;

    /* Line counting for BARRA_SCAN_LINES: the line number and line start at stream offset line_pos.
     */
    uint64_t line_pos;
    uint64_t line_no;
    uint64_t line_start;
    const uint8_t *lines_text; /* the whole text during barra_scanner_scan() */

    barra_progress_fn progress;
    void *progress_data;

    struct barra_scan_stats stats;
    bool stats_final; /* stats belong to a finished stream: reset on the next feed */
};

#if defined(__x86_64__) && defined(__GNUC__)
#define DET_HAVE_AVX2_PATH 1
#endif

/* Whether the CPU runs the AVX2 versions of the byte loops. */
static inline bool det_have_avx2(void)
{
#ifdef DET_HAVE_AVX2_PATH
    return __builtin_cpu_supports("avx2");
#else
    return false;
#endif
}

/* What one window scan is about. */
struct det_window {
    const uint8_t *buf;
    size_t len;
    size_t own_from, own_to; /* findings starting here are this window's to report */
    bool at_start, at_end;   /* the window begins / ends the stream */
};

/* detect-candidates.c: keyword hits, then candidates from digits, '@' and trigger keywords. */
int det_find_hits(struct barra_scanner *s, const struct det_window *w);
int det_find_label_hits(struct barra_scanner *s, const char *label, size_t len);
/* Leaves the candidates in order (det_sort_candidates). */
int det_find_candidates(struct barra_scanner *s, const struct det_window *w);
/* Puts the candidates in order of start, then end, then type (stable). */
int det_sort_candidates(struct barra_scanner *s);

/* detect-score.c: context scores, then the best non-overlapping findings and the terms. The
 * candidates must be in order, as det_find_candidates() leaves them. */
void det_score_candidates(struct barra_scanner *s, const struct det_window *w);
int det_choose_findings(struct barra_scanner *s, const struct det_window *w);

int det_cand_push(struct barra_scanner *s, const struct det_cand *c);

#endif
