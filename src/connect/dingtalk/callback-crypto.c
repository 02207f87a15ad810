/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "connect/dingtalk/callback-crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

/* Messages bigger than this are not DingTalk events: refused before any allocation. */
#define DT_MAX_MESSAGE (1u << 24)

static int refuse(struct barra_error *reterr, enum dt_crypto_error code, const char *what)
{
    int r = barra_error_set(reterr, -BARRA_EFORMAT, "DingTalk callback refused (%d): %s", (int)code,
                            what);
    if (reterr) {
        reterr->line = (uint32_t)code;
    }
    return r;
}

int dt_derive_key(const char *aes_key, uint8_t key[32])
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    if (aes_key == NULL || strlen(aes_key) != DT_AES_KEY_CHARS ||
        strspn(aes_key, alnum) != DT_AES_KEY_CHARS) {
        return -BARRA_EINVAL;
    }
    char b64[DT_AES_KEY_CHARS + 2];
    memcpy(b64, aes_key, DT_AES_KEY_CHARS);
    b64[DT_AES_KEY_CHARS] = '=';
    b64[DT_AES_KEY_CHARS + 1] = '\0';
    uint8_t out[33]; /* EVP_DecodeBlock writes whole groups of three */
    if (EVP_DecodeBlock(out, (const unsigned char *)b64, DT_AES_KEY_CHARS + 1) != 33) {
        return -BARRA_EINVAL;
    }
    memcpy(key, out, 32);
    OPENSSL_cleanse(out, sizeof(out));
    return 0;
}

static int cmp_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void dt_signature(const char *token, const char *timestamp, const char *nonce, const char *encrypt,
                  char out[41])
{
    const char *parts[4] = {token, timestamp, nonce, encrypt};
    qsort(parts, 4, sizeof(parts[0]), cmp_strings);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t digest[20];
    unsigned len = 0;
    bool ok = c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) == 1;
    for (size_t i = 0; ok && i < 4; i++) {
        ok = EVP_DigestUpdate(c, parts[i], strlen(parts[i])) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(c, digest, &len) == 1 && len == 20;
    EVP_MD_CTX_free(c);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < 20; i++) {
        out[2 * i] = ok ? hex[digest[i] >> 4] : '-'; /* a failed digest matches nothing */
        out[2 * i + 1] = ok ? hex[digest[i] & 15] : '-';
    }
    out[40] = '\0';
}

bool dt_signature_ok(const char *given, const char *token, const char *timestamp, const char *nonce,
                     const char *encrypt)
{
    if (given == NULL || token == NULL || timestamp == NULL || nonce == NULL || encrypt == NULL ||
        strlen(given) != 40) {
        return false;
    }
    char want[41];
    dt_signature(token, timestamp, nonce, encrypt, want);
    return CRYPTO_memcmp(want, given, 40) == 0;
}

/* One AES-256-CBC pass without OpenSSL's padding (DingTalk's is handled here). */
static int cbc(const uint8_t key[32], int encrypt, const uint8_t *in, size_t len, uint8_t *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    int ok = c && len <= INT32_MAX &&
             EVP_CipherInit_ex(c, EVP_aes_256_cbc(), NULL, key, key, encrypt) == 1 &&
             EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
             EVP_CipherUpdate(c, out, &n, in, (int)len) == 1 &&
             EVP_CipherFinal_ex(c, out + n, &fin) == 1 && (size_t)(n + fin) == len;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

int dt_decrypt(const uint8_t key[32], const char *owner, const char *encrypt, char **ret_msg,
               size_t *ret_len, uint8_t ret_random[DT_RANDOM_BYTES], struct barra_error *reterr)
{
    *ret_msg = NULL;
    size_t b64len = encrypt ? strlen(encrypt) : 0;
    if (b64len == 0 || b64len % 4 != 0 || b64len / 4 * 3 > DT_MAX_MESSAGE) {
        return refuse(reterr, DT_DECRYPT_ERROR, "the ciphertext is not Base64 of whole blocks");
    }
    uint8_t *ct = barra_malloc(b64len / 4 * 3 + 1);
    if (ct == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    int n = EVP_DecodeBlock(ct, (const unsigned char *)encrypt, (int)b64len);
    /* EVP_DecodeBlock counts '=' padding as zero bytes: take them off. */
    size_t ctlen =
        n < 0 ? 0 : (size_t)n - (encrypt[b64len - 1] == '=') - (encrypt[b64len - 2] == '=');
    int r = 0;
    uint8_t *pt = NULL;
    if (n < 0 || ctlen == 0 || ctlen % 16 != 0) {
        r = refuse(reterr, DT_DECRYPT_ERROR, "the ciphertext is not whole AES blocks");
    } else if ((pt = barra_malloc(ctlen + 1)) == NULL) {
        r = barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    } else if (cbc(key, 0, ct, ctlen, pt) < 0) {
        r = refuse(reterr, DT_DECRYPT_ERROR, "AES decryption failed");
    }
    barra_free(ct);
    if (r < 0) {
        barra_free(pt);
        return r;
    }
    size_t pad = pt[ctlen - 1];
    size_t owner_len = strlen(owner);
    if (pad < 1 || pad > 32 || pad > ctlen) {
        r = refuse(reterr, DT_DECRYPT_ERROR, "the padding is malformed");
    } else {
        size_t body = ctlen - pad;
        uint32_t mlen =
            body >= DT_RANDOM_BYTES + 4
                ? (uint32_t)pt[16] << 24 | (uint32_t)pt[17] << 16 | (uint32_t)pt[18] << 8 | pt[19]
                : 0;
        if (body < DT_RANDOM_BYTES + 4 || mlen > body - DT_RANDOM_BYTES - 4) {
            r = refuse(reterr, DT_LENGTH_MISMATCH, "the message length does not fit");
        } else if (body - DT_RANDOM_BYTES - 4 - mlen != owner_len ||
                   CRYPTO_memcmp(pt + DT_RANDOM_BYTES + 4 + mlen, owner, owner_len) != 0) {
            r = refuse(reterr, DT_OWNER_MISMATCH, "the message is for another app (owner key)");
        } else {
            char *msg = barra_malloc((size_t)mlen + 1);
            if (msg == NULL) {
                r = barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
            } else {
                memcpy(msg, pt + DT_RANDOM_BYTES + 4, mlen);
                msg[mlen] = '\0';
                *ret_msg = msg;
                if (ret_len) {
                    *ret_len = mlen;
                }
                if (ret_random) {
                    memcpy(ret_random, pt, DT_RANDOM_BYTES);
                }
            }
        }
    }
    OPENSSL_cleanse(pt, ctlen);
    barra_free(pt);
    return r;
}

int dt_encrypt(const uint8_t key[32], const char *owner, const char *msg, size_t len,
               const uint8_t random[DT_RANDOM_BYTES], char **ret, struct barra_error *reterr)
{
    *ret = NULL;
    size_t owner_len = strlen(owner);
    if (len > DT_MAX_MESSAGE) {
        return barra_error_set(reterr, -BARRA_ELIMIT, "a DingTalk message is at most 16 MiB");
    }
    size_t body = DT_RANDOM_BYTES + 4 + len + owner_len;
    size_t pad = 32 - body % 32;
    size_t total = body + pad;
    uint8_t *pt = barra_malloc(total), *ct = barra_malloc(total);
    char *b64 = barra_malloc(4 * ((total + 2) / 3) + 1);
    int r = 0;
    if (pt == NULL || ct == NULL || b64 == NULL) {
        r = barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    } else {
        if (random) {
            memcpy(pt, random, DT_RANDOM_BYTES);
        } else {
            static const char alnum[] =
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
            uint8_t raw[DT_RANDOM_BYTES];
            if (RAND_bytes(raw, sizeof(raw)) != 1) {
                r = barra_error_set(reterr, -BARRA_EIO, "no random bytes");
            }
            for (size_t i = 0; i < DT_RANDOM_BYTES; i++) {
                pt[i] = (uint8_t)alnum[raw[i] % 62];
            }
        }
        pt[16] = (uint8_t)(len >> 24);
        pt[17] = (uint8_t)(len >> 16);
        pt[18] = (uint8_t)(len >> 8);
        pt[19] = (uint8_t)len;
        memcpy(pt + 20, msg, len);
        memcpy(pt + 20 + len, owner, owner_len);
        memset(pt + body, (int)pad, pad);
        if (r == 0 && cbc(key, 1, pt, total, ct) < 0) {
            r = barra_error_set(reterr, -BARRA_EIO, "AES encryption failed");
        }
        if (r == 0) {
            (void)EVP_EncodeBlock((unsigned char *)b64, ct, (int)total);
            *ret = b64;
            b64 = NULL;
        }
    }
    if (pt) {
        OPENSSL_cleanse(pt, total);
    }
    barra_free(pt);
    barra_free(ct);
    barra_free(b64);
    return r;
}
