/* SPDX-License-Identifier: Apache-2.0 */
/* Folding the WAL into the database beside the writer, not inside one of its commits.
 *
 * SQLite's own automatic checkpoint runs in the commit that crosses the threshold: that commit's
 * callers, and every caller queued behind them, wait while the WAL is copied and the database
 * synced. Here the writer's commit only asks, and a thread with a connection of its own folds the
 * WAL while the writer goes on. The frames the writer appended meanwhile are folded by the writer
 * itself, right after its next commit, when no transaction of its own is open: a WAL folded to its
 * last frame between two transactions starts again from the beginning at the next one, while one
 * that is only ever folded alongside the writer never quite catches up and grows without end. */
#include "config.h"

#include <stdio.h>

#include "audit/audit-int.h"
#include "core/error.h"

#include "core/banned.h"

/* 250 frames of 16 KiB pages (4 MB). Folds of 1,000 frames, SQLite's default, slowed the commits
 * made meanwhile for longer: the gateway's p99 was 5.0-5.4 ms with them and 3.7-4.5 ms with these,
 * at the same rate (docs/performance.md). */
#define WAL_FOLD_FRAMES 250

static int wal_hook(void *ud, sqlite3 *db, const char *schema, int frames)
{
    (void)db;
    (void)schema;
    struct audit_wal *w = ud;
    if (frames >= WAL_FOLD_FRAMES) {
        pthread_mutex_lock(&w->lock);
        if (w->state == AUDIT_WAL_IDLE) {
            w->state = AUDIT_WAL_FOLDING;
            pthread_cond_signal(&w->wake);
        }
        pthread_mutex_unlock(&w->lock);
    }
    return SQLITE_OK;
}

/* Busy: a reader in another process holds an older snapshot, and a later fold goes on. Anything
 * else is the disk failing under the database file, and a sync that failed once must not be
 * trusted when retried: the log stops. Called with db_lock held. */
static void check_fold(barra_audit_t *log, int rc)
{
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        audit_log_fail(log, rc, "folding the WAL into the database");
    }
}

static int fold(sqlite3 *db)
{
    return sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

static void *folder_main(void *arg)
{
    barra_audit_t *log = arg;
    (void)pthread_setname_np(pthread_self(), "barra-audit-wal");
    struct audit_wal *w = &log->wal;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->state != AUDIT_WAL_FOLDING && !w->stopping) {
            pthread_cond_wait(&w->wake, &w->lock);
        }
        if (w->stopping) {
            break;
        }
        pthread_mutex_unlock(&w->lock);
        int rc = fold(w->db);
        if (rc != SQLITE_OK) {
            pthread_mutex_lock(&log->db_lock);
            check_fold(log, rc);
            pthread_mutex_unlock(&log->db_lock);
        }
        pthread_mutex_lock(&w->lock);
        w->state = AUDIT_WAL_FINISHING;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

void audit_wal_after_commit(barra_audit_t *log)
{
    struct audit_wal *w = &log->wal;
    pthread_mutex_lock(&w->lock);
    bool finish = w->state == AUDIT_WAL_FINISHING;
    pthread_mutex_unlock(&w->lock);
    if (finish) {
        check_fold(log, fold(log->store.db));
        pthread_mutex_lock(&w->lock);
        w->state = AUDIT_WAL_IDLE;
        pthread_mutex_unlock(&w->lock);
    }
}

int audit_wal_start(barra_audit_t *log, struct barra_error *reterr)
{
    struct audit_wal *w = &log->wal;
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", log->dir, AUDIT_DB_NAME) >= sizeof(path)) {
        return barra_error_set(reterr, -BARRA_EINVAL, "log folder path too long");
    }
    int rc =
        sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, audit_store_vfs);
    /* A fold syncs what it copied as the writer's commits do. */
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(w->db, "PRAGMA synchronous = FULL;", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        int r = barra_error_set(reterr, -BARRA_EIO, "cannot open the log a second time: %s",
                                w->db ? sqlite3_errmsg(w->db) : sqlite3_errstr(rc));
        (void)sqlite3_close(w->db);
        w->db = NULL;
        return r;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, folder_main, log) != 0) {
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->wake);
        (void)sqlite3_close(w->db);
        w->db = NULL;
        return barra_error_set(reterr, -BARRA_ENOMEM, "cannot start the log's WAL folder");
    }
    /* The hook replaces SQLite's automatic checkpoint on the writer's connection. */
    (void)sqlite3_wal_hook(log->store.db, wal_hook, w);
    return 0;
}

void audit_wal_stop(barra_audit_t *log)
{
    struct audit_wal *w = &log->wal;
    if (w->db == NULL) {
        return;
    }
    (void)sqlite3_wal_hook(log->store.db, NULL, NULL);
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    /* The writer's connection closes last and folds what is left itself. */
    (void)sqlite3_close(w->db);
    w->db = NULL;
}
