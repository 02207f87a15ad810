/* SPDX-License-Identifier: Apache-2.0 */
/* CSV rows on arbitrary bytes, fed in pieces cut where the first byte says. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include <barra/extract.h>

static int row(const struct barra_csv_cell *cells, size_t n, uint64_t line, void *ud)
{
    (void)line;
    size_t *total = ud;
    for (size_t i = 0; i < n; i++) {
        *total += cells[i].value_len;
    }
    return 0;
}

static void on_error(const struct barra_error *err, void *ud)
{
    (void)err;
    (void)ud;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    barra_csv_t *c;
    struct barra_error err;
    char delim = size && (data[0] & 1) ? '\t' : ',';
    if (barra_csv_new(delim, 4096, &c, &err) < 0) {
        abort();
    }
    size_t step = size ? (size_t)data[0] % 64 + 1 : 1, total = 0;
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        if (barra_csv_feed(c, (const char *)data + off, n, row, on_error, &total) < 0) {
            abort();
        }
    }
    if (barra_csv_finish(c, row, on_error, &total) < 0 || total > size) {
        abort();
    }
    barra_csv_free(c);
    return 0;
}
