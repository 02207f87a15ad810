/* SPDX-License-Identifier: Apache-2.0 */
/* Prints roots, inclusion proofs and consistency proofs of trees of 1 to N leaves (leaf i holds the
 * bytes "leaf-<i>"), for tests/gen/merkle.py to compare with its own reading of RFC 9162. Also
 * checks that every proof verifies, and that a proof with one flipped bit does not. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit-merkle.h"

#define MAXN 300

static uint8_t nodes[10][MAXN][MERKLE_HASH];

static int node(void *ud, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH])
{
    (void)ud;
    if (level >= 10 || index >= MAXN) {
        return -1;
    }
    memcpy(out, nodes[level][index], MERKLE_HASH);
    return 0;
}

static int store(void *ud, unsigned level, uint64_t index, const uint8_t h[MERKLE_HASH])
{
    (void)ud;
    memcpy(nodes[level][index], h, MERKLE_HASH);
    return 0;
}

static void hex(const uint8_t *h)
{
    for (int i = 0; i < MERKLE_HASH; i++) {
        printf("%02x", h[i]);
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 70;
    if (n < 1 || n > MAXN) {
        return 2;
    }
    struct merkle_edge edge = {0};
    struct merkle_source src = {node, NULL};
    uint8_t roots[MAXN + 1][MERKLE_HASH];
    int bad = 0;
    for (int size = 1; size <= n; size++) {
        char data[32];
        int len = snprintf(data, sizeof(data), "leaf-%d", size - 1);
        uint8_t leaf[MERKLE_HASH];
        merkle_leaf_hash(data, (size_t)len, leaf);
        if (merkle_edge_append(&edge, leaf, store, NULL) < 0) {
            return 2;
        }
        uint8_t r1[MERKLE_HASH];
        merkle_edge_root(&edge, roots[size]);
        if (merkle_root(&src, (uint64_t)size, r1) < 0 || memcmp(r1, roots[size], MERKLE_HASH)) {
            fprintf(stderr, "root of %d: edge and nodes disagree\n", size);
            bad = 1;
        }
        printf("root %d ", size);
        hex(roots[size]);
        printf("\n");
    }
    uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH];
    for (int size = 1; size <= n; size++) {
        for (int i = 0; i < size; i++) {
            int k = merkle_inclusion_proof(&src, (uint64_t)i, (uint64_t)size, proof);
            uint8_t leaf[MERKLE_HASH];
            char data[32];
            int len = snprintf(data, sizeof(data), "leaf-%d", i);
            merkle_leaf_hash(data, (size_t)len, leaf);
            if (k < 0 || !merkle_verify_inclusion(leaf, (uint64_t)i, (uint64_t)size, roots[size],
                                                  proof, (size_t)k)) {
                fprintf(stderr, "inclusion %d in %d does not verify\n", i, size);
                bad = 1;
            }
            if (k > 0) {
                proof[k / 2][k % 32] ^= 1;
                if (merkle_verify_inclusion(leaf, (uint64_t)i, (uint64_t)size, roots[size], proof,
                                            (size_t)k)) {
                    fprintf(stderr, "inclusion %d in %d verifies with a flipped bit\n", i, size);
                    bad = 1;
                }
                proof[k / 2][k % 32] ^= 1;
            }
            printf("inclusion %d %d", i, size);
            for (int j = 0; j < k; j++) {
                printf(" ");
                hex(proof[j]);
            }
            printf("\n");
        }
        for (int old = 1; old <= size; old++) {
            int k = merkle_consistency_proof(&src, (uint64_t)old, (uint64_t)size, proof);
            if (k < 0 || !merkle_verify_consistency((uint64_t)old, (uint64_t)size, roots[old],
                                                    roots[size], proof, (size_t)k)) {
                fprintf(stderr, "consistency %d to %d does not verify\n", old, size);
                bad = 1;
            }
            if (old < size && merkle_verify_consistency((uint64_t)old, (uint64_t)size, roots[size],
                                                        roots[size], proof, (size_t)k)) {
                fprintf(stderr, "consistency %d to %d verifies with the wrong old root\n", old,
                        size);
                bad = 1;
            }
            printf("consistency %d %d", old, size);
            for (int j = 0; j < k; j++) {
                printf(" ");
                hex(proof[j]);
            }
            printf("\n");
        }
    }
    return bad;
}
