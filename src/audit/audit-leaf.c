/* SPDX-License-Identifier: Apache-2.0 */
/* The bytes a leaf hashes. Fixed binary fields rather than the JSON record parsed and re-encoded:
 * a verifier rebuilds them from the stored columns as they are, and so does an independent one:
 *
 *   version (1 byte) | seq (8, big-endian) | time_ns (8) | type length (1) | type |
 *   record length (4) | record | payload flag (1) | payload digest (32, when the flag is 1)
 *
 * The leaf hash is SHA-256(0x00 || those bytes): the log hashes the record where it is, a verifier
 * lays the bytes of sixteen entries out side by side and hashes them together. */
#include "config.h"

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <string.h>

#include "audit/audit-int.h"
#include "core/alloc.h"

#include "core/banned.h"

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* What comes before the record (prefix to record length) and after it (payload flag and digest). */
#define LEAF_HEAD_MAX (19 + AUDIT_MAX_TYPE + 4)
#define LEAF_TAIL_MAX 33

static bool leaf_fits(const struct audit_entry *e)
{
    return e->type_len > 0 && e->type_len <= AUDIT_MAX_TYPE && e->record_len <= AUDIT_MAX_RECORD;
}

static size_t leaf_head(const struct audit_entry *e, uint8_t head[LEAF_HEAD_MAX])
{
    head[0] = 0x00; /* the RFC 6962 leaf prefix */
    head[1] = AUDIT_LEAF_VERSION;
    put_be(head + 2, e->seq, 8);
    put_be(head + 10, (uint64_t)e->time_ns, 8);
    head[18] = (uint8_t)e->type_len;
    memcpy(head + 19, e->type, e->type_len);
    put_be(head + 19 + e->type_len, e->record_len, 4);
    return 19 + e->type_len + 4;
}

static size_t leaf_tail(const struct audit_entry *e, uint8_t tail[LEAF_TAIL_MAX])
{
    tail[0] = e->has_payload;
    if (e->has_payload) {
        memcpy(tail + 1, e->payload_digest, 32);
    }
    return e->has_payload ? 33 : 1;
}

int audit_entry_leaf_hash(const struct audit_entry *e, uint8_t out[MERKLE_HASH])
{
    if (!leaf_fits(e)) {
        return -BARRA_EINVAL;
    }
    uint8_t head[LEAF_HEAD_MAX], tail[LEAF_TAIL_MAX];
    size_t head_len = leaf_head(e, head), tail_len = leaf_tail(e, tail);
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, head, head_len);
    SHA256_Update(&c, e->record, e->record_len);
    SHA256_Update(&c, tail, tail_len);
    SHA256_Final(out, &c);
    return 0;
}

int audit_leaf_batch_add(struct audit_leaf_batch *b, const struct audit_entry *e)
{
    if (!leaf_fits(e)) {
        return -BARRA_EINVAL;
    }
    size_t k = b->n, need = LEAF_HEAD_MAX + e->record_len + LEAF_TAIL_MAX;
    if (b->cap[k] < need) {
        size_t cap = need < 4096 ? 4096 : need;
        uint8_t *buf = barra_reallocarray(b->buf[k], cap, 1);
        if (buf == NULL) {
            return -BARRA_ENOMEM;
        }
        b->buf[k] = buf;
        b->cap[k] = cap;
    }
    uint8_t *out = b->buf[k], tail[LEAF_TAIL_MAX];
    size_t head_len = leaf_head(e, out), tail_len = leaf_tail(e, tail);
    memcpy(out + head_len, e->record, e->record_len);
    memcpy(out + head_len + e->record_len, tail, tail_len);
    b->len[k] = head_len + e->record_len + tail_len;
    b->entry[k] = *e;
    b->entry[k].type = (const char *)out + 19;
    b->entry[k].record = out + head_len;
    b->n++;
    return 0;
}

void audit_leaf_batch_hash(struct audit_leaf_batch *b)
{
    sha256_lanes((const uint8_t *const *)b->buf, b->len, b->n, b->leaf);
}

void audit_leaf_batch_free(struct audit_leaf_batch *b)
{
    for (size_t k = 0; k < SHA256_LANES; k++) {
        barra_free(b->buf[k]);
    }
    memset(b, 0, sizeof(*b));
}

void audit_payload_digest(const uint8_t salt[AUDIT_SALT], const void *payload, size_t len,
                          uint8_t out[32])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, salt, AUDIT_SALT);
    SHA256_Update(&c, payload, len);
    SHA256_Final(out, &c);
}
