/* SPDX-License-Identifier: Apache-2.0 */
/* The vectorised UTF-8 validator must agree with the scalar decoder on every input: crafted edge
 * cases (overlong forms, surrogates, limits, truncation at every position) and random byte strings.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/utf8.h"

static void check_both(const char *p, size_t n, bool expect)
{
    assert_int_equal(utf8_is_valid(p, n), expect);
    assert_int_equal(utf8_first_invalid(p, n) == n, expect);
}

static void test_edge_cases(void **state)
{
    (void)state;
    struct {
        const char *s;
        size_t n;
        bool ok;
    } cases[] = {
        {"", 0, true},
        {"plain ascii", 11, true},
        {"\xc2\x80", 2, true},          /* U+0080 */
        {"\xc1\xbf", 2, false},         /* overlong */
        {"\xe0\x80\x80", 3, false},     /* overlong 3-byte */
        {"\xe0\xa0\x80", 3, true},      /* U+0800 */
        {"\xed\xa0\x80", 3, false},     /* surrogate D800 */
        {"\xed\x9f\xbf", 3, true},      /* U+D7FF */
        {"\xef\xbf\xbd", 3, true},      /* U+FFFD */
        {"\xf0\x90\x80\x80", 4, true},  /* U+10000 */
        {"\xf4\x8f\xbf\xbf", 4, true},  /* U+10FFFF */
        {"\xf4\x90\x80\x80", 4, false}, /* above U+10FFFF */
        {"\xf5\x80\x80\x80", 4, false},
        {"\x80", 1, false},     /* stray continuation */
        {"\xe4\xb8", 2, false}, /* truncated */
        {"身份证", 9, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_both(cases[i].s, cases[i].n, cases[i].ok);
    }
}

/* Every prefix of a long valid text: truncation inside a character must be caught wherever it
 * falls, including across the 32-byte blocks of the vector code. */
static void test_truncation_everywhere(void **state)
{
    (void)state;
    char text[600];
    size_t n = 0;
    while (n + 4 < sizeof(text)) {
        memcpy(text + n,
               n % 7 == 0   ? "a"
               : n % 3 == 0 ? "\xf0\x9f\x98\x80"
                            : "\xe4\xb8\xad",
               n % 7 == 0   ? 1
               : n % 3 == 0 ? 4
                            : 3);
        n += n % 7 == 0 ? 1 : n % 3 == 0 ? 4 : 3;
    }
    for (size_t k = 0; k <= n; k++) {
        bool boundary = k == n || (text[k] & 0xC0) != 0x80;
        check_both(text, k, boundary);
        assert_int_equal(utf8_complete_prefix(text, k) == k, boundary);
    }
}

static void test_random_agreement(void **state)
{
    (void)state;
    uint32_t x = 0x9e3779b9u;
    char buf[257];
    for (int round = 0; round < 200000; round++) {
        size_t n = 0;
        x = x * 1664525u + 1013904223u;
        size_t len = (x >> 8) % sizeof(buf);
        while (n < len) {
            x = x * 1664525u + 1013904223u;
            /* Mostly valid text with rare damage, so both branches are exercised. */
            uint32_t pick = (x >> 12) % 100;
            if (pick < 40) {
                buf[n++] = (char)('a' + (x >> 20) % 26);
            } else if (pick < 80 && n + 3 <= len) {
                char enc[4];
                size_t k = utf8_encode(0x4E00 + (x >> 16) % 0x5000, enc);
                memcpy(buf + n, enc, k);
                n += k;
            } else {
                buf[n++] = (char)(x >> 24);
            }
        }
        assert_int_equal(utf8_is_valid(buf, n), utf8_first_invalid(buf, n) == n);
    }
}

static void test_decode_encode_roundtrip(void **state)
{
    (void)state;
    for (uint32_t cp = 0; cp < 0x110000; cp += (cp < 0x1000 ? 1 : 97)) {
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            continue;
        }
        char enc[4];
        size_t k = utf8_encode(cp, enc);
        uint32_t back;
        assert_int_equal(utf8_decode((const uint8_t *)enc, (const uint8_t *)enc + k, &back), k);
        assert_int_equal(back, cp);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_truncation_everywhere),
        cmocka_unit_test(test_random_agreement),
        cmocka_unit_test(test_decode_encode_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
