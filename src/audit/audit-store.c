/* SPDX-License-Identifier: Apache-2.0 */
/* The log in SQLite: entries (what leaves commit to), payloads (erasable, beside the tree), the
 * hashes of complete subtrees, checkpoints and a little metadata. WAL with synchronous=FULL: a
 * commit that returned survives a power loss. Triggers refuse changes to entries, nodes and
 * checkpoints; the owner of the file can drop them, which is why the proofs exist. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit-int.h"
#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS entries(seq INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL,\n"
    "  type TEXT NOT NULL, record BLOB NOT NULL, payload_digest BLOB, leaf BLOB NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS payloads(seq INTEGER PRIMARY KEY, salt BLOB NOT NULL,\n"
    "  payload BLOB NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS nodes(level INTEGER NOT NULL, idx INTEGER NOT NULL,\n"
    "  hash BLOB NOT NULL, PRIMARY KEY(level, idx)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS checkpoints(size INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL,\n"
    "  note TEXT NOT NULL);\n"
    "CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries\n"
    "  BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;\n"
    "CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries\n"
    "  WHEN old.seq >= CAST((SELECT value FROM meta WHERE key = 'min_index') AS INTEGER)\n"
    "  BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;\n"
    "CREATE TRIGGER IF NOT EXISTS nodes_no_update BEFORE UPDATE ON nodes\n"
    "  BEGIN SELECT RAISE(ABORT, 'tree hashes are append-only'); END;\n"
    "CREATE TRIGGER IF NOT EXISTS nodes_no_delete BEFORE DELETE ON nodes\n"
    "  BEGIN SELECT RAISE(ABORT, 'tree hashes are append-only'); END;\n"
    "CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints\n"
    "  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;\n"
    "CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints\n"
    "  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;\n"
    "CREATE TABLE IF NOT EXISTS keys(from_size INTEGER PRIMARY KEY, verifier_key TEXT NOT NULL,\n"
    "  endorsement TEXT);\n"
    "CREATE TRIGGER IF NOT EXISTS keys_no_update BEFORE UPDATE ON keys\n"
    "  BEGIN SELECT RAISE(ABORT, 'the key history is append-only'); END;\n"
    "CREATE TRIGGER IF NOT EXISTS keys_no_delete BEFORE DELETE ON keys\n"
    "  BEGIN SELECT RAISE(ABORT, 'the key history is append-only'); END;\n"
    "INSERT OR IGNORE INTO meta VALUES('format', 'barra.audit/1');\n"
    "INSERT OR IGNORE INTO meta VALUES('min_index', '0');\n";

const char *audit_store_vfs;

int audit_store_error(struct audit_store *s, int rc, const char *what, struct barra_error *reterr)
{
    int code = rc == SQLITE_FULL                            ? -BARRA_ENOSPC
               : rc == SQLITE_NOMEM                         ? -BARRA_ENOMEM
               : (rc & 0xff) == SQLITE_IOERR                ? -BARRA_EIO
               : rc == SQLITE_CANTOPEN                      ? -BARRA_ENOENT
               : rc == SQLITE_READONLY || rc == SQLITE_PERM ? -BARRA_EACCES
                                                            : -BARRA_EIO;
    return barra_error_set(reterr, code, "%s: %s", what,
                           s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

static int prepare(struct audit_store *s, const char *sql, sqlite3_stmt **ret,
                   struct barra_error *reterr)
{
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL);
    return rc == SQLITE_OK ? 0 : audit_store_error(s, rc, "cannot prepare a statement", reterr);
}

int audit_store_open(struct audit_store *s, const char *dir, bool read_only,
                     struct barra_error *reterr)
{
    memset(s, 0, sizeof(*s));
    if (!read_only && mkdir(dir, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        return barra_error_set(reterr, -e, "cannot create the log folder \"%s\": %s", dir,
                               strerror(e));
    }
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, AUDIT_DB_NAME) >= sizeof(path)) {
        return barra_error_set(reterr, -BARRA_EINVAL, "log folder path too long");
    }
    if (!read_only) {
        /* Created readable by the owner only (SQLite gives its -wal and -shm files the same mode):
         * records name people's departments and actions even without their data. */
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            int e = errno;
            return barra_error_set(reterr, -e, "cannot create the log \"%s\": %s", path,
                                   strerror(e));
        }
        (void)close(fd);
    }
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, audit_store_vfs);
    if (rc != SQLITE_OK) {
        int r = audit_store_error(s, rc, "cannot open the log", reterr);
        audit_store_close(s);
        return r;
    }
    (void)sqlite3_extended_result_codes(s->db, 1);
    (void)sqlite3_busy_timeout(s->db, 5000);
    char *msg = NULL;
    /* Readers map the file: verification reads every page once, and copying each through read()
     * costs more than hashing it. */
    const char *setup = read_only ? "PRAGMA query_only = 1; PRAGMA mmap_size = 17179869184;"
                                  : "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL;"
                                    "PRAGMA synchronous = FULL;";
    rc = sqlite3_exec(s->db, setup, NULL, NULL, &msg);
    if (rc == SQLITE_OK && !read_only) {
        rc = sqlite3_exec(s->db, schema, NULL, NULL, &msg);
    }
    if (rc != SQLITE_OK) {
        int r = barra_error_set(reterr, -BARRA_EIO, "cannot set up the log \"%s\": %s", path,
                                msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        audit_store_close(s);
        return r;
    }
    int r = 0;
    if (!read_only) {
        if ((r = prepare(s, "INSERT INTO entries VALUES(?, ?, ?, ?, ?, ?)", &s->insert_entry,
                         reterr)) < 0 ||
            (r = prepare(s, "INSERT INTO payloads VALUES(?, ?, ?)", &s->insert_payload, reterr)) <
                0 ||
            (r = prepare(s, "INSERT INTO nodes VALUES(?, ?, ?)", &s->insert_node, reterr)) < 0 ||
            (r = prepare(s, "INSERT INTO checkpoints VALUES(?, ?, ?)", &s->insert_checkpoint,
                         reterr)) < 0 ||
            (r = prepare(s, "BEGIN IMMEDIATE", &s->begin, reterr)) < 0 ||
            (r = prepare(s, "COMMIT", &s->commit, reterr)) < 0 ||
            (r = prepare(s, "ROLLBACK", &s->rollback, reterr)) < 0) {
            audit_store_close(s);
            return r;
        }
    }
    if ((r = prepare(s, "SELECT hash FROM nodes WHERE level = ? AND idx = ?", &s->get_node,
                     reterr)) < 0 ||
        (r = prepare(s, "SELECT leaf FROM entries WHERE seq = ?", &s->get_leaf, reterr)) < 0 ||
        (r = prepare(s, "SELECT seq, leaf FROM entries WHERE seq >= ? AND seq < ? ORDER BY seq",
                     &s->get_leaves, reterr)) < 0) {
        audit_store_close(s);
    }
    return r;
}

void audit_store_close(struct audit_store *s)
{
    sqlite3_stmt *all[] = {s->insert_entry,      s->insert_payload, s->insert_node, s->get_node,
                           s->insert_checkpoint, s->begin,          s->commit,      s->rollback,
                           s->get_leaf,          s->get_leaves};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        (void)sqlite3_finalize(all[i]);
    }
    (void)sqlite3_close(s->db);
    memset(s, 0, sizeof(*s));
}

int audit_store_meta_get(struct audit_store *s, const char *key, char **ret_value)
{
    sqlite3_stmt *st;
    *ret_value = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) !=
        SQLITE_OK) {
        return -BARRA_EIO;
    }
    (void)sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r = 0;
    const char *value = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (value) { /* a NULL value (a damaged file) reads as absent */
        *ret_value = barra_strdup(value);
        r = *ret_value ? 0 : -BARRA_ENOMEM;
    } else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        r = -BARRA_EIO;
    }
    (void)sqlite3_finalize(st);
    return r;
}

int audit_store_meta_set(struct audit_store *s, const char *key, const char *value)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta VALUES(?, ?)", -1, &st, NULL) !=
        SQLITE_OK) {
        return -BARRA_EIO;
    }
    (void)sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    (void)sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -BARRA_EIO;
}

static int stored_node(struct audit_store *s, unsigned level, uint64_t index,
                       uint8_t out[MERKLE_HASH])
{
    sqlite3_stmt *st = s->get_node;
    (void)sqlite3_reset(st);
    (void)sqlite3_bind_int64(st, 1, level);
    (void)sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    int rc = sqlite3_step(st), r = -BARRA_ENOENT;
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == MERKLE_HASH) {
        memcpy(out, sqlite3_column_blob(st, 0), MERKLE_HASH);
        r = 0;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r = -BARRA_EIO;
    }
    (void)sqlite3_reset(st);
    return r;
}

/* A leaf hash: in its entry, or among the level-0 nodes kept for pruned entries. */
static int leaf(struct audit_store *s, uint64_t index, uint8_t out[MERKLE_HASH])
{
    sqlite3_stmt *st = s->get_leaf;
    (void)sqlite3_reset(st);
    (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
    int rc = sqlite3_step(st), r = -BARRA_ENOENT;
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == MERKLE_HASH) {
        memcpy(out, sqlite3_column_blob(st, 0), MERKLE_HASH);
        r = 0;
    }
    (void)sqlite3_reset(st);
    return r == 0 ? 0 : stored_node(s, 0, index, out);
}

/* A subtree below the stored levels: folded from its (at most 128) leaf hashes. */
static int computed_node(struct audit_store *s, unsigned level, uint64_t index,
                         uint8_t out[MERKLE_HASH])
{
    uint64_t n = (uint64_t)1 << level, first = index << level;
    uint8_t h[1u << (AUDIT_STORED_LEVEL - 1)][MERKLE_HASH];
    uint64_t got = 0;
    sqlite3_stmt *st = s->get_leaves;
    (void)sqlite3_reset(st);
    (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)first);
    (void)sqlite3_bind_int64(st, 2, (sqlite3_int64)(first + n));
    while (got < n && sqlite3_step(st) == SQLITE_ROW) {
        if ((uint64_t)sqlite3_column_int64(st, 0) != first + got ||
            sqlite3_column_bytes(st, 1) != MERKLE_HASH) {
            break;
        }
        memcpy(h[got++], sqlite3_column_blob(st, 1), MERKLE_HASH);
    }
    (void)sqlite3_reset(st);
    /* Pruned leaves are not in the entries: fetch those one by one. */
    for (uint64_t i = got; i < n; i++) {
        if (leaf(s, first + i, h[i]) < 0) {
            return -BARRA_ENOENT;
        }
    }
    for (uint64_t width = n; width > 1; width /= 2) {
        for (uint64_t i = 0; i < width / 2; i++) {
            merkle_node_hash(h[2 * i], h[2 * i + 1], h[i]);
        }
    }
    memcpy(out, h[0], MERKLE_HASH);
    return 0;
}

int audit_store_node(void *store, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH])
{
    struct audit_store *s = store;
    if (level == 0) {
        return leaf(s, index, out);
    }
    if (level < AUDIT_STORED_LEVEL) {
        return computed_node(s, level, index, out);
    }
    return stored_node(s, level, index, out);
}

int64_t audit_store_last_time(struct audit_store *s)
{
    sqlite3_stmt *st;
    int64_t t = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT time_ns FROM entries ORDER BY seq DESC LIMIT 1", -1, &st,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            t = sqlite3_column_int64(st, 0);
        }
        (void)sqlite3_finalize(st);
    }
    return t;
}

int audit_store_load_edge(struct audit_store *s, struct merkle_edge *ret,
                          struct barra_error *reterr)
{
    memset(ret, 0, sizeof(*ret));
    sqlite3_stmt *st;
    /* The size: one past the newest entry, or the prune point when every entry is pruned. */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT max(coalesce((SELECT max(seq) + 1 FROM entries), 0),"
                           " CAST((SELECT value FROM meta WHERE key = 'min_index') AS INTEGER))",
                           -1, &st, NULL) != SQLITE_OK) {
        return audit_store_error(s, sqlite3_errcode(s->db), "cannot read the log", reterr);
    }
    int rc = sqlite3_step(st);
    uint64_t size = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    (void)sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        return audit_store_error(s, rc, "cannot read the log", reterr);
    }
    ret->size = size;
    for (unsigned level = 0; level < 64; level++) {
        if (!((size >> level) & 1)) {
            continue;
        }
        /* The edge's subtree at this level starts where the larger ones end. */
        uint64_t index = (size >> (level + 1)) << 1;
        int r = audit_store_node(s, level, index, ret->hash[level]);
        if (r < 0) {
            return barra_error_set(reterr, -BARRA_EIO,
                                   "the log is missing the tree hash at level %u, index %llu",
                                   level, (unsigned long long)index);
        }
    }
    return 0;
}
