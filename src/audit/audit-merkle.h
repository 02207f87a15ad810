/* SPDX-License-Identifier: Apache-2.0 */
/* The RFC 6962 / RFC 9162 Merkle tree: leaf and node hashes (SHA-256 with 0x00 and 0x01 prefixes),
 * roots, inclusion and consistency proofs, and their verification. Hashes of complete subtrees come
 * from a node source, so the same code serves the log on disk and verifiers in memory. */
#ifndef BARRA_AUDIT_MERKLE_H
#define BARRA_AUDIT_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH      32
#define MERKLE_MAX_PROOF 64 /* hashes: enough for any tree of up to 2^64 leaves */

/* H(0x00 || data) */
void merkle_leaf_hash(const void *data, size_t len, uint8_t out[MERKLE_HASH]);
/* H(0x01 || left || right) */
void merkle_node_hash(const uint8_t left[MERKLE_HASH], const uint8_t right[MERKLE_HASH],
                      uint8_t out[MERKLE_HASH]);

/* The hash of the complete subtree at `level` (0 = leaves) and `index` (counted at that level):
 * it covers leaves [index << level, (index + 1) << level). Returns 0 or a negative code. */
typedef int (*merkle_node_fn)(void *userdata, unsigned level, uint64_t index,
                              uint8_t out[MERKLE_HASH]);

struct merkle_source {
    merkle_node_fn node;
    void *userdata;
};

/* The root of the tree of the first `size` leaves (size > 0). */
int merkle_root(const struct merkle_source *src, uint64_t size, uint8_t out[MERKLE_HASH]);

/* The audit path of leaf `index` in the tree of `size` leaves (RFC 9162 2.1.3.1). Returns the
 * number of hashes written to proof, or a negative code. */
int merkle_inclusion_proof(const struct merkle_source *src, uint64_t index, uint64_t size,
                           uint8_t proof[][MERKLE_HASH]);
/* The consistency proof between trees of sizes old_size <= new_size (RFC 9162 2.1.4.1). */
int merkle_consistency_proof(const struct merkle_source *src, uint64_t old_size, uint64_t new_size,
                             uint8_t proof[][MERKLE_HASH]);

/* RFC 9162 2.1.3.2 and 2.1.4.2: whether the proof shows what it claims. */
bool merkle_verify_inclusion(const uint8_t leaf_hash[MERKLE_HASH], uint64_t index, uint64_t size,
                             const uint8_t root[MERKLE_HASH], const uint8_t proof[][MERKLE_HASH],
                             size_t proof_len);
bool merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                               const uint8_t old_root[MERKLE_HASH],
                               const uint8_t new_root[MERKLE_HASH],
                               const uint8_t proof[][MERKLE_HASH], size_t proof_len);

/* The right edge of a growing tree: the roots of its complete subtrees, largest first (at most one
 * per level). Appending a leaf costs one hash amortised; the root is folded from the edge. */
struct merkle_edge {
    uint64_t size;
    uint8_t hash[64][MERKLE_HASH]; /* hash[level]: valid when bit `level` of size is set */
};

/* Adds a leaf hash. For each complete subtree the append completes, calls done(level, index, hash)
 * (level 0 is the leaf itself) so that it can be stored; done may be NULL. */
int merkle_edge_append(struct merkle_edge *e, const uint8_t leaf[MERKLE_HASH],
                       int (*done)(void *ud, unsigned level, uint64_t index,
                                   const uint8_t hash[MERKLE_HASH]),
                       void *ud);
/* The root of the tree so far (size > 0). */
void merkle_edge_root(const struct merkle_edge *e, uint8_t out[MERKLE_HASH]);

#endif
