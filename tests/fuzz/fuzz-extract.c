/* SPDX-License-Identifier: Apache-2.0 */
/* The extractors on arbitrary bytes. Without EXTRACTOR (fuzz-extract): through ex_extract, the
 * dispatcher choosing by type. With it: one extractor alone, so that its parser sees inputs whose
 * signature is wrong or missing too; built once per extractor with EXTRACTOR set to its entry
 * point (tests/fuzz/meson.build): ex_archive (ZIP, TAR, 7z, compressed
 * files, Office Open XML), ex_ole (Outlook, Word and Excel 97–2003), ex_pdf, ex_mail, ex_text,
 * ex_image (OCR only there: MAX_PIXELS is 0 for the others). Whatever the input, every piece of
 * text handed on is valid UTF-8 without NUL bytes, within the text limit, and extraction ends. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "extract/extract-int.h"

#ifndef MAX_PIXELS
#define MAX_PIXELS 0 /* OCR is fuzzed by fuzz-extract-image */
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_text(void *ud, const char *path, const char *where, const char *text, size_t len)
{
    uint64_t *seen = ud;
    if (path == NULL || where == NULL || !utf8_is_valid(text, len) || memchr(text, '\0', len)) {
        abort();
    }
    *seen += len;
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
                            .max_pixels = MAX_PIXELS};
    uint64_t seen = 0;
    struct ex_sink sink = {.text = on_text, .note = on_note, .userdata = &seen};
#ifdef EXTRACTOR
    struct ex_ctx c = {.lim = &lim, .sink = &sink, .input = size};
    if (size == 0 || size > lim.max_file) {
        return 0;
    }
    (void)EXTRACTOR(&c, data, size, "fuzz");
#else
    (void)ex_extract(data, size, "fuzz", &lim, &sink);
#endif
    if (seen > lim.max_text) {
        abort();
    }
    return 0;
}
