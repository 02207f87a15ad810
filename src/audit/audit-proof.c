/* SPDX-License-Identifier: Apache-2.0 */
/* Proofs from the stored tree hashes, the newest checkpoint and the verifier key: what an auditor
 * asks a log for. */
#include "config.h"

#include <jansson.h>
#include <openssl/evp.h>
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
        const char *note = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
        if (note) {
            *ret_note = barra_strdup(note);
            r = *ret_note ? 0 : barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
        } else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
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

/* ---- checking a proof in its JSON form ---- */

static bool hash_from_json(json_t *v, uint8_t out[32])
{
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    uint8_t tmp[48];
    if (n != 44 || EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n) != 33 || s[43] != '=' ||
        s[42] == '=') {
        return false;
    }
    memcpy(out, tmp, 32);
    return true;
}

static bool size_from_json(json_t *v, uint64_t *ret)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        return false;
    }
    *ret = (uint64_t)json_integer_value(v);
    return true;
}

BARRA_EXPORT int barra_audit_check_proof(const char *proof_json, size_t proof_len,
                                         const char *checkpoint, size_t checkpoint_len,
                                         const char *verifier_key, struct barra_error *reterr)
{
    if (proof_json == NULL || checkpoint == NULL || verifier_key == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no proof, checkpoint or key");
    }
    char name[256];
    uint8_t pub[32];
    if (audit_verifier_key_parse(verifier_key, name, sizeof(name), pub) < 0) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "the verifier key is not \"name+id+key\"");
    }
    struct audit_checkpoint cp;
    struct barra_error cerr;
    int r = audit_checkpoint_verify(checkpoint, checkpoint_len, name, pub, &cp, &cerr);
    if (r < 0) {
        /* A checkpoint the key did not sign is a failed check, not malformed input. */
        return barra_error_set(reterr, r == -BARRA_EACCES ? -BARRA_ERULES : r, "%s", cerr.message);
    }
    json_error_t jerr;
    json_t *j = json_loadb(proof_json, proof_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        return barra_error_set(reterr, -BARRA_EFORMAT, "the proof is not a JSON object");
    }
    const char *type = json_string_value(json_object_get(j, "type"));
    json_t *hashes = json_object_get(j, "proof");
    uint8_t proof[BARRA_AUDIT_MAX_PROOF][32];
    size_t n = json_array_size(hashes);
    bool ok = type && json_is_array(hashes) && n <= BARRA_AUDIT_MAX_PROOF;
    for (size_t i = 0; ok && i < n; i++) {
        ok = hash_from_json(json_array_get(hashes, i), proof[i]);
    }
    uint64_t index = 0, size = 0, old_size = 0;
    uint8_t leaf[32], root[32], old_root[32];
    bool inclusion = ok && strcmp(type, "inclusion") == 0;
    if (inclusion) {
        ok = size_from_json(json_object_get(j, "index"), &index) &&
             size_from_json(json_object_get(j, "size"), &size) &&
             hash_from_json(json_object_get(j, "leaf_hash"), leaf) &&
             hash_from_json(json_object_get(j, "root"), root);
    } else if (ok && strcmp(type, "consistency") == 0) {
        ok = size_from_json(json_object_get(j, "old_size"), &old_size) &&
             size_from_json(json_object_get(j, "new_size"), &size) &&
             hash_from_json(json_object_get(j, "old_root"), old_root) &&
             hash_from_json(json_object_get(j, "new_root"), root);
    } else {
        ok = false;
    }
    json_decref(j);
    if (!ok) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "the proof is not an inclusion or consistency proof as "
                               "docs/audit-log.md describes");
    }
    if (size != cp.size || memcmp(root, cp.root, 32) != 0) {
        return barra_error_set(reterr, -BARRA_ERULES,
                               "the proof is for a tree of %llu entries that is not the "
                               "checkpoint's (%llu)",
                               (unsigned long long)size, (unsigned long long)cp.size);
    }
    bool holds = inclusion ? merkle_verify_inclusion(leaf, index, size, root, proof, n)
                           : merkle_verify_consistency(old_size, size, old_root, root, proof, n);
    if (!holds) {
        return barra_error_set(reterr, -BARRA_ERULES, "the %s proof does not hold",
                               inclusion ? "inclusion" : "consistency");
    }
    return 0;
}

BARRA_EXPORT int barra_audit_entry(barra_audit_t *log, uint64_t index, char **ret_type,
                                   int64_t *ret_time_ns, char **ret_record, size_t *ret_record_len,
                                   struct barra_error *reterr)
{
    if (log == NULL || ret_type == NULL || ret_time_ns == NULL || ret_record == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no log or result");
    }
    *ret_type = NULL;
    *ret_record = NULL;
    pthread_mutex_lock(&log->db_lock);
    sqlite3_stmt *st = NULL;
    int r = -BARRA_ENOENT;
    int rc = sqlite3_prepare_v2(
        log->store.db, "SELECT time_ns, type, record FROM entries WHERE seq = ?", -1, &st, NULL);
    if (rc == SQLITE_OK && index <= INT64_MAX) {
        (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            size_t tl = (size_t)sqlite3_column_bytes(st, 1);
            size_t rl = (size_t)sqlite3_column_bytes(st, 2);
            char *type = barra_malloc(tl + 1), *record = barra_malloc(rl + 1);
            if (type && record) {
                memcpy(type, sqlite3_column_text(st, 1), tl);
                type[tl] = '\0';
                if (rl) {
                    memcpy(record, sqlite3_column_blob(st, 2), rl);
                }
                record[rl] = '\0';
                *ret_time_ns = sqlite3_column_int64(st, 0);
                *ret_type = type;
                *ret_record = record;
                if (ret_record_len) {
                    *ret_record_len = rl;
                }
                r = 0;
            } else {
                barra_free(type);
                barra_free(record);
                r = barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
            }
        } else if (rc != SQLITE_DONE) {
            r = audit_store_error(&log->store, rc, "reading an entry", reterr);
        }
    } else if (rc != SQLITE_OK) {
        r = audit_store_error(&log->store, rc, "reading an entry", reterr);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&log->db_lock);
    if (r == -BARRA_ENOENT) {
        return barra_error_set(reterr, r, "entry %llu is not in the log (or was pruned)",
                               (unsigned long long)index);
    }
    return r;
}
