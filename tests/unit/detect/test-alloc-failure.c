/* SPDX-License-Identifier: Apache-2.0 */
/* Every allocation made while loading the catalogue, compiling rules and scanning may fail: each is
 * made to fail in turn, and each time the call must return an error (never crash, never leak: the
 * ASan run checks the leaks). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <barra/detect.h>
#include <barra/extract.h>

#include "core/alloc.h"

static int count(const struct barra_finding *f, void *ud)
{
    (void)f;
    (*(int *)ud)++;
    return 0;
}

/* Runs the whole path once; returns 0 on success or the first error. */
static int whole_path(const char *rules_dir)
{
    struct barra_detector_options o;
    barra_detector_options_init(&o);
    o.rules_dir = rules_dir;
    barra_detector_t *d = NULL;
    barra_scanner_t *s = NULL;
    barra_jsonl_t *j = NULL;
    struct barra_error err;
    int found = 0;
    int r = barra_detector_new(&o, &d, &err);
    r = r ? r : barra_scanner_new(d, BARRA_SCAN_LINES | BARRA_SCAN_CHECK_UTF8, &s, &err);
    const char *text =
        "身份证 11010519491231002X，電話 +853 6612 3456，诊断 糖尿病，出生日期 1990-03-07";
    r = r ? r : barra_scanner_scan(s, text, strlen(text), "label", 5, count, &found);
    r = r ? r : barra_scanner_feed(s, text, strlen(text), count, &found);
    r = r ? r : barra_scanner_finish(s, count, &found);
    r = r ? r : barra_jsonl_new(NULL, 0, "id", &j, &err);
    const char *rec = "{\"id\": 1, \"text\": \"a\\u00e9\", \"n\": [1, {\"b\": \"c\"}]}";
    r = r ? r : barra_jsonl_parse(j, rec, strlen(rec), &err);
    barra_jsonl_free(j);
    barra_scanner_free(s);
    barra_detector_unref(d);
    return r;
}

static void fail_each(const char *rules_dir, int limit)
{
    barra_alloc_fail_at(0);
    assert_int_equal(whole_path(rules_dir), 0);
    int failures = 0;
    for (int n = 1; n <= limit; n++) {
        barra_alloc_fail_at(n);
        int r = whole_path(rules_dir);
        barra_alloc_fail_at(0);
        if (r == 0) {
            break; /* n is past the last allocation: everything succeeded */
        }
        assert_true(r < 0);
        failures++;
    }
    assert_true(failures > 10);
}

static void test_builtin_catalogue(void **state)
{
    (void)state;
    fail_each(NULL, 20000);
}

static void test_compiled_rules(void **state)
{
    (void)state;
    /* Compiling the rules allocates a great deal: every 7th allocation is enough to cover the
     * error paths of each step without taking minutes. */
    barra_alloc_fail_at(0);
    assert_int_equal(whole_path(BARRA_SOURCE_ROOT "/rules/entities"), 0);
    int failures = 0;
    for (int n = 1; n < 400000; n += (n < 2000 ? 1 : 97)) {
        barra_alloc_fail_at(n);
        int r = whole_path(BARRA_SOURCE_ROOT "/rules/entities");
        barra_alloc_fail_at(0);
        if (r == 0) {
            break;
        }
        failures++;
    }
    assert_true(failures > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_catalogue),
        cmocka_unit_test(test_compiled_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
