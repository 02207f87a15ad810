/* SPDX-License-Identifier: Apache-2.0 */
/* A simulated power loss, in the manner of SQLite's crash tests: a child process appends through a
 * VFS that keeps every write in memory until the file is synced, and is killed at a random moment;
 * whatever was written but not synced is lost, as it would be when the power goes. Every entry the
 * child was told was durable must be in the log afterwards, and the log must verify. */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <barra/audit.h>

#include "audit/audit-int.h"
#include "vfs-shim.h"

/* Writes not yet synced, per file, in order: the page cache. Every handle on a file sees them,
 * and a sync through any handle makes them all real, as with the kernel's cache; a kill loses
 * them. The log opens its database twice (the writer and the WAL folder), from two threads. */
struct pending {
    sqlite3_int64 off;
    int n;
    struct pending *next;
    unsigned char data[];
};

struct overlay {
    char name[512];
    struct pending *head, *tail;
};

static struct overlay overlays[8];
static pthread_mutex_t overlay_lock = PTHREAD_MUTEX_INITIALIZER;

static bool tracked(struct shim_file *f)
{
    return (f->flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0 && f->name != NULL;
}

/* Called with overlay_lock held. NULL only when more files are open than the table holds. */
static struct overlay *overlay_of(struct shim_file *f)
{
    if (f->state == NULL) {
        for (size_t i = 0; i < sizeof(overlays) / sizeof(overlays[0]) && f->state == NULL; i++) {
            if (overlays[i].name[0] == '\0') {
                (void)snprintf(overlays[i].name, sizeof(overlays[i].name), "%s", f->name);
            }
            if (strcmp(overlays[i].name, f->name) == 0) {
                f->state = &overlays[i];
            }
        }
    }
    return f->state;
}

static int o_write(struct shim_file *f, const void *p, int n, sqlite3_int64 off)
{
    if (!tracked(f)) {
        return -1;
    }
    pthread_mutex_lock(&overlay_lock);
    struct overlay *o = overlay_of(f);
    struct pending *w = malloc(sizeof(*w) + (size_t)n);
    if (o == NULL || w == NULL) {
        pthread_mutex_unlock(&overlay_lock);
        free(w);
        return SQLITE_NOMEM;
    }
    w->off = off;
    w->n = n;
    w->next = NULL;
    memcpy(w->data, p, (size_t)n);
    if (o->tail) {
        o->tail->next = w;
    } else {
        o->head = w;
    }
    o->tail = w;
    pthread_mutex_unlock(&overlay_lock);
    return SQLITE_OK;
}

static sqlite3_int64 pending_end(const struct overlay *o)
{
    sqlite3_int64 end = 0;
    for (const struct pending *w = o ? o->head : NULL; w; w = w->next) {
        if (w->off + w->n > end) {
            end = w->off + w->n;
        }
    }
    return end;
}

/* Called with overlay_lock held. */
static int size_of(struct shim_file *f, sqlite3_int64 *size)
{
    int rc = f->real->pMethods->xFileSize(f->real, size);
    sqlite3_int64 end = pending_end(overlay_of(f));
    if (rc == SQLITE_OK && end > *size) {
        *size = end;
    }
    return rc;
}

static int o_size(struct shim_file *f, sqlite3_int64 *size)
{
    if (!tracked(f)) {
        return -1;
    }
    pthread_mutex_lock(&overlay_lock);
    int rc = size_of(f, size);
    pthread_mutex_unlock(&overlay_lock);
    return rc;
}

static int o_read(struct shim_file *f, void *p, int n, sqlite3_int64 off)
{
    if (!tracked(f)) {
        return -1;
    }
    pthread_mutex_lock(&overlay_lock);
    int rc = f->real->pMethods->xRead(f->real, p, n, off);
    if (rc == SQLITE_OK || rc == SQLITE_IOERR_SHORT_READ) {
        const struct overlay *o = overlay_of(f);
        for (const struct pending *w = o ? o->head : NULL; w; w = w->next) {
            sqlite3_int64 lo = w->off > off ? w->off : off;
            sqlite3_int64 hi = w->off + w->n < off + n ? w->off + w->n : off + n;
            if (lo < hi) {
                memcpy((unsigned char *)p + (lo - off), w->data + (lo - w->off), (size_t)(hi - lo));
            }
        }
        sqlite3_int64 size;
        (void)size_of(f, &size);
        rc = off + n <= size ? SQLITE_OK : SQLITE_IOERR_SHORT_READ;
    }
    pthread_mutex_unlock(&overlay_lock);
    return rc;
}

/* Makes the file's pending writes real. Called with overlay_lock held. */
static int flush(struct shim_file *f)
{
    struct overlay *o = overlay_of(f);
    int rc = SQLITE_OK;
    while (o && o->head && rc == SQLITE_OK) {
        struct pending *w = o->head;
        rc = f->real->pMethods->xWrite(f->real, w->data, w->n, w->off);
        o->head = w->next;
        free(w);
    }
    if (o && o->head == NULL) {
        o->tail = NULL;
    }
    return rc;
}

static int o_sync(struct shim_file *f, int flags)
{
    if (!tracked(f)) {
        return -1;
    }
    pthread_mutex_lock(&overlay_lock);
    int rc = flush(f);
    pthread_mutex_unlock(&overlay_lock);
    return rc == SQLITE_OK ? f->real->pMethods->xSync(f->real, flags) : rc;
}

static int o_truncate(struct shim_file *f, sqlite3_int64 size)
{
    if (!tracked(f)) {
        return -1;
    }
    /* SQLite truncates only after syncing what the file holds. */
    pthread_mutex_lock(&overlay_lock);
    int rc = flush(f);
    pthread_mutex_unlock(&overlay_lock);
    return rc == SQLITE_OK ? f->real->pMethods->xTruncate(f->real, size) : rc;
}

static void o_close(struct shim_file *f)
{
    if (tracked(f)) {
        pthread_mutex_lock(&overlay_lock);
        (void)flush(f); /* a clean close, not a crash */
        pthread_mutex_unlock(&overlay_lock);
    }
    f->state = NULL;
}

/* The child: appends forever through the overlay, reporting each acknowledged index. */
static void child(const char *dir, int out)
{
    shim = (struct shim_hooks){o_write, o_read, o_sync, o_size, o_truncate, o_close};
    audit_store_vfs = "barra-shim";
    struct barra_audit_options o;
    barra_audit_options_init(&o);
    o.dir = dir;
    barra_audit_t *log;
    struct barra_error err;
    if (barra_audit_open(&o, &log, &err) < 0) {
        _exit(3);
    }
    for (;;) {
        uint64_t index;
        if (barra_audit_append(log, "t", "{\"power\":\"on\"}", 14, NULL, 0, &index, &err) < 0 ||
            write(out, &index, sizeof(index)) != (ssize_t)sizeof(index)) {
            _exit(4);
        }
    }
}

static void test_power_loss(void **state)
{
    (void)state;
    char dir[] = "/tmp/barra-power-XXXXXX";
    assert_non_null(mkdtemp(dir));
    /* The log is created first, on the real disk: the rounds test appends, not a loss during the
     * very first start (before which nothing can have been acknowledged). Without this, a slow
     * machine may kill the first child before its log exists. */
    {
        struct barra_audit_options o;
        barra_audit_options_init(&o);
        o.dir = dir;
        barra_audit_t *log;
        struct barra_error err;
        assert_int_equal(barra_audit_open(&o, &log, &err), 0);
        assert_int_equal(barra_audit_close(log, &err), 0);
    }
    unsigned seed = 20261123;
    uint64_t acked_max = 0, acked = 0;
    for (int round = 0; round < 12; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child(dir, fds[1]);
        }
        close(fds[1]);
        seed = seed * 1103515245u + 12345u;
        struct timespec ts = {0, (long)(20 + seed % 200) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL); /* the power goes: unsynced writes die with the process */
        int status;
        waitpid(pid, &status, 0);
        uint64_t index;
        while (read(fds[0], &index, sizeof(index)) == (ssize_t)sizeof(index)) {
            acked++;
            if (index + 1 > acked_max) {
                acked_max = index + 1;
            }
        }
        close(fds[0]);
        /* After each loss the log, read with the real disk only, has every acknowledged entry. */
        audit_store_vfs = NULL;
        struct barra_audit_options o;
        barra_audit_options_init(&o);
        o.dir = dir;
        o.read_only = true;
        barra_audit_t *log;
        struct barra_error err;
        assert_int_equal(barra_audit_open(&o, &log, &err), 0);
        uint64_t size;
        assert_int_equal(barra_audit_head(log, &size, NULL, &err), 0);
        (void)barra_audit_close(log, &err);
        if (size < acked_max) {
            fail_msg("round %d: %llu entries acknowledged, %llu in the log", round,
                     (unsigned long long)acked_max, (unsigned long long)size);
        }
        struct barra_audit_verify_options vo = {.dir = dir};
        struct barra_audit_verify_report rep;
        if (barra_audit_verify(&vo, &rep, &err) != 0) {
            fail_msg("round %d: %s", round, err.message);
        }
    }
    assert_true(acked > 0);
    print_message("12 power losses, %llu acknowledged appends, all kept\n",
                  (unsigned long long)acked);
    char cmd[128];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    if (shim_register() != SQLITE_OK) {
        return 1;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_power_loss)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
