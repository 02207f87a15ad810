/* SPDX-License-Identifier: Apache-2.0 */
/* The bytes a leaf hashes. Fixed binary fields rather than the JSON record parsed and re-encoded:
 * a verifier rebuilds them from the stored columns as they are, and so does an independent one. */
#include "config.h"

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <string.h>

#include "audit/audit-int.h"

#include "core/banned.h"

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

int audit_leaf_encode(const struct audit_entry *e, struct buf *out)
{
    /* version (1), seq (8), time_ns (8), type length (1), type, record length (4), record,
     * payload flag (1), payload digest (32 when the flag is 1) */
    uint8_t head[18];
    if (e->type_len == 0 || e->type_len > AUDIT_MAX_TYPE || e->record_len > AUDIT_MAX_RECORD) {
        return -BARRA_EINVAL;
    }
    buf_clear(out);
    head[0] = AUDIT_LEAF_VERSION;
    put_be(head + 1, e->seq, 8);
    put_be(head + 9, (uint64_t)e->time_ns, 8);
    head[17] = (uint8_t)e->type_len;
    uint8_t len[4];
    put_be(len, e->record_len, 4);
    uint8_t flag = e->has_payload;
    (void)buf_append(out, head, sizeof(head));
    (void)buf_append(out, e->type, e->type_len);
    (void)buf_append(out, len, sizeof(len));
    (void)buf_append(out, e->record, e->record_len);
    (void)buf_append(out, &flag, 1);
    if (e->has_payload) {
        (void)buf_append(out, e->payload_digest, 32);
    }
    return out->err;
}

void audit_entry_leaf_hash(const struct audit_entry *e, struct buf *scratch,
                           uint8_t out[MERKLE_HASH])
{
    if (audit_leaf_encode(e, scratch) < 0) {
        memset(out, 0, MERKLE_HASH); /* never equal to a real leaf hash: verification fails */
        return;
    }
    merkle_leaf_hash(scratch->data, scratch->len, out);
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
