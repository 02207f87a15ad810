/* SPDX-License-Identifier: Apache-2.0 */
/* Candidates are put in order by merging the runs they come in: the result must be what a plain
 * stable sort by (start, end, type) gives, for inputs already in order, in a few runs, in reverse,
 * and in random order with many ties (fixed seed). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../seeded-random.h"
#include "core/alloc.h"
#include "detect/detect-scan-int.h"

#define MAXN 3000

static uint64_t rng = 0x50c7;

static uint32_t next_random(void)
{
    return seeded_random(&rng);
}

static bool before(const struct det_cand *x, const struct det_cand *y)
{
    if (x->start != y->start) {
        return x->start < y->start;
    }
    if (x->end != y->end) {
        return x->end < y->end;
    }
    return x->type < y->type;
}

/* The reference: insertion sort, stable by construction. */
static void reference_sort(struct det_cand *c, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct det_cand x = c[i];
        size_t j = i;
        for (; j > 0 && before(&x, &c[j - 1]); j--) {
            c[j] = c[j - 1];
        }
        c[j] = x;
    }
}

/* Sorts cands[0..n) both ways and compares; `pattern` numbers the input order, so a tie put the
 * wrong way round shows. */
static void check(struct det_cand *input, size_t n)
{
    static struct det_cand want[MAXN];
    for (size_t i = 0; i < n; i++) {
        input[i].pattern = (uint16_t)i;
    }
    memcpy(want, input, n * sizeof(*input));
    reference_sort(want, n);
    struct barra_scanner s;
    memset(&s, 0, sizeof(s));
    s.cands = barra_reallocarray(NULL, n ? n : 1, sizeof(*s.cands));
    assert_non_null(s.cands);
    s.capcands = n ? n : 1;
    memcpy(s.cands, input, n * sizeof(*input));
    s.ncands = n;
    assert_int_equal(det_sort_candidates(&s), 0);
    assert_int_equal(s.ncands, n);
    for (size_t i = 0; i < n; i++) {
        if (s.cands[i].start != want[i].start || s.cands[i].end != want[i].end ||
            s.cands[i].type != want[i].type || s.cands[i].pattern != want[i].pattern) {
            fail_msg("position %zu of %zu differs from the stable sort", i, n);
        }
    }
    barra_free(s.cands);
    barra_free(s.cands_spare);
}

static struct det_cand cands[MAXN];

static void random_cand(struct det_cand *c, uint32_t span)
{
    memset(c, 0, sizeof(*c));
    c->start = next_random() % span;
    c->end = c->start + 1 + next_random() % 4;
    c->type = (uint16_t)(next_random() % 3);
}

static void test_in_order_and_empty(void **state)
{
    (void)state;
    check(cands, 0);
    for (size_t i = 0; i < 100; i++) {
        memset(&cands[i], 0, sizeof(cands[i]));
        cands[i].start = (uint32_t)i;
        cands[i].end = (uint32_t)i + 5;
    }
    check(cands, 100);
}

/* Candidates from digit runs, then from trigger words: two runs, the second reaching back. */
static void test_a_few_runs(void **state)
{
    (void)state;
    for (int round = 0; round < 50; round++) {
        size_t n = 1 + next_random() % MAXN, cut = next_random() % n;
        for (size_t i = 0; i < n; i++) {
            random_cand(&cands[i], 100000);
        }
        reference_sort(cands, cut);
        reference_sort(cands + cut, n - cut);
        check(cands, n);
    }
}

static void test_reverse(void **state)
{
    (void)state;
    for (size_t i = 0; i < MAXN; i++) {
        memset(&cands[i], 0, sizeof(cands[i]));
        cands[i].start = (uint32_t)(MAXN - i);
        cands[i].end = cands[i].start + 2;
    }
    check(cands, MAXN);
}

/* Random order over a narrow span: many equal keys, whose input order must be kept. */
static void test_random_with_ties(void **state)
{
    (void)state;
    for (int round = 0; round < 50; round++) {
        size_t n = 1 + next_random() % MAXN;
        for (size_t i = 0; i < n; i++) {
            random_cand(&cands[i], 20);
        }
        check(cands, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_and_empty),
        cmocka_unit_test(test_a_few_runs),
        cmocka_unit_test(test_reverse),
        cmocka_unit_test(test_random_with_ties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
