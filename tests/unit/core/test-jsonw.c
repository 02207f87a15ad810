/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON writer: escaping, broken UTF-8, numbers, and a failure that sticks. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <barra/error.h>

#include "core/alloc.h"
#include "core/jsonw.h"

static void check_string(const char *in, size_t n, const char *want)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(jsonw_string_n(&b, in, n), 0);
    assert_string_equal(b.data, want);
    buf_done(&b);
}

static void test_strings(void **state)
{
    (void)state;
    check_string("plain", 5, "\"plain\"");
    check_string("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    check_string("l1\nl2\r\t", 7, "\"l1\\nl2\\r\\t\"");
    check_string("\x01\x1f", 2, "\"\\u0001\\u001f\"");
    check_string("澳門 ção", strlen("澳門 ção"), "\"澳門 ção\"");
    /* A lone continuation byte, a truncated sequence and an overlong form become U+FFFD. */
    check_string("a\x80z", 3, "\"a\xef\xbf\xbdz\"");
    check_string("\xe6\xbe", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    check_string("\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    check_string("", 0, "\"\"");
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(jsonw_string(&b, NULL), 0);
    assert_string_equal(b.data, "null");
    buf_done(&b);
}

static void test_numbers(void **state)
{
    (void)state;
    struct {
        double v;
        const char *want;
    } scores[] = {{0, "0"},         {1, "1"},      {0.5, "0.5"},
                  {0.992, "0.992"}, {0.9999, "1"}, {0.25, "0.25"}};
    for (size_t i = 0; i < sizeof(scores) / sizeof(scores[0]); i++) {
        struct buf b;
        buf_init(&b, 0);
        assert_int_equal(jsonw_score(&b, scores[i].v), 0);
        assert_string_equal(b.data, scores[i].want);
        buf_done(&b);
    }
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(jsonw_uint(&b, 18446744073709551615u), 0);
    assert_string_equal(b.data, "18446744073709551615");
    buf_done(&b);
}

static void test_sticky_failure(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(jsonw_key(&b, "k"), 0);
    assert_int_equal(jsonw_string(&b, "too long for the limit"), -BARRA_ELIMIT);
    /* A later write that would fit still fails: the record is already incomplete. */
    assert_int_equal(jsonw_uint(&b, 1), -BARRA_ELIMIT);
    assert_int_equal(b.err, -BARRA_ELIMIT);
    buf_clear(&b);
    assert_int_equal(jsonw_uint(&b, 1), 0);
    buf_done(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_sticky_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
