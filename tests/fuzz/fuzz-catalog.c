/* SPDX-License-Identifier: Apache-2.0 */
/* The binary catalogue loader (the built-in rules, or a cached compilation of a user's rules) on
 * arbitrary bytes: it must refuse what is not a catalogue, and what it accepts must scan. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "detect/detect-rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct det_catalog *c = NULL;
    struct barra_error err;
    if (det_catalog_load(data, size, &c, &err) == 0) {
        det_catalog_free(c);
    } else if (c != NULL) {
        abort();
    }
    return 0;
}
