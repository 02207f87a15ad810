/* SPDX-License-Identifier: Apache-2.0 */
/* Checkpoints (signed notes) and verifier keys from outside: parsed and checked without crashing,
 * and a note only accepted when the fixed key signed it. Input: a verifier key line, then the note.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char key[] = "barra/audit+f9c29b41+AdBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[256];
    uint8_t pub[32];
    /* The first line as a verifier key. */
    const uint8_t *nl = memchr(data, '\n', size);
    size_t first = nl ? (size_t)(nl - data) : size;
    char *line = malloc(first + 1);
    if (line == NULL) {
        return 0;
    }
    memcpy(line, data, first);
    line[first] = '\0';
    (void)audit_verifier_key_parse(line, name, sizeof(name), pub);
    free(line);
    /* The whole input as a note, against the fixed key. */
    if (audit_verifier_key_parse(key, name, sizeof(name), pub) != 0) {
        abort();
    }
    struct audit_checkpoint cp;
    struct barra_error err;
    int r = audit_checkpoint_verify((const char *)data, size, name, pub, &cp, &err);
    if (r == 0 && (cp.size > UINT64_MAX / 2 || strcmp(cp.origin, "barra/audit") != 0)) {
        abort();
    }
    return 0;
}
