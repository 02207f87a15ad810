/* SPDX-License-Identifier: Apache-2.0 */
/* Writing JSON straight into a buffer: records written for every event (decisions, later the audit
 * log) must not cost a tree of allocations. The caller places commas and braces; these helpers
 * write values correctly. */
#ifndef BARRA_CORE_JSONW_H
#define BARRA_CORE_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* A JSON string: quotes, backslashes and control characters escaped; bytes that are not valid
 * UTF-8 become U+FFFD, so the output is always valid JSON. NULL writes null. */
int jsonw_string(struct buf *b, const char *s);
int jsonw_string_n(struct buf *b, const char *s, size_t n);
/* "key": */
int jsonw_key(struct buf *b, const char *key);
int jsonw_uint(struct buf *b, uint64_t v);
/* A number with at most three decimals (scores). */
int jsonw_score(struct buf *b, double v);

#endif
