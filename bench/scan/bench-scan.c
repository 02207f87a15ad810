/* SPDX-License-Identifier: Apache-2.0 */
/* bench-scan: classifier throughput on one text file, side by side with two baselines measured in
 * the same run over the same bytes:
 *   (a) the obvious design: one Vectorscan database with a straightforward regex per identifier
 * type, no validation, no context; (b) a plain pass over the bytes counting digit runs (the
 * memory-bound floor); (c) the full classifier through the library (one thread, text already in
 * memory); (d) the whole `barra scan -j1` process, start-up included, reading the file itself. Each
 * figure is the best of --repeat runs. Usage: bench-scan [--repeat N] BARRA_BINARY FILE */
#include "config.h"

#include <fcntl.h>
#include <hs/hs.h>
#include <immintrin.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <barra/barra.h>

extern char **environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The straightforward regex per type that a first design would write. */
static const char *const baseline_patterns[] = {
    "\\d{17}[\\dXx]",                 /* cn_resident_id */
    "[A-Z]{1,2}\\d{6}\\(?[\\dA]\\)?", /* hk_id_card */
    "[157]\\d{6}\\(\\d\\)",           /* mo_id_card */
    "[A-Z][12]\\d{8}",                /* tw_id_card */
    "[HM]\\d{8}(\\d{2})?",            /* hkmo_home_return_permit */
    "C[A-Z0-9]\\d{7}",                /* cn_exit_entry_permit */
    "\\d{8}",                         /* tw_compatriot_permit */
    "E[A-Z0-9]\\d{7}",                /* cn_passport */
    "K\\d{8}",                        /* hk_passport */
    "MA\\d{7}",                       /* mo_passport */
    "\\d{8}",                         /* mo_worker_card */
    "[0-9A-HJ-NPQRTUWXY]{18}",        /* cn_uscc */
    "\\d{13,19}",                     /* bank_card */
    "\\d{3}-\\d{6}-\\d{3}",           /* bank_account */
    "1[3-9]\\d{9}",                   /* phone_cn */
    "[2-9]\\d{7}",                    /* phone_hk */
    "[26]\\d{7}",                     /* phone_mo */
    "[\\w.+-]+@[\\w-]+\\.[\\w.-]+",   /* email */
    "M[A-Z]-\\d{2}-\\d{2}",           /* vehicle_plate */
    "(19|20)\\d{2}-\\d{2}-\\d{2}",    /* date_of_birth */
};
#define NBASE (sizeof(baseline_patterns) / sizeof(baseline_patterns[0]))

static unsigned long long counter;

static int on_baseline(unsigned int id, unsigned long long from, unsigned long long to,
                       unsigned int flags, void *ctx)
{
    (void)id;
    (void)from;
    (void)to;
    (void)flags;
    (void)ctx;
    counter++;
    return 0;
}

static double run_baseline(const char *buf, size_t len)
{
    unsigned ids[NBASE], flags[NBASE];
    for (unsigned i = 0; i < NBASE; i++) {
        ids[i] = i;
        flags[i] = 0;
    }
    hs_database_t *db;
    hs_compile_error_t *err;
    if (hs_compile_multi(baseline_patterns, flags, ids, NBASE, HS_MODE_BLOCK, NULL, &db, &err) !=
        HS_SUCCESS) {
        fprintf(stderr, "baseline: %s\n", err->message);
        exit(1);
    }
    hs_scratch_t *scratch = NULL;
    hs_alloc_scratch(db, &scratch);
    counter = 0;
    double t0 = now();
    const size_t chunk = 1u << 20;
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        hs_scan(db, buf + off, (unsigned)n, 0, scratch, on_baseline, NULL);
    }
    double t = now() - t0;
    hs_free_scratch(scratch);
    hs_free_database(db);
    return t;
}

/* The memory-bound floor: one vectorised pass counting runs of ASCII digits (a run starts where a
 * digit follows a non-digit), as fast as the bytes can be read. */
__attribute__((target("avx2,popcnt"))) static unsigned long long count_runs_avx2(const char *buf,
                                                                                 size_t len)
{
    unsigned long long runs = 0;
    uint32_t carry = 0;
    size_t i = 0;
    const __m256i zero = _mm256_set1_epi8('0'), nine = _mm256_set1_epi8(9);
    for (; i + 32 <= len; i += 32) {
        __m256i v =
            _mm256_sub_epi8(_mm256_loadu_si256((const __m256i *)(const void *)(buf + i)), zero);
        uint32_t d = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(v, nine), v));
        runs += (unsigned)__builtin_popcount(d & ~((d << 1) | carry));
        carry = d >> 31;
    }
    for (; i < len; i++) {
        uint32_t d = (unsigned char)(buf[i] - '0') < 10;
        runs += d & !carry;
        carry = d;
    }
    return runs;
}

static double run_digit_runs(const char *buf, size_t len, unsigned long long *ret_runs)
{
    double t0 = now();
    *ret_runs = count_runs_avx2(buf, len);
    return now() - t0;
}

static int on_finding(const struct barra_finding *f, void *ud)
{
    (void)f;
    (*(unsigned long long *)ud)++;
    return 0;
}

static double run_library(const char *buf, size_t len, unsigned long long *ret_findings)
{
    barra_detector_t *d;
    barra_scanner_t *s;
    struct barra_error err;
    if (barra_detector_new(NULL, &d, &err) < 0 ||
        barra_scanner_new(d, BARRA_SCAN_LINES | BARRA_SCAN_CHECK_UTF8, &s, &err) < 0) {
        fprintf(stderr, "library: %s\n", err.message);
        exit(1);
    }
    unsigned long long n = 0;
    double t0 = now();
    const size_t chunk = 1u << 20;
    for (size_t off = 0; off < len; off += chunk) {
        size_t k = len - off < chunk ? len - off : chunk;
        barra_scanner_feed(s, buf + off, k, on_finding, &n);
    }
    barra_scanner_finish(s, on_finding, &n);
    double t = now() - t0;
    barra_scanner_free(s);
    barra_detector_unref(d);
    *ret_findings = n;
    return t;
}

static double run_process(const char *barra, const char *file)
{
    char *argv[] = {(char *)barra, "scan",  "-j1",        "-f", "json",
                    "--progress",  "never", (char *)file, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    double t0 = now();
    pid_t pid;
    if (posix_spawn(&pid, barra, &fa, NULL, argv, environ) != 0) {
        perror("posix_spawn");
        exit(1);
    }
    int status;
    waitpid(pid, &status, 0);
    double t = now() - t0;
    posix_spawn_file_actions_destroy(&fa);
    if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) {
        fprintf(stderr, "barra scan failed (status %d)\n", status);
        exit(1);
    }
    return t;
}

static double best(double a, double b)
{
    return a < b ? a : b;
}

int main(int argc, char **argv)
{
    int repeat = 3, ai = 1;
    if (argc > 2 && strcmp(argv[1], "--repeat") == 0) {
        repeat = atoi(argv[2]); /* NOLINT: a benchmark argument */
        ai = 3;
    }
    if (argc - ai != 2) {
        fprintf(stderr, "usage: bench-scan [--repeat N] BARRA_BINARY FILE\n");
        return 2;
    }
    const char *barra = argv[ai], *file = argv[ai + 1];
    int fd = open(file, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        perror(file);
        return 1;
    }
    size_t len = (size_t)st.st_size;
    char *buf = malloc(len ? len : 1);
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0) {
            perror("read");
            return 1;
        }
        got += (size_t)n;
    }
    close(fd);
    double tb = 1e9, td = 1e9, tl = 1e9, tp = 1e9;
    unsigned long long runs = 0, findings = 0;
    for (int i = 0; i < repeat; i++) {
        tb = best(tb, run_baseline(buf, len));
        td = best(td, run_digit_runs(buf, len, &runs));
        tl = best(tl, run_library(buf, len, &findings));
        tp = best(tp, run_process(barra, file));
    }
    double mb = (double)len / 1e6;
    printf("input: %s, %.1f MB, %llu digit runs, %llu findings (best of %d)\n", file, mb, runs,
           findings, repeat);
    printf("%-58s %9s %9s\n", "", "MB/s", "vs (a)");
    printf("%-58s %9.0f %8.2fx\n", "(a) baseline: 20 plain regexes in one Vectorscan database",
           mb / tb, 1.0);
    printf("%-58s %9.0f %8.2fx\n", "(b) floor: one vectorised pass counting digit runs", mb / td,
           tb / td);
    printf("%-58s %9.0f %8.2fx\n", "(c) barra classifier, library, 1 thread, in memory", mb / tl,
           tb / tl);
    printf("%-58s %9.0f %8.2fx\n", "(d) barra scan -j1 FILE, whole process incl. start-up", mb / tp,
           tb / tp);
    free(buf);
    return 0;
}
