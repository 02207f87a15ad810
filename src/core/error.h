/* SPDX-License-Identifier: Apache-2.0 */
/* Filling `struct barra_error` (public in <barra/error.h>). */
#ifndef BARRA_CORE_ERROR_H
#define BARRA_CORE_ERROR_H

#include <stdint.h>

#include <barra/error.h>

/* Sets reterr (if not NULL) to `code` with a formatted message and returns `code`, so callers can
 * write `return barra_error_set(reterr, -BARRA_EINVAL, "...")`. */
int barra_error_set(struct barra_error *reterr, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As barra_error_set, and records where in which file the problem is. */
int barra_error_set_at(struct barra_error *reterr, int code, const char *file, uint32_t line,
                       uint32_t column, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
