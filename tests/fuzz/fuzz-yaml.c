/* SPDX-License-Identifier: Apache-2.0 */
/* The YAML loader used for rules (and later policies and configuration) on arbitrary bytes. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "core/yamltree.h"

static size_t walk(const struct ynode *n, int depth)
{
    if (depth > YTREE_MAX_DEPTH + 1) {
        abort();
    }
    size_t count = 1;
    for (size_t i = 0; i < n->n; i++) {
        count += walk(n->items[i], depth + 1);
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ynode *root = NULL;
    struct barra_error err;
    if (ytree_load_string((const char *)data, size, "fuzz", &root, &err) == 0) {
        (void)walk(root, 0);
        (void)ytree_get(root, "type");
        ytree_free(root);
    } else if (root != NULL) {
        abort();
    }
    return 0;
}
