/* SPDX-License-Identifier: Apache-2.0 */
/* Item file layout: "BARRAV1\n" (8 bytes), a 12-byte nonce, the ciphertext, the 16-byte GCM tag.
 * The associated data is the magic followed by the id. Nonces are random: at 2^32 items per key
 * the chance of a repeat is still below 2^-32. */
#include "config.h"

#include "vault/vault.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

#define VAULT_MAGIC     "BARRAV1\n"
#define VAULT_MAGIC_LEN 8
#define VAULT_NONCE     12
#define VAULT_TAG       16
#define VAULT_MAX_ITEM  (4ull << 30)

struct vault {
    char dir[4000];
    uint8_t key[32];
};

int vault_id_valid(const char *id)
{
    if (id == NULL || strlen(id) != 32) {
        return 0;
    }
    for (size_t i = 0; i < 32; i++) {
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

static int sys_error(struct barra_error *reterr, const char *what, const char *path)
{
    int e = errno;
    int code = e == ENOSPC   ? -BARRA_ENOSPC
               : e == ENOENT ? -BARRA_ENOENT
               : e == EACCES ? -BARRA_EACCES
                             : -BARRA_EIO;
    return barra_error_set(reterr, code, "the vault: %s %s: %s", what, path, strerror(e));
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int load_key(struct vault *v, struct barra_error *reterr)
{
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/vault.key", v->dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        if (RAND_bytes(v->key, sizeof(v->key)) != 1) {
            return barra_error_set(reterr, -BARRA_EIO, "the vault: no random bytes for a key");
        }
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write_all(fd, v->key, sizeof(v->key)) < 0 || fsync(fd) < 0) {
            int r = sys_error(reterr, "cannot create the key", path);
            if (fd >= 0) {
                close(fd);
                (void)unlink(path);
            }
            return r;
        }
        close(fd);
        return 0;
    }
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int r = sys_error(reterr, "cannot open the key", path);
        if (fd >= 0) {
            close(fd);
        }
        return r;
    }
    if (st.st_mode & 077) {
        close(fd);
        return barra_error_set(reterr, -BARRA_EACCES,
                               "the vault: %s can be read by others (mode %03o); chmod 600 it",
                               path, (unsigned)(st.st_mode & 0777));
    }
    ssize_t n = read(fd, v->key, sizeof(v->key));
    close(fd);
    if (n != (ssize_t)sizeof(v->key) || st.st_size != (off_t)sizeof(v->key)) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "the vault: %s is not a 32-byte key", path);
    }
    return 0;
}

int vault_open(const char *dir, struct vault **ret, struct barra_error *reterr)
{
    *ret = NULL;
    struct vault *v = barra_calloc(1, sizeof(*v));
    if (v == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    int n = snprintf(v->dir, sizeof(v->dir), "%s", dir);
    if (n < 0 || (size_t)n >= sizeof(v->dir)) {
        barra_free(v);
        return barra_error_set(reterr, -BARRA_EINVAL, "the vault's path is too long");
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        int r = sys_error(reterr, "cannot create", dir);
        barra_free(v);
        return r;
    }
    int r = load_key(v, reterr);
    if (r < 0) {
        vault_close(v);
        return r;
    }
    *ret = v;
    return 0;
}

void vault_close(struct vault *v)
{
    if (v) {
        explicit_bzero(v->key, sizeof(v->key));
        barra_free(v);
    }
}

/* One AES-256-GCM pass; `encrypt` chooses the direction. Returns 0, or -1 (for decryption: the
 * tag did not match). */
static int gcm(const struct vault *v, int encrypt, const char *id, const uint8_t *nonce,
               const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok =
        c != NULL && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, v->key, nonce, encrypt) == 1;
    int outl = 0;
    ok = ok &&
         EVP_CipherUpdate(c, NULL, &outl, (const uint8_t *)VAULT_MAGIC, VAULT_MAGIC_LEN) == 1 &&
         EVP_CipherUpdate(c, NULL, &outl, (const uint8_t *)id, 32) == 1;
    /* EVP lengths are ints: feed large items in pieces. */
    for (size_t off = 0; ok && off < len;) {
        size_t piece = len - off < (1u << 30) ? len - off : (1u << 30);
        ok = EVP_CipherUpdate(c, out + off, &outl, in + off, (int)piece) == 1;
        off += piece;
    }
    if (ok && !encrypt) {
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, VAULT_TAG, tag) == 1;
    }
    ok = ok && EVP_CipherFinal_ex(c, out + len, &outl) == 1;
    if (ok && encrypt) {
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, VAULT_TAG, tag) == 1;
    }
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

static void item_path(const struct vault *v, const char *id, char *path, size_t cap)
{
    (void)snprintf(path, cap, "%s/%s.item", v->dir, id);
}

int vault_id_random(char id[33])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t raw[16];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        return -BARRA_EIO;
    }
    for (size_t i = 0; i < 16; i++) {
        id[2 * i] = hex[raw[i] >> 4];
        id[2 * i + 1] = hex[raw[i] & 15];
    }
    id[32] = '\0';
    return 0;
}

int vault_put(struct vault *v, const void *data, size_t len, char id_out[33],
              struct barra_error *reterr)
{
    if (len > VAULT_MAX_ITEM) {
        return barra_error_set(reterr, -BARRA_ELIMIT, "the vault takes items up to 4 GiB");
    }
    size_t total = VAULT_MAGIC_LEN + VAULT_NONCE + len + VAULT_TAG;
    uint8_t *blob = barra_malloc(total);
    if (blob == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    if (vault_id_random(id_out) < 0 || RAND_bytes(blob + VAULT_MAGIC_LEN, VAULT_NONCE) != 1) {
        barra_free(blob);
        return barra_error_set(reterr, -BARRA_EIO, "the vault: no random bytes");
    }
    memcpy(blob, VAULT_MAGIC, VAULT_MAGIC_LEN);
    uint8_t *ct = blob + VAULT_MAGIC_LEN + VAULT_NONCE;
    if (gcm(v, 1, id_out, blob + VAULT_MAGIC_LEN, data, len, ct, ct + len) < 0) {
        barra_free(blob);
        return barra_error_set(reterr, -BARRA_EIO, "the vault: encryption failed");
    }
    char path[4096], tmp[4100];
    item_path(v, id_out, path, sizeof(path));
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int r = 0;
    if (fd < 0 || write_all(fd, blob, total) < 0 || fsync(fd) < 0) {
        r = sys_error(reterr, "cannot write", tmp);
    }
    if (fd >= 0) {
        close(fd);
    }
    barra_free(blob);
    if (r == 0 && rename(tmp, path) < 0) {
        r = sys_error(reterr, "cannot rename", tmp);
    }
    if (r < 0) {
        (void)unlink(tmp);
        return r;
    }
    /* The rename is durable only once the folder is synced. */
    int dfd = open(v->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0) {
        r = sys_error(reterr, "cannot sync", v->dir);
    }
    if (dfd >= 0) {
        close(dfd);
    }
    if (r < 0) {
        (void)unlink(path);
    }
    return r;
}

int vault_get(struct vault *v, const char *id, struct buf *out, struct barra_error *reterr)
{
    if (!vault_id_valid(id)) {
        return barra_error_set(reterr, -BARRA_ENOENT, "no vault item with that id");
    }
    char path[4096];
    item_path(v, id, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int r = sys_error(reterr, "cannot open", path);
        if (fd >= 0) {
            close(fd);
        }
        return r;
    }
    size_t size = (size_t)st.st_size;
    if (size < VAULT_MAGIC_LEN + VAULT_NONCE + VAULT_TAG) {
        close(fd);
        return barra_error_set(reterr, -BARRA_EFORMAT, "the vault: %s is truncated", path);
    }
    uint8_t *blob = barra_malloc(size);
    size_t got = 0;
    while (blob && got < size) {
        ssize_t n = read(fd, blob + got, size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    size_t len = size - VAULT_MAGIC_LEN - VAULT_NONCE - VAULT_TAG;
    int r = 0;
    if (blob == NULL) {
        r = barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    } else if (got != size || memcmp(blob, VAULT_MAGIC, VAULT_MAGIC_LEN) != 0) {
        r = barra_error_set(reterr, -BARRA_EFORMAT, "the vault: %s is not a vault item", path);
    } else if ((r = buf_reserve(out, len + 1)) < 0) {
        r = barra_error_set(reterr, r, "the vault item does not fit in memory");
    } else {
        const uint8_t *ct = blob + VAULT_MAGIC_LEN + VAULT_NONCE;
        uint8_t *dst = (uint8_t *)out->data + out->len;
        if (gcm(v, 0, id, blob + VAULT_MAGIC_LEN, ct, len, dst, (uint8_t *)ct + len) < 0) {
            explicit_bzero(dst, len);
            r = barra_error_set(reterr, -BARRA_EFORMAT,
                                "the vault: item %s was altered (authentication failed)", id);
        } else {
            out->len += len;
            out->data[out->len] = '\0';
        }
    }
    barra_free(blob);
    return r;
}

int vault_remove(struct vault *v, const char *id, struct barra_error *reterr)
{
    if (!vault_id_valid(id)) {
        return barra_error_set(reterr, -BARRA_ENOENT, "no vault item with that id");
    }
    char path[4096];
    item_path(v, id, path, sizeof(path));
    if (unlink(path) < 0) {
        return sys_error(reterr, "cannot remove", path);
    }
    return 0;
}
