/* SPDX-License-Identifier: Apache-2.0 */
/* The WAL is folded into the database beside the writer. Under appends that never pause, a fold
 * that merely runs alongside would never reach the WAL's last frame, and the WAL would grow with
 * everything written; the log must instead keep it near the 4 MB it folds at. The same appends
 * check the log's account of its group commit (barra_audit_stats). */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <barra/audit.h>

#include "padded-record.h"

#define THREADS      4
#define PER_THREAD   1250
#define RECORD_BYTES 16384
/* Everything appended comes to 80 MB; the WAL may reach the fold threshold (4 MB) and what is
 * appended while one fold runs, and no more. */
#define WAL_BOUND ((off_t)24 << 20)

struct appender {
    barra_audit_t *log;
    const char *record;
    int failures;
};

static void *append_loop(void *arg)
{
    struct appender *a = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        uint64_t index;
        struct barra_error err;
        if (barra_audit_append(a->log, "t", a->record, RECORD_BYTES, NULL, 0, &index, &err) != 0) {
            a->failures++;
        }
    }
    return NULL;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static void test_wal_stays_bounded(void **state)
{
    (void)state;
    char dir[] = "/tmp/barra-walfold-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char wal[128];
    (void)snprintf(wal, sizeof(wal), "%s/audit.db-wal", dir);
    char *record = padded_record(RECORD_BYTES);
    assert_non_null(record);

    struct barra_audit_options o;
    barra_audit_options_init(&o);
    o.dir = dir;
    barra_audit_t *log;
    struct barra_error err;
    assert_int_equal(barra_audit_open(&o, &log, &err), 0);
    pthread_t threads[THREADS];
    struct appender a[THREADS];
    for (int i = 0; i < THREADS; i++) {
        a[i] = (struct appender){.log = log, .record = record};
        assert_int_equal(pthread_create(&threads[i], NULL, append_loop, &a[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(a[i].failures, 0);
    }
    /* The file keeps its largest extent: a WAL started again from the beginning reuses it. */
    off_t largest = file_size(wal);
    assert_true(largest > 0);
    if (largest > WAL_BOUND) {
        fail_msg("the WAL grew to %lld bytes", (long long)largest);
    }
    uint64_t size;
    assert_int_equal(barra_audit_head(log, &size, NULL, &err), 0);
    assert_true(size >= (uint64_t)THREADS * PER_THREAD);
    /* The group commit's own account of these appends adds up: every entry waited once, every
     * commit was timed once, and a commit of 16 KB records takes longer than 0.01 ms. */
    struct barra_audit_stats st;
    barra_audit_stats(log, &st);
    uint64_t waits = 0, commits = 0;
    for (size_t i = 0; i < BARRA_AUDIT_BUCKETS; i++) {
        waits += st.wait[i];
        commits += st.commit[i];
    }
    assert_int_equal(st.entries, (uint64_t)THREADS * PER_THREAD);
    assert_int_equal(waits, st.entries);
    assert_int_equal(commits, st.commits);
    assert_true(st.commits >= 1 && st.commits <= st.entries);
    assert_int_equal(st.commit[0], 0);
    assert_true(st.commit_ns_sum >= st.commits * 10000);
    for (size_t i = 1; i < BARRA_AUDIT_BUCKETS; i++) {
        assert_true(barra_audit_bucket_ms(i) > barra_audit_bucket_ms(i - 1));
    }
    assert_true(barra_audit_bucket_ms(4) == 0.02 && barra_audit_bucket_ms(40) == 10.24);
    assert_int_equal(barra_audit_close(log, &err), 0);
    free(record);

    struct barra_audit_verify_options vo = {.dir = dir};
    struct barra_audit_verify_report rep;
    if (barra_audit_verify(&vo, &rep, &err) != 0) {
        fail_msg("verify: %s", err.message);
    }
    char cmd[128];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wal_stays_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
