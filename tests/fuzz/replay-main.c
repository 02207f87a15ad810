/* SPDX-License-Identifier: Apache-2.0 */
/* Runs a fuzz target's entry point over files given on the command line, without libFuzzer: the
 * ordinary test suite (and its ASan run) replays every seed and every regression this way. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) {
            perror(argv[i]);
            return 2;
        }
        size_t cap = 1 << 16, len = 0;
        uint8_t *buf = malloc(cap);
        size_t n;
        while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
            len += n;
            if (len == cap) {
                cap *= 2;
                uint8_t *q = realloc(buf, cap);
                if (q == NULL) {
                    free(buf);
                    buf = NULL;
                }
                buf = q;
            }
        }
        fclose(f);
        if (buf == NULL) {
            return 2;
        }
        (void)LLVMFuzzerTestOneInput(buf, len);
        free(buf);
    }
    printf("replayed %d inputs\n", argc - 1);
    return 0;
}
