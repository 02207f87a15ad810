/* SPDX-License-Identifier: Apache-2.0 */
/* `barra log verify`: recompute the whole tree from the entries and hold every stored hash, every
 * checkpoint and every checkpoint kept elsewhere against it. The first thing that does not hold is
 * named, and nothing after it is trusted. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit-int.h"
#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

/* The recomputed tree, level by level, in memory (32 bytes per hash, two hashes per entry). */
struct tree {
    uint8_t (*level[64])[MERKLE_HASH];
    uint64_t count[64];
    unsigned levels;
};

static int tree_node(void *ud, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH])
{
    const struct tree *t = ud;
    if (level >= t->levels || index >= t->count[level]) {
        return -BARRA_ENOENT;
    }
    memcpy(out, t->level[level][index], MERKLE_HASH);
    return 0;
}

static void tree_done(struct tree *t)
{
    for (unsigned i = 0; i < t->levels; i++) {
        barra_free(t->level[i]);
    }
    memset(t, 0, sizeof(*t));
}

struct verifier {
    struct audit_store store;
    char origin[256];
    uint8_t public_key[32];
    uint64_t min_index;
    uint64_t signed_size; /* of the newest checkpoint in the log */
    struct tree tree;
    struct buf scratch;
    struct barra_audit_verify_report *report;
    struct barra_error *reterr;
};

static int fail(struct verifier *v, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct verifier *v, int code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return barra_error_set(v->reterr, code, "%s", msg);
}

static int tampered(struct verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int tampered(struct verifier *v, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return barra_error_set(v->reterr, -BARRA_ERULES, "%s", msg);
}

static int query(struct verifier *v, const char *sql, sqlite3_stmt **ret)
{
    int rc = sqlite3_prepare_v2(v->store.db, sql, -1, ret, NULL);
    return rc == SQLITE_OK ? 0 : audit_store_error(&v->store, rc, "cannot read the log", v->reterr);
}

static int count_rows(struct verifier *v, const char *sql, uint64_t *ret)
{
    sqlite3_stmt *st;
    int r = query(v, sql, &st);
    if (r == 0) {
        r = sqlite3_step(st) == SQLITE_ROW ? 0 : -BARRA_EIO;
        *ret = r == 0 ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
        (void)sqlite3_finalize(st);
    }
    return r;
}

/* Level 0: each leaf hash, recomputed from its entry and compared with the hash stored beside it.
 * Pruned entries left only their hash (among the nodes), vouched for by the checkpoints made
 * before the prune. */
static int check_leaves(struct verifier *v, uint64_t size)
{
    sqlite3_stmt *pruned = NULL, *entries = NULL;
    int r = query(v, "SELECT idx, hash FROM nodes WHERE level = 0 ORDER BY idx", &pruned);
    if (r == 0) {
        r = query(v,
                  "SELECT seq, time_ns, type, record, payload_digest, leaf FROM entries ORDER BY "
                  "seq",
                  &entries);
    }
    v->tree.level[0] = size ? barra_malloc(size * MERKLE_HASH) : NULL;
    v->tree.count[0] = size;
    v->tree.levels = 1;
    if (r == 0 && size && v->tree.level[0] == NULL) {
        r = fail(v, -BARRA_ENOMEM, "out of memory verifying %llu entries",
                 (unsigned long long)size);
    }
    for (uint64_t i = 0; r == 0 && i < v->min_index; i++) {
        if (sqlite3_step(pruned) != SQLITE_ROW || (uint64_t)sqlite3_column_int64(pruned, 0) != i ||
            sqlite3_column_bytes(pruned, 1) != MERKLE_HASH) {
            r = tampered(v, "the hash kept for pruned entry %llu is missing",
                         (unsigned long long)i);
            break;
        }
        memcpy(v->tree.level[0][i], sqlite3_column_blob(pruned, 1), MERKLE_HASH);
    }
    if (r == 0 && sqlite3_step(pruned) == SQLITE_ROW) {
        r = tampered(v, "a leaf hash is kept for entry %lld, which was not pruned",
                     (long long)sqlite3_column_int64(pruned, 0));
    }
    int erc = r == 0 ? sqlite3_step(entries) : SQLITE_DONE;
    int64_t last_time = INT64_MIN;
    for (uint64_t i = v->min_index; r == 0 && i < size; i++) {
        if (erc != SQLITE_ROW || (uint64_t)sqlite3_column_int64(entries, 0) != i) {
            r = tampered(v, "entry %llu is missing (the log was cut or rows were deleted)",
                         (unsigned long long)i);
            break;
        }
        struct audit_entry e = {
            .seq = i,
            .time_ns = sqlite3_column_int64(entries, 1),
            .type = (const char *)sqlite3_column_text(entries, 2),
            .type_len = (size_t)sqlite3_column_bytes(entries, 2),
            .record = sqlite3_column_blob(entries, 3),
            .record_len = (size_t)sqlite3_column_bytes(entries, 3),
            .has_payload = sqlite3_column_type(entries, 4) != SQLITE_NULL,
        };
        if (e.has_payload) {
            if (sqlite3_column_bytes(entries, 4) != 32) {
                r = tampered(v, "entry %llu: its payload digest is malformed",
                             (unsigned long long)i);
                break;
            }
            memcpy(e.payload_digest, sqlite3_column_blob(entries, 4), 32);
        }
        if (e.record == NULL) {
            e.record = "";
        }
        audit_entry_leaf_hash(&e, &v->scratch, v->tree.level[0][i]);
        if (sqlite3_column_bytes(entries, 5) != MERKLE_HASH ||
            memcmp(v->tree.level[0][i], sqlite3_column_blob(entries, 5), MERKLE_HASH) != 0) {
            r = tampered(v,
                         "entry %llu does not match its leaf hash: the entry or the hash was "
                         "altered",
                         (unsigned long long)i);
            break;
        }
        if (e.time_ns < last_time) {
            v->report->clock_steps_back++;
        }
        last_time = e.time_ns;
        erc = sqlite3_step(entries);
    }
    if (r == 0 && erc == SQLITE_ROW) {
        r = tampered(v, "entry %lld is outside the tree (the entries were reordered or renumbered)",
                     (long long)sqlite3_column_int64(entries, 0));
    }
    (void)sqlite3_finalize(pruned);
    (void)sqlite3_finalize(entries);
    return r;
}

/* Every higher level recomputed from the one below; from AUDIT_STORED_LEVEL up, compared with the
 * hashes the log stores (and uses for proofs). */
static int check_levels(struct verifier *v)
{
    sqlite3_stmt *st;
    int r = query(v, "SELECT level, idx, hash FROM nodes WHERE level > 0 ORDER BY level, idx", &st);
    int rc = r == 0 ? sqlite3_step(st) : SQLITE_DONE;
    for (unsigned level = 1; r == 0 && level < 64 && v->tree.count[level - 1] >= 2; level++) {
        uint64_t n = v->tree.count[level - 1] / 2;
        v->tree.level[level] = barra_malloc(n * MERKLE_HASH);
        if (v->tree.level[level] == NULL) {
            r = fail(v, -BARRA_ENOMEM, "out of memory verifying the tree");
            break;
        }
        v->tree.count[level] = n;
        v->tree.levels = level + 1;
        for (uint64_t i = 0; i < n; i++) {
            merkle_node_hash(v->tree.level[level - 1][2 * i], v->tree.level[level - 1][2 * i + 1],
                             v->tree.level[level][i]);
            if (level < AUDIT_STORED_LEVEL) {
                continue;
            }
            if (rc != SQLITE_ROW || sqlite3_column_int(st, 0) != (int)level ||
                (uint64_t)sqlite3_column_int64(st, 1) != i || sqlite3_column_bytes(st, 2) != 32 ||
                memcmp(sqlite3_column_blob(st, 2), v->tree.level[level][i], MERKLE_HASH) != 0) {
                r = tampered(v, "the tree hash at level %u, index %llu is missing or wrong", level,
                             (unsigned long long)i);
                break;
            }
            rc = sqlite3_step(st);
        }
    }
    if (r == 0 && rc == SQLITE_ROW) {
        r = tampered(v, "the log holds a tree hash (level %d, index %lld) its entries do not make",
                     sqlite3_column_int(st, 0), (long long)sqlite3_column_int64(st, 1));
    }
    (void)sqlite3_finalize(st);
    return r;
}

/* A checkpoint must be signed by the log's key and sign the tree the entries make. */
static int check_note(struct verifier *v, const char *note, size_t len, const char *where,
                      struct audit_checkpoint *ret)
{
    struct barra_error err;
    if (audit_checkpoint_verify(note, len, v->origin, v->public_key, ret, &err) < 0) {
        return tampered(v, "%s: %s", where, err.message);
    }
    if (strcmp(ret->origin, v->origin) != 0) {
        return tampered(v, "%s is for another log (\"%s\")", where, ret->origin);
    }
    uint64_t size = v->tree.count[0];
    if (ret->size > size) {
        return tampered(v,
                        "%s signs %llu entries but the log has %llu: entries were removed or an "
                        "older copy of the log was restored",
                        where, (unsigned long long)ret->size, (unsigned long long)size);
    }
    uint8_t root[MERKLE_HASH];
    struct merkle_source src = {tree_node, &v->tree};
    if (ret->size > 0 &&
        (merkle_root(&src, ret->size, root) < 0 || memcmp(root, ret->root, MERKLE_HASH) != 0)) {
        return tampered(v,
                        "%s (size %llu) does not match the log's tree of that size: its history "
                        "was rewritten or forked",
                        where, (unsigned long long)ret->size);
    }
    v->report->checkpoints++;
    return 0;
}

static int check_stored_checkpoints(struct verifier *v, char **ret_newest)
{
    sqlite3_stmt *st;
    int r = query(v, "SELECT size, note FROM checkpoints ORDER BY size", &st);
    while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
        uint64_t size = (uint64_t)sqlite3_column_int64(st, 0);
        const char *note = (const char *)sqlite3_column_text(st, 1);
        char where[64];
        (void)snprintf(where, sizeof(where), "the log's checkpoint of size %llu",
                       (unsigned long long)size);
        struct audit_checkpoint cp;
        r = check_note(v, note ? note : "", (size_t)sqlite3_column_bytes(st, 1), where, &cp);
        if (r == 0 && cp.size != size) {
            r = tampered(v, "%s says size %llu", where, (unsigned long long)cp.size);
        }
        if (r == 0 && ret_newest) {
            barra_free(*ret_newest);
            *ret_newest = barra_strdup(note);
            v->signed_size = size;
        }
    }
    (void)sqlite3_finalize(st);
    return r;
}

static int read_small_file(const char *path, char *buf, size_t cap, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    ssize_t n = read(fd, buf, cap - 1);
    (void)close(fd);
    if (n < 0) {
        return -BARRA_EIO;
    }
    buf[n] = '\0';
    *ret_len = (size_t)n;
    return 0;
}

static int check_file(struct verifier *v, const char *path)
{
    char note[4096], where[300];
    size_t len = 0;
    int r = read_small_file(path, note, sizeof(note), &len);
    if (r < 0) {
        return fail(v, r, "cannot read checkpoint \"%s\": %s", path, strerror(-r));
    }
    (void)snprintf(where, sizeof(where), "checkpoint \"%s\"", path);
    struct audit_checkpoint cp;
    return check_note(v, note, len, where, &cp);
}

/* Payloads beside the tree: each must match the digest its entry commits to. */
static int check_payloads(struct verifier *v)
{
    sqlite3_stmt *st;
    int r = query(v,
                  "SELECT p.seq, p.salt, p.payload, e.payload_digest FROM payloads p "
                  "LEFT JOIN entries e ON e.seq = p.seq ORDER BY p.seq",
                  &st);
    while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
        long long seq = sqlite3_column_int64(st, 0);
        uint8_t d[32];
        if (sqlite3_column_bytes(st, 1) != AUDIT_SALT || sqlite3_column_bytes(st, 3) != 32) {
            r = tampered(v, "the payload of entry %lld has no entry digest or a bad salt", seq);
            break;
        }
        audit_payload_digest(sqlite3_column_blob(st, 1), sqlite3_column_blob(st, 2),
                             (size_t)sqlite3_column_bytes(st, 2), d);
        if (memcmp(d, sqlite3_column_blob(st, 3), 32) != 0) {
            r = tampered(v, "the payload of entry %lld does not match its digest", seq);
            break;
        }
        v->report->payloads++;
    }
    (void)sqlite3_finalize(st);
    uint64_t with_digest = 0;
    if (r == 0 &&
        (r = count_rows(v, "SELECT count(*) FROM entries WHERE payload_digest IS NOT NULL",
                        &with_digest)) == 0) {
        v->report->erased = with_digest - v->report->payloads;
    }
    return r;
}

/* The newest prune record must agree with what was pruned: entries below min_index are gone only
 * with a record saying so. */
static int check_prunes(struct verifier *v)
{
    sqlite3_stmt *st;
    int r = query(
        v, "SELECT seq, record FROM entries WHERE type = 'prune' ORDER BY seq DESC LIMIT 1", &st);
    uint64_t recorded = 0;
    if (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *rec = (const char *)sqlite3_column_text(st, 1);
        const char *at = rec ? strstr(rec, "\"min_index\":") : NULL;
        recorded = at ? strtoull(at + 12, NULL, 10) : 0;
        if (at == NULL) {
            r = tampered(v, "prune record %lld has no min_index", sqlite3_column_int64(st, 0));
        }
    }
    (void)sqlite3_finalize(st);
    if (r == 0 && v->min_index != recorded) {
        r = tampered(v,
                     "entries below %llu are gone but the last prune record says %llu: entries "
                     "were deleted outside a prune",
                     (unsigned long long)v->min_index, (unsigned long long)recorded);
    }
    return r;
}

static int write_trusted(const char *path, const char *note, struct barra_error *reterr)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        return barra_error_set(reterr, -BARRA_EINVAL, "trusted checkpoint path too long");
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t len = strlen(note);
    bool ok = fd >= 0 && write(fd, note, len) == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) {
        ok = false;
    }
    if (!ok || rename(tmp, path) != 0) {
        (void)unlink(tmp);
        return barra_error_set(reterr, -BARRA_EIO, "cannot write the trusted checkpoint \"%s\"",
                               path);
    }
    return 0;
}

static int load_identity(struct verifier *v, const struct barra_audit_verify_options *o)
{
    char *origin = NULL;
    if (audit_store_meta_get(&v->store, "origin", &origin) < 0 || origin == NULL) {
        return tampered(v, "the log has no origin: it is not a Barra audit log or was damaged");
    }
    (void)snprintf(v->origin, sizeof(v->origin), "%s", origin);
    barra_free(origin);
    char *min = NULL;
    if (audit_store_meta_get(&v->store, "min_index", &min) == 0 && min) {
        v->min_index = strtoull(min, NULL, 10);
    }
    barra_free(min);
    if (o->verifier_key) {
        char name[256];
        if (audit_verifier_key_parse(o->verifier_key, name, sizeof(name), v->public_key) < 0) {
            return fail(v, -BARRA_EINVAL, "the verifier key is not \"name+keyid+base64\"");
        }
        if (strcmp(name, v->origin) != 0) {
            return tampered(v, "the verifier key is for \"%s\", the log is \"%s\"", name,
                            v->origin);
        }
        return 0;
    }
    struct audit_signer s;
    int r = audit_signer_load(&s, o->dir, v->origin, false, v->reterr);
    if (r == 0) {
        memcpy(v->public_key, s.public_key, 32);
        audit_signer_done(&s);
    }
    return r;
}

BARRA_EXPORT int barra_audit_verify(const struct barra_audit_verify_options *o,
                                    struct barra_audit_verify_report *ret,
                                    struct barra_error *reterr)
{
    if (o == NULL || o->dir == NULL || ret == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no log folder given");
    }
    memset(ret, 0, sizeof(*ret));
    struct verifier v = {.report = ret, .reterr = reterr};
    buf_init(&v.scratch, AUDIT_MAX_RECORD + 256);
    int r = audit_store_open(&v.store, o->dir, true, reterr);
    uint64_t size = 0;
    char *newest = NULL;
    if (r == 0) {
        r = load_identity(&v, o);
    }
    if (r == 0) {
        r = count_rows(&v,
                       "SELECT max(coalesce((SELECT max(seq) + 1 FROM entries), 0),"
                       " CAST((SELECT value FROM meta WHERE key = 'min_index') AS INTEGER))",
                       &size);
    }
    if (r == 0) {
        r = check_leaves(&v, size);
    }
    if (r == 0) {
        r = check_levels(&v);
    }
    if (r == 0) {
        r = check_stored_checkpoints(&v, &newest);
    }
    for (size_t i = 0; r == 0 && i < o->ncheckpoint_files; i++) {
        r = check_file(&v, o->checkpoint_files[i]);
    }
    if (r == 0 && o->trusted_checkpoint && access(o->trusted_checkpoint, F_OK) == 0) {
        r = check_file(&v, o->trusted_checkpoint);
    }
    if (r == 0) {
        r = check_payloads(&v);
    }
    if (r == 0) {
        r = check_prunes(&v);
    }
    /* Entries after the newest checkpoint are consistent but not yet signed (the writer signs
     * every few seconds, so a crash can leave a few): reported, not an error. */
    ret->unsigned_entries = size - v.signed_size;
    if (r == 0 && o->trusted_checkpoint && o->update_trusted && newest) {
        r = write_trusted(o->trusted_checkpoint, newest, reterr);
    }
    ret->size = size;
    ret->min_index = v.min_index;
    barra_free(newest);
    tree_done(&v.tree);
    buf_done(&v.scratch);
    audit_store_close(&v.store);
    return r;
}
