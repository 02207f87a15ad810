/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8 validation (SIMD where the CPU has AVX2), decoding and encoding. */
#ifndef BARRA_CORE_UTF8_H
#define BARRA_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT 0xFFFDu

/* Offset of the first byte that does not start a valid UTF-8 sequence, or `n` when all of p[0..n)
 * is valid. A sequence cut off by the end of the buffer counts as invalid. */
size_t utf8_first_invalid(const char *p, size_t n);

/* Whether p[0..n) is valid UTF-8; uses AVX2 when available. */
bool utf8_is_valid(const char *p, size_t n);

/* Length of the longest prefix of p[0..n) that ends on a character boundary: a multi-byte sequence
 * cut off at the end is left out (for validating a stream chunk by chunk). */
size_t utf8_complete_prefix(const char *p, size_t n);

/* Decodes one character at p (p < end). Returns its length in bytes; an invalid or truncated
 * sequence decodes as U+FFFD with length 1. */
static inline size_t utf8_decode(const uint8_t *p, const uint8_t *end, uint32_t *ret_cp)
{
    uint8_t b0 = p[0];
    if (b0 < 0x80) {
        *ret_cp = b0;
        return 1;
    }
    size_t avail = (size_t)(end - p);
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (avail >= 2 && (p[1] & 0xC0) == 0x80) {
            *ret_cp = ((uint32_t)(b0 & 0x1F) << 6) | (p[1] & 0x3F);
            return 2;
        }
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (avail >= 3 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
            uint32_t cp =
                ((uint32_t)(b0 & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
            if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) {
                *ret_cp = cp;
                return 3;
            }
        }
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (avail >= 4 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80) {
            uint32_t cp = ((uint32_t)(b0 & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
                          ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
            if (cp >= 0x10000 && cp <= 0x10FFFF) {
                *ret_cp = cp;
                return 4;
            }
        }
    }
    *ret_cp = UTF8_REPLACEMENT;
    return 1;
}

/* Start of the character that contains byte p[-1], looking back at most 3 bytes and never before
 * `start`. */
static inline const uint8_t *utf8_prev(const uint8_t *start, const uint8_t *p)
{
    const uint8_t *q = p - 1;
    for (int i = 0; i < 3 && q > start && (*q & 0xC0) == 0x80; i++) {
        q--;
    }
    return q;
}

/* How many bytes of p[0..n) equal c (vectorised: line counting runs over every byte). */
size_t utf8_count_byte(const uint8_t *p, size_t n, uint8_t c);

/* Writes the UTF-8 form of cp (<= U+10FFFF, not a surrogate) to out; returns its length. */
size_t utf8_encode(uint32_t cp, char out[4]);

#endif
