/* SPDX-License-Identifier: Apache-2.0 */
/* Barra's JSON reader against jansson, an independent implementation, on arbitrary bytes: both
 * accept or both refuse (apart from the documented depth limit), and what both accept reads the
 * same, value for value. */
#include "config.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const struct jr_value *a, const json_t *b)
{
    switch (a->type) {
    case JR_NULL:
        return json_is_null(b);
    case JR_TRUE:
        return json_is_true(b);
    case JR_FALSE:
        return json_is_false(b);
    case JR_INTEGER:
        return json_is_integer(b) && json_integer_value(b) == a->u.i;
    case JR_REAL:
        return json_is_real(b) && json_real_value(b) == a->u.d;
    case JR_STRING:
        return json_is_string(b) && json_string_length(b) == a->n &&
               memcmp(json_string_value(b), a->u.s, a->n) == 0 && a->u.s[a->n] == '\0';
    case JR_ARRAY:
        if (!json_is_array(b) || json_array_size(b) != a->n) {
            return 0;
        }
        for (uint32_t i = 0; i < a->n; i++) {
            if (!same(&a->u.items[i], json_array_get(b, i))) {
                return 0;
            }
        }
        return 1;
    case JR_OBJECT:
        if (!json_is_object(b) || json_object_size(b) != a->n) {
            return 0;
        }
        for (uint32_t i = 0; i < a->n; i++) {
            const json_t *v = json_object_get(b, a->u.members[i].key);
            if (v == NULL || !same(&a->u.members[i].value, v)) {
                return 0;
            }
        }
        return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jr_doc doc;
    struct jr_error err;
    int r = jr_parse((const char *)data, size, &doc, &err);
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data, size,
                           JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    /* Where the two may differ by design: the depth and number-length limits, and a raw NUL byte,
     * at which jansson stops reading as if the text ended (Barra refuses the rest). */
    bool limit = (r < 0 && (strcmp(err.text, "nested too deeply") == 0 ||
                            strcmp(err.text, "a number is too long") == 0)) ||
                 memchr(data, '\0', size) != NULL;
    if (!limit && (r == 0) != (j != NULL)) {
        abort(); /* one accepts what the other refuses */
    }
    if (r == 0 && j && !same(&doc.root, j)) {
        abort();
    }
    if (r < 0 && err.text[0] == '\0') {
        abort();
    }
    json_decref(j);
    jr_free(&doc);
    return 0;
}
