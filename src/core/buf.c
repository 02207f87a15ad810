/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <barra/error.h>

#include "core/alloc.h"

#include "core/banned.h"

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->err = 0;
}

void buf_done(struct buf *b)
{
    if (b->data) {
        explicit_bzero(b->data, b->cap);
        barra_free(b->data);
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->err = 0;
}

int buf_reserve(struct buf *b, size_t extra)
{
    if (b->err < 0) {
        return b->err;
    }
    if (extra > SIZE_MAX - b->len - 1) {
        return b->err = -BARRA_ELIMIT;
    }
    size_t need = b->len + extra + 1;
    if (b->max && need - 1 > b->max) {
        return b->err = -BARRA_ELIMIT;
    }
    if (need <= b->cap) {
        return 0;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    }
    if (b->max && cap > b->max + 1) {
        cap = b->max + 1;
    }
    char *p = barra_reallocarray(b->data, cap, 1);
    if (p == NULL) {
        return b->err = -BARRA_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    int r = buf_reserve(b, n);
    if (r < 0) {
        return r;
    }
    if (n) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_append_char(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return -BARRA_EINVAL;
    }
    int r = buf_reserve(b, (size_t)n);
    if (r < 0) {
        return r;
    }
    va_start(ap, fmt);
    (void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}
