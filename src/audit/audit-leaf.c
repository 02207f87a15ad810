/* SPDX-License-Identifier: Apache-2.0 */
/* The bytes a leaf hashes. Fixed binary fields rather than the JSON record parsed and re-encoded:
 * a verifier rebuilds them from the stored columns as they are, and so does an independent one:
 *
 *   version (1 byte) | seq (8, big-endian) | time_ns (8) | type length (1) | type |
 *   record length (4) | record | payload flag (1) | payload digest (32, when the flag is 1)
 *
 * The leaf hash is SHA-256(0x00 || those bytes), hashed piece by piece without copying them. */
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

int audit_entry_leaf_hash(const struct audit_entry *e, uint8_t out[MERKLE_HASH])
{
    if (e->type_len == 0 || e->type_len > AUDIT_MAX_TYPE || e->record_len > AUDIT_MAX_RECORD) {
        return -BARRA_EINVAL;
    }
    uint8_t head[19], len[4], flag = e->has_payload;
    head[0] = 0x00; /* the RFC 6962 leaf prefix */
    head[1] = AUDIT_LEAF_VERSION;
    put_be(head + 2, e->seq, 8);
    put_be(head + 10, (uint64_t)e->time_ns, 8);
    head[18] = (uint8_t)e->type_len;
    put_be(len, e->record_len, 4);
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, head, sizeof(head));
    SHA256_Update(&c, e->type, e->type_len);
    SHA256_Update(&c, len, sizeof(len));
    SHA256_Update(&c, e->record, e->record_len);
    SHA256_Update(&c, &flag, 1);
    if (e->has_payload) {
        SHA256_Update(&c, e->payload_digest, 32);
    }
    SHA256_Final(out, &c);
    return 0;
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
