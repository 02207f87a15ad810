/* SPDX-License-Identifier: Apache-2.0 */
/* DingTalk's HTTP event-callback crypto (docs/dingtalk.md; the facts and official test vectors are
 * in the reference): a SHA-1 signature over the sorted token, timestamp, nonce and ciphertext, and
 * AES-256-CBC with the IV taken from the key, 32-byte PKCS#7-style padding, and a plaintext of 16
 * random bytes, a big-endian length, the message and the owner key (the app's Client ID). */
#ifndef BARRA_CONNECT_DINGTALK_CALLBACK_CRYPTO_H
#define BARRA_CONNECT_DINGTALK_CALLBACK_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/error.h>

#define DT_AES_KEY_CHARS 43
#define DT_RANDOM_BYTES  16

/* Why a callback is refused, with DingTalk's own codes (for logs and the simulator). */
enum dt_crypto_error {
    DT_ILLEGAL_AES_KEY = 900004,
    DT_SIGNATURE_MISMATCH = 900005,
    DT_DECRYPT_ERROR = 900008,
    DT_LENGTH_MISMATCH = 900009,
    DT_OWNER_MISMATCH = 900010,
};

/* The 32-byte AES key from the console's 43-character aes_key (Base64 without its '='). Returns
 * 0, or -BARRA_EINVAL for a value that is not 43 characters of [A-Za-z0-9] decoding to 32 bytes. */
int dt_derive_key(const char *aes_key, uint8_t key[32]);

/* Lowercase hex SHA-1 of token, timestamp, nonce and encrypt sorted bytewise and joined. */
void dt_signature(const char *token, const char *timestamp, const char *nonce, const char *encrypt,
                  char out[41]);
/* Whether `given` is that signature; compared in constant time, upper-case hex refused. */
bool dt_signature_ok(const char *given, const char *token, const char *timestamp, const char *nonce,
                     const char *encrypt);

/* Decrypts `encrypt` (standard Base64). On success *ret_msg is the message (owned, NUL-terminated,
 * free with barra_free) and ret_random (if not NULL) the 16 random bytes. Any trailing pad value
 * from 1 to 32 is accepted (DingTalk pads to 32, its Go sample to 16). Errors: -BARRA_EFORMAT with
 * reterr->line set to the dt_crypto_error code. */
int dt_decrypt(const uint8_t key[32], const char *owner, const char *encrypt, char **ret_msg,
               size_t *ret_len, uint8_t ret_random[DT_RANDOM_BYTES], struct barra_error *reterr);

/* Encrypts msg for DingTalk (padding to 32, Base64 without line breaks). `random` gives the 16
 * leading bytes (tests); NULL draws them from the system's random source (16 alphanumerics, as
 * DingTalk's samples do). *ret is owned. */
int dt_encrypt(const uint8_t key[32], const char *owner, const char *msg, size_t len,
               const uint8_t random[DT_RANDOM_BYTES], char **ret, struct barra_error *reterr);

#endif
