/* SPDX-License-Identifier: Apache-2.0 */
/* The shape dialect: parse errors with columns, and the automaton's accepting patterns. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/utf8.h"
#include "detect/detect-shape.h"

/* The ids of the patterns accepting exactly `text` (a bit set), or 0 if none. */
static unsigned accepts(const struct det_dfa *d, const char *text)
{
    const uint8_t *p = (const uint8_t *)text, *end = p + strlen(text);
    uint32_t st = 1;
    while (p < end && st) {
        uint32_t cp;
        p += utf8_decode(p, end, &cp);
        st = det_dfa_next(d, st, cp);
    }
    unsigned set = 0;
    for (uint32_t i = st ? d->accept_index[st] : 0; st && i < d->accept_index[st + 1]; i++) {
        set |= 1u << d->accept_list[i];
    }
    return set;
}

static void test_union_of_patterns(void **state)
{
    (void)state;
    struct det_shape_builder *b = det_shape_builder_new();
    struct barra_error err;
    assert_int_equal(det_shape_add(b, "\\d{6}[ -]?\\d{8}[ -]?\\d{3}[\\dXx]", 0, &err), 0);
    assert_int_equal(det_shape_add(b, "[A-Z]{1,2}\\d{6} ?\\([\\dA]\\)", 1, &err), 0);
    assert_int_equal(det_shape_add(b, "\\d{8}", 2, &err), 0);
    assert_int_equal(det_shape_add(b, "(?:\\+853|853)?\\d{8}", 3, &err), 0);
    assert_int_equal(det_shape_add(b, "[粤粵]Z[A-Z0-9]{4}[港澳]", 4, &err), 0);
    struct det_dfa d;
    assert_int_equal(det_shape_build(b, &d, &err), 0);
    assert_int_equal(accepts(&d, "11010519491231002X"), 1u << 0);
    assert_int_equal(accepts(&d, "110105 19491231 002x"), 1u << 0);
    assert_int_equal(accepts(&d, "A123456(3)"), 1u << 1);
    assert_int_equal(accepts(&d, "AB987654 (3)"), 1u << 1);
    assert_int_equal(accepts(&d, "12345678"), (1u << 2) | (1u << 3));
    assert_int_equal(accepts(&d, "+85366123456"), 1u << 3);
    assert_int_equal(accepts(&d, "粤Z1A2B港"), 1u << 4);
    assert_int_equal(accepts(&d, "1234567"), 0);
    assert_int_equal(accepts(&d, "ABC123456(3)"), 0);
    assert_true(det_dfa_can_start(&d, '+'));
    assert_true(det_dfa_can_start(&d, 0x7CA4));  /* 粤 */
    assert_false(det_dfa_can_start(&d, 0x4E2D)); /* 中 */
    det_dfa_done(&d);
    det_shape_builder_free(b);
}

static void expect_parse_error(const char *re, unsigned column)
{
    struct det_shape_builder *b = det_shape_builder_new();
    struct barra_error err;
    assert_int_equal(det_shape_add(b, re, 0, &err), -BARRA_EPARSE);
    assert_int_equal(err.column, column);
    det_shape_builder_free(b);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_parse_error("ab(c", 5);
    expect_parse_error("a{99}", 4); /* at the digit that makes it too large */
    expect_parse_error("[abc", 5);
    expect_parse_error("a)", 2);
    expect_parse_error("*a", 1);
    expect_parse_error("\\q", 3);
    expect_parse_error("[z-a]", 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_union_of_patterns),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
