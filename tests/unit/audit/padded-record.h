/* SPDX-License-Identifier: Apache-2.0 */
/* A JSON record of exactly `len` bytes (NUL-terminated), to fill the log's pages quickly:
 * {"x":"aaa...a"}, or {} when len is too short for that. The caller frees it. */
#ifndef BARRA_TEST_PADDED_RECORD_H
#define BARRA_TEST_PADDED_RECORD_H

#include <stdlib.h>
#include <string.h>

static char *padded_record(size_t len)
{
    char *r = malloc(len < 8 ? 3 : len + 1);
    if (r == NULL) {
        return NULL;
    }
    if (len < 8) {
        memcpy(r, "{}", 3);
    } else {
        memset(r, 'a', len);
        memcpy(r, "{\"x\":\"", 6);
        memcpy(r + len - 2, "\"}", 3);
    }
    return r;
}

#endif
