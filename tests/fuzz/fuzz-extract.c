/* SPDX-License-Identifier: Apache-2.0 */
/* The extractors on arbitrary bytes (archives, Office documents, encodings), with small limits so
 * that each run stays quick: whatever the input, every piece of text handed on is valid UTF-8
 * without NUL bytes, within the text limit, and extraction ends. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "extract/extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    uint64_t text;
};

static int on_text(void *ud, const char *path, const char *where, const char *text, size_t len)
{
    struct seen *s = ud;
    if (path == NULL || where == NULL || !utf8_is_valid(text, len) || memchr(text, '\0', len)) {
        abort();
    }
    s->text += len;
    return 0;
}

static void on_note(void *ud, const char *path, enum ex_note kind, const char *message)
{
    (void)ud;
    if (path == NULL || message == NULL || ex_note_name(kind) == NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ex_limits lim = {.max_file = 1 << 20,
                            .max_total = 4 << 20,
                            .max_ratio = 100,
                            .max_depth = 3,
                            .max_members = 64,
                            .max_text = 1 << 20,
                            .max_pages = 20,
                            .max_pixels = 0}; /* OCR: fuzz-extract-image */
    struct seen s = {0};
    struct ex_sink sink = {.text = on_text, .note = on_note, .userdata = &s};
    (void)ex_extract(data, size, "fuzz", &lim, &sink);
    if (s.text > lim.max_text) {
        abort();
    }
    return 0;
}
