/* SPDX-License-Identifier: Apache-2.0 */
/* A growable string for the command-line tool (which uses only libbarra's public API). */
#ifndef BARRA_CLI_SBUF_H
#define BARRA_CLI_SBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sbuf {
    char *data;
    size_t len, cap;
    bool oom;
};

static inline bool sbuf_reserve(struct sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) {
        return true;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        cap *= 2;
    }
    char *q = realloc(b->data, cap);
    if (q == NULL) {
        b->oom = true;
        return false;
    }
    b->data = q;
    b->cap = cap;
    return true;
}

static inline void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    if (n && sbuf_reserve(b, n)) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
    }
}

static inline void sbuf_puts(struct sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

static inline void sbuf_putc(struct sbuf *b, char c)
{
    sbuf_add(b, &c, 1);
}

__attribute__((format(printf, 2, 3))) static inline void sbuf_printf(struct sbuf *b,
                                                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !sbuf_reserve(b, (size_t)n)) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Appends s[0..n) as a JSON string literal, quotes included. */
static inline void sbuf_json_string(struct sbuf *b, const char *s, size_t n)
{
    sbuf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7F) {
            continue;
        }
        sbuf_add(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            sbuf_puts(b, "\\\"");
            break;
        case '\\':
            sbuf_puts(b, "\\\\");
            break;
        case '\n':
            sbuf_puts(b, "\\n");
            break;
        case '\r':
            sbuf_puts(b, "\\r");
            break;
        case '\t':
            sbuf_puts(b, "\\t");
            break;
        default:
            sbuf_printf(b, "\\u%04x", c);
            break;
        }
    }
    sbuf_add(b, s + run, n - run);
    sbuf_putc(b, '"');
}

static inline void sbuf_clear(struct sbuf *b)
{
    b->len = 0;
    if (b->data) {
        b->data[0] = '\0';
    }
}

static inline void sbuf_free(struct sbuf *b)
{
    if (b->data) {
        memset(b->data, 0, b->cap);
    }
    free(b->data);
    memset(b, 0, sizeof(*b));
}

#endif
