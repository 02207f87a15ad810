/* SPDX-License-Identifier: Apache-2.0 */
/* The log's signing key (Ed25519) and its checkpoints, written as C2SP signed notes:
 *
 *     <origin>\n<size>\n<base64 root>\n\n— <origin> <base64(key ID || signature)>\n
 *
 * where the key ID is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit-int.h"
#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

static const char em_dash[] = "\xe2\x80\x94";

static void key_id(const char *name, const uint8_t pub[32], uint8_t out[4])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t md[32], prefix[2] = {0x0a, 0x01};
    unsigned int n = 0;
    if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) && EVP_DigestUpdate(c, name, strlen(name)) &&
        EVP_DigestUpdate(c, prefix, 2) && EVP_DigestUpdate(c, pub, 32) &&
        EVP_DigestFinal_ex(c, md, &n)) {
        memcpy(out, md, 4);
    } else {
        memset(out, 0, 4);
    }
    EVP_MD_CTX_free(c);
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int write_new_key(const char *path, struct barra_error *reterr)
{
    uint8_t raw[32];
    char text[66];
    if (RAND_priv_bytes(raw, sizeof(raw)) != 1) {
        return barra_error_set(reterr, -BARRA_EIO, "no random bytes for the log's key");
    }
    for (int i = 0; i < 32; i++) {
        (void)snprintf(text + 2 * i, 3, "%02x", raw[i]);
    }
    explicit_bzero(raw, sizeof(raw));
    text[64] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        explicit_bzero(text, sizeof(text));
        return barra_error_set(reterr, -e, "cannot create the log key \"%s\": %s", path,
                               strerror(e));
    }
    bool ok = write(fd, text, 65) == 65 && fsync(fd) == 0;
    explicit_bzero(text, sizeof(text));
    if (close(fd) != 0 || !ok) {
        (void)unlink(path);
        return barra_error_set(reterr, -BARRA_EIO, "cannot write the log key \"%s\"", path);
    }
    return 0;
}

static int read_key(const char *path, uint8_t raw[32], struct barra_error *reterr)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        return barra_error_set(reterr, -e, "cannot open the log key \"%s\": %s", path, strerror(e));
    }
    struct stat st;
    char text[80];
    ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, text, sizeof(text)) : -1;
    (void)close(fd);
    if (n >= 0 && (st.st_mode & 077) != 0) {
        explicit_bzero(text, sizeof(text));
        return barra_error_set(reterr, -BARRA_EACCES,
                               "the log key \"%s\" can be read by others (mode %04o); run chmod "
                               "600 on it",
                               path, (unsigned)(st.st_mode & 07777));
    }
    int bad = n < 64 || n > 66;
    for (int i = 0; !bad && i < 32; i++) {
        int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
        bad = hi < 0 || lo < 0;
        raw[i] = (uint8_t)(hi << 4 | lo);
    }
    explicit_bzero(text, sizeof(text));
    return bad ? barra_error_set(reterr, -BARRA_EINVAL,
                                 "the log key \"%s\" is not 64 hex digits on one line", path)
               : 0;
}

int audit_signer_load(struct audit_signer *s, const char *dir, const char *origin, bool create,
                      struct barra_error *reterr)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, AUDIT_KEY_NAME) >= sizeof(path)) {
        return barra_error_set(reterr, -BARRA_EINVAL, "log folder path too long");
    }
    return audit_signer_load_path(s, path, origin, create, reterr);
}

int audit_signer_load_path(struct audit_signer *s, const char *path, const char *origin,
                           bool create, struct barra_error *reterr)
{
    memset(s, 0, sizeof(*s));
    int r;
    if (create && access(path, F_OK) != 0 && (r = write_new_key(path, reterr)) < 0) {
        return r;
    }
    uint8_t raw[32];
    if ((r = read_key(path, raw, reterr)) < 0) {
        return r;
    }
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, sizeof(raw));
    explicit_bzero(raw, sizeof(raw));
    size_t publen = 32;
    if (k == NULL || !EVP_PKEY_get_raw_public_key(k, s->public_key, &publen) || publen != 32 ||
        (s->name = barra_strdup(origin)) == NULL) {
        EVP_PKEY_free(k);
        barra_free(s->name);
        return barra_error_set(reterr, -BARRA_EINVAL, "cannot use the log key \"%s\"", path);
    }
    s->pkey = k;
    key_id(s->name, s->public_key, s->key_id);
    return 0;
}

void audit_signer_done(struct audit_signer *s)
{
    EVP_PKEY_free(s->pkey);
    barra_free(s->name);
    memset(s, 0, sizeof(*s));
}

static void base64(const uint8_t *in, size_t n, char *out)
{
    (void)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* Decodes standard base64 of exactly `want` bytes. */
static bool unbase64(const char *in, size_t len, uint8_t *out, size_t want)
{
    uint8_t tmp[256];
    if (len == 0 || len % 4 != 0 || len / 4 * 3 > sizeof(tmp)) {
        return false;
    }
    int n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
    if (n < 0) {
        return false;
    }
    size_t pad = (in[len - 1] == '=') + (in[len - 2] == '=');
    if ((size_t)n - pad != want) {
        return false;
    }
    memcpy(out, tmp, want);
    return true;
}

static bool ed25519_sign(void *pkey, const char *msg, size_t len, uint8_t sig[64])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t siglen = 64;
    bool ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, pkey) &&
              EVP_DigestSign(c, sig, &siglen, (const unsigned char *)msg, len) && siglen == 64;
    EVP_MD_CTX_free(c);
    return ok;
}

static bool ed25519_verify(const uint8_t pub[32], const char *msg, size_t len,
                           const uint8_t sig[64])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = k && c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) &&
              EVP_DigestVerify(c, sig, 64, (const unsigned char *)msg, len) == 1;
    EVP_MD_CTX_free(c);
    EVP_PKEY_free(k);
    return ok;
}

int audit_sign_text(const struct audit_signer *s, const char *text, uint8_t sig[64])
{
    return ed25519_sign(s->pkey, text, strlen(text), sig) ? 0 : -BARRA_EIO;
}

bool audit_verify_text(const uint8_t public_key[32], const char *text, const uint8_t sig[64])
{
    return ed25519_verify(public_key, text, strlen(text), sig);
}

int audit_checkpoint_sign(const struct audit_signer *s, uint64_t size,
                          const uint8_t root[MERKLE_HASH], char **ret_note)
{
    char root64[48], sig64[100];
    uint8_t sigblob[68];
    base64(root, MERKLE_HASH, root64);
    size_t cap = strlen(s->name) * 2 + 256;
    char *note = barra_malloc(cap);
    if (note == NULL) {
        return -BARRA_ENOMEM;
    }
    int body = snprintf(note, cap, "%s\n%llu\n%s\n", s->name, (unsigned long long)size, root64);
    memcpy(sigblob, s->key_id, 4);
    if (body < 0 || (size_t)body >= cap ||
        !ed25519_sign(s->pkey, note, (size_t)body, sigblob + 4)) {
        barra_free(note);
        return -BARRA_EIO;
    }
    base64(sigblob, sizeof(sigblob), sig64);
    (void)snprintf(note + body, cap - (size_t)body, "\n%s %s %s\n", em_dash, s->name, sig64);
    *ret_note = note;
    return 0;
}

static int bad_note(struct barra_error *reterr, const char *why)
{
    return barra_error_set(reterr, -BARRA_EFORMAT, "checkpoint: %s", why);
}

int audit_checkpoint_verify(const char *note, size_t len, const char *name,
                            const uint8_t public_key[32], struct audit_checkpoint *ret,
                            struct barra_error *reterr)
{
    /* The text ends at the first blank line; signature lines follow. */
    const char *sep = NULL;
    for (size_t i = 0; i + 1 < len; i++) {
        if (note[i] == '\n' && note[i + 1] == '\n') {
            sep = note + i + 1;
            break;
        }
    }
    if (sep == NULL || memchr(note, '\0', len)) {
        return bad_note(reterr, "no blank line between the text and the signatures");
    }
    size_t text_len = (size_t)(sep - note);
    /* The text: origin, size, root. */
    const char *nl1 = memchr(note, '\n', text_len);
    const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', text_len - (size_t)(nl1 + 1 - note)) : NULL;
    const char *nl3 = nl2 ? memchr(nl2 + 1, '\n', text_len - (size_t)(nl2 + 1 - note)) : NULL;
    if (nl3 == NULL || (size_t)(nl1 - note) >= sizeof(ret->origin)) {
        return bad_note(reterr, "the text is not origin, size and root hash on three lines");
    }
    memcpy(ret->origin, note, (size_t)(nl1 - note));
    ret->origin[nl1 - note] = '\0';
    char digits[24];
    size_t nd = (size_t)(nl2 - nl1 - 1);
    if (nd == 0 || nd >= sizeof(digits) || (nd > 1 && nl1[1] == '0')) {
        return bad_note(reterr, "the tree size is not a decimal number");
    }
    memcpy(digits, nl1 + 1, nd);
    digits[nd] = '\0';
    char *end;
    errno = 0;
    ret->size = strtoull(digits, &end, 10);
    if (*end != '\0' || errno != 0 || digits[0] < '0' || digits[0] > '9') {
        return bad_note(reterr, "the tree size is not a decimal number");
    }
    if (!unbase64(nl2 + 1, (size_t)(nl3 - nl2 - 1), ret->root, MERKLE_HASH)) {
        return bad_note(reterr, "the root hash is not 32 bytes of base64");
    }
    /* Signatures: the one by our key must be there and verify. */
    uint8_t want_id[4];
    key_id(name, public_key, want_id);
    bool verified = false;
    const char *p = sep + 1, *stop = note + len;
    size_t name_len = strlen(name);
    while (p < stop) {
        const char *eol = memchr(p, '\n', (size_t)(stop - p));
        if (eol == NULL) {
            return bad_note(reterr, "a signature line does not end with a newline");
        }
        size_t dash = sizeof(em_dash) - 1;
        if ((size_t)(eol - p) < dash + 2 || memcmp(p, em_dash, dash) != 0 || p[dash] != ' ') {
            return bad_note(reterr, "a signature line does not start with an em dash");
        }
        const char *kname = p + dash + 1, *space = memchr(kname, ' ', (size_t)(eol - kname));
        if (space == NULL) {
            return bad_note(reterr, "a signature line has no signature");
        }
        uint8_t blob[68];
        if ((size_t)(space - kname) == name_len && memcmp(kname, name, name_len) == 0 &&
            unbase64(space + 1, (size_t)(eol - space - 1), blob, sizeof(blob)) &&
            memcmp(blob, want_id, 4) == 0) {
            if (!ed25519_verify(public_key, note, text_len, blob + 4)) {
                return barra_error_set(reterr, -BARRA_EACCES,
                                       "checkpoint of size %llu: the signature does not verify",
                                       (unsigned long long)ret->size);
            }
            verified = true;
        }
        p = eol + 1;
    }
    if (!verified) {
        return barra_error_set(reterr, -BARRA_EACCES,
                               "checkpoint of size %llu is not signed by the log's key",
                               (unsigned long long)ret->size);
    }
    return 0;
}

int audit_verifier_key_format(const struct audit_signer *s, char **ret)
{
    uint8_t blob[33];
    char b64[64];
    blob[0] = 0x01;
    memcpy(blob + 1, s->public_key, 32);
    base64(blob, sizeof(blob), b64);
    size_t cap = strlen(s->name) + 80;
    char *out = barra_malloc(cap);
    if (out == NULL) {
        return -BARRA_ENOMEM;
    }
    (void)snprintf(out, cap, "%s+%02x%02x%02x%02x+%s", s->name, s->key_id[0], s->key_id[1],
                   s->key_id[2], s->key_id[3], b64);
    *ret = out;
    return 0;
}

int audit_verifier_key_parse(const char *text, char *name, size_t name_cap, uint8_t public_key[32])
{
    const char *plus1 = strchr(text, '+');
    const char *plus2 = plus1 ? strchr(plus1 + 1, '+') : NULL;
    if (plus2 == NULL || (size_t)(plus1 - text) >= name_cap || plus1 == text ||
        plus2 - plus1 != 9) {
        return -BARRA_EFORMAT;
    }
    size_t b64len = strcspn(plus2 + 1, "\r\n");
    uint8_t blob[33];
    if (!unbase64(plus2 + 1, b64len, blob, sizeof(blob)) || blob[0] != 0x01) {
        return -BARRA_EFORMAT;
    }
    memcpy(name, text, (size_t)(plus1 - text));
    name[plus1 - text] = '\0';
    memcpy(public_key, blob + 1, 32);
    /* The key ID in the text must be the one the key gives. */
    uint8_t id[4];
    char hex[9];
    key_id(name, public_key, id);
    (void)snprintf(hex, sizeof(hex), "%02x%02x%02x%02x", id[0], id[1], id[2], id[3]);
    return memcmp(hex, plus1 + 1, 8) == 0 ? 0 : -BARRA_EFORMAT;
}
