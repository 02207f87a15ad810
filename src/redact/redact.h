/* SPDX-License-Identifier: Apache-2.0 */
/* Redaction: full masks, partial masks that keep the last N characters, keyed pseudonyms and
 * removal, applied to spans of a text. Also the keyed references (HMAC) that let a decision or a
 * log refer to a value without holding it. */
#ifndef BARRA_REDACT_H
#define BARRA_REDACT_H

#include <stddef.h>
#include <stdint.h>

#include <barra/policy.h>

enum redact_kind {
    REDACT_MASK,      /* every character becomes '*' */
    REDACT_PARTIAL,   /* letters and digits become '*' except the last keep_last; separators stay */
    REDACT_PSEUDONYM, /* "<type:16 hex digits>", the same for the same value under the same key */
    REDACT_REMOVE,    /* the value disappears */
};

struct redact_method {
    enum redact_kind kind;
    uint32_t keep_last;
};

struct redact_span {
    uint64_t start, end; /* byte offsets into the text */
    struct redact_method method;
    const char *type;
    const char *normalized; /* canonical value, for pseudonyms */
    size_t normalized_len;
};

typedef int (*redact_write_fn)(void *userdata, const char *data, size_t len);

/* Writes text[0..len) with the spans redacted. Spans must be sorted by start; a span overlapping an
 * earlier one is skipped (the earlier one already covers it). `key` is needed for pseudonyms only.
 * Returns 0, the writer's negative code, or -BARRA_EINVAL for a pseudonym without a key. */
int redact_apply(const char *text, size_t len, const struct redact_span *spans, size_t n,
                 const barra_key_t *key, redact_write_fn write, void *userdata);

/* "mask", "partial", "pseudonym", "remove". */
const char *redact_kind_name(enum redact_kind k);

/* The keyed reference of a value: "hmac-sha256:" and 64 hex digits, into out (at least 77 bytes).
 * Domain-separated from pseudonyms, so one cannot be turned into the other. */
int redact_reference(const barra_key_t *key, const char *type, const char *value, size_t len,
                     char out[77]);

#endif
