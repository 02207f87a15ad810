/* SPDX-License-Identifier: Apache-2.0 */
/* Reads "VALIDATOR VALUE" lines and prints "1" or "0" per line: whether the C validator accepts the
 * value (reference date 2026-11-23). Used by gen/differential.py. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "detect/detect-int.h"
#include "detect/detect-rules.h"
#include "detect/detect-validate.h"

int main(void)
{
    struct det_catalog *cat;
    struct barra_error err;
    if (det_catalog_compile(BARRA_SOURCE_ROOT "/rules/entities", &cat, &err) < 0) {
        fprintf(stderr, "validate-values: %s\n", err.message);
        return 2;
    }
    char line[256];
    while (fgets(line, sizeof(line), stdin)) {
        char name[64], value[128];
        if (sscanf(line, "%63s %127s", name, value) != 2) {
            fprintf(stderr, "validate-values: bad line: %s", line);
            return 2;
        }
        int v = det_validator_from_name(name);
        if (v < 0) {
            fprintf(stderr, "validate-values: unknown validator %s\n", name);
            return 2;
        }
        struct det_verdict verdict;
        bool ok =
            det_validate((enum det_validator)v, cat, value, strlen(value), 20261123, &verdict);
        printf("%d\n", ok ? 1 : 0);
    }
    det_catalog_free(cat);
    return 0;
}
