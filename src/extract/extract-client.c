/* SPDX-License-Identifier: Apache-2.0 */
/* The caller's side of extraction (extract-worker.h): what a program that hands files to the
 * worker needs, without the extractors' libraries (those load in the worker only). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/helper.h"
#include "core/utf8.h"
#include "extract/extract-int.h"
#include "extract/extract-worker.h"

#include "core/banned.h"

extern char **environ;

void ex_limits_default(struct ex_limits *l)
{
    l->max_file = 100u << 20;
    l->max_total = 1u << 30;
    l->max_ratio = 100;
    l->max_depth = 5;
    l->max_members = 10000;
    l->max_text = 256u << 20;
    l->max_pages = 2000;
    l->max_pixels = 50000000;
}

const char *ex_note_name(enum ex_note n)
{
    switch (n) {
    case EX_NOTE_ENCRYPTED:
        return "unscannable_encrypted";
    case EX_NOTE_LIMIT:
        return "limit_reached";
    case EX_NOTE_CORRUPT:
        return "corrupt";
    case EX_NOTE_UNSUPPORTED:
        return "unsupported";
    }
    return "unknown";
}

/* Whether a file's first bytes call for the extractors: archives and Office documents, PDF and
 * images (noted as not extracted yet), UTF-16, text that is not UTF-8 (GB18030, Big5), binary. */
bool ex_needs_extraction(const char *p, size_t n)
{
    static const struct {
        const char *sig;
        size_t len;
    } sigs[] = {
        {"PK\x03\x04", 4},
        {"PK\x05\x06", 4},
        {"\x1f\x8b", 2},
        {"BZh", 3},
        {"\xfd"
         "7zXZ",
         5},
        {"7z\xbc\xaf\x27\x1c", 6},
        {"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8},
        {"\xff\xfe", 2},
        {"\xfe\xff", 2},
        {"%PDF-", 5},
        {"\x89PNG", 4},
        {"\xff\xd8\xff", 3},
        {"II*", 4},
        {"MM\x00*", 4},
    };
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (n >= sigs[i].len && memcmp(p, sigs[i].sig, sigs[i].len) == 0) {
            return true;
        }
    }
    if (n > 262 && memcmp(p + 257, "ustar", 5) == 0) {
        return true;
    }
    size_t probe = n < 8192 ? n : 8192;
    if (memchr(p, '\0', probe)) {
        return true;
    }
    /* Text in another encoding (GB18030, Big5) has many sequences that are invalid as UTF-8; UTF-8
     * text with a stray bad byte among its characters stays on the streaming path (with an error
     * for the bad bytes). */
    size_t valid_multi = 0, invalid = 0;
    const uint8_t *q = (const uint8_t *)p, *end = q + probe;
    while (q < end) {
        uint32_t cp;
        size_t k = utf8_decode(q, end, &cp);
        if (k == 1 && q[0] >= 0x80) { /* invalid; a character cut by the probe's end is not */
            invalid += end - q >= 4;
        }
        valid_multi += k > 1;
        q += k;
    }
    return invalid * 8 > invalid + valid_multi;
}

void ex_sandbox_default(struct ex_sandbox *s)
{
    s->memory = 2ull << 30;
    s->cpu_s = 60;
    s->wall_ms = 120000;
}

static void noted(const struct ex_sink *sink, const char *path, enum ex_note kind, const char *msg)
{
    sink->note(sink->userdata, path, kind, msg);
}

/* Says what ended a worker that did not finish. */
static void explain(const struct ex_sink *sink, const char *path, int status, bool timed_out,
                    const struct ex_sandbox *sb)
{
    char msg[200];
    if (timed_out) {
        (void)snprintf(msg, sizeof(msg), "extraction took longer than %u s and was stopped",
                       sb->wall_ms / 1000);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
        (void)snprintf(msg, sizeof(msg), "extraction used more than %u s of CPU and was stopped",
                       sb->cpu_s);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
        (void)snprintf(msg, sizeof(msg), "the extractor tried a forbidden system call");
    } else if (WIFSIGNALED(status)) {
        (void)snprintf(msg, sizeof(msg),
                       "the extractor failed (signal %d; out of its %llu MiB of memory?)",
                       WTERMSIG(status), (unsigned long long)(sb->memory >> 20));
    } else {
        (void)snprintf(msg, sizeof(msg), "the extractor failed (exit status %d)",
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    noted(sink, path, timed_out || WIFSIGNALED(status) ? EX_NOTE_LIMIT : EX_NOTE_CORRUPT, msg);
}

int ex_extract_isolated(int fd, const char *path, const struct ex_limits *lim,
                        const struct ex_sandbox *sb, const char *const *worker,
                        const struct ex_sink *sink, struct barra_error *reterr)
{
    char program[PATH_MAX];
    const char *const helper[] = {program, NULL};
    if (worker == NULL) {
        if (!helper_path("barra-extract-worker", program, sizeof(program))) {
            return barra_error_set(reterr, -BARRA_EIO, "the extraction worker %s is missing",
                                   program);
        }
        worker = helper;
    }
    char nums[10][24];
    const uint64_t v[10] = {lim->max_file,    lim->max_total, lim->max_ratio, lim->max_depth,
                            lim->max_members, lim->max_text,  lim->max_pages, lim->max_pixels,
                            sb->memory,       sb->cpu_s};
    const char *argv[32];
    size_t n = 0;
    for (; worker[n] && n < 16; n++) {
        argv[n] = worker[n];
    }
    for (size_t i = 0; i < 10; i++) {
        (void)snprintf(nums[i], sizeof(nums[i]), "%llu", (unsigned long long)v[i]);
        argv[n++] = nums[i];
    }
    argv[n++] = path;
    argv[n++] = "1";
    argv[n] = NULL;
    /* The environment, with OpenMP (Tesseract's) held to one thread: the worker may not make
     * threads, and OpenMP reads its limit when it is loaded, before the worker's code runs. */
    size_t nenv = 0;
    while (environ[nenv]) {
        nenv++;
    }
    char **envp = barra_calloc(nenv + 2, sizeof(*envp));
    if (envp == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++) {
        if (strncmp(environ[i], "OMP_THREAD_LIMIT=", 17) != 0) {
            envp[k++] = environ[i];
        }
    }
    envp[k] = (char *)(uintptr_t) "OMP_THREAD_LIMIT=1";
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        barra_free(envp);
        return barra_error_set(reterr, -BARRA_EIO, "cannot start the extraction worker: %s",
                               strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) {
        barra_free(envp);
        close(out[0]);
        close(out[1]);
        return barra_error_set(reterr, -BARRA_EIO, "cannot start the extraction worker: %s",
                               strerror(errno));
    }
    if (pid == 0) { /* only async-signal-safe calls until exec */
        if (dup2(fd, STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0) {
            _exit(127);
        }
        execve(argv[0], (char *const *)(uintptr_t)argv, envp);
        _exit(127);
    }
    barra_free(envp);
    close(out[1]);
    struct ex_frames *frames = ex_frames_new(lim);
    int64_t deadline = clock_mono_ms() + sb->wall_ms;
    int r = frames ? 0 : -BARRA_ENOMEM;
    bool timed_out = false, ended = false;
    while (r == 0) {
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {.fd = out[0], .events = POLLIN};
        int pr = poll(&p, 1, left > 1000 ? 1000 : (int)left);
        if (pr < 0 && errno != EINTR) {
            break;
        }
        if (pr <= 0) {
            continue;
        }
        uint8_t chunk[65536];
        ssize_t got = read(out[0], chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        r = ex_frames_feed(frames, chunk, (size_t)got, sink);
        if (r == 1) {
            ended = true;
            r = 0;
        } else if (r == -BARRA_EFORMAT) {
            noted(sink, path, EX_NOTE_CORRUPT, "the extraction worker wrote malformed output");
            r = 0;
            timed_out = false;
            break;
        }
    }
    if (!ended || r != 0) {
        (void)kill(pid, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    close(out[0]);
    ex_frames_free(frames);
    if (!ended && r == 0) {
        explain(sink, path, status, timed_out, sb);
    }
    return r;
}
