/* SPDX-License-Identifier: Apache-2.0 */
/* The only allocator the project uses: overflow-checked, with a test hook that makes the Nth
 * allocation fail (curl's torture mode). */
#ifndef BARRA_CORE_ALLOC_H
#define BARRA_CORE_ALLOC_H

#include <stddef.h>

/* Each returns NULL on failure (including size overflow); free with barra_free(). */
void *barra_malloc(size_t size);
void *barra_calloc(size_t count, size_t size);
void *barra_reallocarray(void *ptr, size_t count, size_t size);
char *barra_strdup(const char *s);
char *barra_strndup(const char *s, size_t n);
void *barra_memdup(const void *p, size_t n);
void barra_free(void *ptr);

/* Test hook: the allocation `n` calls from now (1 = the next one) fails, and so does every later
 * one until the hook is reset with 0. Thread-safe; costs one relaxed atomic load when unused. */
void barra_alloc_fail_at(long n);

/* Frees *p and sets it to NULL; for single-owner locals. */
static inline void barra_freep(void *p)
{
    barra_free(*(void **)p);
}

#endif
