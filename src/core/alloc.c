/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "core/alloc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_countdown;

void barra_alloc_fail_at(long n)
{
    atomic_store_explicit(&fail_countdown, n, memory_order_relaxed);
}

/* True when the test hook says this allocation must fail. Once the countdown reaches 1 it stays
 * failing (every later allocation fails too) until reset, which is what the "fail the Nth" loops
 * expect. */
static bool injected_failure(void)
{
    long n = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (n <= 0) {
        return false;
    }
    if (n == 1) {
        return true;
    }
    atomic_fetch_sub_explicit(&fail_countdown, 1, memory_order_relaxed);
    return false;
}

void *barra_malloc(size_t size)
{
    if (injected_failure()) {
        return NULL;
    }
    return malloc(size ? size : 1);
}

void *barra_calloc(size_t count, size_t size)
{
    if (injected_failure()) {
        return NULL;
    }
    if (count == 0 || size == 0) {
        return calloc(1, 1);
    }
    return calloc(count, size);
}

void *barra_reallocarray(void *ptr, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) {
        return NULL;
    }
    if (injected_failure()) {
        return NULL;
    }
    size_t total = count * size;
    return realloc(ptr, total ? total : 1);
}

void *barra_memdup(const void *p, size_t n)
{
    char *copy = barra_malloc(n + 1);
    if (copy == NULL) {
        return NULL;
    }
    if (n) {
        memcpy(copy, p, n);
    }
    copy[n] = '\0';
    return copy;
}

char *barra_strndup(const char *s, size_t n)
{
    return barra_memdup(s, strnlen(s, n));
}

char *barra_strdup(const char *s)
{
    return barra_memdup(s, strlen(s));
}

void barra_free(void *ptr)
{
    free(ptr);
}
