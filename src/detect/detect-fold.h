/* SPDX-License-Identifier: Apache-2.0 */
/* Folding of the characters people type into identifiers: full-width forms (what NFKC does to
 * them), space, dash, dot and mask variants, lenticular brackets. Applied per character around
 * candidates only; the scanned text itself is never rewritten, so offsets stay in the original
 * bytes. */
#ifndef BARRA_DETECT_FOLD_H
#define BARRA_DETECT_FOLD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/utf8.h"

static inline uint32_t det_fold(uint32_t cp)
{
    if (cp < 0x80 || (cp >= 0x3400 && cp <= 0xFAFF)) {
        return cp; /* ASCII and CJK ideographs: by far the most common, nothing to fold */
    }
    if (cp >= 0xFF01 && cp <= 0xFF5E) {
        return cp - 0xFEE0; /* full-width ASCII */
    }
    switch (cp) {
    case 0x00A0: /* no-break space */
    case 0x2002: /* en space ... hair space */
    case 0x2003:
    case 0x2004:
    case 0x2005:
    case 0x2006:
    case 0x2007:
    case 0x2008:
    case 0x2009:
    case 0x200A:
    case 0x202F:
    case 0x205F:
    case 0x3000: /* ideographic space */
        return ' ';
    case 0x2010: /* hyphen, non-breaking hyphen, figure dash, en dash, minus */
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2212:
    case 0xFE63:
        return '-';
    case 0x00B7: /* middle dots, as in 京A·12345 */
    case 0x2027:
    case 0x30FB:
    case 0xFF65:
        return '.';
    case 0x3010: /* 【 】 */
        return '(';
    case 0x3011:
        return ')';
    case 0x00D7: /* mask characters: × • ● ∗ ﹡ ✱ */
    case 0x2022:
    case 0x25CF:
    case 0x2217:
    case 0xFE61:
    case 0x2731:
        return '*';
    default:
        return cp;
    }
}

static inline bool det_is_digit(uint32_t cp)
{
    return cp >= '0' && cp <= '9';
}

static inline bool det_is_alpha(uint32_t cp)
{
    return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
}

static inline bool det_is_alnum(uint32_t cp)
{
    return det_is_digit(cp) || det_is_alpha(cp);
}

/* Decodes and folds the character at p. */
static inline uint32_t det_folded_at(const uint8_t *p, const uint8_t *end, size_t *ret_len)
{
    uint32_t cp;
    *ret_len = utf8_decode(p, end, &cp);
    return det_fold(cp);
}

#endif
