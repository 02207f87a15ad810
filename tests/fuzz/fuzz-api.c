/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's request readers on arbitrary bytes. The first byte picks the reader (consent,
 * withdrawal, classify, decision id); the rest is the body. Whatever is accepted must be
 * well-formed: a 64-digit subject reference, a valid purpose, a classify text of the length said.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <barra/policy.h>

#include "core/alloc.h"
#include "server/api-requests.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static barra_key_t *key;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (key == NULL) {
        static const uint8_t bytes[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                          11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                                          21, 22, 23, 24, 25, 26, 27, 28, 29, 30};
        if (barra_key_from_bytes(bytes, sizeof(bytes), &key, NULL) < 0) {
            abort();
        }
    }
    if (size == 0) {
        return 0;
    }
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    struct barra_error err;
    switch (data[0] % 4) {
    case 0:
    case 1: {
        struct consent_request *c = NULL;
        if (consent_request_parse(body, len, data[0] % 4 == 1, key, 1795000000, &c, &err) == 0) {
            if (strlen(c->rec.subject_ref) != 64 || c->rec.purpose[0] == '\0' ||
                c->rec.state == BARRA_CONSENT_MISSING || strlen(c->rec.id) != 32) {
                abort();
            }
            consent_request_free(c);
        } else if (err.message[0] == '\0') {
            abort(); /* a refusal always says why */
        }
        break;
    }
    case 2: {
        char *text = NULL;
        size_t tl = 0;
        if (classify_request_parse(body, len, &text, &tl, &err) == 0) {
            if (text[tl] != '\0' || tl > len) {
                abort();
            }
            barra_free(text);
        }
        break;
    }
    default: {
        char s[32];
        size_t n = len < sizeof(s) - 1 ? len : sizeof(s) - 1;
        memcpy(s, body, n);
        s[n] = '\0';
        uint64_t v;
        if (decision_id_parse(s, &v) && (s[0] < '0' || s[0] > '9')) {
            abort();
        }
        break;
    }
    }
    return 0;
}
