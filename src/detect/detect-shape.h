/* SPDX-License-Identifier: Apache-2.0 */
/* Shapes: a small regular-expression dialect over folded code points (documented in
 * docs/entities.md), compiled into one DFA per trigger kind. Every pattern is anchored at a
 * candidate start; the DFA reports which patterns accept at each position. */
#ifndef BARRA_DETECT_SHAPE_H
#define BARRA_DETECT_SHAPE_H

#include <stdint.h>

#include <barra/error.h>

#include "detect/detect-int.h"

struct det_shape_builder;

/* Returns owned; free with det_shape_builder_free(). NULL on out of memory. */
struct det_shape_builder *det_shape_builder_new(void);
struct det_shape_builder *det_shape_builder_free(struct det_shape_builder *b);

/* Parses `regex` and adds it as pattern `pattern_id`. Syntax errors name the column. */
int det_shape_add(struct det_shape_builder *b, const char *regex, uint16_t pattern_id,
                  struct barra_error *reterr);

/* Builds the DFA of every pattern added so far into *ret (owned; free with det_dfa_done()). */
int det_shape_build(struct det_shape_builder *b, struct det_dfa *ret, struct barra_error *reterr);

void det_dfa_done(struct det_dfa *d);

/* Computes d->can_start from the transitions (after building or loading). */
int det_dfa_derive(struct det_dfa *d);

/* Whether a match can begin with folded code point cp. */
static inline bool det_dfa_can_start(const struct det_dfa *d, uint32_t cp)
{
    return cp < 0x10000 && (d->can_start[cp >> 3] >> (cp & 7)) & 1;
}

/* The character class of a folded code point. */
static inline uint16_t det_dfa_class(const struct det_dfa *d, uint32_t cp)
{
    if (cp < 128) {
        return d->ascii_class[cp];
    }
    /* Binary search for the last range starting at or before cp. */
    uint32_t lo = 0, hi = d->nranges;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (d->range_lo[mid] <= cp) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo == 0 ? 0 : d->range_class[lo - 1];
}

static inline uint32_t det_dfa_next(const struct det_dfa *d, uint32_t state, uint32_t cp)
{
    return d->trans[(size_t)state * d->nclasses + det_dfa_class(d, cp)];
}

#endif
