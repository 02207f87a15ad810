/* SPDX-License-Identifier: Apache-2.0 */
/* Uploaded bytes to text (extract-upload.h). */
#include "config.h"

#include "server/extract-upload.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/utf8.h"
#include "extract/extract-worker.h"

#include "core/banned.h"

struct collect {
    struct buf *text;
    char *why;
    size_t why_size;
    bool complete;
};

static int on_piece(void *ud, const char *path, const char *where, const char *text, size_t len)
{
    struct collect *c = ud;
    (void)buf_printf(c->text, "\n[%s%s%s]\n", path, where[0] ? " " : "", where);
    (void)buf_append(c->text, text, len);
    return c->text->err ? 1 : 0;
}

static void on_note(void *ud, const char *path, enum ex_note kind, const char *message)
{
    struct collect *c = ud;
    if (c->complete) { /* the first reason is the one given */
        (void)snprintf(c->why, c->why_size, "%s: %s: %s", path, ex_note_name(kind), message);
    }
    c->complete = false;
}

bool gw_extract_text(const char *data, size_t len, const char *name, struct buf *text,
                     char *why_buf, size_t why_size)
{
    why_buf[0] = '\0';
    if (!ex_needs_extraction(data, len)) {
        if (!utf8_is_valid(data, len)) {
            (void)snprintf(why_buf, why_size, "%s: invalid UTF-8", name);
            return false;
        }
        (void)buf_append(text, data, len);
        return !text->err;
    }
    /* The worker reads the bytes from a descriptor: an anonymous in-memory file. */
    int fd = memfd_create("barra-upload", MFD_CLOEXEC);
    size_t off = 0;
    while (fd >= 0 && off < len) {
        ssize_t k = write(fd, data + off, len - off);
        if (k <= 0) {
            break;
        }
        off += (size_t)k;
    }
    if (fd < 0 || off < len || lseek(fd, 0, SEEK_SET) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        (void)snprintf(why_buf, why_size, "%s: could not be handed to the extraction worker", name);
        return false;
    }
    struct ex_limits lim;
    struct ex_sandbox sb;
    ex_limits_default(&lim);
    ex_sandbox_default(&sb);
    struct collect c = {text, why_buf, why_size, true};
    struct ex_sink sink = {.text = on_piece, .note = on_note, .userdata = &c};
    struct barra_error err;
    int r = ex_extract_isolated(fd, name, &lim, &sb, NULL, &sink, &err);
    close(fd);
    if (r < 0) {
        (void)snprintf(why_buf, why_size, "%s: %s", name, err.message);
        return false;
    }
    return c.complete && !text->err && r == 0;
}
