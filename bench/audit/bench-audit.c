/* SPDX-License-Identifier: Apache-2.0 */
/* Durable appends to the audit log with 1, 8 and 64 concurrent writers, their acknowledgement
 * latency, next to the fsync latency of the same disk and plain single-row SQLite commits of the
 * same records (WAL, synchronous=FULL), all measured in the same run; then verification speed.
 *
 * Usage: bench-audit DIR [SECONDS-PER-RUN]   (DIR on the disk to measure; emptied first) */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <barra/audit.h>

/* A decision record as the gateway writes it (about 500 bytes, no values in the clear). */
static const char record[] =
    "{\"schema\":\"barra.decision/1\",\"event_id\":\"msg-7f3a0c1d\",\"time\":\"2026-11-23T02:15:00Z\","
    "\"action\":\"redact\",\"tier\":\"confidential\",\"deciding_rule\":\"identity-numbers-to-"
    "mainland-masked\",\"rules\":[{\"id\":\"identity-numbers-to-mainland-masked\",\"action\":"
    "\"redact\",\"citations\":[\"MO-PDPA-5\",\"MO-PDPA-19\",\"CN-PIPL-51\"]}],\"citations\":[\"MO-"
    "PDPA-5\",\"MO-PDPA-19\",\"CN-PIPL-51\"],\"tags\":[\"personal-data\"],\"findings\":[{\"type\":"
    "\"cn_resident_id\",\"category\":\"identity\",\"jurisdiction\":\"cn\",\"start\":24,\"end\":42,"
    "\"score\":0.992,\"ref\":\"hmac-sha256:60fd9ad54210342a3c24ec9440cf0155c5f87e323affa8b7cfe7"
    "da75312a38b1\"}],\"versions\":{\"policy\":\"770191f2\",\"entity_rules\":\"d3bd0ee5\"}}";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double p)
{
    if (n == 0) {
        return 0;
    }
    qsort(v, n, sizeof(*v), cmp_double);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

/* ---- the disk: fsync latency ---- */

static double fsync_p50_ms(const char *dir, double *ret_p99)
{
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/fsync-probe", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char block[4096] = {1};
    double lat[400];
    size_t n = 0;
    for (; fd >= 0 && n < 400; n++) {
        double t = now();
        if (pwrite(fd, block, sizeof(block), (off_t)(n % 16) * 4096) != (ssize_t)sizeof(block) ||
            fdatasync(fd) != 0) {
            break;
        }
        lat[n] = (now() - t) * 1e3;
    }
    if (fd >= 0) {
        close(fd);
    }
    unlink(path);
    double p50 = percentile(lat, n, 0.5);
    *ret_p99 = percentile(lat, n, 0.99);
    return p50;
}

/* ---- the baseline: one SQLite transaction per record ---- */

static double sqlite_single_rows(const char *dir, double seconds)
{
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/baseline.db", dir);
    unlink(path);
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE t(seq INTEGER PRIMARY KEY, time_ns INTEGER, type TEXT, record "
                     "BLOB)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO t VALUES(NULL, ?, 'decision', ?)", -1, &st, NULL) !=
            SQLITE_OK) {
        return 0;
    }
    size_t n = 0;
    double t0 = now();
    while (now() - t0 < seconds) {
        (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
        (void)sqlite3_bind_blob(st, 2, record, sizeof(record) - 1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            break;
        }
        (void)sqlite3_reset(st);
        n++;
    }
    double rate = (double)n / (now() - t0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    unlink(path);
    return rate;
}

/* ---- the log ---- */

struct run {
    barra_audit_t *log;
    double until;
    atomic_size_t done;
    pthread_mutex_t lock;
    double *lat;
    size_t nlat, caplat;
    int failed;
};

static void *writer(void *arg)
{
    struct run *r = arg;
    double mine[4096];
    size_t n = 0;
    while (now() < r->until) {
        uint64_t index;
        struct barra_error err;
        double t = now();
        if (barra_audit_append(r->log, "decision", record, sizeof(record) - 1, NULL, 0, &index,
                               &err) < 0) {
            r->failed = 1;
            break;
        }
        double ms = (now() - t) * 1e3;
        atomic_fetch_add(&r->done, 1);
        if (n < sizeof(mine) / sizeof(mine[0])) {
            mine[n++] = ms;
        }
    }
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < n && r->nlat < r->caplat; i++) {
        r->lat[r->nlat++] = mine[i];
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* The bound of the bucket the p-th of the durations counted in after - before falls in. */
static double hist_percentile(const uint64_t *after, const uint64_t *before, double p)
{
    uint64_t total = 0, seen = 0;
    for (size_t i = 0; i < BARRA_AUDIT_BUCKETS; i++) {
        total += after[i] - before[i];
    }
    for (size_t i = 0; i < BARRA_AUDIT_BUCKETS; i++) {
        seen += after[i] - before[i];
        if (total && (double)seen >= p * (double)total) {
            return barra_audit_bucket_ms(i);
        }
    }
    return 0;
}

static void run_writers(barra_audit_t *log, unsigned nthreads, double seconds, uint32_t batch_ms)
{
    struct barra_audit_stats before, after;
    barra_audit_stats(log, &before);
    struct run r = {.log = log, .caplat = 1u << 20};
    r.lat = malloc(r.caplat * sizeof(double));
    pthread_mutex_init(&r.lock, NULL);
    pthread_t t[64];
    double t0 = now();
    r.until = t0 + seconds;
    for (unsigned i = 0; i < nthreads; i++) {
        pthread_create(&t[i], NULL, writer, &r);
    }
    for (unsigned i = 0; i < nthreads; i++) {
        pthread_join(t[i], NULL);
    }
    double elapsed = now() - t0;
    size_t done = atomic_load(&r.done);
    double p50 = percentile(r.lat, r.nlat, 0.5), p99 = percentile(r.lat, r.nlat, 0.99);
    printf("%-22s %2u writers %10.0f appends/s   ack p50 %6.2f ms  p99 %6.2f ms  (batch window "
           "%u ms)%s\n",
           "audit log", nthreads, (double)done / elapsed, p50, p99, batch_ms,
           r.failed ? "  FAILED" : "");
    /* The log's own view: its commits, and each entry from queued to acknowledged (before the
     * caller's thread runs again). Histogram buckets: figures are upper bounds. */
    barra_audit_stats(log, &after);
    uint64_t commits = after.commits - before.commits;
    printf("%-22s %10.1f entries a commit, commit p50 <= %.2f ms p99 <= %.2f ms, queued to "
           "acknowledged p50 <= %.2f ms p99 <= %.2f ms\n",
           "  the log's side",
           commits ? (double)(after.entries - before.entries) / (double)commits : 0,
           hist_percentile(after.commit, before.commit, 0.5),
           hist_percentile(after.commit, before.commit, 0.99),
           hist_percentile(after.wait, before.wait, 0.5),
           hist_percentile(after.wait, before.wait, 0.99));
    free(r.lat);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-audit DIR [SECONDS]\n");
        return 2;
    }
    const char *dir = argv[1];
    double seconds = argc > 2 ? atof(argv[2]) : 3;
    char cmd[4200];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) {
        return 2;
    }
    double f99, f50 = fsync_p50_ms(dir, &f99);
    printf("%-22s fdatasync p50 %.3f ms, p99 %.3f ms\n", "disk", f50, f99);
    printf("%-22s %10.0f commits/s (one record per transaction, WAL, synchronous=FULL)\n",
           "sqlite single rows", sqlite_single_rows(dir, seconds));

    char logdir[4200];
    (void)snprintf(logdir, sizeof(logdir), "%s/log", dir);
    struct barra_audit_options o;
    barra_audit_options_init(&o);
    o.dir = logdir;
    barra_audit_t *log;
    struct barra_error err;
    if (barra_audit_open(&o, &log, &err) < 0) {
        fprintf(stderr, "bench-audit: %s\n", err.message);
        return 2;
    }
    unsigned writers[] = {1, 8, 64};
    for (size_t i = 0; i < 3; i++) {
        run_writers(log, writers[i], seconds, o.batch_ms);
    }
    uint64_t size;
    (void)barra_audit_head(log, &size, NULL, &err);
    if (barra_audit_close(log, &err) < 0) {
        fprintf(stderr, "bench-audit: %s\n", err.message);
        return 2;
    }
    /* Five verifications of the same log: the first reads it from the page cache cold, and the
     * machine's speed moves from one second to the next; the best and the slowest are printed. */
    struct barra_audit_verify_options vo = {.dir = logdir};
    struct barra_audit_verify_report rep;
    double best = 0, worst = 0;
    int r = 0;
    for (int run = 0; run < 5 && r == 0; run++) {
        double t0 = now();
        r = barra_audit_verify(&vo, &rep, &err);
        double vt = now() - t0;
        best = run == 0 || vt < best ? vt : best;
        worst = vt > worst ? vt : worst;
    }
    printf("%-22s %llu entries in %.3f s (slowest of five: %.3f s): %.0f entries/s%s\n", "verify",
           (unsigned long long)size, best, worst, (double)size / best, r < 0 ? "  FAILED" : "");
    return r < 0;
}
