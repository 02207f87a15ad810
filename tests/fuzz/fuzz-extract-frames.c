/* SPDX-License-Identifier: Apache-2.0 */
/* What an extraction worker writes, as the caller reads it (a worker parsing a hostile file is
 * not trusted): arbitrary bytes, fed whole and in two pieces, must give the same frames, and every
 * string handed on must be valid UTF-8 without NUL within its bound. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "extract/extract-worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct tally {
    uint64_t text, notes;
};

static void check_string(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max || !utf8_is_valid(s, n)) {
        abort();
    }
}

static int on_text(void *ud, const char *path, const char *where, const char *text, size_t len)
{
    struct tally *t = ud;
    check_string(path, 4096);
    check_string(where, 1024);
    if (!utf8_is_valid(text, len) || memchr(text, '\0', len) || len > 65536) {
        abort();
    }
    t->text += len + 1;
    return 0;
}

static void on_note(void *ud, const char *path, enum ex_note kind, const char *message)
{
    struct tally *t = ud;
    check_string(path, 4096);
    check_string(message, 1024);
    if (ex_note_name(kind) == NULL) {
        abort();
    }
    t->notes++;
}

static int run(const uint8_t *data, size_t size, size_t split, struct tally *t)
{
    struct ex_limits lim;
    ex_limits_default(&lim);
    lim.max_text = 65536;
    struct ex_frames *f = ex_frames_new(&lim);
    struct ex_sink sink = {.text = on_text, .note = on_note, .userdata = t};
    int r = ex_frames_feed(f, data, split, &sink);
    if (r == 0) {
        r = ex_frames_feed(f, data + split, size - split, &sink);
    }
    ex_frames_free(f);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tally whole = {0}, pieces = {0};
    int a = run(data, size, size, &whole);
    int b = run(data, size, size / 2, &pieces);
    /* Frames cut anywhere read the same, unless the first piece already ended or failed. */
    if (a == 0 && b == 0 && (whole.text != pieces.text || whole.notes != pieces.notes)) {
        abort();
    }
    return 0;
}
