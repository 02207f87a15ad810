/* SPDX-License-Identifier: Apache-2.0 */
/* The shape dialect (entity patterns) on arbitrary text: each line a pattern, then the automaton is
 * built and run over the input itself. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "detect/detect-shape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256) {
        return 0; /* longer patterns only repeat what shorter ones test */
    }
    char buf[257];
    memcpy(buf, data, size);
    buf[size] = '\0';
    struct det_shape_builder *b = det_shape_builder_new();
    if (b == NULL) {
        abort();
    }
    struct barra_error err;
    uint16_t id = 0;
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line && id < 8;
         line = strtok_r(NULL, "\n", &save)) {
        (void)det_shape_add(b, line, id++, &err);
    }
    struct det_dfa d;
    if (det_shape_build(b, &d, &err) == 0) {
        const uint8_t *p = data, *end = data + size;
        uint32_t st = 1;
        while (p < end) {
            uint32_t cp;
            p += utf8_decode(p, end, &cp);
            st = det_dfa_next(&d, st, cp);
            if (st >= d.nstates) {
                abort();
            }
            if (st == 0) {
                st = 1;
            }
        }
        det_dfa_done(&d);
    }
    det_shape_builder_free(b);
    return 0;
}
