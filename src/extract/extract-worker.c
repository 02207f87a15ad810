/* SPDX-License-Identifier: Apache-2.0 */
/* Extraction in a worker process (extract-worker.h): the worker's side (the caller's is
 * extract-client.c). */
#include "config.h"

#include "extract/extract-worker.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "extract/extract-int.h"

#include "core/banned.h"

static bool write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return false;
        }
        c += k;
        n -= (size_t)k;
    }
    return true;
}

static void put_u32(struct buf *b, size_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    (void)buf_append(b, le, 4);
}

static void put_string(struct buf *b, const char *s, size_t n)
{
    put_u32(b, n);
    (void)buf_append(b, s, n);
}

/* Frames go out in blocks of 64 KiB (a write per paragraph would cost more than the reading):
 * a crash loses at most the last block, and a note is sent at once. */
static int flush(struct buf *b)
{
    bool ok = !b->err && write_all(STDOUT_FILENO, b->data ? b->data : "", b->len);
    buf_clear(b);
    return ok ? 0 : -BARRA_EIO;
}

static int frame_text(void *ud, const char *path, const char *where, const char *text, size_t len)
{
    struct buf *b = ud;
    (void)buf_append_char(b, 'T');
    put_string(b, path, strnlen(path, 4096));
    put_string(b, where, strnlen(where, 1024));
    put_string(b, text, len);
    return b->len >= 65536 || b->err ? flush(b) : 0;
}

static void frame_note(void *ud, const char *path, enum ex_note kind, const char *message)
{
    struct buf *b = ud;
    (void)buf_append_char(b, 'N');
    (void)buf_append_char(b, (char)kind);
    put_string(b, path, strnlen(path, 4096));
    put_string(b, message, strnlen(message, 1024));
    (void)flush(b);
}

/* AddressSanitizer reserves terabytes of address space and makes system calls of its own. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* Allows reading and writing open descriptors, memory, time, ending, and opening files for
 * reading only (poppler reads its character maps when a document needs them): nothing that
 * writes a file, connects, executes or changes identity. What the worker could read goes nowhere
 * but back to Barra, as text to classify. Under the sanitizers anything else fails with EPERM
 * instead of killing the worker. */
static int confine(void)
{
    uint32_t deny = SANITIZED ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_KILL_PROCESS;
    static const char *const allowed[] = {
        "read",
        "write",
        "readv",
        "writev",
        "close",
        "lseek",
        "fstat",
        "newfstatat",
        "brk",
        "mmap",
        "munmap",
        "mremap",
        "mprotect",
        "madvise",
        "futex",
        "exit",
        "exit_group",
        "rt_sigreturn",
        "rt_sigprocmask",
        "rt_sigaction",
        "getpid",
        "gettid",
        "tgkill",
        "clock_gettime",
        "gettimeofday",
        "getrandom",
        "sched_yield",
        "restart_syscall",
        "getdents64",
        "statx",
        "fstatfs",
        "faccessat",
        "faccessat2",
        "access",
        "readlink",
        "fcntl",
        "pread64",
        "stat",
        "lstat",
        "sysinfo",
        "sched_getaffinity",
        "uname",
        "getuid",
        "geteuid",
        "getgid",
        "getegid",
    };
    scmp_filter_ctx ctx = seccomp_init(deny);
    if (ctx == NULL) {
        return -1;
    }
    int r = 0;
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && r == 0; i++) {
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        if (nr != __NR_SCMP_ERROR) {
            r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        }
    }
    /* open and openat only for reading: no O_WRONLY, O_RDWR, O_CREAT, O_TRUNC or O_APPEND */
    const scmp_datum_t writes = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND;
    if (r == 0) {
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                             SCMP_A2(SCMP_CMP_MASKED_EQ, writes, O_RDONLY));
    }
    if (r == 0) {
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, writes, O_RDONLY));
    }
    r = r == 0 ? seccomp_load(ctx) : r;
    seccomp_release(ctx);
    return r;
}

static void limit(int resource, rlim_t v)
{
    struct rlimit rl = {v, v};
    (void)setrlimit(resource, &rl);
}

int ex_worker_main(int argc, char **argv)
{
    if (argc != 13) {
        (void)fprintf(stderr, "barra-extract-worker: started by Barra only\n");
        return 2;
    }
    struct ex_limits lim = {
        .max_file = strtoull(argv[1], NULL, 10),
        .max_total = strtoull(argv[2], NULL, 10),
        .max_ratio = (uint32_t)strtoul(argv[3], NULL, 10),
        .max_depth = (uint32_t)strtoul(argv[4], NULL, 10),
        .max_members = (uint32_t)strtoul(argv[5], NULL, 10),
        .max_text = strtoull(argv[6], NULL, 10),
        .max_pages = (uint32_t)strtoul(argv[7], NULL, 10),
        .max_pixels = strtoull(argv[8], NULL, 10),
    };
    uint64_t memory = strtoull(argv[9], NULL, 10);
    uint32_t cpu = (uint32_t)strtoul(argv[10], NULL, 10);
    const char *path = argv[11];
    (void)argv[12]; /* the worker protocol's version, "1" */
    struct buf out, in;
    buf_init(&out, 0);
    buf_init(&in, lim.max_file + 1);
    struct ex_sink sink = {.text = frame_text, .note = frame_note, .userdata = &out};
    char chunk[65536];
    ssize_t k;
    while ((k = read(STDIN_FILENO, chunk, sizeof(chunk))) > 0 || (k < 0 && errno == EINTR)) {
        if (k > 0 && buf_append(&in, chunk, (size_t)k) < 0) {
            break;
        }
    }
    ex_text_warm_up();
    ex_magic_warm_up();
    tzset(); /* archive members' times are converted with the local time zone, read from a file */
    if (ex_is_image((const uint8_t *)(in.data ? in.data : ""), in.len)) {
        ex_ocr_warm_up(); /* its models are large: loaded only for an image */
    }
    if (!SANITIZED) {
        limit(RLIMIT_AS, memory);
    }
    limit(RLIMIT_CPU, cpu);
    limit(RLIMIT_FSIZE, 0);
    limit(RLIMIT_CORE, 0);
    /* The libraries' own warnings (Tesseract, poppler) are not Barra's to print; the sanitizers'
     * reports are, in test builds. */
    int null = SANITIZED ? -1 : open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
        (void)dup2(null, STDERR_FILENO);
        close(null);
    }
    limit(RLIMIT_NOFILE, 64);
    if (confine() != 0) {
        frame_note(&out, path, EX_NOTE_UNSUPPORTED, "the extraction worker could not be confined");
    } else if (in.err) {
        frame_note(&out, path, EX_NOTE_LIMIT, "more bytes than the limit for a file");
    } else {
        (void)ex_extract((const uint8_t *)(in.data ? in.data : ""), in.len, path, &lim, &sink);
    }
    (void)buf_append_char(&out, 'E');
    int r = flush(&out);
    buf_done(&in);
    buf_done(&out);
    return r == 0 ? 0 : 1;
}
