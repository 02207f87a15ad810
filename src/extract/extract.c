/* SPDX-License-Identifier: Apache-2.0 */
/* The file-to-text dispatcher (extract.h): the type by content, then the extractor for it. */
#include "config.h"

#include <magic.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/utf8.h"
#include "extract/extract-int.h"

#include "core/banned.h"

int ex_emit(struct ex_ctx *c, const char *path, const char *where, const char *text, size_t len)
{
    if (ex_stopped(c) || len == 0) {
        return c->stop;
    }
    if (c->text + len > c->lim->max_text) {
        ex_notef(c, path, EX_NOTE_LIMIT, "more than %llu bytes of text: the rest was not read",
                 (unsigned long long)c->lim->max_text);
        c->halted = true;
        return 0;
    }
    c->text += len;
    if (utf8_is_valid(text, len) && memchr(text, '\0', len) == NULL) {
        c->stop = c->sink->text(c->sink->userdata, path, where, text, len);
        return c->stop;
    }
    /* What a library or a decoder gave back is not always clean: NUL becomes a space and a bad
     * sequence U+FFFD, so that the sink only ever sees valid UTF-8 text. */
    struct buf clean;
    buf_init(&clean, 0);
    const uint8_t *p = (const uint8_t *)text, *end = p + len;
    while (p < end) {
        uint32_t cp;
        size_t k = utf8_decode(p, end, &cp);
        if (*p == 0) {
            (void)buf_append_char(&clean, ' ');
        } else if (k == 1 && *p >= 0x80) {
            (void)buf_append_str(&clean, "\xef\xbf\xbd");
        } else {
            (void)buf_append(&clean, p, k);
        }
        p += k;
    }
    c->stop = clean.err ? -BARRA_ENOMEM
                        : c->sink->text(c->sink->userdata, path, where, clean.data, clean.len);
    buf_done(&clean);
    return c->stop;
}

void ex_notef(struct ex_ctx *c, const char *path, enum ex_note kind, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->sink->note(c->sink->userdata, path, kind, msg);
}

/* libmagic's database, loaded once per process (the worker loads it before its seccomp filter). */
static magic_t cookie;
static pthread_once_t cookie_once = PTHREAD_ONCE_INIT;

static void load_magic(void)
{
    cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
    if (cookie && magic_load(cookie, NULL) != 0) {
        magic_close(cookie);
        cookie = NULL;
    }
}

/* The MIME type of d, or NULL when libmagic is unavailable. Not thread-safe by itself: libmagic's
 * cookie is shared, so callers are one thread (the worker is). */
static const char *mime_of(const uint8_t *d, size_t n)
{
    (void)pthread_once(&cookie_once, load_magic);
    return cookie ? magic_buffer(cookie, d, n) : NULL;
}

void ex_magic_warm_up(void)
{
    (void)pthread_once(&cookie_once, load_magic);
}

static bool starts(const uint8_t *d, size_t n, const void *sig, size_t k)
{
    return n >= k && memcmp(d, sig, k) == 0;
}

/* An OLE2 compound file holding an "EncryptedPackage" stream is an encrypted Office document. */
static bool encrypted_office(const uint8_t *d, size_t n)
{
    static const char name[] = "E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e";
    return memmem(d, n, name, sizeof(name) - 1) != NULL;
}

int ex_dispatch(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path)
{
    if (ex_stopped(c) || n == 0) { /* an empty file or member holds nothing */
        return c->stop;
    }
    if (n > c->lim->max_file) {
        ex_notef(c, path, EX_NOTE_LIMIT, "%zu bytes, more than the %llu a file may have", n,
                 (unsigned long long)c->lim->max_file);
        return 0;
    }
    /* Containers first, by their signatures; libmagic for the rest. */
    static const uint8_t zip[] = {'P', 'K', 3, 4}, zip_empty[] = {'P', 'K', 5, 6};
    static const uint8_t gz[] = {0x1f, 0x8b}, bz[] = {'B', 'Z', 'h'};
    static const uint8_t xz[] = {0xfd, '7', 'z', 'X', 'Z', 0},
                         sz[] = {'7', 'z', 0xbc, 0xaf, 0x27, 0x1c};
    static const uint8_t ole[] = {0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1};
    if (starts(d, n, zip, 4) || starts(d, n, zip_empty, 4) || starts(d, n, gz, 2) ||
        starts(d, n, bz, 3) || starts(d, n, xz, 6) || starts(d, n, sz, 6) ||
        (n > 262 && memcmp(d + 257, "ustar", 5) == 0)) {
        return ex_archive(c, d, n, path);
    }
    if (starts(d, n, ole, 8)) {
        if (encrypted_office(d, n)) {
            ex_notef(c, path, EX_NOTE_ENCRYPTED, "a password-protected Office document");
            return 0;
        }
        return ex_ole(c, d, n, path);
    }
    if (starts(d, n, "%PDF-", 5)) {
        return ex_pdf(c, d, n, path);
    }
    if (ex_is_image(d, n)) {
        return ex_image(c, d, n, path);
    }
    if (ex_is_mail(d, n)) {
        return ex_mail(c, d, n, path);
    }
    const char *mime = mime_of(d, n);
    if (mime && strcmp(mime, "text/html") == 0) {
        return ex_html(c, d, n, path);
    }
    if (mime && (strncmp(mime, "image/", 6) == 0 || strcmp(mime, "application/pdf") == 0)) {
        ex_notef(c, path, EX_NOTE_UNSUPPORTED, "%s: not extracted by this version", mime);
        return 0;
    }
    return ex_text(c, d, n, path);
}

int ex_extract(const uint8_t *data, size_t len, const char *path, const struct ex_limits *lim,
               const struct ex_sink *sink)
{
    struct ex_ctx c = {.lim = lim, .sink = sink, .input = len};
    int r = ex_dispatch(&c, data, len, path);
    return r ? r : c.stop;
}
