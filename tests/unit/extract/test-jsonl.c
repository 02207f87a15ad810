/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON Lines reader: selected fields unescaped, ids, nested paths, and malformed records
 * refused with the byte where they go wrong. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <barra/extract.h>

static void test_selected_fields(void **state)
{
    (void)state;
    const char *fields[] = {"text", "meta.note"};
    barra_jsonl_t *j;
    struct barra_error err;
    assert_int_equal(barra_jsonl_new(fields, 2, "id", &j, &err), 0);
    const char *rec =
        "{\"id\": 42, \"text\": \"a\\u00e9\\ud83d\\ude00\\n\\\"b\\\"\", "
        "\"meta\": {\"note\": \"x\", \"other\": [1, 2.5e3, true, null]}, \"skip\": \"y\"}";
    assert_int_equal(barra_jsonl_parse(j, rec, strlen(rec), &err), 0);
    assert_int_equal(barra_jsonl_field_count(j), 2);
    const struct barra_jsonl_field *f = barra_jsonl_field(j, 0);
    assert_int_equal(f->path_len, 4);
    assert_memory_equal(f->path, "text", 4);
    assert_int_equal(f->value_len, strlen("aé😀\n\"b\""));
    assert_memory_equal(f->value, "aé😀\n\"b\"", f->value_len);
    f = barra_jsonl_field(j, 1);
    assert_memory_equal(f->path, "meta.note", 9);
    size_t n;
    const char *id = barra_jsonl_id(j, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(id, "42", 2);
    barra_jsonl_free(j);
}

static void test_all_strings(void **state)
{
    (void)state;
    barra_jsonl_t *j;
    struct barra_error err;
    assert_int_equal(barra_jsonl_new(NULL, 0, NULL, &j, &err), 0);
    const char *rec = "{\"a\": \"1\", \"b\": [\"2\", {\"c\": \"3\"}], \"d\": 4}";
    assert_int_equal(barra_jsonl_parse(j, rec, strlen(rec), &err), 0);
    assert_int_equal(barra_jsonl_field_count(j), 3);
    const struct barra_jsonl_field *f = barra_jsonl_field(j, 2);
    assert_int_equal(f->path_len, strlen("b[1].c"));
    assert_memory_equal(f->path, "b[1].c", f->path_len);
    assert_null(barra_jsonl_id(j, NULL));
    barra_jsonl_free(j);
}

static void expect_broken(barra_jsonl_t *j, const char *rec, unsigned column)
{
    struct barra_error err;
    assert_int_equal(barra_jsonl_parse(j, rec, strlen(rec), &err), -BARRA_EFORMAT);
    assert_int_equal(err.column, column);
    assert_int_equal(barra_jsonl_field_count(j), 0);
}

static void test_broken_records(void **state)
{
    (void)state;
    barra_jsonl_t *j;
    struct barra_error err;
    assert_int_equal(barra_jsonl_new(NULL, 0, NULL, &j, &err), 0);
    expect_broken(j, "{\"a\": \"x}", 10);     /* unterminated string */
    expect_broken(j, "{\"a\" 1}", 6);         /* missing colon */
    expect_broken(j, "[1, 2]", 1);            /* not an object */
    expect_broken(j, "{\"a\": 01}", 8);       /* leading zero, then junk */
    expect_broken(j, "{\"a\": \"\\x\"}", 9);  /* bad escape: at the x */
    expect_broken(j, "{\"a\": tru}", 7);      /* bad literal */
    expect_broken(j, "{\"a\": 1} x", 10);     /* trailing text */
    expect_broken(j, "{\"a\": \"b\tc\"}", 9); /* raw control character */
    expect_broken(j, "", 1);                  /* empty */
    char deep[300];
    size_t n = 0;
    deep[n++] = '{';
    memcpy(deep + n, "\"a\":", 4);
    n += 4;
    for (int i = 0; i < 100; i++) {
        deep[n++] = '[';
    }
    deep[n] = '\0';
    assert_int_equal(barra_jsonl_parse(j, deep, n, &err), -BARRA_EFORMAT);
    barra_jsonl_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selected_fields),
        cmocka_unit_test(test_all_strings),
        cmocka_unit_test(test_broken_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
