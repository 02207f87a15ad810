/* SPDX-License-Identifier: Apache-2.0 */
/* Content the gateway receives as bytes (an uploaded file, a DingTalk attachment) made into the
 * text it classifies: as it is when it is UTF-8 text, otherwise through the extraction worker
 * (src/extract/extract-worker.h), each piece headed by where it was found. Fails closed: when any
 * part could not be read (encrypted, damaged, over a limit, a type without an extractor), the
 * result says so, and the caller decides as if classification failed. */
#ifndef BARRA_SERVER_EXTRACT_UPLOAD_H
#define BARRA_SERVER_EXTRACT_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Appends the text of data[0..len) (named `name` in the headings) to text. Returns true when all
 * of it could be read; *why (static or in `why_buf`) says what could not. */
bool gw_extract_text(const char *data, size_t len, const char *name, struct buf *text,
                     char *why_buf, size_t why_size);

#endif
