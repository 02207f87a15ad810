/* SPDX-License-Identifier: Apache-2.0 */
/* YAML loading: structure, positions, and the documents that must be refused. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/yamltree.h"

static void test_structure_and_positions(void **state)
{
    (void)state;
    const char *doc = "type: x\nlist:\n  - a\n  - b\nmap: {k: v}\n";
    struct ynode *root;
    struct barra_error err;
    assert_int_equal(ytree_load_string(doc, strlen(doc), "t", &root, &err), 0);
    const struct ynode *list = ytree_get(root, "list");
    assert_non_null(list);
    assert_int_equal(list->kind, YNODE_SEQ);
    assert_int_equal(list->n, 2);
    assert_string_equal(list->items[1]->value, "b");
    assert_int_equal(list->items[1]->line, 4);
    assert_int_equal(list->items[1]->column, 5);
    assert_string_equal(ytree_get(ytree_get(root, "map"), "k")->value, "v");
    assert_null(ytree_get(root, "absent"));
    ytree_free(root);
}

static void expect_error(const char *doc, int code, unsigned line)
{
    struct ynode *root = NULL;
    struct barra_error err;
    assert_int_equal(ytree_load_string(doc, strlen(doc), "t", &root, &err), code);
    assert_null(root);
    assert_int_equal(err.line, line);
    assert_string_equal(err.file, "t");
}

static void test_refusals(void **state)
{
    (void)state;
    expect_error("a: &x 1\nb: *x\n", -BARRA_EPARSE, 1);   /* anchors: billion laughs */
    expect_error("a: 1\nb: 2\na: 3\n", -BARRA_EPARSE, 3); /* duplicate key */
    expect_error("a: [1, 2\n", -BARRA_EPARSE, 2);         /* unterminated */
    expect_error("? [a]\n: b\n", -BARRA_EPARSE, 1);       /* non-scalar key */
    expect_error("a: 1\n---\nb: 2\n", -BARRA_EPARSE, 2);  /* two documents: at the --- */
}

static void test_depth_limit(void **state)
{
    (void)state;
    char doc[400];
    size_t n = 0;
    for (int i = 0; i < 100; i++) {
        doc[n++] = '[';
    }
    for (int i = 0; i < 100; i++) {
        doc[n++] = ']';
    }
    doc[n] = '\0';
    struct ynode *root = NULL;
    struct barra_error err;
    assert_int_equal(ytree_load_string(doc, n, "t", &root, &err), -BARRA_ELIMIT);
}

static void test_empty_is_map(void **state)
{
    (void)state;
    struct ynode *root;
    struct barra_error err;
    assert_int_equal(ytree_load_string("", 0, "t", &root, &err), 0);
    assert_int_equal(root->kind, YNODE_MAP);
    assert_int_equal(root->n, 0);
    ytree_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure_and_positions),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_empty_is_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
