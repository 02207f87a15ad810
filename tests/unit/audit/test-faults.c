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
#include "padded-record.h"
#include "vfs-shim.h"

static int syncs_left = -1, writes_left = -1; /* -1: never fail */
/* Syncs of the database file alone (only folding the WAL does them); -1: never fail. */
static int db_syncs_left = -1;

static int failing_write(struct shim_file *f, const void *p, int n, sqlite3_int64 off)
{
    (void)f;
    (void)p;
    (void)n;
    (void)off;
    if (writes_left == 0) {
        return SQLITE_FULL;
    }
    if (writes_left > 0) {
        writes_left--;
    }
    return -1;
}

static int failing_sync(struct shim_file *f, int flags)
{
    (void)flags;
    if (db_syncs_left == 0 && (f->flags & SQLITE_OPEN_MAIN_DB)) {
        return SQLITE_IOERR_FSYNC;
    }
    if (syncs_left == 0) {
        return SQLITE_IOERR_FSYNC;
    }
    if (syncs_left > 0) {
        syncs_left--;
    }
    return -1;
}

/* Appends records of record_len bytes until the disk fails `after` operations on, then checks
 * that the log stopped, said why (`why`: a part of its message), and lost nothing it acknowledged.
 */
static void run_until_failure(int *counter, int after, int want_code, size_t record_len,
                              const char *why)
{
    char *record = padded_record(record_len);
    assert_non_null(record);
    char dir[] = "/tmp/barra-faults-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct barra_audit_options o;
    barra_audit_options_init(&o);
    o.dir = dir;
    audit_store_vfs = "barra-shim";
    syncs_left = writes_left = db_syncs_left = -1;
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
    for (int i = 0; i < 5000 && r == 0; i++) {
        r = barra_audit_append(log, "t", record, record_len, NULL, 0, &index, &err);
        acked += r == 0;
    }
    free(record);
    assert_int_equal(r, want_code);
    assert_non_null(strstr(err.message, "stopped accepting entries"));
    if (why && strstr(err.message, why) == NULL) {
        fail_msg("the log stopped for another reason: %s", err.message);
    }
    /* Fails closed: nothing more is acknowledged, even if the disk comes back. */
    syncs_left = writes_left = db_syncs_left = -1;
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
    run_until_failure(&syncs_left, 3, -BARRA_EIO, 2, NULL);
}

static void test_disk_full(void **state)
{
    (void)state;
    run_until_failure(&writes_left, 25, -BARRA_ENOSPC, 2, NULL);
}

/* Commits sync only the WAL; the database file is synced when the WAL is folded into it, beside
 * the writer. A failure there stops the log as well: 64 KiB records fill the 4 MB the fold waits
 * for within a hundred appends. */
static void test_fold_sync_fails(void **state)
{
    (void)state;
    run_until_failure(&db_syncs_left, 0, -BARRA_EIO, 65536, "folding the WAL");
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
    shim.write = failing_write;
    shim.sync = failing_sync;
    if (shim_register() != SQLITE_OK) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fsync_fails),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_fold_sync_fails),
        cmocka_unit_test(test_clock_goes_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
