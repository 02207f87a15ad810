/* SPDX-License-Identifier: Apache-2.0 */
/* DingTalk's callback decoder on arbitrary ciphertext (the "encrypt" field of a callback body),
 * under the key and owner of the official vector A: it refuses or decrypts, and what decrypts
 * encrypts back (from its own random bytes) to a ciphertext that decrypts to the same message. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connect/dingtalk/callback-crypto.h"
#include "core/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char owner[] = "ding6ccabc44d2c8d38b";
    uint8_t key[32];
    if (dt_derive_key("Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", key) < 0) {
        abort();
    }
    char *text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    char sig[41];
    dt_signature("mryue", "1608001896814", "WL4PK6yA", text, sig);
    char *msg = NULL, *again = NULL, *msg2 = NULL;
    size_t len = 0, len2 = 0;
    uint8_t random[DT_RANDOM_BYTES];
    struct barra_error err;
    if (dt_decrypt(key, owner, text, &msg, &len, random, &err) == 0) {
        if (dt_encrypt(key, owner, msg, len, random, &again, &err) != 0 ||
            dt_decrypt(key, owner, again, &msg2, &len2, NULL, &err) != 0 || len2 != len ||
            memcmp(msg, msg2, len) != 0) {
            abort();
        }
    } else if (err.line < DT_ILLEGAL_AES_KEY || err.line > DT_OWNER_MISMATCH) {
        abort(); /* every refusal carries DingTalk's code */
    }
    barra_free(msg);
    barra_free(msg2);
    barra_free(again);
    free(text);
    return 0;
}
