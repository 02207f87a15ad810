/* SPDX-License-Identifier: Apache-2.0 */
/* Legacy Office and Outlook files: OLE2 compound files, opened once with libgsf (extract-ole.c)
 * and handed to the reader of what their streams hold. */
#ifndef BARRA_EXTRACT_EXTRACT_OLE_H
#define BARRA_EXTRACT_EXTRACT_OLE_H

#include <gsf/gsf-fwd.h>

#include "extract/extract-int.h"

/* The bytes of a child stream, at most `max`, appended to out; false when it is absent, larger,
 * or unreadable. */
bool ex_ole_stream(GsfInfile *dir, const char *name, uint64_t max, struct buf *out);
/* UTF-16LE code units p[0..n) (an odd last byte ignored) appended to out as UTF-8; unpaired
 * surrogates become U+FFFD; a NUL ends the string when `nul_ends` is set. */
void ex_utf16le(const uint8_t *p, size_t n, bool nul_ends, struct buf *out);
/* Unicode for a Windows-1252 byte (what Word's 8-bit text pieces and Excel's codepage-less
 * strings use). */
uint32_t ex_cp1252(uint8_t b);

/* Outlook message (extract-msg.c). */
int ex_msg(struct ex_ctx *c, GsfInfile *msg, const char *path);
/* Excel 97–2003 workbook (extract-xls.c) and Word 97–2003 document (extract-doc.c): their main
 * stream ("Workbook", "WordDocument") d[0..n), and the file for the others they need. */
int ex_xls(struct ex_ctx *c, GsfInfile *ole, const uint8_t *d, size_t n, const char *path);
int ex_doc(struct ex_ctx *c, GsfInfile *ole, const uint8_t *d, size_t n, const char *path);

#endif
