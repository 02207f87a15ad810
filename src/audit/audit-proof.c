/* SPDX-License-Identifier: Apache-2.0 */
/* Proofs from the stored tree hashes, the newest checkpoint and the verifier key: what an auditor
 * asks a log for. */
#include "config.h"

#include <string.h>

#include "audit/audit-int.h"
#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

BARRA_EXPORT int barra_audit_latest_checkpoint(barra_audit_t *log, char **ret_note,
                                               struct barra_error *reterr)
{
    if (log == NULL || ret_note == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no log");
    }
    *ret_note = NULL;
    pthread_mutex_lock(&log->db_lock);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(
        log->store.db, "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1", -1, &st, NULL);
    int r = 0;
    if (rc != SQLITE_OK) {
        r = audit_store_error(&log->store, rc, "cannot read the checkpoints", reterr);
    } else {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *ret_note = barra_strdup((const char *)sqlite3_column_text(st, 0));
            r = *ret_note ? 0 : barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
        } else if (rc != SQLITE_DONE) {
            r = audit_store_error(&log->store, rc, "cannot read the checkpoints", reterr);
        }
        (void)sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&log->db_lock);
    return r;
}

BARRA_EXPORT int barra_audit_verifier_key(barra_audit_t *log, char **ret,
                                          struct barra_error *reterr)
{
    if (log == NULL || ret == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no log");
    }
    if (log->signer.pkey == NULL) {
        return barra_error_set(reterr, -BARRA_EACCES, "the log's key cannot be read here");
    }
    return audit_verifier_key_format(&log->signer, ret) < 0
               ? barra_error_set(reterr, -BARRA_ENOMEM, "out of memory")
               : 0;
}

BARRA_EXPORT int barra_audit_inclusion_proof(barra_audit_t *log, uint64_t index, uint64_t size,
                                             uint8_t proof[][32], size_t *ret_n,
                                             uint8_t ret_leaf[32], uint8_t ret_root[32],
                                             struct barra_error *reterr)
{
    if (log == NULL || proof == NULL || ret_n == NULL || ret_leaf == NULL || ret_root == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no log or result");
    }
    pthread_mutex_lock(&log->db_lock);
    struct merkle_source src = {audit_store_node, &log->store};
    uint64_t have = log->edge.size;
    int r = 0;
    if (index >= size || size > have) {
        r = barra_error_set(
            reterr, -BARRA_ENOENT, "entry %llu is not in a tree of %llu entries (the log has %llu)",
            (unsigned long long)index, (unsigned long long)size, (unsigned long long)have);
    } else if (audit_store_node(&log->store, 0, index, ret_leaf) < 0 ||
               merkle_root(&src, size, ret_root) < 0) {
        r = barra_error_set(reterr, -BARRA_EIO, "the log's tree hashes are incomplete");
    } else {
        int n = merkle_inclusion_proof(&src, index, size, proof);
        r = n < 0 ? barra_error_set(reterr, -BARRA_EIO, "the log's tree hashes are incomplete") : 0;
        *ret_n = n < 0 ? 0 : (size_t)n;
    }
    pthread_mutex_unlock(&log->db_lock);
    return r;
}

BARRA_EXPORT int barra_audit_consistency_proof(barra_audit_t *log, uint64_t old_size,
                                               uint64_t new_size, uint8_t proof[][32],
                                               size_t *ret_n, uint8_t ret_old_root[32],
                                               uint8_t ret_new_root[32], struct barra_error *reterr)
{
    if (log == NULL || proof == NULL || ret_n == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no log or result");
    }
    pthread_mutex_lock(&log->db_lock);
    struct merkle_source src = {audit_store_node, &log->store};
    int r = 0;
    if (old_size == 0 || old_size > new_size || new_size > log->edge.size) {
        r = barra_error_set(reterr, -BARRA_ENOENT,
                            "no consistency proof from %llu to %llu entries (the log has %llu)",
                            (unsigned long long)old_size, (unsigned long long)new_size,
                            (unsigned long long)log->edge.size);
    } else if (merkle_root(&src, old_size, ret_old_root) < 0 ||
               merkle_root(&src, new_size, ret_new_root) < 0) {
        r = barra_error_set(reterr, -BARRA_EIO, "the log's tree hashes are incomplete");
    } else {
        int n = merkle_consistency_proof(&src, old_size, new_size, proof);
        r = n < 0 ? barra_error_set(reterr, -BARRA_EIO, "the log's tree hashes are incomplete") : 0;
        *ret_n = n < 0 ? 0 : (size_t)n;
    }
    pthread_mutex_unlock(&log->db_lock);
    return r;
}

BARRA_EXPORT bool barra_audit_check_inclusion(const uint8_t leaf[32], uint64_t index, uint64_t size,
                                              const uint8_t root[32], const uint8_t proof[][32],
                                              size_t n)
{
    return merkle_verify_inclusion(leaf, index, size, root, proof, n);
}

BARRA_EXPORT bool barra_audit_check_consistency(uint64_t old_size, uint64_t new_size,
                                                const uint8_t old_root[32],
                                                const uint8_t new_root[32],
                                                const uint8_t proof[][32], size_t n)
{
    return merkle_verify_consistency(old_size, new_size, old_root, new_root, proof, n);
}
