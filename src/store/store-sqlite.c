/* SPDX-License-Identifier: Apache-2.0 */
/* The embedded store: one SQLite database in WAL mode, one connection guarded by a mutex (the
 * gateway's hot path reads consents from memory, so this is touched only when state changes). */
#include "config.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/store.h"

#include "core/banned.h"

struct store_sqlite {
    struct store base;
    pthread_mutex_t lock;
    sqlite3 *db;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;\n"
    "PRAGMA synchronous=FULL;\n"
    "CREATE TABLE IF NOT EXISTS consents(id TEXT PRIMARY KEY, subject_ref TEXT NOT NULL,\n"
    "  purpose TEXT NOT NULL, state TEXT NOT NULL, scope TEXT, evidence TEXT,\n"
    "  recorded_at INTEGER NOT NULL, expires INTEGER NOT NULL);\n"
    "CREATE INDEX IF NOT EXISTS consents_subject ON consents(subject_ref, purpose);\n"
    "CREATE TABLE IF NOT EXISTS vault(id TEXT PRIMARY KEY, route TEXT NOT NULL,\n"
    "  extension TEXT NOT NULL, size INTEGER NOT NULL, created INTEGER NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS inbound(source TEXT NOT NULL, event_id TEXT NOT NULL,\n"
    "  type TEXT, received_at INTEGER NOT NULL, PRIMARY KEY(source, event_id)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS kv(ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,\n"
    "  PRIMARY KEY(ns, key)) WITHOUT ROWID;\n";

static int db_error(struct store_sqlite *s, int rc, const char *what, struct barra_error *reterr)
{
    int code = rc == SQLITE_FULL ? -BARRA_ENOSPC : rc == SQLITE_NOMEM ? -BARRA_ENOMEM : -BARRA_EIO;
    return barra_error_set(reterr, code, "the state database: %s: %s", what,
                           s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

/* Writes share one shape: take the lock and prepare (write_begin), bind, then step, map the
 * result, finalize and unlock (write_end). A row that exists already is -BARRA_EEXIST. */
static int write_begin(struct store_sqlite *s, const char *sql, sqlite3_stmt **st)
{
    pthread_mutex_lock(&s->lock);
    *st = NULL;
    return sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
}

static int write_end(struct store_sqlite *s, sqlite3_stmt *st, int rc, const char *what,
                     struct barra_error *reterr)
{
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    int r = rc == SQLITE_OK                    ? 0
            : (rc & 0xff) == SQLITE_CONSTRAINT ? barra_error_set(reterr, -BARRA_EEXIST,
                                                                 "the state database: %s: it "
                                                                 "is there already",
                                                                 what)
                                               : db_error(s, rc, what, reterr);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static int consent_add(struct store *base, const struct consent_record *c,
                       struct barra_error *reterr)
{
    struct store_sqlite *s = (struct store_sqlite *)base;
    sqlite3_stmt *st;
    int rc = write_begin(s, "INSERT INTO consents VALUES(?,?,?,?,?,?,?,?)", &st);
    if (rc == SQLITE_OK) {
        (void)sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, c->subject_ref, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 3, c->purpose, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 4, barra_consent_state_name(c->state), -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 5, c->scope, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 6, c->evidence, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(st, 7, c->recorded_at);
        (void)sqlite3_bind_int64(st, 8, c->expires);
    }
    return write_end(s, st, rc, "recording a consent", reterr);
}

static enum barra_consent_state state_from_name(const char *name)
{
    for (int st = BARRA_CONSENT_MISSING; st <= BARRA_CONSENT_EXPIRED; st++) {
        if (strcmp(barra_consent_state_name((enum barra_consent_state)st), name) == 0) {
            return (enum barra_consent_state)st;
        }
    }
    return BARRA_CONSENT_MISSING;
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    (void)snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

static int consent_each(struct store *base, const char *subject_ref, const char *purpose,
                        store_consent_fn fn, void *userdata, struct barra_error *reterr)
{
    struct store_sqlite *s = (struct store_sqlite *)base;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db,
        "SELECT id, subject_ref, purpose, state, scope, evidence, recorded_at, expires "
        "FROM consents WHERE (?1 IS NULL OR subject_ref = ?1) AND (?2 IS NULL OR purpose = ?2) "
        "ORDER BY rowid",
        -1, &st, NULL);
    int r = 0;
    if (rc == SQLITE_OK) {
        (void)sqlite3_bind_text(st, 1, subject_ref, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            struct consent_record c = {
                .state = state_from_name((const char *)sqlite3_column_text(st, 3)),
                .scope = (const char *)sqlite3_column_text(st, 4),
                .evidence = (const char *)sqlite3_column_text(st, 5),
                .recorded_at = sqlite3_column_int64(st, 6),
                .expires = sqlite3_column_int64(st, 7),
            };
            copy_text(c.id, sizeof(c.id), sqlite3_column_text(st, 0));
            copy_text(c.subject_ref, sizeof(c.subject_ref), sqlite3_column_text(st, 1));
            copy_text(c.purpose, sizeof(c.purpose), sqlite3_column_text(st, 2));
            r = fn(&c, userdata);
        }
        rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
    }
    if (rc != SQLITE_OK) {
        r = db_error(s, rc, "reading consents", reterr);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static int vault_add(struct store *base, const struct vault_item *v, struct barra_error *reterr)
{
    struct store_sqlite *s = (struct store_sqlite *)base;
    sqlite3_stmt *st;
    int rc = write_begin(s, "INSERT INTO vault VALUES(?,?,?,?,?)", &st);
    if (rc == SQLITE_OK) {
        (void)sqlite3_bind_text(st, 1, v->id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, v->route, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 3, v->extension, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(st, 4, (sqlite3_int64)v->size);
        (void)sqlite3_bind_int64(st, 5, v->created);
    }
    return write_end(s, st, rc, "recording a vault item", reterr);
}

static int vault_find(struct store *base, const char *id, store_vault_fn fn, void *userdata,
                      struct barra_error *reterr)
{
    struct store_sqlite *s = (struct store_sqlite *)base;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db, "SELECT route, extension, size, created FROM vault WHERE id = ?", -1, &st, NULL);
    int r = -BARRA_ENOENT;
    if (rc == SQLITE_OK) {
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            struct vault_item v = {
                .route = (const char *)sqlite3_column_text(st, 0),
                .extension = (const char *)sqlite3_column_text(st, 1),
                .size = (uint64_t)sqlite3_column_int64(st, 2),
                .created = sqlite3_column_int64(st, 3),
            };
            copy_text(v.id, sizeof(v.id), (const unsigned char *)id);
            r = fn(&v, userdata);
            rc = SQLITE_OK;
        } else {
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
    }
    if (rc != SQLITE_OK) {
        r = db_error(s, rc, "reading the vault index", reterr);
    } else if (r == -BARRA_ENOENT) {
        r = barra_error_set(reterr, r, "no vault item %s", id);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static int vault_remove(struct store *base, const char *id, struct barra_error *reterr)
{
    struct store_sqlite *s = (struct store_sqlite *)base;
    sqlite3_stmt *st;
    int rc = write_begin(s, "DELETE FROM vault WHERE id = ?", &st);
    if (rc == SQLITE_OK) {
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    }
    return write_end(s, st, rc, "removing a vault item", reterr);
}

static int inbound_add(struct store *base, const char *source, const char *event_id,
                       const char *type, int64_t received_at, struct barra_error *reterr)
{
    struct store_sqlite *s = (struct store_sqlite *)base;
    sqlite3_stmt *st;
    int rc = write_begin(s, "INSERT INTO inbound VALUES(?,?,?,?)", &st);
    if (rc == SQLITE_OK) {
        (void)sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, event_id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(st, 4, received_at);
    }
    return write_end(s, st, rc, "recording an inbound event", reterr);
}

static int kv_put(struct store *base, const char *ns, const char *key, const char *value,
                  bool replace, struct barra_error *reterr)
{
    struct store_sqlite *s = (struct store_sqlite *)base;
    sqlite3_stmt *st;
    int rc = write_begin(
        s, replace ? "INSERT OR REPLACE INTO kv VALUES(?,?,?)" : "INSERT INTO kv VALUES(?,?,?)",
        &st);
    if (rc == SQLITE_OK) {
        (void)sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    }
    return write_end(s, st, rc, "saving connector state", reterr);
}

static int kv_delete(struct store *base, const char *ns, const char *key,
                     struct barra_error *reterr)
{
    struct store_sqlite *s = (struct store_sqlite *)base;
    sqlite3_stmt *st;
    int rc = write_begin(s, "DELETE FROM kv WHERE ns = ? AND key = ?", &st);
    if (rc == SQLITE_OK) {
        (void)sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    }
    return write_end(s, st, rc, "removing connector state", reterr);
}

/* Reads rows of a namespace (one key, or all when key is NULL) into fn, under the lock. */
static int kv_read(struct store_sqlite *s, const char *ns, const char *key, store_kv_fn fn,
                   void *userdata, struct barra_error *reterr)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                key ? "SELECT key, value FROM kv WHERE ns = ? AND key = ?"
                                    : "SELECT key, value FROM kv WHERE ns = ? ORDER BY key",
                                -1, &st, NULL);
    int r = 0;
    bool any = false;
    if (rc == SQLITE_OK) {
        (void)sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        if (key) {
            (void)sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        }
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            any = true;
            r = fn((const char *)sqlite3_column_text(st, 0),
                   (const char *)sqlite3_column_text(st, 1), userdata);
        }
        rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
    }
    if (rc != SQLITE_OK) {
        r = db_error(s, rc, "reading connector state", reterr);
    } else if (key && !any) {
        r = barra_error_set(reterr, -BARRA_ENOENT, "no %s %s", ns, key);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static int keep_value(const char *key, const char *value, void *userdata)
{
    (void)key;
    buf_clear(userdata);
    return buf_append_str(userdata, value ? value : "") < 0 ? -BARRA_ENOMEM : 0;
}

static int kv_get(struct store *base, const char *ns, const char *key, struct buf *value,
                  struct barra_error *reterr)
{
    int r = kv_read((struct store_sqlite *)base, ns, key, keep_value, value, reterr);
    return r == -BARRA_ENOMEM ? barra_error_set(reterr, r, "out of memory") : r;
}

static int kv_each(struct store *base, const char *ns, store_kv_fn fn, void *userdata,
                   struct barra_error *reterr)
{
    return kv_read((struct store_sqlite *)base, ns, NULL, fn, userdata, reterr);
}

static void store_close(struct store *base)
{
    struct store_sqlite *s = (struct store_sqlite *)base;
    if (s) {
        sqlite3_close(s->db);
        pthread_mutex_destroy(&s->lock);
        barra_free(s);
    }
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .consent_add = consent_add,
    .consent_each = consent_each,
    .vault_add = vault_add,
    .vault_find = vault_find,
    .vault_remove = vault_remove,
    .inbound_add = inbound_add,
    .kv_put = kv_put,
    .kv_get = kv_get,
    .kv_delete = kv_delete,
    .kv_each = kv_each,
    .close = store_close,
};

int store_sqlite_open(const char *dir, struct store **ret, struct barra_error *reterr)
{
    *ret = NULL;
    struct store_sqlite *s = barra_calloc(1, sizeof(*s));
    if (s == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    s->base.ops = &sqlite_ops;
    pthread_mutex_init(&s->lock, NULL);
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/state.db", dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        store_close(&s->base);
        return barra_error_set(reterr, -BARRA_EINVAL, "the data folder's path is too long");
    }
    int rc = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        (void)sqlite3_busy_timeout(s->db, 5000);
        rc = sqlite3_exec(s->db, schema, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        int r = db_error(s, rc, path, reterr);
        store_close(&s->base);
        return r;
    }
    *ret = &s->base;
    return 0;
}
