/* SPDX-License-Identifier: Apache-2.0 */
/* CSV rows however the bytes arrive: quoting, embedded newlines, CRLF, limits, broken quotes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <barra/extract.h>

struct rows {
    char text[2048];
    size_t len;
    int errors;
};

static int on_row(const struct barra_csv_cell *cells, size_t n, uint64_t line, void *ud)
{
    struct rows *r = ud;
    r->len += (size_t)snprintf(r->text + r->len, sizeof(r->text) - r->len,
                               "%llu:", (unsigned long long)line);
    for (size_t i = 0; i < n; i++) {
        r->len += (size_t)snprintf(r->text + r->len, sizeof(r->text) - r->len, "[%.*s]",
                                   (int)cells[i].value_len, cells[i].value);
    }
    r->len += (size_t)snprintf(r->text + r->len, sizeof(r->text) - r->len, "\n");
    return 0;
}

static void on_error(const struct barra_error *err, void *ud)
{
    (void)err;
    ((struct rows *)ud)->errors++;
}

static void run(const char *input, size_t step, size_t max, char delim, struct rows *r)
{
    barra_csv_t *c;
    struct barra_error err;
    assert_int_equal(barra_csv_new(delim, max, &c, &err), 0);
    memset(r, 0, sizeof(*r));
    size_t n = strlen(input);
    for (size_t off = 0; off < n; off += step) {
        size_t k = n - off < step ? n - off : step;
        assert_int_equal(barra_csv_feed(c, input + off, k, on_row, on_error, r), 0);
    }
    assert_int_equal(barra_csv_finish(c, on_row, on_error, r), 0);
    barra_csv_free(c);
}

static void test_quoting_any_cut(void **state)
{
    (void)state;
    const char *in =
        "name,id\r\n\"Chan, Tai Man\",\"A123456(3)\"\r\n\"multi\nline\",\"say \"\"hi\"\"\"\nlast,row";
    const char *want = "1:[name][id]\n2:[Chan, Tai Man][A123456(3)]\n3:[multi\nline][say \"hi\"]\n"
                       "5:[last][row]\n";
    for (size_t step = 1; step <= strlen(in); step++) {
        struct rows r;
        run(in, step, 1000, ',', &r);
        assert_string_equal(r.text, want);
        assert_int_equal(r.errors, 0);
    }
}

static void test_tsv_and_limits(void **state)
{
    (void)state;
    struct rows r;
    run("a\tb\nxxxxxxxxxxxxxxxxxxxxxxxx\tc\nd\te\n", 5, 10, '\t', &r);
    assert_string_equal(r.text, "1:[a][b]\n3:[d][e]\n");
    assert_int_equal(r.errors, 1);
    run("ok,1\n\"never closed,2\n", 3, 100, ',', &r);
    assert_string_equal(r.text, "1:[ok][1]\n");
    assert_int_equal(r.errors, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quoting_any_cut),
        cmocka_unit_test(test_tsv_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
