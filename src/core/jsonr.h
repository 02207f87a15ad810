/* SPDX-License-Identifier: Apache-2.0 */
/* Reading JSON (RFC 8259) into a read-only tree held in one arena: one pass, a few allocations per
 * document, strings decoded and NUL-terminated. Every event the gateway decides about is read with
 * it, so it must be fast as well as strict: invalid UTF-8, control characters in strings, lone
 * surrogates, duplicate keys, keys holding NUL, integers beyond 64 bits, reals that overflow and
 * nesting deeper than JR_MAX_DEPTH are errors with a line and column. */
#ifndef BARRA_CORE_JSONR_H
#define BARRA_CORE_JSONR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JR_MAX_DEPTH 64

enum jr_type {
    JR_NULL,
    JR_FALSE,
    JR_TRUE,
    JR_INTEGER,
    JR_REAL,
    JR_STRING,
    JR_ARRAY,
    JR_OBJECT,
};

struct jr_member;

struct jr_value {
    enum jr_type type;
    uint32_t n; /* strings: bytes; arrays: items; objects: members */
    union {
        const char *s; /* NUL-terminated; may hold NUL bytes before n ("\u0000") */
        int64_t i;
        double d;
        struct jr_value *items;
        struct jr_member *members; /* in document order */
    } u;
};

struct jr_member {
    const char *key; /* NUL-terminated, never holds NUL */
    uint32_t key_len;
    struct jr_value value;
};

struct jr_chunk;

struct jr_doc {
    struct jr_value root;
    struct jr_chunk *chunks;
};

struct jr_error {
    char text[160];
    uint32_t line, column; /* 1-based, of the byte where reading stopped */
};

/* Reads text[0..len) (any JSON value at the top). Returns 0, -BARRA_EFORMAT with err filled, or
 * -BARRA_ENOMEM. The document must be freed with jr_free() either way. */
int jr_parse(const char *text, size_t len, struct jr_doc *doc, struct jr_error *err);
void jr_free(struct jr_doc *doc);

/* The member `key` of an object, or NULL (also when v is not an object). */
const struct jr_value *jr_get(const struct jr_value *v, const char *key);

static inline bool jr_is_string(const struct jr_value *v)
{
    return v && v->type == JR_STRING;
}

#endif
