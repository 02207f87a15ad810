/* SPDX-License-Identifier: Apache-2.0 */
/* Turning records into text to classify: JSON Lines records and CSV/TSV rows. Both readers are
 * single pass and validate what they read; a malformed record is an error naming what is wrong, and
 * the caller goes on with the next one. */
#ifndef BARRA_EXTRACT_H
#define BARRA_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/error.h>
#include <barra/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- JSON Lines ---- */

typedef struct barra_jsonl barra_jsonl_t;

/* A string value of a record, after JSON unescaping (UTF-8; lone surrogates become U+FFFD). */
struct barra_jsonl_field {
    const char *path; /* "text", "message.body", "items[2].note" */
    size_t path_len;
    const char *value;
    size_t value_len;
};

/* `fields`: dotted paths of the string fields to return (NULL or 0 fields: every string value in
 * the record, at any depth). `id_field`: dotted path of the record's id (string or number), or
 * NULL. The arrays are copied. Returns owned; free with barra_jsonl_free(). */
BARRA_EXPORT int barra_jsonl_new(const char *const *fields, size_t nfields, const char *id_field,
                                 barra_jsonl_t **ret, struct barra_error *reterr);
BARRA_EXPORT barra_jsonl_t *barra_jsonl_free(barra_jsonl_t *j);

/* Parses one record (one line, without its newline). On success the fields and id below describe it
 * until the next call; on failure reterr says what and at which byte (column) of the line. */
BARRA_EXPORT int barra_jsonl_parse(barra_jsonl_t *j, const char *line, size_t len,
                                   struct barra_error *reterr);
BARRA_EXPORT size_t barra_jsonl_field_count(const barra_jsonl_t *j);
BARRA_EXPORT const struct barra_jsonl_field *barra_jsonl_field(const barra_jsonl_t *j, size_t i);
/* The id's text (a string unescaped, a number as written), or NULL when the record has none. */
BARRA_EXPORT const char *barra_jsonl_id(const barra_jsonl_t *j, size_t *ret_len);

/* Offset of the first byte of p[0..n) that does not start a valid UTF-8 sequence, or n when all of
 * it is valid (a sequence cut off at the end counts as invalid). */
BARRA_EXPORT size_t barra_utf8_check(const char *p, size_t n);

/* ---- CSV and TSV (RFC 4180 quoting) ---- */

typedef struct barra_csv barra_csv_t;

/* One cell of the current row, unquoted. */
struct barra_csv_cell {
    const char *value;
    size_t value_len;
};

/* `delimiter` is ',' or '\t' (or any single byte); `max_record` bounds one row in bytes. Returns
 * owned; free with barra_csv_free(). */
BARRA_EXPORT int barra_csv_new(char delimiter, size_t max_record, barra_csv_t **ret,
                               struct barra_error *reterr);
BARRA_EXPORT barra_csv_t *barra_csv_free(barra_csv_t *c);

/* Feeds bytes; complete rows are passed to `fn` (with the 1-based line the row starts on). Return
 * non-zero from fn to stop. A malformed or oversized row is reported to `on_error` and skipped. */
typedef int (*barra_csv_row_fn)(const struct barra_csv_cell *cells, size_t ncells, uint64_t line,
                                void *userdata);
typedef void (*barra_csv_error_fn)(const struct barra_error *err, void *userdata);
BARRA_EXPORT int barra_csv_feed(barra_csv_t *c, const char *data, size_t len, barra_csv_row_fn fn,
                                barra_csv_error_fn on_error, void *userdata);
/* Ends the input: a last row without a newline is passed on, an unterminated quote reported. */
BARRA_EXPORT int barra_csv_finish(barra_csv_t *c, barra_csv_row_fn fn, barra_csv_error_fn on_error,
                                  void *userdata);

#ifdef __cplusplus
}
#endif

#endif
