/* SPDX-License-Identifier: Apache-2.0 */
/* The scanner as a whole: findings and offsets on known text, the same findings however a stream is
 * cut (the window logic), labels, line numbers, UTF-8 statistics, options. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <barra/detect.h>

struct rec {
    char type[40];
    uint64_t start, end, line, column;
    uint32_t flags;
    char norm[80];
};

struct recs {
    struct rec *v;
    size_t n, cap;
};

static int collect(const struct barra_finding *f, void *ud)
{
    struct recs *r = ud;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = realloc(r->v, r->cap * sizeof(*r->v));
        assert_non_null(r->v);
    }
    struct rec *x = &r->v[r->n++];
    memset(x, 0, sizeof(*x));
    snprintf(x->type, sizeof(x->type), "%s", f->type);
    x->start = f->start;
    x->end = f->end;
    x->line = f->line;
    x->column = f->column;
    x->flags = f->flags;
    snprintf(x->norm, sizeof(x->norm), "%.*s", (int)f->normalized_len, f->normalized);
    return 0;
}

static barra_detector_t *det;

static int setup(void **state)
{
    (void)state;
    struct barra_detector_options o;
    barra_detector_options_init(&o);
    o.reference_date = 20261123;
    struct barra_error err;
    return barra_detector_new(&o, &det, &err);
}

static int teardown(void **state)
{
    (void)state;
    barra_detector_unref(det);
    return 0;
}

static struct recs scan_text(const char *text, size_t len, uint32_t flags)
{
    barra_scanner_t *s;
    struct barra_error err;
    assert_int_equal(barra_scanner_new(det, flags, &s, &err), 0);
    struct recs r = {0};
    assert_int_equal(barra_scanner_scan(s, text, len, NULL, 0, collect, &r), 0);
    barra_scanner_free(s);
    return r;
}

static const struct rec *find_type(const struct recs *r, const char *type)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].type, type) == 0) {
            return &r->v[i];
        }
    }
    return NULL;
}

static void test_offsets_in_original_bytes(void **state)
{
    (void)state;
    /* Full-width digits and brackets: the finding spans the original bytes, normalised to ASCII. */
    const char *t = "身份證：Ａ１２３４５６（３）謝謝";
    struct recs r = scan_text(t, strlen(t), 0);
    const struct rec *f = find_type(&r, "hk_id_card");
    assert_non_null(f);
    assert_int_equal(f->start, strlen("身份證："));
    assert_int_equal(f->end, strlen("身份證：Ａ１２３４５６（３）"));
    assert_string_equal(f->norm, "A1234563");
    free(r.v);
}

static void test_glued_to_chinese_and_masked(void **state)
{
    (void)state;
    const char *t = "身份证11010519491231002x请核对，电话138****5678";
    struct recs r = scan_text(t, strlen(t), 0);
    const struct rec *id = find_type(&r, "cn_resident_id");
    assert_non_null(id);
    assert_string_equal(id->norm, "11010519491231002X");
    const struct rec *ph = find_type(&r, "phone_cn");
    assert_non_null(ph);
    assert_true(ph->flags & BARRA_FINDING_MASKED);
    free(r.v);
}

static void test_lines_and_columns(void **state)
{
    (void)state;
    const char *t = "first line\nsecond 13812345678\n\nfourth: a@example.com\n";
    struct recs r = scan_text(t, strlen(t), BARRA_SCAN_LINES);
    const struct rec *ph = find_type(&r, "phone_cn");
    const struct rec *em = find_type(&r, "email");
    assert_non_null(ph);
    assert_non_null(em);
    assert_int_equal(ph->line, 2);
    assert_int_equal(ph->column, 8);
    assert_int_equal(em->line, 4);
    assert_int_equal(em->column, 9);
    free(r.v);
}

/* A long text with identifiers everywhere, including across the 1 MiB parts the scanner works in.
 */
static char *long_text(size_t *ret_len)
{
    static const char *const pieces[] = {
        "身份证号码：11010519491231002X，",
        "普通聊天内容，没有个人资料。",
        "HKID A123456(3) ",
        "電話 +853 6612 3456 ",
        "卡号 6225 8800 1234 5675\n",
        "email chan.taiman@example.com.hk ",
        "订单号 11010519491231002X ",
        "出生日期：1990年3月7日 ",
        "诊断 糖尿病 ",
        "MOP 12345678 ",
        "澳門身份證 1234567(8) ",
        "Q3 results in room 12 ",
        "Exit-Entry Permit C12345678 ",
    };
    size_t cap = 3u << 20, len = 0;
    char *t = malloc(cap + 256);
    assert_non_null(t);
    uint32_t x = 12345;
    while (len < cap) {
        x = x * 1103515245u + 12345u;
        const char *p = pieces[(x >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
        size_t n = strlen(p);
        memcpy(t + len, p, n);
        len += n;
    }
    *ret_len = len;
    return t;
}

static bool same(const struct recs *a, const struct recs *b)
{
    if (a->n != b->n) {
        print_error("%zu findings against %zu\n", a->n, b->n);
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        const struct rec *x = &a->v[i], *y = &b->v[i];
        if (strcmp(x->type, y->type) || x->start != y->start || x->end != y->end ||
            x->line != y->line || x->column != y->column) {
            print_error("finding %zu differs: %s %llu-%llu vs %s %llu-%llu\n", i, x->type,
                        (unsigned long long)x->start, (unsigned long long)x->end, y->type,
                        (unsigned long long)y->start, (unsigned long long)y->end);
            return false;
        }
    }
    return true;
}

static void test_stream_equals_whole(void **state)
{
    (void)state;
    size_t len;
    char *t = long_text(&len);
    struct recs whole = scan_text(t, len, BARRA_SCAN_LINES);
    assert_true(whole.n > 10000);
    const size_t cuts[] = {1, 7, 4093, 65536, (1u << 20) + 3};
    for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
        barra_scanner_t *s;
        struct barra_error err;
        assert_int_equal(barra_scanner_new(det, BARRA_SCAN_LINES, &s, &err), 0);
        struct recs part = {0};
        size_t step = cuts[k];
        /* Feeding 1 byte at a time is slow: only for the first 200 KB. */
        size_t limit = step == 1 ? 200000 : len;
        if (step == 1) {
            free(whole.v);
            whole = scan_text(t, limit, BARRA_SCAN_LINES);
        }
        for (size_t off = 0; off < limit; off += step) {
            size_t n = limit - off < step ? limit - off : step;
            assert_int_equal(barra_scanner_feed(s, t + off, n, collect, &part), 0);
        }
        assert_int_equal(barra_scanner_finish(s, collect, &part), 0);
        assert_true(same(&whole, &part));
        if (step == 1) {
            free(whole.v);
            whole = scan_text(t, len, BARRA_SCAN_LINES);
        }
        free(part.v);
        barra_scanner_free(s);
    }
    free(whole.v);
    free(t);
}

static void test_label_is_context(void **state)
{
    (void)state;
    barra_scanner_t *s;
    struct barra_error err;
    assert_int_equal(barra_scanner_new(det, 0, &s, &err), 0);
    struct recs r = {0};
    /* An 8-digit number alone is nothing; under the column "藍卡號碼" it is a worker card. */
    assert_int_equal(barra_scanner_scan(s, "29212316", 8, NULL, 0, collect, &r), 0);
    assert_int_equal(r.n, 0);
    const char *label = "藍卡號碼";
    assert_int_equal(barra_scanner_scan(s, "29212316", 8, label, strlen(label), collect, &r), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.v[0].type, "mo_worker_card");
    free(r.v);
    barra_scanner_free(s);
}

static void test_utf8_stats(void **state)
{
    (void)state;
    barra_scanner_t *s;
    struct barra_error err;
    assert_int_equal(barra_scanner_new(det, BARRA_SCAN_CHECK_UTF8 | BARRA_SCAN_LINES, &s, &err), 0);
    struct recs r = {0};
    const char t[] = "ok\nbad \xff\xfe here 13812345678\n\xc3";
    assert_int_equal(barra_scanner_scan(s, t, sizeof(t) - 1, NULL, 0, collect, &r), 0);
    struct barra_scan_stats st;
    barra_scanner_stats(s, &st);
    assert_int_equal(st.invalid_utf8, 3);
    assert_int_equal(st.first_invalid, 7);
    assert_int_equal(st.first_invalid_line, 2);
    /* The valid text around is still classified. */
    assert_non_null(find_type(&r, "phone_cn"));
    free(r.v);
    barra_scanner_free(s);
}

static void test_options(void **state)
{
    (void)state;
    struct barra_detector_options o;
    barra_detector_options_init(&o);
    barra_detector_t *d = NULL;
    struct barra_error err;
    o.reference_date = 20261331;
    assert_int_equal(barra_detector_new(&o, &d, &err), -BARRA_EINVAL);
    assert_null(d);
    o.reference_date = 0;
    o.min_score = 1.5;
    assert_int_equal(barra_detector_new(&o, &d, &err), -BARRA_EINVAL);
    o.min_score = 0.99;
    assert_int_equal(barra_detector_new(&o, &d, &err), 0);
    barra_scanner_t *s;
    assert_int_equal(barra_scanner_new(d, 0, &s, &err), 0);
    struct recs r = {0};
    /* A plain HKID scores below 0.99 without a keyword. */
    assert_int_equal(barra_scanner_scan(s, "see A1234563", 12, NULL, 0, collect, &r), 0);
    assert_int_equal(r.n, 0);
    barra_scanner_free(s);
    barra_detector_unref(d);
    assert_int_equal(strlen(barra_detector_rules_version(det)), 64);
    assert_true(barra_detector_type_count(det) >= 27);
    free(r.v);
}

static int stop_first(const struct barra_finding *f, void *ud)
{
    (void)f;
    (*(int *)ud)++;
    return 1;
}

static void test_callback_stops(void **state)
{
    (void)state;
    barra_scanner_t *s;
    struct barra_error err;
    assert_int_equal(barra_scanner_new(det, 0, &s, &err), 0);
    int calls = 0;
    const char *t = "13812345678 13912345678";
    assert_int_equal(barra_scanner_scan(s, t, strlen(t), NULL, 0, stop_first, &calls),
                     -BARRA_ECANCELED);
    assert_int_equal(calls, 1);
    barra_scanner_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets_in_original_bytes),
        cmocka_unit_test(test_glued_to_chinese_and_masked),
        cmocka_unit_test(test_lines_and_columns),
        cmocka_unit_test(test_stream_equals_whole),
        cmocka_unit_test(test_label_is_context),
        cmocka_unit_test(test_utf8_stats),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_callback_stops),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
