/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "core/utf8.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define UTF8_HAVE_AVX2_PATH 1
#endif

#include "core/banned.h"

size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t utf8_first_invalid(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    const uint8_t *end = p + n;
    const uint8_t *q = p;
    while (q < end) {
        /* Skip ASCII eight bytes at a time. */
        while (end - q >= 8) {
            uint64_t w;
            memcpy(&w, q, 8);
            if (w & 0x8080808080808080ull) {
                break;
            }
            q += 8;
        }
        if (q >= end) {
            break;
        }
        uint32_t cp;
        size_t len = utf8_decode(q, end, &cp);
        if (cp == UTF8_REPLACEMENT && len == 1 && q[0] >= 0x80) {
            /* U+FFFD itself is encoded EF BF BD (length 3), so length 1 here always means invalid.
             */
            return (size_t)(q - p);
        }
        q += len;
    }
    return n;
}

size_t utf8_complete_prefix(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    /* Look at most 3 bytes back for the start of a sequence that needs more bytes than remain. */
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        uint8_t b = p[n - back];
        if ((b & 0xC0) == 0x80) {
            continue;
        }
        size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
        return need > back ? n - back : n;
    }
    return n;
}

#ifdef UTF8_HAVE_AVX2_PATH
/* Vectorised validation after the lookup-table method of Keiser and Lemire ("Validating UTF-8 in
 * less than one instruction per byte", 2021): three 16-entry tables indexed by the high and low
 * nibble of the previous byte and the high nibble of the current byte flag every invalid two-byte
 * combination; a separate test covers the third and fourth bytes of long sequences. */
enum {
    TOO_SHORT = 1 << 0,
    TOO_LONG = 1 << 1,
    OVERLONG_3 = 1 << 2,
    TOO_LARGE = 1 << 3,
    SURROGATE = 1 << 4,
    OVERLONG_2 = 1 << 5,
    TOO_LARGE_1000 = 1 << 6,
    OVERLONG_4 = 1 << 6,
    TWO_CONTS = 1 << 7,
    CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS,
};

/* The byte tables as (char) values: _mm256_setr_epi8 takes char, the flags go up to 0x80 and above.
 */
#define C(x) ((char)(x))
#define TABLE16(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p)                                    \
    _mm256_setr_epi8(C(a), C(b), C(c), C(d), C(e), C(f), C(g), C(h), C(i), C(j), C(k), C(l), C(m), \
                     C(n), C(o), C(p), C(a), C(b), C(c), C(d), C(e), C(f), C(g), C(h), C(i), C(j), \
                     C(k), C(l), C(m), C(n), C(o), C(p))

__attribute__((target("avx2"))) static inline __m256i prev_bytes(__m256i input, __m256i prev_input,
                                                                 int n)
{
    __m256i straddle = _mm256_permute2x128_si256(prev_input, input, 0x21);
    switch (n) {
    case 1:
        return _mm256_alignr_epi8(input, straddle, 15);
    case 2:
        return _mm256_alignr_epi8(input, straddle, 14);
    default:
        return _mm256_alignr_epi8(input, straddle, 13);
    }
}

__attribute__((target("avx2"))) static inline __m256i block_errors(__m256i input,
                                                                   __m256i prev_input)
{
    const __m256i byte_1_high_table = TABLE16(
        TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TWO_CONTS,
        TWO_CONTS, TWO_CONTS, TWO_CONTS, TOO_SHORT | OVERLONG_2, TOO_SHORT,
        TOO_SHORT | OVERLONG_3 | SURROGATE, TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
    const __m256i byte_1_low_table =
        TABLE16(CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
                CARRY | TOO_LARGE, CARRY | TOO_LARGE | TOO_LARGE_1000,
                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000);
    const __m256i byte_2_high_table = TABLE16(
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE, TOO_SHORT, TOO_SHORT, TOO_SHORT,
        TOO_SHORT);
    const __m256i nibble = _mm256_set1_epi8(0x0F);

    __m256i prev1 = prev_bytes(input, prev_input, 1);
    __m256i b1h = _mm256_shuffle_epi8(byte_1_high_table,
                                      _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nibble));
    __m256i b1l = _mm256_shuffle_epi8(byte_1_low_table, _mm256_and_si256(prev1, nibble));
    __m256i b2h = _mm256_shuffle_epi8(byte_2_high_table,
                                      _mm256_and_si256(_mm256_srli_epi16(input, 4), nibble));
    __m256i special = _mm256_and_si256(_mm256_and_si256(b1h, b1l), b2h);

    __m256i prev2 = prev_bytes(input, prev_input, 2);
    __m256i prev3 = prev_bytes(input, prev_input, 3);
    __m256i third = _mm256_subs_epu8(prev2, _mm256_set1_epi8((char)(0xE0 - 0x80)));
    __m256i fourth = _mm256_subs_epu8(prev3, _mm256_set1_epi8((char)(0xF0 - 0x80)));
    __m256i must23 = _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8((char)0x80));
    return _mm256_xor_si256(must23, special);
}

/* Non-zero where the block ends inside a multi-byte sequence. */
__attribute__((target("avx2"))) static inline __m256i block_incomplete(__m256i input)
{
    const __m256i max_value = _mm256_setr_epi8(
        (char)255, (char)255, (char)255, (char)255, (char)255, (char)255, (char)255, (char)255,
        (char)255, (char)255, (char)255, (char)255, (char)255, (char)255, (char)255, (char)255,
        (char)255, (char)255, (char)255, (char)255, (char)255, (char)255, (char)255, (char)255,
        (char)255, (char)255, (char)255, (char)255, (char)255, (char)(0xF0 - 1), (char)(0xE0 - 1),
        (char)(0xC0 - 1));
    return _mm256_subs_epu8(input, max_value);
}

__attribute__((target("avx2"))) static bool utf8_is_valid_avx2(const uint8_t *p, size_t n)
{
    __m256i error = _mm256_setzero_si256();
    __m256i prev_input = _mm256_setzero_si256();
    __m256i prev_incomplete = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i input = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
        if (_mm256_movemask_epi8(input) == 0) {
            error = _mm256_or_si256(error, prev_incomplete);
        } else {
            error = _mm256_or_si256(error, block_errors(input, prev_input));
            prev_incomplete = block_incomplete(input);
        }
        prev_input = input;
        if ((i & 0x3FF) == 0 && !_mm256_testz_si256(error, error)) {
            return false;
        }
    }
    /* The tail, padded with zeros: an unfinished sequence then fails like a truncated one. */
    uint8_t tail[32] = {0};
    if (n > i) {
        memcpy(tail, p + i, n - i);
    }
    __m256i input = _mm256_loadu_si256((const __m256i *)(const void *)tail);
    error = _mm256_or_si256(error, block_errors(input, prev_input));
    error = _mm256_or_si256(error, block_incomplete(input));
    return _mm256_testz_si256(error, error);
}
#endif

#ifdef UTF8_HAVE_AVX2_PATH
__attribute__((target("avx2,popcnt"))) static size_t count_byte_avx2(const uint8_t *p, size_t n,
                                                                     uint8_t c)
{
    const __m256i needle = _mm256_set1_epi8((char)c);
    size_t count = 0, i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
        count += (size_t)__builtin_popcount(
            (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, needle)));
    }
    for (; i < n; i++) {
        count += p[i] == c;
    }
    return count;
}
#endif

size_t utf8_count_byte(const uint8_t *p, size_t n, uint8_t c)
{
#ifdef UTF8_HAVE_AVX2_PATH
    if (__builtin_cpu_supports("avx2")) {
        return count_byte_avx2(p, n, c);
    }
#endif
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        count += p[i] == c;
    }
    return count;
}

bool utf8_is_valid(const char *p, size_t n)
{
    if (n == 0) {
        return true;
    }
#ifdef UTF8_HAVE_AVX2_PATH
    if (__builtin_cpu_supports("avx2")) {
        return utf8_is_valid_avx2((const uint8_t *)p, n);
    }
#endif
    return utf8_first_invalid(p, n) == n;
}
