/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's output (extract-worker.h), one frame after another, integers little-endian:
 *   'T' u32 path-length path u32 where-length where u32 text-length text
 *   'N' u8 kind u32 path-length path u32 message-length message
 *   'E'
 * Read here as untrusted: lengths bounded, strings valid UTF-8 without NUL, kinds known. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/utf8.h"
#include "extract/extract-worker.h"

#include "core/banned.h"

enum { MAX_PATH = 4096, MAX_WHERE = 1024, MAX_MESSAGE = 1024 };

struct ex_frames {
    struct buf pending;
    uint64_t max_text;
    bool ended;
};

struct ex_frames *ex_frames_new(const struct ex_limits *lim)
{
    struct ex_frames *f = barra_calloc(1, sizeof(*f));
    if (f) {
        f->max_text = lim->max_text;
        buf_init(&f->pending, lim->max_text + MAX_PATH + MAX_WHERE + 64);
    }
    return f;
}

void ex_frames_free(struct ex_frames *f)
{
    if (f) {
        if (f->pending.data) {
            explicit_bzero(f->pending.data, f->pending.len);
        }
        buf_done(&f->pending);
        barra_free(f);
    }
}

struct cursor {
    const uint8_t *p, *end;
};

/* A string of at most max bytes: 1 read, 0 incomplete, -1 malformed. */
static int take_string(struct cursor *c, uint32_t max, const char **s, uint32_t *len)
{
    if (c->end - c->p < 4) {
        return 0;
    }
    uint32_t n = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 |
                 (uint32_t)c->p[3] << 24;
    if (n > max) {
        return -1;
    }
    if ((size_t)(c->end - c->p - 4) < n) {
        return 0;
    }
    *s = (const char *)c->p + 4;
    *len = n;
    c->p += 4 + n;
    return utf8_is_valid(*s, n) && memchr(*s, '\0', n) == NULL ? 1 : -1;
}

/* One frame at c: 1 handled, 0 incomplete, -1 malformed; *sink_r the sink's answer. */
static int one(struct ex_frames *f, struct cursor *c, const struct ex_sink *sink, int *sink_r)
{
    const char *path, *where, *text;
    uint32_t pl, wl, tl;
    char ps[MAX_PATH + 1], ws[MAX_WHERE + 1];
    int r;
    switch (c->p[0]) {
    case 'E':
        c->p++;
        f->ended = true;
        return 1;
    case 'T':
        c->p++;
        if ((r = take_string(c, MAX_PATH, &path, &pl)) <= 0 ||
            (r = take_string(c, MAX_WHERE, &where, &wl)) <= 0 ||
            (r = take_string(c, (uint32_t)(f->max_text < UINT32_MAX ? f->max_text : UINT32_MAX),
                             &text, &tl)) <= 0) {
            return r;
        }
        memcpy(ps, path, pl);
        ps[pl] = '\0';
        memcpy(ws, where, wl);
        ws[wl] = '\0';
        *sink_r = sink->text(sink->userdata, ps, ws, text, tl);
        return 1;
    case 'N': {
        if (c->end - c->p < 2) {
            return 0;
        }
        unsigned kind = c->p[1];
        if (kind > EX_NOTE_UNSUPPORTED) {
            return -1;
        }
        c->p += 2;
        if ((r = take_string(c, MAX_PATH, &path, &pl)) <= 0 ||
            (r = take_string(c, MAX_MESSAGE, &text, &tl)) <= 0) {
            return r;
        }
        char ms[MAX_MESSAGE + 1];
        memcpy(ps, path, pl);
        ps[pl] = '\0';
        memcpy(ms, text, tl);
        ms[tl] = '\0';
        sink->note(sink->userdata, ps, (enum ex_note)kind, ms);
        return 1;
    }
    default:
        return -1;
    }
}

int ex_frames_feed(struct ex_frames *f, const uint8_t *data, size_t len, const struct ex_sink *sink)
{
    if (f->ended) {
        return len ? -BARRA_EFORMAT : 1; /* nothing comes after the end */
    }
    if (buf_append(&f->pending, data, len) < 0) {
        return -BARRA_EFORMAT; /* a frame larger than any the worker may write */
    }
    if (f->pending.data == NULL) {
        return 0;
    }
    struct cursor c = {(const uint8_t *)f->pending.data, (const uint8_t *)f->pending.data};
    c.end += f->pending.len;
    int sink_r = 0, r = 1;
    while (c.p < c.end && sink_r == 0 && !f->ended) {
        const uint8_t *start = c.p;
        r = one(f, &c, sink, &sink_r);
        if (r <= 0) {
            c.p = start;
            break;
        }
    }
    if (r < 0 || (f->ended && c.p != c.end)) {
        return -BARRA_EFORMAT;
    }
    size_t used = (size_t)(c.p - (const uint8_t *)f->pending.data);
    memmove(f->pending.data, f->pending.data + used, f->pending.len - used);
    f->pending.len -= used;
    f->pending.data[f->pending.len] = '\0';
    return sink_r ? sink_r : f->ended ? 1 : 0;
}
