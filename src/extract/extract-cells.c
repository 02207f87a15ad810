/* SPDX-License-Identifier: Apache-2.0 */
/* What the spreadsheet readers (.xlsx, .xls) share: lists of strings, and cells emitted with the
 * header of their column, since "A123456(3)" alone is weaker evidence than under "身份證號碼". */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "extract/extract-int.h"

#include "core/banned.h"

void ex_strings_free(struct ex_strings *s)
{
    for (size_t i = 0; i < s->n; i++) {
        barra_free(s->v[i]);
    }
    barra_free(s->v);
    memset(s, 0, sizeof(*s));
}

int ex_strings_add(struct ex_strings *s, const char *text, size_t len)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        char **nv = barra_reallocarray(s->v, ncap, sizeof(*nv));
        if (nv == NULL) {
            return -BARRA_ENOMEM;
        }
        s->v = nv;
        s->cap = ncap;
    }
    return (s->v[s->n++] = barra_strndup(text ? text : "", len)) ? 0 : -BARRA_ENOMEM;
}

/* "A", "Z", "AA", … for column 1, 26, 27, … */
static void column_name(unsigned col, char out[8])
{
    char rev[8];
    size_t k = 0;
    while (col > 0 && k < sizeof(rev)) {
        col--;
        rev[k++] = (char)('A' + col % 26);
        col /= 26;
    }
    for (size_t i = 0; i < k; i++) {
        out[i] = rev[k - 1 - i];
    }
    out[k] = '\0';
}

int ex_cell(struct ex_ctx *c, struct ex_strings *header, const char *path, const char *sheet,
            unsigned row, unsigned col, const char *value, size_t len)
{
    if (len == 0 || row == 0 || col == 0 || col > EX_MAX_COLS) {
        return c->stop;
    }
    if (row == 1) {
        while (header->n < col) {
            if (ex_strings_add(header, "", 0) < 0) {
                return c->stop = -BARRA_ENOMEM;
            }
        }
        char *copy = barra_strndup(value, len);
        if (copy == NULL) {
            return c->stop = -BARRA_ENOMEM;
        }
        barra_free(header->v[col - 1]);
        header->v[col - 1] = copy;
    }
    char name[8], where[400];
    column_name(col, name);
    (void)snprintf(where, sizeof(where), "%s!%s%u", sheet, name, row);
    const char *head = row > 1 && col <= header->n ? header->v[col - 1] : NULL;
    if (head == NULL || head[0] == '\0') {
        return ex_emit(c, path, where, value, len);
    }
    struct buf t;
    buf_init(&t, 0);
    (void)buf_printf(&t, "%s: ", head);
    (void)buf_append(&t, value, len);
    int r = t.err ? (c->stop = -BARRA_ENOMEM) : ex_emit(c, path, where, t.data, t.len);
    buf_done(&t);
    return r;
}
