/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON Lines record reader on arbitrary bytes, with every string wanted and with some. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <barra/extract.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static barra_jsonl_t *all, *some;
    struct barra_error err;
    if (all == NULL) {
        const char *fields[] = {"text", "a.b", "x[0]"};
        if (barra_jsonl_new(NULL, 0, "id", &all, &err) < 0 ||
            barra_jsonl_new(fields, 3, "meta.id", &some, &err) < 0) {
            abort();
        }
    }
    barra_jsonl_t *readers[2] = {all, some};
    for (int k = 0; k < 2; k++) {
        if (barra_jsonl_parse(readers[k], (const char *)data, size, &err) == 0) {
            for (size_t i = 0; i < barra_jsonl_field_count(readers[k]); i++) {
                const struct barra_jsonl_field *f = barra_jsonl_field(readers[k], i);
                /* Touch every byte: ASan checks the bounds. */
                volatile char sink = 0;
                for (size_t b = 0; b < f->value_len; b++) {
                    sink ^= f->value[b];
                }
                for (size_t b = 0; b < f->path_len; b++) {
                    sink ^= f->path[b];
                }
                (void)sink;
            }
            size_t n;
            const char *id = barra_jsonl_id(readers[k], &n);
            if (id && n > size * 4 + 16) {
                abort();
            }
        } else if (err.code != -BARRA_EFORMAT || err.column == 0 || err.column > size + 1) {
            abort();
        }
    }
    return 0;
}
