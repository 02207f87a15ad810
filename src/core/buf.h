/* SPDX-License-Identifier: Apache-2.0 */
/* A growable byte buffer with a hard maximum (every buffer an input can grow has one). */
#ifndef BARRA_CORE_BUF_H
#define BARRA_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max; /* 0 = no limit beyond memory */
    int err;    /* the first failure: once set, every later write fails the same (so a writer can
                   check once at the end that nothing was lost) */
};

/* Initialises an empty buffer that may grow to `max` bytes (0 = unlimited). */
void buf_init(struct buf *b, size_t max);
/* Wipes (the buffer may have held personal data) and frees the contents; the buffer is empty after.
 */
void buf_done(struct buf *b);
/* Makes room for `extra` more bytes. -BARRA_ENOMEM, or -BARRA_ELIMIT past the maximum. */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_append_char(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory, and forgets a failure. */
static inline void buf_clear(struct buf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->data) {
        b->data[0] = '\0';
    }
}

#endif
