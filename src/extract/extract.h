/* SPDX-License-Identifier: Apache-2.0 */
/* Files to text (docs/files.md): a file's bytes become pieces of text, each with where it was
 * found — the member path inside archives ("export.zip/hr/staff.xlsx") and the place in the
 * document ("Sheet1!B2", "paragraph 12", "slide 3") — so that findings can say where they are.
 *
 * The type comes from the content (libmagic, and the members of a ZIP for Office documents),
 * never from the name. Untrusted input is read within limits counted on what is actually
 * decompressed, not on sizes archives declare; a limit reached, an encrypted member or a corrupt
 * part becomes a note naming the path and the reason, and extraction goes on with the rest.
 *
 * These functions run inside the extraction worker (extract-worker.c), a separate process with
 * resource limits and a seccomp filter; fuzz targets call them directly. */
#ifndef BARRA_EXTRACT_EXTRACT_H
#define BARRA_EXTRACT_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/error.h>

struct ex_limits {
    uint64_t max_file;    /* bytes of one file or archive member handed to an extractor */
    uint64_t max_total;   /* bytes decompressed from one top-level file, all members together */
    uint32_t max_ratio;   /* decompressed : compressed bytes of one member */
    uint32_t max_depth;   /* archives within archives */
    uint32_t max_members; /* members of one archive */
    uint64_t max_text;    /* bytes of text from one top-level file */
    uint32_t max_pages;   /* pages of one PDF */
    uint64_t max_pixels;  /* of one image, read from its header before it is decoded */
};

/* The defaults of docs/files.md (100 MiB files, 1 GiB in all, 100:1, depth 5, 10,000 members,
 * 256 MiB of text, 2,000 pages, 50 megapixels). */
void ex_limits_default(struct ex_limits *l);

enum ex_note {
    EX_NOTE_ENCRYPTED,   /* password-protected or encrypted: "unscannable_encrypted" */
    EX_NOTE_LIMIT,       /* a limit was reached: the rest of that part was not read */
    EX_NOTE_CORRUPT,     /* malformed: what could be read was */
    EX_NOTE_UNSUPPORTED, /* a type without an extractor (yet) */
};

/* The name of a note kind as findings and reports carry it: "unscannable_encrypted",
 * "limit_reached", "corrupt", "unsupported". */
const char *ex_note_name(enum ex_note n);

struct ex_sink {
    /* A piece of text (valid UTF-8) at `path` (the file, or archive members joined by '/') and
     * `where` in it ("" for the whole text). Non-zero stops the extraction. */
    int (*text)(void *userdata, const char *path, const char *where, const char *text, size_t len);
    void (*note)(void *userdata, const char *path, enum ex_note kind, const char *message);
    void *userdata;
};

/* Whether content starting with p[0..n) (the first 8 KiB are enough) needs the extractors rather
 * than being read as UTF-8 text: archives, Office, PDF and image signatures, UTF-16, text in
 * another encoding (many sequences invalid as UTF-8), binary content. */
bool ex_needs_extraction(const char *p, size_t n);

/* Extracts data[0..len), named `path` (only for the locations it reports), into the sink. Returns
 * 0 (notes carry what could not be read), or the sink's non-zero value, or -BARRA_ENOMEM. */
int ex_extract(const uint8_t *data, size_t len, const char *path, const struct ex_limits *lim,
               const struct ex_sink *sink);

#endif
