/* SPDX-License-Identifier: Apache-2.0 */
/* What the extractors share (extract.h): the running totals a top-level file's limits are counted
 * against, and one entry point per kind of content. */
#ifndef BARRA_EXTRACT_EXTRACT_INT_H
#define BARRA_EXTRACT_EXTRACT_INT_H

#include <iconv.h>

#include "core/buf.h"
#include "extract/extract.h"

struct ex_ctx {
    const struct ex_limits *lim;
    const struct ex_sink *sink;
    uint64_t input;    /* bytes of the top-level file */
    uint64_t expanded; /* bytes decompressed so far, all archives together */
    uint64_t text;     /* bytes of text handed to the sink */
    uint32_t depth;    /* archives open around the current part */
    int stop;          /* the sink's non-zero answer, or -BARRA_ENOMEM */
    bool halted;       /* a limit for the whole file was reached: nothing more is read */
};

static inline bool ex_stopped(const struct ex_ctx *c)
{
    return c->stop != 0 || c->halted;
}

/* Any content: by its type. */
int ex_dispatch(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path);
/* Text in any of the encodings extract-text.c detects. */
int ex_text(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path);
/* Archives (ZIP, TAR, 7z, and single files compressed with gzip, bzip2 or xz) and Office Open
 * XML documents, which are ZIP archives of XML parts. */
int ex_archive(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path);

/* Loads what extraction needs from files (libmagic's database, iconv's modules) ahead of time:
 * the worker calls it before it forbids opening files. One thread per process uses them. */
void ex_text_warm_up(void);
/* The converter from `charset` (a name or a common alias) to UTF-8, opened by ex_text_warm_up, or
 * (iconv_t)-1 for a charset not among them. Reset it before use. */
iconv_t ex_iconv(const char *charset);
void ex_magic_warm_up(void);

/* Hands text to the sink, counting it against max_text. */
int ex_emit(struct ex_ctx *c, const char *path, const char *where, const char *text, size_t len);
void ex_notef(struct ex_ctx *c, const char *path, enum ex_note kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* E-mail and HTML (extract-mail.c). */
bool ex_is_mail(const uint8_t *d, size_t n);
int ex_mail(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path);
int ex_html(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path);
/* The text of HTML s[0..n) (NUL-terminated at n) appended to out. */
void ex_html_text(const char *s, size_t n, struct buf *out);

/* Images through OCR (extract-image.c). */
bool ex_is_image(const uint8_t *d, size_t n);
int ex_image(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path);
/* OCR of a rendered picture (cairo's ARGB32 rows, `stride` bytes apart): a scanned PDF page. */
int ex_ocr_rgb(struct ex_ctx *c, const uint32_t *argb, int w, int h, int stride, const char *path,
               const char *where);
/* Loads the OCR models (the worker does it before confining itself when its file is an image). */
void ex_ocr_warm_up(void);

/* Lists of strings (extract-cells.c): shared strings, sheet names, column headers. */
struct ex_strings {
    char **v;
    size_t n, cap;
};
int ex_strings_add(struct ex_strings *s, const char *text, size_t len);
void ex_strings_free(struct ex_strings *s);

/* One spreadsheet cell (1-based row and column, at most EX_MAX_COLS columns), emitted at
 * "Sheet!B2". Row 1 holds the column headers: they are kept in `header` and carried as the
 * context of the later cells below them ("身份證號碼: A123456(3)"). */
enum { EX_MAX_COLS = 16384 };
int ex_cell(struct ex_ctx *c, struct ex_strings *header, const char *path, const char *sheet,
            unsigned row, unsigned col, const char *value, size_t len);

/* OLE2 compound files (extract-ole.c): Outlook messages, Word and Excel 97–2003 documents. */
int ex_ole(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path);

/* PDF (extract-pdf.c). */
int ex_pdf(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path);

/* Office Open XML (extract-ooxml.c): the parts of a document, by name, read from its ZIP. */
struct ex_part {
    char *name;
    uint8_t *data;
    size_t len;
};
/* Whether the parts make a Word, Excel or PowerPoint document; extracts it if so. */
bool ex_ooxml_is_document(const struct ex_part *parts, size_t n);
int ex_ooxml(struct ex_ctx *c, const struct ex_part *parts, size_t n, const char *path);

#endif
