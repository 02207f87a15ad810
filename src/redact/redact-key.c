/* SPDX-License-Identifier: Apache-2.0 */
/* The on-prem key behind references and pseudonyms: loading, creating, and keyed hashing. A plain
 * hash of a phone number reverses in seconds by trying every number; an HMAC under a key that never
 * leaves the machine does not. */
#include "config.h"

#include "redact/redact-key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <barra/policy.h>

#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

#define KEY_MIN 32
#define KEY_MAX 64

struct barra_key {
    uint8_t bytes[KEY_MAX];
    size_t len;
    char id[17];
    EVP_MAC_CTX *mac; /* initialised with the key; duplicated for each use */
};

static void to_hex(const uint8_t *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

BARRA_EXPORT barra_key_t *barra_key_free(barra_key_t *k)
{
    if (k) {
        EVP_MAC_CTX_free(k->mac);
        explicit_bzero(k, sizeof(*k));
        barra_free(k);
    }
    return NULL;
}

BARRA_EXPORT int barra_key_from_bytes(const void *bytes, size_t len, barra_key_t **ret,
                                      struct barra_error *reterr)
{
    if (bytes == NULL || ret == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no key bytes");
    }
    if (len < KEY_MIN || len > KEY_MAX) {
        return barra_error_set(reterr, -BARRA_EINVAL, "a key has %d to %d bytes, not %zu", KEY_MIN,
                               KEY_MAX, len);
    }
    barra_key_t *k = barra_calloc(1, sizeof(*k));
    if (k == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    memcpy(k->bytes, bytes, len);
    k->len = len;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    k->mac = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (k->mac == NULL || !EVP_MAC_init(k->mac, k->bytes, k->len, params)) {
        barra_key_free(k);
        return barra_error_set(reterr, -BARRA_ENOMEM, "cannot set up HMAC-SHA256");
    }
    /* The id is a hash of the key under its own label: it names the key without revealing it. */
    uint8_t digest[32];
    static const char label[] = "barra/key-id/v1";
    if (redact_key_hmac(k, label, sizeof(label), NULL, 0, digest) < 0) {
        barra_key_free(k);
        return barra_error_set(reterr, -BARRA_ENOMEM, "cannot compute the key id");
    }
    to_hex(digest, 8, k->id);
    *ret = k;
    return 0;
}

int redact_key_hmac(const barra_key_t *k, const void *a, size_t alen, const void *b, size_t blen,
                    uint8_t out[32])
{
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(k->mac);
    size_t outlen = 0;
    int ok = c && EVP_MAC_update(c, a, alen) && (blen == 0 || EVP_MAC_update(c, b, blen)) &&
             EVP_MAC_final(c, out, &outlen, 32) && outlen == 32;
    EVP_MAC_CTX_free(c);
    return ok ? 0 : -BARRA_ENOMEM;
}

BARRA_EXPORT int barra_key_subject_ref(const barra_key_t *k, const char *subject, char ret[65])
{
    static const char label[] = "barra/subject/v1";
    uint8_t digest[32];
    if (k == NULL || subject == NULL || ret == NULL ||
        redact_key_hmac(k, label, sizeof(label), subject, strlen(subject), digest) < 0) {
        return -BARRA_EINVAL;
    }
    to_hex(digest, 32, ret);
    return 0;
}

BARRA_EXPORT const char *barra_key_id(const barra_key_t *k)
{
    return k ? k->id : NULL;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* A key file holds 64 to 128 hex digits and optionally a newline. */
static int decode_key_file(const char *path, const char *text, size_t n, uint8_t *out,
                           size_t *ret_len, struct barra_error *reterr)
{
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) {
        n--;
    }
    if (n % 2 != 0 || n < 2 * KEY_MIN || n > 2 * KEY_MAX) {
        return barra_error_set(reterr, -BARRA_EINVAL,
                               "key file \"%s\" must hold %d to %d hex digits on one line", path,
                               2 * KEY_MIN, 2 * KEY_MAX);
    }
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval((unsigned char)text[2 * i]), lo = hexval((unsigned char)text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return barra_error_set(reterr, -BARRA_EINVAL,
                                   "key file \"%s\" has a character that is not a hex digit", path);
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *ret_len = n / 2;
    return 0;
}

/* Creates the missing directories above path, readable by the owner only. */
static int make_parents(const char *path, struct barra_error *reterr)
{
    char dir[4096];
    size_t n = strlen(path);
    if (n >= sizeof(dir)) {
        return barra_error_set(reterr, -BARRA_EINVAL, "key file path is too long");
    }
    memcpy(dir, path, n + 1);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            int e = errno;
            return barra_error_set(reterr, -e, "cannot create directory \"%s\": %s", dir,
                                   strerror(e));
        }
        *p = '/';
    }
    return 0;
}

static int create_key_file(const char *path, struct barra_error *reterr)
{
    int mr = make_parents(path, reterr);
    if (mr < 0) {
        return mr;
    }
    uint8_t raw[KEY_MIN];
    char hex[2 * KEY_MIN + 2];
    if (RAND_priv_bytes(raw, sizeof(raw)) != 1) {
        return barra_error_set(reterr, -BARRA_EIO, "no random bytes for a new key");
    }
    to_hex(raw, sizeof(raw), hex);
    explicit_bzero(raw, sizeof(raw));
    size_t n = strlen(hex);
    hex[n++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        explicit_bzero(hex, sizeof(hex));
        return barra_error_set(reterr, -e, "cannot create key file \"%s\": %s", path, strerror(e));
    }
    ssize_t w = write(fd, hex, n);
    int e = errno;
    explicit_bzero(hex, sizeof(hex));
    if (w != (ssize_t)n || fsync(fd) < 0) {
        (void)close(fd);
        (void)unlink(path);
        return barra_error_set(reterr, -BARRA_EIO, "cannot write key file \"%s\": %s", path,
                               strerror(w < 0 ? e : errno));
    }
    if (close(fd) < 0) {
        return barra_error_set(reterr, -BARRA_EIO, "cannot write key file \"%s\"", path);
    }
    return 0;
}

BARRA_EXPORT int barra_key_load(const char *path, bool create, barra_key_t **ret,
                                struct barra_error *reterr)
{
    if (path == NULL || ret == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no key file given");
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT && create) {
        int r = create_key_file(path, reterr);
        if (r < 0) {
            return r;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0) {
        int e = errno;
        return barra_error_set(reterr, -e, "cannot open key file \"%s\": %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        (void)close(fd);
        return barra_error_set(reterr, -BARRA_EINVAL, "key file \"%s\" is not a regular file",
                               path);
    }
    if ((st.st_mode & 077) != 0) {
        (void)close(fd);
        return barra_error_set(reterr, -BARRA_EACCES,
                               "key file \"%s\" can be read by others (mode %04o); run chmod 600 "
                               "on it",
                               path, (unsigned)(st.st_mode & 07777));
    }
    char text[2 * KEY_MAX + 8];
    ssize_t n = read(fd, text, sizeof(text));
    (void)close(fd);
    if (n < 0) {
        return barra_error_set(reterr, -BARRA_EIO, "cannot read key file \"%s\"", path);
    }
    uint8_t raw[KEY_MAX];
    size_t len = 0;
    int r = decode_key_file(path, text, (size_t)n, raw, &len, reterr);
    explicit_bzero(text, sizeof(text));
    if (r == 0) {
        r = barra_key_from_bytes(raw, len, ret, reterr);
    }
    explicit_bzero(raw, sizeof(raw));
    return r;
}
