/* SPDX-License-Identifier: Apache-2.0 */
/* .gitignore-style excludes of `barra scan`. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "cli/glob.h"

static void test_match(void **state)
{
    (void)state;
    assert_true(glob_match("*.log", "a.log"));
    assert_false(glob_match("*.log", "dir/a.log"));
    assert_true(glob_match("**/a.log", "a.log"));
    assert_true(glob_match("**/a.log", "x/y/a.log"));
    assert_true(glob_match("dir/**", "dir/x/y"));
    assert_true(glob_match("a/**/b", "a/b"));
    assert_true(glob_match("a/**/b", "a/x/y/b"));
    assert_true(glob_match("file?.[ct]sv", "file1.csv"));
    assert_false(glob_match("file?.[!ct]sv", "file1.csv"));
    assert_true(glob_match("\\*star", "*star"));
}

static void test_list_semantics(void **state)
{
    (void)state;
    struct glob_list *l = glob_list_new();
    assert_int_equal(glob_list_add(l, "# comment"), 0);
    assert_int_equal(glob_list_add(l, "*.tmp"), 0);
    assert_int_equal(glob_list_add(l, "!keep.tmp"), 0);
    assert_int_equal(glob_list_add(l, "build/"), 0);
    assert_int_equal(glob_list_add(l, "/top.txt"), 0);
    assert_int_equal(glob_list_add(l, "docs/*.md"), 0);
    assert_true(glob_list_excludes(l, "x/y.tmp", false));
    assert_false(glob_list_excludes(l, "x/keep.tmp", false));
    assert_true(glob_list_excludes(l, "a/build", true));
    assert_false(glob_list_excludes(l, "a/build", false));
    assert_true(glob_list_excludes(l, "top.txt", false));
    assert_false(glob_list_excludes(l, "sub/top.txt", false));
    assert_true(glob_list_excludes(l, "docs/a.md", false));
    assert_false(glob_list_excludes(l, "x/docs/a.md", false));
    glob_list_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_list_semantics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
