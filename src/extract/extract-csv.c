/* SPDX-License-Identifier: Apache-2.0 */
/* CSV and TSV rows, streamed: RFC 4180 quoting ("" inside quotes, newlines inside quoted cells),
 * CRLF or LF line ends, a bound on the size of one row. */
#include "config.h"

#include <string.h>

#include <barra/extract.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"

#include "core/banned.h"

enum csv_state {
    CSV_FIELD_START,
    CSV_UNQUOTED,
    CSV_QUOTED,
    CSV_QUOTE_IN_QUOTED, /* a '"' inside quotes: either "" or the closing quote */
    CSV_SKIP_ROW,        /* after an oversized row: drop bytes up to the next line end */
};

struct barra_csv {
    char delim;
    size_t max_record;
    enum csv_state state;
    struct buf text; /* the current row's cell contents, back to back */
    size_t *ends;    /* end offset of each finished cell in text */
    size_t nends, capends;
    struct barra_csv_cell *cells;
    size_t capcells;
    uint64_t line;     /* current line, 1-based */
    uint64_t row_line; /* line the current row started on */
    bool row_started;
};

BARRA_EXPORT int barra_csv_new(char delimiter, size_t max_record, barra_csv_t **ret,
                               struct barra_error *reterr)
{
    if (ret == NULL || delimiter == '"' || delimiter == '\n' || delimiter == '\r' ||
        max_record == 0) {
        return barra_error_set(reterr, -BARRA_EINVAL, "invalid CSV reader arguments");
    }
    barra_csv_t *c = barra_calloc(1, sizeof(*c));
    if (c == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    c->delim = delimiter;
    c->max_record = max_record;
    buf_init(&c->text, max_record);
    c->line = 1;
    c->row_line = 1;
    *ret = c;
    return 0;
}

BARRA_EXPORT barra_csv_t *barra_csv_free(barra_csv_t *c)
{
    if (c) {
        buf_done(&c->text);
        barra_free(c->ends);
        barra_free(c->cells);
        barra_free(c);
    }
    return NULL;
}

static int end_cell(barra_csv_t *c)
{
    if (c->nends == c->capends) {
        size_t cap = c->capends ? c->capends * 2 : 16;
        void *q = barra_reallocarray(c->ends, cap, sizeof(*c->ends));
        if (q == NULL) {
            return -BARRA_ENOMEM;
        }
        c->ends = q;
        c->capends = cap;
    }
    c->ends[c->nends++] = c->text.len;
    return 0;
}

static void reset_row(barra_csv_t *c)
{
    if (c->text.data) {
        explicit_bzero(c->text.data, c->text.len);
    }
    buf_clear(&c->text);
    c->nends = 0;
    c->row_started = false;
}

static int emit_row(barra_csv_t *c, barra_csv_row_fn fn, void *ud)
{
    int r = end_cell(c);
    if (r < 0) {
        return r;
    }
    if (c->nends > c->capcells) {
        void *q = barra_reallocarray(c->cells, c->nends, sizeof(*c->cells));
        if (q == NULL) {
            return -BARRA_ENOMEM;
        }
        c->cells = q;
        c->capcells = c->nends;
    }
    size_t start = 0;
    for (size_t i = 0; i < c->nends; i++) {
        c->cells[i].value = c->text.data ? c->text.data + start : "";
        c->cells[i].value_len = c->ends[i] - start;
        start = c->ends[i];
    }
    r = fn(c->cells, c->nends, c->row_line, ud) ? -BARRA_ECANCELED : 0;
    reset_row(c);
    return r;
}

static void report(barra_csv_t *c, barra_csv_error_fn on_error, void *ud, const char *what)
{
    if (on_error) {
        struct barra_error e;
        (void)barra_error_set_at(&e, -BARRA_EFORMAT, NULL, (uint32_t)c->row_line, 0,
                                 "row starting on line %llu: %s", (unsigned long long)c->row_line,
                                 what);
        on_error(&e, ud);
    }
}

static int add_byte(barra_csv_t *c, char b, barra_csv_error_fn on_error, void *ud)
{
    int r = buf_append_char(&c->text, b);
    if (r == -BARRA_ELIMIT) {
        report(c, on_error, ud, "longer than the row limit, skipped");
        reset_row(c);
        c->state = CSV_SKIP_ROW;
        return 0;
    }
    return r;
}

BARRA_EXPORT int barra_csv_feed(barra_csv_t *c, const char *data, size_t len, barra_csv_row_fn fn,
                                barra_csv_error_fn on_error, void *ud)
{
    if (c == NULL || fn == NULL || (data == NULL && len)) {
        return -BARRA_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        char b = data[i];
        int r = 0;
        if (!c->row_started && c->state != CSV_SKIP_ROW) {
            c->row_started = true;
            c->row_line = c->line;
        }
        switch (c->state) {
        case CSV_SKIP_ROW:
            if (b == '\n') {
                c->state = CSV_FIELD_START;
                reset_row(c);
            }
            break;
        case CSV_QUOTED:
            if (b == '"') {
                c->state = CSV_QUOTE_IN_QUOTED;
            } else {
                r = add_byte(c, b, on_error, ud);
            }
            break;
        case CSV_QUOTE_IN_QUOTED:
            if (b == '"') {
                c->state = CSV_QUOTED;
                r = add_byte(c, '"', on_error, ud);
                break;
            }
            c->state = CSV_UNQUOTED; /* closed; what follows up to the delimiter is kept */
            /* fall through */
        case CSV_FIELD_START:
        case CSV_UNQUOTED:
            if (b == '"' && c->state == CSV_FIELD_START) {
                c->state = CSV_QUOTED;
            } else if (b == c->delim) {
                r = end_cell(c);
                c->state = CSV_FIELD_START;
            } else if (b == '\n') {
                r = emit_row(c, fn, ud);
                c->state = CSV_FIELD_START;
            } else if (b != '\r') {
                r = add_byte(c, b, on_error, ud);
                if (c->state == CSV_FIELD_START) {
                    c->state = CSV_UNQUOTED;
                }
            }
            break;
        }
        if (b == '\n') {
            c->line++;
        }
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

BARRA_EXPORT int barra_csv_finish(barra_csv_t *c, barra_csv_row_fn fn, barra_csv_error_fn on_error,
                                  void *ud)
{
    if (c == NULL || fn == NULL) {
        return -BARRA_EINVAL;
    }
    int r = 0;
    if (c->state == CSV_QUOTED) {
        report(c, on_error, ud, "a quoted cell is never closed");
        reset_row(c);
    } else if (c->state != CSV_SKIP_ROW && c->row_started && (c->text.len || c->nends)) {
        r = emit_row(c, fn, ud);
    }
    reset_row(c);
    c->state = CSV_FIELD_START;
    c->line = 1;
    c->row_line = 1;
    return r;
}
