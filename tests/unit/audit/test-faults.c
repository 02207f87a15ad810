/* SPDX-License-Identifier: Apache-2.0 */
/* The log under a failing disk: a VFS wraps SQLite's own and makes syncs fail (EIO) or writes fail
 * (disk full) from a chosen moment. The log must stop acknowledging, say why, refuse everything
 * after, and keep every entry it acknowledged before: reopened with a sound disk, it verifies. */
#include "config.h"

#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <barra/audit.h>

#include "audit/audit-int.h"

static sqlite3_vfs faulty, *real;
static int syncs_left = -1, writes_left = -1; /* -1: never fail */

struct faulty_file {
    sqlite3_file base;
    sqlite3_file *real; /* follows this struct */
};

static int f_close(sqlite3_file *f)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    return ff->real->pMethods ? ff->real->pMethods->xClose(ff->real) : SQLITE_OK;
}
static int f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    return ff->real->pMethods->xRead(ff->real, p, n, off);
}
static int f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    if (writes_left == 0) {
        return SQLITE_FULL;
    }
    if (writes_left > 0) {
        writes_left--;
    }
    return ff->real->pMethods->xWrite(ff->real, p, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    return ff->real->pMethods->xTruncate(ff->real, size);
}
static int f_sync(sqlite3_file *f, int flags)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    if (syncs_left == 0) {
        return SQLITE_IOERR_FSYNC;
    }
    if (syncs_left > 0) {
        syncs_left--;
    }
    return ff->real->pMethods->xSync(ff->real, flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    return ff->real->pMethods->xFileSize(ff->real, size);
}
static int f_lock(sqlite3_file *f, int l)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    return ff->real->pMethods->xLock(ff->real, l);
}
static int f_unlock(sqlite3_file *f, int l)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    return ff->real->pMethods->xUnlock(ff->real, l);
}
static int f_check(sqlite3_file *f, int *out)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    return ff->real->pMethods->xCheckReservedLock(ff->real, out);
}
static int f_control(sqlite3_file *f, int op, void *arg)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    return ff->real->pMethods->xFileControl(ff->real, op, arg);
}
static int f_sector(sqlite3_file *f)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    return ff->real->pMethods->xSectorSize(ff->real);
}
static int f_chars(sqlite3_file *f)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    return ff->real->pMethods->xDeviceCharacteristics(ff->real);
}
static int f_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    return ff->real->pMethods->xShmMap(ff->real, pg, sz, ext, pp);
}
static int f_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    return ff->real->pMethods->xShmLock(ff->real, off, n, flags);
}
static void f_shm_barrier(sqlite3_file *f)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    ff->real->pMethods->xShmBarrier(ff->real);
}
static int f_shm_unmap(sqlite3_file *f, int del)
{
    struct faulty_file *ff = (struct faulty_file *)f;
    return ff->real->pMethods->xShmUnmap(ff->real, del);
}

static const sqlite3_io_methods faulty_methods = {
    2,          f_close,       f_read,      f_write,   f_truncate, f_sync,  f_size,
    f_lock,     f_unlock,      f_check,     f_control, f_sector,   f_chars, f_shm_map,
    f_shm_lock, f_shm_barrier, f_shm_unmap, NULL,      NULL,
};

static int f_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    struct faulty_file *ff = (struct faulty_file *)f;
    ff->real = (sqlite3_file *)(ff + 1);
    int rc = real->xOpen(real, name, ff->real, flags, out);
    f->pMethods = rc == SQLITE_OK ? &faulty_methods : NULL;
    return rc;
}
static int v_delete(sqlite3_vfs *v, const char *n, int s)
{
    (void)v;
    return real->xDelete(real, n, s);
}
static int v_access(sqlite3_vfs *v, const char *n, int f, int *o)
{
    (void)v;
    return real->xAccess(real, n, f, o);
}
static int v_full(sqlite3_vfs *v, const char *n, int l, char *o)
{
    (void)v;
    return real->xFullPathname(real, n, l, o);
}
static int v_random(sqlite3_vfs *v, int n, char *o)
{
    (void)v;
    return real->xRandomness(real, n, o);
}
static int v_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return real->xSleep(real, us);
}
static int v_time(sqlite3_vfs *v, double *o)
{
    (void)v;
    return real->xCurrentTime(real, o);
}
static int v_error(sqlite3_vfs *v, int n, char *o)
{
    (void)v;
    return real->xGetLastError(real, n, o);
}

static void register_faulty(void)
{
    real = sqlite3_vfs_find(NULL);
    faulty = (sqlite3_vfs){
        .iVersion = 1,
        .szOsFile = (int)sizeof(struct faulty_file) + real->szOsFile,
        .mxPathname = real->mxPathname,
        .zName = "barra-faulty",
        .xOpen = f_open,
        .xDelete = v_delete,
        .xAccess = v_access,
        .xFullPathname = v_full,
        .xRandomness = v_random,
        .xSleep = v_sleep,
        .xCurrentTime = v_time,
        .xGetLastError = v_error,
    };
    assert_int_equal(sqlite3_vfs_register(&faulty, 0), SQLITE_OK);
}

static void run_until_failure(int *counter, int after, int want_code)
{
    char dir[] = "/tmp/barra-faults-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct barra_audit_options o;
    barra_audit_options_init(&o);
    o.dir = dir;
    audit_store_vfs = "barra-faulty";
    syncs_left = writes_left = -1;
    barra_audit_t *log;
    struct barra_error err;
    assert_int_equal(barra_audit_open(&o, &log, &err), 0);
    uint64_t acked = 0, index;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(barra_audit_append(log, "t", "{}", 2, NULL, 0, &index, &err), 0);
        acked++;
    }
    *counter = after; /* the disk fails from now on */
    int r = 0;
    for (int i = 0; i < 200 && r == 0; i++) {
        r = barra_audit_append(log, "t", "{}", 2, NULL, 0, &index, &err);
        acked += r == 0;
    }
    assert_int_equal(r, want_code);
    assert_non_null(strstr(err.message, "stopped accepting entries"));
    /* Fails closed: nothing more is acknowledged, even if the disk comes back. */
    syncs_left = writes_left = -1;
    assert_int_equal(barra_audit_append(log, "t", "{}", 2, NULL, 0, &index, &err), want_code);
    (void)barra_audit_close(log, &err);
    /* Reopened on a sound disk: every acknowledged entry is there and the log verifies. */
    audit_store_vfs = NULL;
    assert_int_equal(barra_audit_open(&o, &log, &err), 0);
    uint64_t size;
    assert_int_equal(barra_audit_head(log, &size, NULL, &err), 0);
    assert_true(size >= acked);
    assert_int_equal(barra_audit_append(log, "t", "{}", 2, NULL, 0, &index, &err), 0);
    assert_int_equal(barra_audit_close(log, &err), 0);
    struct barra_audit_verify_options vo = {.dir = dir};
    struct barra_audit_verify_report rep;
    if (barra_audit_verify(&vo, &rep, &err) != 0) {
        fail_msg("verify after the fault: %s", err.message);
    }
    char cmd[128];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_fsync_fails(void **state)
{
    (void)state;
    run_until_failure(&syncs_left, 3, -BARRA_EIO);
}

static void test_disk_full(void **state)
{
    (void)state;
    run_until_failure(&writes_left, 25, -BARRA_ENOSPC);
}

static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

/* The wall clock going back is recorded in the log, as an entry before the entries it stamps. */
static void test_clock_goes_back(void **state)
{
    (void)state;
    char dir[] = "/tmp/barra-clock-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct barra_audit_options o;
    barra_audit_options_init(&o);
    o.dir = dir;
    audit_store_vfs = NULL;
    audit_clock = fake_clock;
    fake_now = 1795400000000000000;
    barra_audit_t *log;
    struct barra_error err;
    uint64_t index;
    assert_int_equal(barra_audit_open(&o, &log, &err), 0);
    assert_int_equal(barra_audit_append(log, "t", "{}", 2, NULL, 0, &index, &err), 0);
    assert_int_equal(index, 0);
    fake_now -= 3600000000000; /* an hour back */
    assert_int_equal(barra_audit_append(log, "t", "{}", 2, NULL, 0, &index, &err), 0);
    assert_int_equal(index, 2); /* entry 1 says the clock went back */
    assert_int_equal(barra_audit_close(log, &err), 0);
    audit_clock = NULL;
    sqlite3 *db;
    sqlite3_stmt *st;
    char path[256];
    (void)snprintf(path, sizeof(path), "%s/audit.db", dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT type, record FROM entries WHERE seq = 1", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "clock");
    assert_non_null(strstr((const char *)sqlite3_column_text(st, 1), "\"clock_went_back\""));
    sqlite3_finalize(st);
    sqlite3_close(db);
    struct barra_audit_verify_options vo = {.dir = dir};
    struct barra_audit_verify_report rep;
    assert_int_equal(barra_audit_verify(&vo, &rep, &err), 0);
    assert_int_equal(rep.clock_steps_back, 1);
    char cmd[128];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    register_faulty();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fsync_fails),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_clock_goes_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
