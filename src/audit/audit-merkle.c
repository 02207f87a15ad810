/* SPDX-License-Identifier: Apache-2.0 */
/* The Merkle tree of the audit log (RFC 9162, section 2.1). */
#include "config.h"

#include "audit/audit-merkle.h"

/* The low-level SHA-256 calls: hashing 33 or 65 bytes through EVP costs several times the hash
 * itself, and verifying a log is mostly these hashes. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <string.h>

#include <barra/error.h>

#include "core/banned.h"

void merkle_leaf_hash(const void *data, size_t len, uint8_t out[MERKLE_HASH])
{
    SHA256_CTX c;
    static const uint8_t prefix = 0x00;
    SHA256_Init(&c);
    SHA256_Update(&c, &prefix, 1);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}

void merkle_node_hash(const uint8_t left[MERKLE_HASH], const uint8_t right[MERKLE_HASH],
                      uint8_t out[MERKLE_HASH])
{
    /* Not the one-shot SHA256(): in OpenSSL 3 it fetches a digest (locks, allocations) per call. */
    SHA256_CTX c;
    static const uint8_t prefix = 0x01;
    SHA256_Init(&c);
    SHA256_Update(&c, &prefix, 1);
    SHA256_Update(&c, left, MERKLE_HASH);
    SHA256_Update(&c, right, MERKLE_HASH);
    SHA256_Final(out, &c);
}

/* The largest power of two smaller than n (n > 1). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n) {
        k <<= 1;
    }
    return k;
}

static bool is_pow2(uint64_t n)
{
    return n && (n & (n - 1)) == 0;
}

static unsigned log2_exact(uint64_t n)
{
    return (unsigned)__builtin_ctzll(n);
}

/* MTH of leaves [start, start + size): a stored node when the range is a complete subtree, else
 * split at the largest power of two as RFC 9162 defines. start is always aligned here. */
static int subtree(const struct merkle_source *src, uint64_t start, uint64_t size,
                   uint8_t out[MERKLE_HASH])
{
    if (is_pow2(size) && start % size == 0) {
        return src->node(src->userdata, log2_exact(size), start / size, out);
    }
    uint64_t k = split_point(size);
    uint8_t l[MERKLE_HASH], r[MERKLE_HASH];
    int rc = subtree(src, start, k, l);
    if (rc == 0) {
        rc = subtree(src, start + k, size - k, r);
    }
    if (rc == 0) {
        merkle_node_hash(l, r, out);
    }
    return rc;
}

int merkle_root(const struct merkle_source *src, uint64_t size, uint8_t out[MERKLE_HASH])
{
    if (size == 0) {
        return -BARRA_EINVAL;
    }
    return subtree(src, 0, size, out);
}

/* PATH(m, D[start:start+size]), written in RFC order (leaf level first). */
static int path(const struct merkle_source *src, uint64_t m, uint64_t start, uint64_t size,
                uint8_t proof[][MERKLE_HASH], int n)
{
    if (size <= 1) {
        return n;
    }
    uint64_t k = split_point(size);
    int rc;
    if (m < k) {
        if ((rc = path(src, m, start, k, proof, n)) < 0) {
            return rc;
        }
        return subtree(src, start + k, size - k, proof[rc]) < 0 ? -BARRA_EIO : rc + 1;
    }
    if ((rc = path(src, m - k, start + k, size - k, proof, n)) < 0) {
        return rc;
    }
    return subtree(src, start, k, proof[rc]) < 0 ? -BARRA_EIO : rc + 1;
}

int merkle_inclusion_proof(const struct merkle_source *src, uint64_t index, uint64_t size,
                           uint8_t proof[][MERKLE_HASH])
{
    if (index >= size) {
        return -BARRA_EINVAL;
    }
    return path(src, index, 0, size, proof, 0);
}

/* SUBPROOF(m, D[start:start+size], b) */
static int subproof(const struct merkle_source *src, uint64_t m, uint64_t start, uint64_t size,
                    bool b, uint8_t proof[][MERKLE_HASH], int n)
{
    if (m == size) {
        if (b) {
            return n;
        }
        return subtree(src, start, size, proof[n]) < 0 ? -BARRA_EIO : n + 1;
    }
    uint64_t k = split_point(size);
    int rc;
    if (m <= k) {
        if ((rc = subproof(src, m, start, k, b, proof, n)) < 0) {
            return rc;
        }
        return subtree(src, start + k, size - k, proof[rc]) < 0 ? -BARRA_EIO : rc + 1;
    }
    if ((rc = subproof(src, m - k, start + k, size - k, false, proof, n)) < 0) {
        return rc;
    }
    return subtree(src, start, k, proof[rc]) < 0 ? -BARRA_EIO : rc + 1;
}

int merkle_consistency_proof(const struct merkle_source *src, uint64_t old_size, uint64_t new_size,
                             uint8_t proof[][MERKLE_HASH])
{
    if (old_size == 0 || old_size > new_size) {
        return -BARRA_EINVAL;
    }
    return subproof(src, old_size, 0, new_size, true, proof, 0);
}

bool merkle_verify_inclusion(const uint8_t leaf_hash[MERKLE_HASH], uint64_t index, uint64_t size,
                             const uint8_t root[MERKLE_HASH], const uint8_t proof[][MERKLE_HASH],
                             size_t proof_len)
{
    if (index >= size) {
        return false;
    }
    uint64_t fn = index, sn = size - 1;
    uint8_t r[MERKLE_HASH];
    memcpy(r, leaf_hash, MERKLE_HASH);
    for (size_t i = 0; i < proof_len; i++) {
        if (sn == 0) {
            return false;
        }
        if ((fn & 1) || fn == sn) {
            merkle_node_hash(proof[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            merkle_node_hash(r, proof[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, MERKLE_HASH) == 0;
}

bool merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                               const uint8_t old_root[MERKLE_HASH],
                               const uint8_t new_root[MERKLE_HASH],
                               const uint8_t proof[][MERKLE_HASH], size_t proof_len)
{
    if (old_size == 0 || old_size > new_size) {
        return false;
    }
    if (old_size == new_size) {
        return proof_len == 0 && memcmp(old_root, new_root, MERKLE_HASH) == 0;
    }
    /* When the old tree is a complete subtree, its root is the proof's implicit first hash. */
    const uint8_t *first = is_pow2(old_size) ? old_root : NULL;
    size_t at = 0;
    if (first == NULL) {
        if (proof_len == 0) {
            return false;
        }
        first = proof[0];
        at = 1;
    }
    uint64_t fn = old_size - 1, sn = new_size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[MERKLE_HASH], sr[MERKLE_HASH];
    memcpy(fr, first, MERKLE_HASH);
    memcpy(sr, first, MERKLE_HASH);
    for (; at < proof_len; at++) {
        if (sn == 0) {
            return false;
        }
        if ((fn & 1) || fn == sn) {
            merkle_node_hash(proof[at], fr, fr);
            merkle_node_hash(proof[at], sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            merkle_node_hash(sr, proof[at], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, old_root, MERKLE_HASH) == 0 &&
           memcmp(sr, new_root, MERKLE_HASH) == 0;
}

int merkle_edge_append(struct merkle_edge *e, const uint8_t leaf[MERKLE_HASH],
                       int (*done)(void *ud, unsigned level, uint64_t index,
                                   const uint8_t hash[MERKLE_HASH]),
                       void *ud)
{
    if (e->size == UINT64_MAX) {
        return -BARRA_EOVERFLOW;
    }
    uint8_t h[MERKLE_HASH];
    memcpy(h, leaf, MERKLE_HASH);
    uint64_t index = e->size; /* of the new subtree at the current level */
    unsigned level = 0;
    int rc = done ? done(ud, 0, index, h) : 0;
    /* Each set low bit of size is a complete subtree the new one merges with. */
    while (rc == 0 && (e->size >> level) & 1) {
        merkle_node_hash(e->hash[level], h, h);
        level++;
        index >>= 1;
        rc = done ? done(ud, level, index, h) : 0;
    }
    if (rc < 0) {
        return rc;
    }
    memcpy(e->hash[level], h, MERKLE_HASH);
    e->size++;
    return 0;
}

void merkle_edge_root(const struct merkle_edge *e, uint8_t out[MERKLE_HASH])
{
    bool have = false;
    uint8_t r[MERKLE_HASH];
    /* Fold from the smallest complete subtree (rightmost) to the largest. */
    for (unsigned level = 0; level < 64; level++) {
        if (!((e->size >> level) & 1)) {
            continue;
        }
        if (!have) {
            memcpy(r, e->hash[level], MERKLE_HASH);
            have = true;
        } else {
            merkle_node_hash(e->hash[level], r, r);
        }
    }
    memcpy(out, have ? r : (const uint8_t[MERKLE_HASH]){0}, MERKLE_HASH);
}
