/* SPDX-License-Identifier: Apache-2.0 */
/* `barra log verify`: recompute the whole tree from the entries and hold every stored hash, every
 * checkpoint and every checkpoint kept elsewhere against it. The first thing that does not hold is
 * named, and nothing after it is trusted. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit-int.h"
#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

/* A checkpoint to hold the tree against when the stream of leaves reaches its size. */
struct expected_root {
    uint64_t size;
    uint8_t root[MERKLE_HASH];
    char where[300];
};

struct verifier {
    struct audit_store store;
    char origin[256];
    uint8_t public_key[32]; /* the key the verifier trusts (given, or the box's own) */
    /* The key history: key i signs checkpoints of size from[i] and more, until the next one. */
    struct key_epoch {
        uint64_t from;
        uint8_t pub[32];
    } keys[32];
    size_t nkeys;
    uint64_t min_index;
    uint64_t signed_size; /* of the newest checkpoint in the log */
    uint64_t size;        /* entries in the tree */
    struct expected_root *roots;
    size_t nroots, caproots;
    uint64_t stored_nodes; /* stored subtree hashes the entries made */
    /* Gathered in the one pass over the entries, checked after it: */
    uint64_t with_digest; /* entries committing to a payload */
    char *last_prune;     /* the newest prune record, or NULL */
    uint64_t last_prune_seq;
    char *endorsements[32]; /* the keys table's endorsement of key k (k >= 1) */
    char *rotations[32];    /* the key_rotation records still in the log, in order */
    size_t nrotations;
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

/* A stored subtree hash, as the recomputed tree makes it: it must be there and equal. */
static int check_stored_node(void *ud, unsigned level, uint64_t index,
                             const uint8_t hash[MERKLE_HASH])
{
    struct verifier *v = ud;
    if (level < AUDIT_STORED_LEVEL) {
        return 0;
    }
    uint8_t stored[MERKLE_HASH];
    if (audit_store_node(&v->store, level, index, stored) < 0 ||
        memcmp(stored, hash, MERKLE_HASH) != 0) {
        return tampered(v, "the tree hash at level %u, index %llu is missing or wrong", level,
                        (unsigned long long)index);
    }
    v->stored_nodes++;
    return 0;
}

static int cmp_root(const void *a, const void *b)
{
    const struct expected_root *x = a, *y = b;
    return (x->size > y->size) - (x->size < y->size);
}

static bool type_is(const struct audit_entry *e, const char *type)
{
    size_t n = strlen(type);
    return e->type_len == n && memcmp(e->type, type, n) == 0;
}

/* What the checks after the tree need from the entries, noted while they stream past so that no
 * second pass reads them: the payload digests, the newest prune record, the key rotations. */
static int note_entry(struct verifier *v, const struct audit_entry *e)
{
    v->with_digest += e->has_payload;
    char **slot = NULL;
    if (type_is(e, "prune")) {
        barra_free(v->last_prune);
        v->last_prune = NULL;
        v->last_prune_seq = e->seq;
        slot = &v->last_prune;
    } else if (type_is(e, "key_rotation")) {
        if (v->nrotations == sizeof(v->rotations) / sizeof(v->rotations[0])) {
            return tampered(v, "the log records more key rotations than a log may have");
        }
        slot = &v->rotations[v->nrotations++];
    }
    if (slot) {
        *slot = barra_strndup(e->record, e->record_len);
        if (*slot == NULL) {
            return fail(v, -BARRA_ENOMEM, "out of memory");
        }
    }
    return 0;
}

/* The right edge of the tree being rebuilt, and the next checkpoint root to hold it against. */
struct tree_walk {
    struct merkle_edge edge;
    size_t next_root;
};

/* Appends a leaf: every stored subtree hash it completes is compared, and each checkpoint's root
 * once the tree reaches its size. */
static int walk_leaf(struct verifier *v, struct tree_walk *w, const uint8_t leaf[MERKLE_HASH])
{
    int r = merkle_edge_append(&w->edge, leaf, check_stored_node, v);
    for (; r == 0 && w->next_root < v->nroots && v->roots[w->next_root].size == w->edge.size;
         w->next_root++) {
        uint8_t root[MERKLE_HASH];
        merkle_edge_root(&w->edge, root);
        if (memcmp(root, v->roots[w->next_root].root, MERKLE_HASH) != 0) {
            r = tampered(v,
                         "%s (size %llu) does not match the log's tree of that size: its "
                         "history was rewritten or forked",
                         v->roots[w->next_root].where, (unsigned long long)w->edge.size);
        }
    }
    return r;
}

static int leaf_mismatch(struct verifier *v, uint64_t i)
{
    return tampered(v, "entry %llu does not match its leaf hash: the entry or the hash was altered",
                    (unsigned long long)i);
}

/* Adds entry i, the row `entries` is on (erc: its last step), to the batch, with the leaf hash
 * stored beside it. A row that is missing, out of place or malformed is named instead. */
static int batch_row(struct verifier *v, sqlite3_stmt *entries, int erc, uint64_t i,
                     struct audit_leaf_batch *b, uint8_t stored[][MERKLE_HASH])
{
    if (erc != SQLITE_ROW || (uint64_t)sqlite3_column_int64(entries, 0) != i) {
        return tampered(v, "entry %llu is missing (the log was cut or rows were deleted)",
                        (unsigned long long)i);
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
            return tampered(v, "entry %llu: its payload digest is malformed",
                            (unsigned long long)i);
        }
        memcpy(e.payload_digest, sqlite3_column_blob(entries, 4), 32);
    }
    /* A NULL where text should be (a damaged or hostile file): taken as empty, so it fails its
     * leaf hash instead of being read through a null pointer. */
    if (e.record == NULL) {
        e.record = "";
    }
    if (e.type == NULL) {
        e.type = "";
        e.type_len = 0;
    }
    if (sqlite3_column_bytes(entries, 5) != MERKLE_HASH) {
        return leaf_mismatch(v, i);
    }
    memcpy(stored[b->n], sqlite3_column_blob(entries, 5), MERKLE_HASH);
    int r = audit_leaf_batch_add(b, &e);
    if (r == -BARRA_ENOMEM) {
        return fail(v, r, "out of memory");
    }
    return r < 0 ? leaf_mismatch(v, i) : 0;
}

/* The batch's entries in order: each leaf hash against the stored one, then into the tree. */
static int check_batch(struct verifier *v, struct tree_walk *w, struct audit_leaf_batch *b,
                       uint8_t stored[][MERKLE_HASH], int64_t *last_time)
{
    audit_leaf_batch_hash(b);
    int r = 0;
    for (size_t k = 0; r == 0 && k < b->n; k++) {
        const struct audit_entry *e = &b->entry[k];
        if (memcmp(b->leaf[k], stored[k], MERKLE_HASH) != 0) {
            return leaf_mismatch(v, e->seq);
        }
        if ((r = note_entry(v, e)) < 0) {
            return r;
        }
        if (e->time_ns < *last_time) {
            v->report->clock_steps_back++;
        }
        *last_time = e->time_ns;
        r = walk_leaf(v, w, b->leaf[k]);
    }
    return r;
}

/* One pass over the leaves: the pruned ones as kept, the others recomputed from their entries
 * sixteen at a time, each appended to the tree's right edge, every stored subtree hash compared
 * as it completes, and each checkpoint's root compared when the tree reaches its size. Memory
 * stays constant. */
static int check_tree(struct verifier *v)
{
    sqlite3_stmt *pruned = NULL, *entries = NULL;
    int r = query(v, "SELECT idx, hash FROM nodes WHERE level = 0 ORDER BY idx", &pruned);
    if (r == 0) {
        r = query(v,
                  "SELECT seq, time_ns, type, record, payload_digest, leaf FROM entries ORDER BY "
                  "seq",
                  &entries);
    }
    if (v->nroots > 1) {
        qsort(v->roots, v->nroots, sizeof(*v->roots), cmp_root);
    }
    struct tree_walk w;
    memset(&w, 0, sizeof(w));
    uint64_t i = 0;
    for (; r == 0 && i < v->size && i < v->min_index; i++) {
        if (sqlite3_step(pruned) != SQLITE_ROW || (uint64_t)sqlite3_column_int64(pruned, 0) != i ||
            sqlite3_column_bytes(pruned, 1) != MERKLE_HASH) {
            r = tampered(v, "the hash kept for pruned entry %llu is missing",
                         (unsigned long long)i);
            break;
        }
        uint8_t leaf[MERKLE_HASH];
        memcpy(leaf, sqlite3_column_blob(pruned, 1), MERKLE_HASH);
        r = walk_leaf(v, &w, leaf);
    }
    int erc = r == 0 ? sqlite3_step(entries) : SQLITE_DONE;
    struct audit_leaf_batch batch;
    memset(&batch, 0, sizeof(batch));
    uint8_t stored[SHA256_LANES][MERKLE_HASH];
    int64_t last_time = INT64_MIN;
    while (r == 0 && i < v->size) {
        /* A row that cannot join the batch is named once the entries before it hold. */
        int row = 0;
        batch.n = 0;
        while (batch.n < SHA256_LANES && i + batch.n < v->size &&
               (row = batch_row(v, entries, erc, i + batch.n, &batch, stored)) == 0) {
            erc = sqlite3_step(entries);
        }
        r = check_batch(v, &w, &batch, stored, &last_time);
        i += batch.n;
        if (r == 0) {
            r = row;
        }
    }
    audit_leaf_batch_free(&batch);
    if (r == 0 && v->min_index <= v->size && sqlite3_step(pruned) == SQLITE_ROW) {
        r = tampered(v, "a leaf hash is kept for an entry that was not pruned");
    }
    if (r == 0 && erc == SQLITE_ROW) {
        r = tampered(v, "entry %lld is outside the tree (the entries were reordered or renumbered)",
                     (long long)sqlite3_column_int64(entries, 0));
    }
    uint64_t stored_nodes = 0;
    if (r == 0 &&
        (r = count_rows(v, "SELECT count(*) FROM nodes WHERE level > 0", &stored_nodes)) == 0 &&
        stored_nodes != v->stored_nodes) {
        r = tampered(v, "the log holds %llu tree hashes its entries do not make",
                     (unsigned long long)(stored_nodes - v->stored_nodes));
    }
    (void)sqlite3_finalize(pruned);
    (void)sqlite3_finalize(entries);
    return r;
}

/* A checkpoint must be signed by the log's key; its root is checked when the tree reaches its
 * size (check_tree). */
static int check_note(struct verifier *v, const char *note, size_t len, const char *where,
                      struct audit_checkpoint *ret)
{
    struct barra_error err;
    /* Which key signed depends on the size: parse first (with any key), then check the signature
     * of the key in force at that size. */
    const uint8_t *key = v->keys[0].pub;
    struct audit_checkpoint probe;
    if (v->nkeys > 1 && audit_checkpoint_verify(note, len, v->origin, v->keys[0].pub, &probe,
                                                &err) != -BARRA_EFORMAT) {
        for (size_t k = 0; k < v->nkeys; k++) {
            if (v->keys[k].from <= probe.size) {
                key = v->keys[k].pub;
            }
        }
    }
    if (audit_checkpoint_verify(note, len, v->origin, key, ret, &err) < 0) {
        return tampered(v, "%s: %s", where, err.message);
    }
    if (strcmp(ret->origin, v->origin) != 0) {
        return tampered(v, "%s is for another log (\"%s\")", where, ret->origin);
    }
    if (ret->size > v->size) {
        return tampered(v,
                        "%s signs %llu entries but the log has %llu: entries were removed or an "
                        "older copy of the log was restored",
                        where, (unsigned long long)ret->size, (unsigned long long)v->size);
    }
    if (ret->size == 0) {
        return 0;
    }
    if (v->nroots == v->caproots) {
        size_t cap = v->caproots ? 2 * v->caproots : 64;
        struct expected_root *roots = barra_reallocarray(v->roots, cap, sizeof(*roots));
        if (roots == NULL) {
            return fail(v, -BARRA_ENOMEM, "out of memory");
        }
        v->roots = roots;
        v->caproots = cap;
    }
    struct expected_root *er = &v->roots[v->nroots++];
    er->size = ret->size;
    memcpy(er->root, ret->root, MERKLE_HASH);
    (void)snprintf(er->where, sizeof(er->where), "%s", where);
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
    if (r == 0) {
        v->report->erased = v->with_digest - v->report->payloads;
    }
    return r;
}

/* The newest prune record must agree with what was pruned: entries below min_index are gone only
 * with a record saying so. */
static int check_prunes(struct verifier *v)
{
    uint64_t recorded = 0;
    if (v->last_prune) {
        const char *at = strstr(v->last_prune, "\"min_index\":");
        if (at == NULL) {
            return tampered(v, "prune record %llu has no min_index",
                            (unsigned long long)v->last_prune_seq);
        }
        recorded = strtoull(at + 12, NULL, 10);
    }
    if (v->min_index != recorded) {
        return tampered(v,
                        "entries below %llu are gone but the last prune record says %llu: "
                        "entries were deleted outside a prune",
                        (unsigned long long)v->min_index, (unsigned long long)recorded);
    }
    return 0;
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

/* One step of the key history: each key endorses the other, and the log's key_rotation entry (if
 * not pruned) says the same. */
static int check_endorsement(struct verifier *v, size_t k, const char *old_vk, const char *new_vk,
                             const char *json)
{
    json_t *j = json ? json_loads(json, 0, NULL) : NULL;
    const char *o = json_string_value(json_object_get(j, "old_key"));
    const char *n = json_string_value(json_object_get(j, "new_key"));
    const char *s1 = json_string_value(json_object_get(j, "old_signs_new"));
    const char *s2 = json_string_value(json_object_get(j, "new_signs_old"));
    uint8_t sig1[66], sig2[66];
    bool ok = o && n && s1 && s2 && strcmp(o, old_vk) == 0 && strcmp(n, new_vk) == 0 &&
              strlen(s1) == 88 && strlen(s2) == 88 &&
              EVP_DecodeBlock(sig1, (const unsigned char *)s1, 88) == 66 &&
              EVP_DecodeBlock(sig2, (const unsigned char *)s2, 88) == 66 &&
              audit_verify_text(v->keys[k - 1].pub, new_vk, sig1) &&
              audit_verify_text(v->keys[k].pub, old_vk, sig2);
    json_decref(j);
    return ok ? 0
              : tampered(v, "key rotation %zu (from size %llu) is not endorsed by both keys", k,
                         (unsigned long long)v->keys[k].from);
}

/* The key history (from the keys table, each step checked), and the key the verifier trusts must
 * be in it: the given one, or else the box's current key. */
static int load_keys(struct verifier *v, bool given)
{
    sqlite3_stmt *st;
    int r =
        query(v, "SELECT from_size, verifier_key, endorsement FROM keys ORDER BY from_size", &st);
    char prev[512] = "";
    bool trusted = false;
    while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *vk = (const char *)sqlite3_column_text(st, 1);
        const char *endorsement = (const char *)sqlite3_column_text(st, 2);
        char name[256];
        size_t k = v->nkeys;
        if (k == sizeof(v->keys) / sizeof(v->keys[0]) || vk == NULL ||
            audit_verifier_key_parse(vk, name, sizeof(name), v->keys[k].pub) < 0 ||
            strcmp(name, v->origin) != 0 || (k == 0) != (sqlite3_column_int64(st, 0) == 0)) {
            r = tampered(v, "the key history is damaged at entry %zu", k);
            break;
        }
        v->keys[k].from = (uint64_t)sqlite3_column_int64(st, 0);
        v->nkeys++;
        if (k > 0) {
            if ((r = check_endorsement(v, k, prev, vk, endorsement)) < 0) {
                break;
            }
            if ((v->endorsements[k] = barra_strdup(endorsement)) == NULL) {
                r = fail(v, -BARRA_ENOMEM, "out of memory");
                break;
            }
        }
        trusted |= memcmp(v->keys[k].pub, v->public_key, 32) == 0;
        (void)snprintf(prev, sizeof(prev), "%s", vk);
    }
    (void)sqlite3_finalize(st);
    if (r == 0 && v->nkeys == 0) {
        /* A log without a key history: the one key signs everything. */
        memcpy(v->keys[0].pub, v->public_key, 32);
        v->keys[0].from = 0;
        v->nkeys = 1;
        trusted = true;
    }
    if (r == 0 && given && !trusted) {
        r = tampered(v, "the verifier key is not one of the log's keys: the log was signed by "
                        "another key");
    }
    if (r == 0 && !given && memcmp(v->keys[v->nkeys - 1].pub, v->public_key, 32) != 0) {
        r = tampered(v, "the log's key file is not the newest key of its history");
    }
    return r;
}

/* The key_rotation entries in the log must say what the key history says of each rotation, in
 * order (pruned ones are gone, and the older checkpoints vouch for them). An entry past the
 * history is a rotation that did not finish: logged, but its key never took over. */
static int check_rotations(struct verifier *v)
{
    for (size_t i = 0; i < v->nrotations && i + 1 < v->nkeys; i++) {
        size_t k = i + 1;
        if (v->endorsements[k] == NULL || strcmp(v->rotations[i], v->endorsements[k]) != 0) {
            return tampered(v, "key rotation %zu does not match its entry in the log", k);
        }
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
        return load_keys(v, true);
    }
    struct audit_signer s;
    int r = audit_signer_load(&s, o->dir, v->origin, false, v->reterr);
    if (r == 0) {
        memcpy(v->public_key, s.public_key, 32);
        audit_signer_done(&s);
        r = load_keys(v, false);
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
        v.size = size;
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
        r = check_tree(&v);
    }
    if (r == 0) {
        r = check_payloads(&v);
    }
    if (r == 0) {
        r = check_prunes(&v);
    }
    if (r == 0) {
        r = check_rotations(&v);
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
    barra_free(v.roots);
    barra_free(v.last_prune);
    for (size_t i = 0; i < sizeof(v.rotations) / sizeof(v.rotations[0]); i++) {
        barra_free(v.rotations[i]);
        barra_free(v.endorsements[i]);
    }
    audit_store_close(&v.store);
    return r;
}
