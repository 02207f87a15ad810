/* SPDX-License-Identifier: Apache-2.0 */
/* Appending: callers queue their entries and wait; one writer thread takes what has gathered (up to
 * batch_max entries, or what came within batch_ms), writes it in one transaction with the tree
 * hashes it completes, commits, and only then wakes the callers. A failed commit stops the log:
 * nothing after it is acknowledged. Checkpoints are signed by the writer between batches. */
#include "config.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit-int.h"
#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

struct audit_request {
    struct audit_request *next;
    const char *type;
    const char *record;
    size_t record_len;
    const void *payload;
    size_t payload_len;
    uint64_t index;
    int result;          /* 1 while pending */
    pthread_cond_t done; /* signalled for this request alone: no herd of waiters woken per batch */
    /* Asynchronous appends: the request owns copies of its record and payload, and the writer
     * calls `notify` once it is durable (or failed), then frees it. */
    barra_audit_done_fn notify;
    void *userdata;
    int64_t queued_ns; /* monotonic, for the wait histogram */
};

int64_t (*audit_clock)(void);

static int64_t wall_clock(void)
{
    return audit_clock ? audit_clock() : audit_now_ns();
}

int64_t audit_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

BARRA_EXPORT void barra_audit_options_init(struct barra_audit_options *opts)
{
    if (opts) {
        memset(opts, 0, sizeof(*opts));
        opts->origin = "barra/audit";
        opts->batch_ms = 0;
        opts->batch_max = 1024;
        opts->checkpoint_ms = 5000;
    }
}

BARRA_EXPORT void barra_audit_free(void *p)
{
    barra_free(p);
}

/* ---- writing one batch ---- */

static int store_node(void *ud, unsigned level, uint64_t index, const uint8_t hash[MERKLE_HASH])
{
    struct audit_store *s = ud;
    if (level < AUDIT_STORED_LEVEL) {
        return 0; /* leaf hashes are in their entries; small subtrees are recomputed */
    }
    sqlite3_stmt *st = s->insert_node;
    (void)sqlite3_reset(st);
    (void)sqlite3_bind_int64(st, 1, level);
    (void)sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    (void)sqlite3_bind_blob(st, 3, hash, MERKLE_HASH, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    (void)sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -rc;
}

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    (void)sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int write_entry(barra_audit_t *log, struct audit_request *q, uint64_t seq, int64_t now)
{
    struct audit_store *s = &log->store;
    struct audit_entry e = {
        .seq = seq,
        .time_ns = now,
        .type = q->type,
        .type_len = strlen(q->type),
        .record = q->record,
        .record_len = q->record_len,
        .has_payload = q->payload != NULL,
    };
    uint8_t salt[AUDIT_SALT];
    if (q->payload) {
        if (RAND_bytes(salt, sizeof(salt)) != 1) {
            return SQLITE_ERROR;
        }
        audit_payload_digest(salt, q->payload, q->payload_len, e.payload_digest);
    }
    uint8_t leaf[MERKLE_HASH];
    if (audit_entry_leaf_hash(&e, leaf) < 0) {
        return SQLITE_TOOBIG;
    }
    sqlite3_stmt *st = s->insert_entry;
    (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    (void)sqlite3_bind_int64(st, 2, now);
    (void)sqlite3_bind_text(st, 3, e.type, (int)e.type_len, SQLITE_STATIC);
    (void)sqlite3_bind_blob(st, 4, e.record, (int)e.record_len, SQLITE_STATIC);
    if (e.has_payload) {
        (void)sqlite3_bind_blob(st, 5, e.payload_digest, 32, SQLITE_STATIC);
    } else {
        (void)sqlite3_bind_null(st, 5);
    }
    (void)sqlite3_bind_blob(st, 6, leaf, MERKLE_HASH, SQLITE_STATIC);
    int rc = step_done(st);
    if (rc == SQLITE_OK && q->payload) {
        st = s->insert_payload;
        (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
        (void)sqlite3_bind_blob(st, 2, salt, sizeof(salt), SQLITE_STATIC);
        (void)sqlite3_bind_blob(st, 3, q->payload, (int)q->payload_len, SQLITE_STATIC);
        rc = step_done(st);
    }
    if (rc == SQLITE_OK) {
        int r = merkle_edge_append(&log->edge, leaf, store_node, s);
        rc = r == 0 ? SQLITE_OK : r < -1 ? -r : SQLITE_ERROR;
    }
    return rc;
}

void audit_log_fail(barra_audit_t *log, int rc, const char *what)
{
    int code = rc == SQLITE_FULL ? -BARRA_ENOSPC : -BARRA_EIO;
    if (log->failed == 0) {
        log->failed = code;
        (void)snprintf(log->failure, sizeof(log->failure),
                       "the audit log stopped accepting entries: %s failed (%s)", what,
                       sqlite3_errstr(rc));
    }
}

/* Writes the batch in one transaction. Returns SQLITE_OK once it is durable. */
static int commit_batch(barra_audit_t *log, struct audit_request *batch)
{
    struct audit_store *s = &log->store;
    struct merkle_edge before = log->edge;
    int64_t now = wall_clock();
    int rc = step_done(s->begin);
    uint64_t seq = log->edge.size;
    /* The wall clock went back (an NTP step, a wrong manual setting, a restored VM): say so in
     * the log itself, before the entries that carry the earlier time. */
    if (rc == SQLITE_OK && now < log->last_time_ns) {
        char rec[160];
        int n = snprintf(rec, sizeof(rec),
                         "{\"event\":\"clock_went_back\",\"previous_ns\":%lld,\"now_ns\":%lld}",
                         (long long)log->last_time_ns, (long long)now);
        struct audit_request clock = {.type = "clock", .record = rec, .record_len = (size_t)n};
        rc = write_entry(log, &clock, seq++, now);
    }
    for (struct audit_request *q = batch; rc == SQLITE_OK && q; q = q->next) {
        q->index = seq;
        rc = write_entry(log, q, seq++, now);
    }
    if (rc == SQLITE_OK) {
        rc = step_done(s->commit);
    }
    if (rc != SQLITE_OK) {
        (void)step_done(s->rollback);
        log->edge = before;
        audit_log_fail(log, rc, "writing a batch");
        return rc;
    }
    log->last_time_ns = now;
    return SQLITE_OK;
}

static int write_checkpoint(barra_audit_t *log, char **ret_note)
{
    uint8_t root[MERKLE_HASH];
    char *note = NULL;
    if (log->edge.size == 0) {
        return -BARRA_EINVAL;
    }
    merkle_edge_root(&log->edge, root);
    int r = audit_checkpoint_sign(&log->signer, log->edge.size, root, &note);
    if (r < 0) {
        return r;
    }
    int64_t now = audit_now_ns();
    sqlite3_stmt *st = log->store.insert_checkpoint;
    (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)log->edge.size);
    (void)sqlite3_bind_int64(st, 2, now);
    (void)sqlite3_bind_text(st, 3, note, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    (void)sqlite3_reset(st);
    /* A checkpoint of this size may exist already (nothing was appended since): not an error. */
    if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT_PRIMARYKEY) {
        barra_free(note);
        audit_log_fail(log, rc, "writing a checkpoint");
        return log->failed;
    }
    if (rc == SQLITE_DONE) {
        audit_sink_checkpoint(log, note, log->edge.size);
    }
    log->checkpoint_size = log->edge.size;
    log->checkpoint_time_ns = now;
    if (ret_note) {
        *ret_note = note;
    } else {
        barra_free(note);
    }
    return 0;
}

/* ---- the writer thread ---- */

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

BARRA_EXPORT double barra_audit_bucket_ms(size_t i)
{
    static const double quarter[4] = {1.0, 1.189207115002721, 1.414213562373095, 1.681792830507429};
    i = i < BARRA_AUDIT_BUCKETS ? i : BARRA_AUDIT_BUCKETS - 1;
    return 0.01 * (double)(1u << (i / 4)) * quarter[i % 4];
}

/* The bucket of a duration: the first whose bound it does not pass, starting from the power of
 * two below it. */
static size_t bucket_of(int64_t ns)
{
    uint64_t units = ns > 0 ? (uint64_t)ns / 10000 : 0; /* of 0.01 ms */
    size_t i = units ? 4 * (size_t)(63 - __builtin_clzll(units)) : 0;
    while (i + 1 < BARRA_AUDIT_BUCKETS && (double)ns > 1e6 * barra_audit_bucket_ms(i)) {
        i++;
    }
    return i < BARRA_AUDIT_BUCKETS ? i : BARRA_AUDIT_BUCKETS - 1;
}

/* Called with the lock held. A waiting caller's request belongs to it: once its result is set and
 * it is signalled, it must not be touched. Asynchronous requests are returned, linked, for
 * notify_async() to answer once the lock is released. */
static struct audit_request *finish(barra_audit_t *log, struct audit_request *batch, int result)
{
    struct audit_request *async = NULL;
    int64_t now = monotonic_ns();
    for (struct audit_request *q = batch, *next; q; q = next) {
        next = q->next;
        q->result = result;
        log->stats.wait[bucket_of(now - q->queued_ns)]++;
        log->stats.wait_ns_sum += (uint64_t)(now - q->queued_ns);
        if (q->notify) {
            q->next = async;
            async = q;
        } else {
            pthread_cond_signal(&q->done);
        }
    }
    return async;
}

/* Called without the lock: a callback may take its own locks (a server resuming a connection). */
static void notify_async(struct audit_request *async)
{
    for (struct audit_request *q = async, *next; q; q = next) {
        next = q->next;
        q->notify(q->userdata, q->result, q->index);
        barra_free(q);
    }
}

static void *writer_main(void *arg)
{
    barra_audit_t *log = arg;
    (void)pthread_setname_np(pthread_self(), "barra-audit"); /* as top -H and perf show it */
    pthread_mutex_lock(&log->lock);
    for (;;) {
        while (log->queued == 0 && !log->stopping) {
            pthread_cond_wait(&log->wake, &log->lock);
        }
        if (log->queued == 0 && log->stopping) {
            break;
        }
        /* Let a batch gather for batch_ms, unless it is already full. */
        if (log->queued < log->opts.batch_max && log->opts.batch_ms > 0 && !log->stopping) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += (long)log->opts.batch_ms * 1000000L;
            until.tv_sec += until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            while (log->queued < log->opts.batch_max && !log->stopping &&
                   pthread_cond_timedwait(&log->wake, &log->lock, &until) != ETIMEDOUT) {
            }
        }
        struct audit_request *batch = log->queue_head, *last = batch;
        size_t n = 1;
        while (n < log->opts.batch_max && last->next) {
            last = last->next;
            n++;
        }
        log->queue_head = last->next;
        if (log->queue_head == NULL) {
            log->queue_tail = NULL;
        }
        last->next = NULL;
        log->queued -= n;
        if (log->failed) {
            struct audit_request *async = finish(log, batch, log->failed);
            if (async) {
                pthread_mutex_unlock(&log->lock);
                notify_async(async);
                pthread_mutex_lock(&log->lock);
            }
            continue;
        }
        /* The entries of the batch belong to callers who wait: they stay valid until finished. */
        pthread_mutex_unlock(&log->lock);
        pthread_mutex_lock(&log->db_lock);
        int64_t started = monotonic_ns();
        int rc = commit_batch(log, batch);
        int64_t took = monotonic_ns() - started;
        if (rc == SQLITE_OK && audit_now_ns() - log->checkpoint_time_ns >=
                                   (int64_t)log->opts.checkpoint_ms * 1000000) {
            (void)write_checkpoint(log, NULL);
        }
        if (rc == SQLITE_OK) {
            audit_wal_after_commit(log);
        }
        pthread_mutex_unlock(&log->db_lock);
        pthread_mutex_lock(&log->lock);
        if (rc == SQLITE_OK) {
            log->stats.commits++;
            log->stats.entries += n;
            log->stats.commit[bucket_of(took)]++;
            log->stats.commit_ns_sum += (uint64_t)took;
        }
        struct audit_request *async = finish(log, batch, rc == SQLITE_OK ? 0 : log->failed);
        if (async) {
            pthread_mutex_unlock(&log->lock);
            notify_async(async);
            pthread_mutex_lock(&log->lock);
        }
    }
    pthread_mutex_unlock(&log->lock);
    return NULL;
}

/* ---- the public API ---- */

BARRA_EXPORT void barra_audit_stats(barra_audit_t *log, struct barra_audit_stats *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (log) {
        pthread_mutex_lock(&log->lock);
        *ret = log->stats;
        pthread_mutex_unlock(&log->lock);
    }
}

static int check_append(barra_audit_t *log, const char *type, const char *record, size_t record_len,
                        size_t payload_len, struct barra_error *reterr)
{
    if (log == NULL || type == NULL || record == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no log, type or record");
    }
    size_t tl = strlen(type);
    if (tl == 0 || tl > AUDIT_MAX_TYPE || record_len > AUDIT_MAX_RECORD ||
        payload_len > AUDIT_MAX_RECORD * 64) {
        return barra_error_set(reterr, -BARRA_EINVAL,
                               "an entry's type has 1 to %d bytes and its record at most %zu",
                               AUDIT_MAX_TYPE, AUDIT_MAX_RECORD);
    }
    if (!log->has_writer) {
        return barra_error_set(reterr, -BARRA_EACCES, "the log was opened read-only");
    }
    return 0;
}

/* Queues q with the lock held; wakes the writer when it may be asleep on an empty queue. */
static void enqueue(barra_audit_t *log, struct audit_request *q)
{
    if (log->queue_tail) {
        log->queue_tail->next = q;
    } else {
        log->queue_head = q;
    }
    log->queue_tail = q;
    q->queued_ns = monotonic_ns();
    log->queued++;
    if (log->queued == 1) {
        pthread_cond_signal(&log->wake);
    }
}

BARRA_EXPORT int barra_audit_append_async(barra_audit_t *log, const char *type, const char *record,
                                          size_t record_len, const void *payload,
                                          size_t payload_len, barra_audit_done_fn done,
                                          void *userdata, struct barra_error *reterr)
{
    int r = check_append(log, type, record, record_len, payload_len, reterr);
    if (r < 0) {
        return r;
    }
    if (done == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no callback");
    }
    size_t tl = strlen(type) + 1;
    /* One block: the request, then its type, record and payload. */
    struct audit_request *q = barra_malloc(sizeof(*q) + tl + record_len + payload_len);
    if (q == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    char *p = (char *)(q + 1);
    memcpy(p, type, tl);
    memcpy(p + tl, record, record_len);
    if (payload) {
        memcpy(p + tl + record_len, payload, payload_len);
    }
    *q = (struct audit_request){
        .type = p,
        .record = p + tl,
        .record_len = record_len,
        .payload = payload ? p + tl + record_len : NULL,
        .payload_len = payload_len,
        .result = 1,
        .notify = done,
        .userdata = userdata,
    };
    pthread_mutex_lock(&log->lock);
    if (log->failed || log->stopping) {
        r = log->failed ? log->failed : -BARRA_ECANCELED;
        pthread_mutex_unlock(&log->lock);
        barra_free(q);
        return barra_error_set(reterr, r, "%s",
                               r != -BARRA_ECANCELED ? log->failure : "the log is closing");
    }
    enqueue(log, q);
    pthread_mutex_unlock(&log->lock);
    return 0;
}

BARRA_EXPORT const char *barra_audit_failure(barra_audit_t *log)
{
    if (log == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&log->lock);
    const char *f = log->failed ? log->failure : NULL;
    pthread_mutex_unlock(&log->lock);
    return f;
}

BARRA_EXPORT int barra_audit_append(barra_audit_t *log, const char *type, const char *record,
                                    size_t record_len, const void *payload, size_t payload_len,
                                    uint64_t *ret_index, struct barra_error *reterr)
{
    int r0 = check_append(log, type, record, record_len, payload_len, reterr);
    if (r0 < 0) {
        return r0;
    }
    if (ret_index == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no index to return");
    }
    struct audit_request q = {
        .type = type,
        .record = record,
        .record_len = record_len,
        .payload = payload,
        .payload_len = payload_len,
        .result = 1,
    };
    pthread_cond_init(&q.done, NULL);
    pthread_mutex_lock(&log->lock);
    if (log->failed || log->stopping) {
        int r = log->failed ? log->failed : -BARRA_ECANCELED;
        pthread_mutex_unlock(&log->lock);
        pthread_cond_destroy(&q.done);
        return barra_error_set(reterr, r, "%s", log->failed ? log->failure : "the log is closing");
    }
    enqueue(log, &q);
    while (q.result == 1) {
        pthread_cond_wait(&q.done, &log->lock);
    }
    pthread_mutex_unlock(&log->lock);
    pthread_cond_destroy(&q.done);
    if (q.result < 0) {
        return barra_error_set(reterr, q.result, "%s", log->failure);
    }
    *ret_index = q.index;
    return 0;
}

BARRA_EXPORT int barra_audit_head(barra_audit_t *log, uint64_t *ret_size, uint8_t ret_root[32],
                                  struct barra_error *reterr)
{
    if (log == NULL || ret_size == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no log");
    }
    pthread_mutex_lock(&log->db_lock);
    *ret_size = log->edge.size;
    if (ret_root) {
        merkle_edge_root(&log->edge, ret_root);
    }
    pthread_mutex_unlock(&log->db_lock);
    return 0;
}

BARRA_EXPORT int barra_audit_checkpoint(barra_audit_t *log, char **ret_note,
                                        struct barra_error *reterr)
{
    if (log == NULL || ret_note == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no log");
    }
    if (log->signer.pkey == NULL) {
        return barra_error_set(reterr, -BARRA_EACCES, "the log was opened read-only");
    }
    pthread_mutex_lock(&log->db_lock);
    int r = log->failed           ? log->failed
            : log->edge.size == 0 ? -BARRA_EINVAL
                                  : write_checkpoint(log, ret_note);
    pthread_mutex_unlock(&log->db_lock);
    if (r < 0) {
        return barra_error_set(reterr, r, "%s",
                               r == -BARRA_EINVAL ? "the log is empty: nothing to sign"
                                                  : log->failure);
    }
    return 0;
}

/* A rotation interrupted after the new key was recorded but before it replaced the old file is
 * finished here: the key the history names is the one that must sign. */
static void finish_rotation(barra_audit_t *log)
{
    char path[4096], next[4200];
    (void)snprintf(path, sizeof(path), "%s/%s", log->dir, AUDIT_KEY_NAME);
    (void)snprintf(next, sizeof(next), "%s.next", path);
    if (access(next, F_OK) != 0) {
        return;
    }
    struct audit_signer pending;
    char *vk = NULL;
    sqlite3_stmt *st = NULL;
    bool recorded = false;
    if (audit_signer_load_path(&pending, next, log->origin, false, NULL) == 0 &&
        audit_verifier_key_format(&pending, &vk) == 0 &&
        sqlite3_prepare_v2(log->store.db,
                           "SELECT verifier_key FROM keys ORDER BY from_size DESC LIMIT 1", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *have = (const char *)sqlite3_column_text(st, 0);
        recorded = have && strcmp(have, vk) == 0;
    }
    sqlite3_finalize(st);
    barra_free(vk);
    if (recorded && rename(next, path) == 0) {
        audit_signer_done(&log->signer);
        log->signer = pending;
        return;
    }
    audit_signer_done(&pending);
    (void)unlink(next); /* never recorded: the rotation did not happen */
}

/* The key history starts with the key the log was created with. */
static int record_first_key(barra_audit_t *log, struct barra_error *reterr)
{
    char *vk = NULL;
    sqlite3_stmt *st = NULL;
    int r = audit_verifier_key_format(&log->signer, &vk);
    if (r == 0 && sqlite3_prepare_v2(log->store.db,
                                     "INSERT OR IGNORE INTO keys SELECT 0, ?, NULL "
                                     "WHERE NOT EXISTS (SELECT 1 FROM keys)",
                                     -1, &st, NULL) == SQLITE_OK) {
        (void)sqlite3_bind_text(st, 1, vk, -1, SQLITE_STATIC);
        r = sqlite3_step(st) == SQLITE_DONE ? 0 : -BARRA_EIO;
    } else if (r == 0) {
        r = -BARRA_EIO;
    }
    sqlite3_finalize(st);
    barra_free(vk);
    return r < 0 ? audit_store_error(&log->store, sqlite3_errcode(log->store.db),
                                     "cannot record the log's key", reterr)
                 : 0;
}

static void log_free(barra_audit_t *log)
{
    audit_wal_stop(log);
    audit_signer_done(&log->signer);
    audit_store_close(&log->store);
    pthread_mutex_destroy(&log->lock);
    pthread_mutex_destroy(&log->db_lock);
    pthread_cond_destroy(&log->wake);
    barra_free(log->dir);
    barra_free(log->origin);
    barra_free(log);
}

BARRA_EXPORT int barra_audit_open(const struct barra_audit_options *opts, barra_audit_t **ret,
                                  struct barra_error *reterr)
{
    if (opts == NULL || opts->dir == NULL || ret == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no log folder given");
    }
    barra_audit_t *log = barra_calloc(1, sizeof(*log));
    if (log == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    log->opts = *opts;
    if (log->opts.batch_max == 0) {
        log->opts.batch_max = 1024;
    }
    pthread_mutex_init(&log->lock, NULL);
    pthread_mutex_init(&log->db_lock, NULL);
    pthread_cond_init(&log->wake, NULL);
    log->dir = barra_strdup(opts->dir);
    log->origin = barra_strdup(opts->origin ? opts->origin : "barra/audit");
    int r = log->dir && log->origin ? 0 : barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    if (r == 0) {
        r = audit_store_open(&log->store, log->dir, opts->read_only, reterr);
    }
    /* The origin is fixed when the log is created: checkpoints must all name the same one. */
    char *origin = NULL;
    if (r == 0 && (r = audit_store_meta_get(&log->store, "origin", &origin)) == 0) {
        if (origin == NULL && !opts->read_only) {
            r = audit_store_meta_set(&log->store, "origin", log->origin);
        } else if (origin) {
            barra_free(log->origin);
            log->origin = origin;
        }
        if (r < 0) {
            r = barra_error_set(reterr, r, "cannot record the log's origin");
        }
    }
    if (r == 0) {
        r = audit_signer_load(&log->signer, log->dir, log->origin, !opts->read_only, reterr);
        if (r < 0 && opts->read_only) {
            r = 0; /* reading needs the key only to sign, and a verifier may not have it */
        }
    }
    if (r == 0 && !opts->read_only) {
        r = record_first_key(log, reterr);
        finish_rotation(log);
    }
    if (r == 0) {
        r = audit_store_load_edge(&log->store, &log->edge, reterr);
    }
    if (r == 0) {
        log->last_time_ns = audit_store_last_time(&log->store);
    }
    if (r == 0 && !opts->read_only) {
        r = audit_wal_start(log, reterr);
    }
    if (r == 0 && !opts->read_only) {
        if (pthread_create(&log->writer, NULL, writer_main, log) != 0) {
            r = barra_error_set(reterr, -BARRA_ENOMEM, "cannot start the log's writer");
        } else {
            log->has_writer = true;
        }
    }
    if (r < 0) {
        log_free(log);
        return r;
    }
    log->checkpoint_time_ns = 0; /* the first batch is signed at once */
    *ret = log;
    return 0;
}

BARRA_EXPORT int barra_audit_close(barra_audit_t *log, struct barra_error *reterr)
{
    if (log == NULL) {
        return 0;
    }
    int r = 0;
    if (log->has_writer) {
        pthread_mutex_lock(&log->lock);
        log->stopping = true;
        pthread_cond_signal(&log->wake);
        pthread_mutex_unlock(&log->lock);
        pthread_join(log->writer, NULL);
        /* A last checkpoint, so that the tree as it is now is signed. */
        if (!log->failed && log->edge.size > log->checkpoint_size) {
            r = write_checkpoint(log, NULL);
        }
        if (log->failed) {
            r = barra_error_set(reterr, log->failed, "%s", log->failure);
        }
    }
    log_free(log);
    return r;
}

/* ---- key rotation ---- */

static void b64(const uint8_t *p, size_t n, char *out)
{
    (void)EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

/* The keys endorse each other: the old one signs the new one's verifier key, the new one the old
 * one's, so the history cannot be extended by a key that did not hold the previous one. */
static int endorse(const struct audit_signer *old, const struct audit_signer *new_key,
                   char **ret_old_vk, char **ret_new_vk, char *ret_json, size_t cap)
{
    char *ovk = NULL, *nvk = NULL;
    uint8_t s1[64], s2[64];
    char b1[100], b2[100];
    if (audit_verifier_key_format(old, &ovk) < 0 || audit_verifier_key_format(new_key, &nvk) < 0 ||
        audit_sign_text(old, nvk, s1) < 0 || audit_sign_text(new_key, ovk, s2) < 0) {
        barra_free(ovk);
        barra_free(nvk);
        return -BARRA_EIO;
    }
    b64(s1, 64, b1);
    b64(s2, 64, b2);
    (void)snprintf(ret_json, cap,
                   "{\"old_key\":\"%s\",\"new_key\":\"%s\",\"old_signs_new\":\"%s\","
                   "\"new_signs_old\":\"%s\"}",
                   ovk, nvk, b1, b2);
    *ret_old_vk = ovk;
    *ret_new_vk = nvk;
    return 0;
}

BARRA_EXPORT int barra_audit_rotate_key(barra_audit_t *log, struct barra_error *reterr)
{
    if (log == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no log");
    }
    if (!log->has_writer || log->signer.pkey == NULL) {
        return barra_error_set(reterr, -BARRA_EACCES, "the log was opened read-only");
    }
    char path[4096], next[4200];
    (void)snprintf(path, sizeof(path), "%s/%s", log->dir, AUDIT_KEY_NAME);
    (void)snprintf(next, sizeof(next), "%s.next", path);
    (void)unlink(next); /* a leftover of a rotation that did not finish */
    struct audit_signer fresh;
    int r = audit_signer_load_path(&fresh, next, log->origin, true, reterr);
    if (r < 0) {
        return r;
    }
    char json[700], *ovk = NULL, *nvk = NULL;
    uint64_t index;
    char *note = NULL;
    r = endorse(&log->signer, &fresh, &ovk, &nvk, json, sizeof(json));
    /* 1. The rotation, logged and made durable. */
    if (r == 0) {
        r = barra_audit_append(log, "key_rotation", json, strlen(json), NULL, 0, &index, reterr);
    } else {
        r = barra_error_set(reterr, r, "cannot endorse the new key");
    }
    /* 2. The old key signs the tree that holds the rotation; from the next size on, the new key
     * signs. No checkpoint can slip in between: both happen under the database lock. */
    if (r == 0) {
        pthread_mutex_lock(&log->db_lock);
        r = write_checkpoint(log, &note);
        uint64_t from = log->edge.size + 1;
        sqlite3_stmt *st = NULL;
        if (r == 0 && (sqlite3_prepare_v2(log->store.db, "INSERT INTO keys VALUES(?, ?, ?)", -1,
                                          &st, NULL) != SQLITE_OK)) {
            r = -BARRA_EIO;
        }
        if (r == 0) {
            (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
            (void)sqlite3_bind_text(st, 2, nvk, -1, SQLITE_STATIC);
            (void)sqlite3_bind_text(st, 3, json, -1, SQLITE_STATIC);
            r = sqlite3_step(st) == SQLITE_DONE ? 0 : -BARRA_EIO;
        }
        sqlite3_finalize(st);
        /* 3. The new key replaces the old one, whose private half is removed: it can sign
         * nothing more. */
        if (r == 0) {
            if (rename(next, path) != 0) {
                r = -BARRA_EIO;
            } else {
                audit_signer_done(&log->signer);
                log->signer = fresh;
                memset(&fresh, 0, sizeof(fresh));
            }
        }
        pthread_mutex_unlock(&log->db_lock);
        if (r < 0) {
            r = barra_error_set(reterr, r,
                                "the rotation is logged (entry %llu) but switching keys "
                                "failed; run rotate-key again",
                                (unsigned long long)index);
        }
    }
    audit_signer_done(&fresh);
    barra_free(note);
    barra_free(ovk);
    barra_free(nvk);
    return r;
}
