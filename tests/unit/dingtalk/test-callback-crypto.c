/* SPDX-License-Identifier: Apache-2.0 */
/* DingTalk's callback crypto against the official test vectors of the reference (A: the official
 * Python sample, B: the ISV suite example of the old docs, C: the reply example of the docs' FAQ)
 * and one computed vector (D, not official). Each ciphertext is decrypted, and encrypted again from
 * its own random bytes, which must give the official ciphertext byte for byte. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "connect/dingtalk/callback-crypto.h"
#include "core/alloc.h"

struct vector {
    const char *token, *aes_key, *owner, *key_hex, *timestamp, *nonce, *signature, *encrypt,
        *random, *message;
};

static const struct vector vectors[] = {
    {"mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", "ding6ccabc44d2c8d38b",
     "62e7b411f74de7dd3473571ee5c7fa035e7673adc30ded7cd3c6bad1ce5e71de", "1608001896814",
     "WL4PK6yA", "03044561471240d4a14bb09372dfcfd4fd0e40cb",
     "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+"
     "HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3",
     "l7Y3EcX2CU5w8av3", "{\"EventType\":\"check_url\"}"},
    {"123456", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij", "suite4xxxxxxxxxxxxxxx",
     "e20e63eb8aa5ca5df3bdeb6ac73e638a871daf9f3a7e7db3be3a5af3396cde28", "1445827045067",
     "nEXhMP4r", "5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0",
     "1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmf"
     "xjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHl"
     "egK+AGGanfwjXuQ9+0pZcy0w9lQ==",
     "hU3bEfGZZewzhG5a",
     "{\"EventType\":\"check_create_suite_url\",\"Random\":\"LPIdSnlF\",\"TestSuiteKey\":\"suite4xxx"
     "xxxxxxxxxxxx\"}"},
    {"123456", "1234567890123456789012345678901234567890123", "dingsnotzck6pm5veliw",
     "d76df8e7aefcf74d76df8e7aefcf74d76df8e7aefcf74d76df8e7aefcf74d76d", "1614767836",
     "A7Co0cJLMzIDtMMI", "9a95a004dd16f5c307e849b994173f76aa26e5eb",
     "YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA==",
     "dICkEDLj0eb6yAbc", "success"},
    /* D: computed, not official (Vector B's key and owner key). */
    {"123456", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij", "suite4xxxxxxxxxxxxxxx",
     "e20e63eb8aa5ca5df3bdeb6ac73e638a871daf9f3a7e7db3be3a5af3396cde28", "1445827045067",
     "nEXhMP4r", "90635e9e91cc70124bb39fb15d24787a09afb3f9",
     "t5BhzMl4vwWDGqbT+PBJEQ864I8Yet7AmifbxRHIUY3Gokshny9LC+jKYwKsveoFbilBD5qI8U0brkEo6DMkTw==",
     "aaaabbbbccccdddd", "success"},
};

static void hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const struct vector *v = &vectors[i];
        uint8_t key[32];
        char key_hex[65], sig[41];
        assert_int_equal(dt_derive_key(v->aes_key, key), 0);
        hex(key, 32, key_hex);
        assert_string_equal(key_hex, v->key_hex);
        dt_signature(v->token, v->timestamp, v->nonce, v->encrypt, sig);
        assert_string_equal(sig, v->signature);
        assert_true(dt_signature_ok(v->signature, v->token, v->timestamp, v->nonce, v->encrypt));

        char *msg = NULL;
        size_t len = 0;
        uint8_t random[DT_RANDOM_BYTES];
        struct barra_error err;
        assert_int_equal(dt_decrypt(key, v->owner, v->encrypt, &msg, &len, random, &err), 0);
        assert_string_equal(msg, v->message);
        assert_int_equal(len, strlen(v->message));
        assert_memory_equal(random, v->random, DT_RANDOM_BYTES);
        barra_free(msg);

        char *again = NULL;
        assert_int_equal(dt_encrypt(key, v->owner, v->message, strlen(v->message),
                                    (const uint8_t *)v->random, &again, &err),
                         0);
        assert_string_equal(again, v->encrypt); /* padding to 32, Base64 without line breaks */
        barra_free(again);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    const struct vector *a = &vectors[0];
    uint8_t key[32];
    assert_int_equal(dt_derive_key(a->aes_key, key), 0);
    char *msg = NULL;
    struct barra_error err;

    /* Another app's owner key. */
    assert_int_equal(dt_decrypt(key, "ding0000000000000000", a->encrypt, &msg, NULL, NULL, &err),
                     -BARRA_EFORMAT);
    assert_int_equal(err.line, DT_OWNER_MISMATCH);
    assert_null(msg);

    /* The cipher has no integrity of its own (CBC, no MAC): a flipped byte may decrypt to a
     * garbled message, which is why the signature over the ciphertext is checked first. Every
     * altered ciphertext fails the signature; decrypting it refuses or returns something other
     * than the original, never crashes. */
    char tampered[256];
    for (size_t pos = 0; pos < strlen(a->encrypt) - 2; pos++) {
        (void)snprintf(tampered, sizeof(tampered), "%s", a->encrypt);
        tampered[pos] = tampered[pos] == 'A' ? 'B' : 'A';
        assert_false(dt_signature_ok(a->signature, a->token, a->timestamp, a->nonce, tampered));
        if (dt_decrypt(key, a->owner, tampered, &msg, NULL, NULL, &err) == 0) {
            barra_free(msg);
            msg = NULL;
        }
    }
    assert_int_equal(dt_decrypt(key, a->owner, "not base64!", &msg, NULL, NULL, &err),
                     -BARRA_EFORMAT);
    assert_int_equal(dt_decrypt(key, a->owner, "", &msg, NULL, NULL, &err), -BARRA_EFORMAT);
    assert_int_equal(dt_decrypt(key, a->owner, "QUJD", &msg, NULL, NULL, &err), -BARRA_EFORMAT);

    /* Keys: 43 characters of [A-Za-z0-9] only. */
    assert_int_equal(dt_derive_key("Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd", key),
                     -BARRA_EINVAL);
    assert_int_equal(dt_derive_key("Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ec+7", key),
                     -BARRA_EINVAL);
    assert_int_equal(dt_derive_key(NULL, key), -BARRA_EINVAL);

    /* Signatures: exact lowercase hex, nothing else. */
    char upper[41];
    (void)snprintf(upper, sizeof(upper), "%s", a->signature);
    for (char *p = upper; *p; p++) {
        *p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
    }
    assert_false(dt_signature_ok(upper, a->token, a->timestamp, a->nonce, a->encrypt));
    assert_false(dt_signature_ok(a->signature, a->token, "1608001896815", a->nonce, a->encrypt));
    assert_false(dt_signature_ok("", a->token, a->timestamp, a->nonce, a->encrypt));
}

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t key[32];
    assert_int_equal(dt_derive_key(vectors[2].aes_key, key), 0);
    /* Lengths around the 32-byte padding boundary, and random bytes drawn by the library. */
    char text[200];
    for (size_t len = 0; len < sizeof(text) - 1; len++) {
        memset(text, 'x', len);
        text[len] = '\0';
        char *enc = NULL, *dec = NULL;
        size_t dlen = 0;
        struct barra_error err;
        assert_int_equal(dt_encrypt(key, "dingowner", text, len, NULL, &enc, &err), 0);
        assert_int_equal(dt_decrypt(key, "dingowner", enc, &dec, &dlen, NULL, &err), 0);
        assert_int_equal(dlen, len);
        assert_string_equal(dec, text);
        barra_free(enc);
        barra_free(dec);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
