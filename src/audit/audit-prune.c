/* SPDX-License-Identifier: Apache-2.0 */
/* Retention. The tree never changes shape: a minimum index moves forward in steps of 256, the
 * entries below it are deleted after a logged, signed prune record, and their leaf hashes stay, so
 * that roots, proofs and checkpoints of every size still verify. */
#include "config.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit-int.h"
#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

#define PRUNE_STEP 256

static int read_min_index(struct audit_store *s, uint64_t *ret)
{
    char *v = NULL;
    int r = audit_store_meta_get(s, "min_index", &v);
    *ret = r == 0 && v ? strtoull(v, NULL, 10) : 0;
    barra_free(v);
    return r;
}

/* The new minimum: the longest run of whole groups of 256 from the start, all older than the
 * cutoff, within the tree. */
static int find_cut(barra_audit_t *log, uint64_t min, int64_t before_ns, uint64_t *ret)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(log->store.db,
                                "SELECT seq FROM entries WHERE seq >= ? AND time_ns >= ? "
                                "ORDER BY seq LIMIT 1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return -BARRA_EIO;
    }
    (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)min);
    (void)sqlite3_bind_int64(st, 2, before_ns);
    rc = sqlite3_step(st);
    uint64_t first_young =
        rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : log->edge.size;
    (void)sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return -BARRA_EIO;
    }
    *ret = first_young / PRUNE_STEP * PRUNE_STEP;
    return 0;
}

/* Moves the leaf hashes below `cut` into the nodes table and deletes those entries and their
 * payloads, in one transaction. */
static int delete_below(barra_audit_t *log, uint64_t min, uint64_t cut)
{
    char m[32];
    (void)snprintf(m, sizeof(m), "%llu", (unsigned long long)cut);
    sqlite3 *db = log->store.db;
    sqlite3_stmt *keep = NULL, *meta = NULL, *del_p = NULL, *del_e = NULL;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db,
                                "INSERT INTO nodes SELECT 0, seq, leaf FROM entries "
                                "WHERE seq >= ? AND seq < ?",
                                -1, &keep, NULL);
    }
    if (rc == SQLITE_OK) {
        (void)sqlite3_bind_int64(keep, 1, (sqlite3_int64)min);
        (void)sqlite3_bind_int64(keep, 2, (sqlite3_int64)cut);
        rc = sqlite3_step(keep) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    /* The minimum first: the append-only trigger lets only entries below it be deleted. */
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db, "UPDATE meta SET value = ? WHERE key = 'min_index'", -1, &meta,
                                NULL);
    }
    if (rc == SQLITE_OK) {
        (void)sqlite3_bind_text(meta, 1, m, -1, SQLITE_STATIC);
        rc = sqlite3_step(meta) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db, "DELETE FROM payloads WHERE seq < ?", -1, &del_p, NULL);
    }
    if (rc == SQLITE_OK) {
        (void)sqlite3_bind_int64(del_p, 1, (sqlite3_int64)cut);
        rc = sqlite3_step(del_p) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db, "DELETE FROM entries WHERE seq < ?", -1, &del_e, NULL);
    }
    if (rc == SQLITE_OK) {
        (void)sqlite3_bind_int64(del_e, 1, (sqlite3_int64)cut);
        rc = sqlite3_step(del_e) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(keep);
    sqlite3_finalize(meta);
    sqlite3_finalize(del_p);
    sqlite3_finalize(del_e);
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -BARRA_EIO;
    }
    return 0;
}

BARRA_EXPORT int barra_audit_prune(barra_audit_t *log, int64_t before_ns, uint64_t *ret_min_index,
                                   struct barra_error *reterr)
{
    if (log == NULL || ret_min_index == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no log");
    }
    if (!log->has_writer) {
        return barra_error_set(reterr, -BARRA_EACCES, "the log was opened read-only");
    }
    uint64_t min = 0, cut = 0;
    uint8_t root[MERKLE_HASH];
    pthread_mutex_lock(&log->db_lock);
    int r = read_min_index(&log->store, &min);
    if (r == 0) {
        r = find_cut(log, min, before_ns, &cut);
    }
    struct merkle_source src = {audit_store_node, &log->store};
    if (r == 0 && cut > min && merkle_root(&src, cut, root) < 0) {
        r = -BARRA_EIO;
    }
    pthread_mutex_unlock(&log->db_lock);
    if (r < 0) {
        return barra_error_set(reterr, r, "cannot work out what to prune");
    }
    *ret_min_index = min;
    if (cut <= min) {
        return 0; /* nothing old enough, in whole groups */
    }
    /* 1. The record of what goes, made durable and signed before anything is deleted. */
    char root64[48], record[400];
    (void)EVP_EncodeBlock((unsigned char *)root64, root, MERKLE_HASH);
    int n =
        snprintf(record, sizeof(record),
                 "{\"min_index\":%llu,\"previous_min_index\":%llu,\"before_ns\":%lld,"
                 "\"root_at_min_index\":\"%s\"}",
                 (unsigned long long)cut, (unsigned long long)min, (long long)before_ns, root64);
    uint64_t index;
    char *note = NULL;
    if ((r = barra_audit_append(log, "prune", record, (size_t)n, NULL, 0, &index, reterr)) < 0 ||
        (r = barra_audit_checkpoint(log, &note, reterr)) < 0) {
        return r;
    }
    barra_free(note);
    /* 2. The entries go; their hashes stay. */
    pthread_mutex_lock(&log->db_lock);
    r = delete_below(log, min, cut);
    pthread_mutex_unlock(&log->db_lock);
    if (r < 0) {
        return barra_error_set(reterr, r,
                               "the prune record %llu is written, but deleting the entries "
                               "failed: %s",
                               (unsigned long long)index, sqlite3_errmsg(log->store.db));
    }
    *ret_min_index = cut;
    return 0;
}
