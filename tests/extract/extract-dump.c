/* SPDX-License-Identifier: Apache-2.0 */
/* Prints what the extractors make of a file, one JSON object a line: {"path", "where", "text"}
 * for each piece of text and {"note", "path", "message"} for each note. The extraction tests
 * (test-extract.py) compare it with what their generator put into the file.
 *
 *     extract-dump [--isolated] FILE [max_file max_total max_ratio max_depth max_members max_text]
 *
 * --isolated runs the extraction in a worker process, this program itself (--worker), or the
 * program and arguments in $EXTRACT_WORKER (split at spaces) to play a misbehaving worker;
 * $EXTRACT_WALL_MS bounds its time. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/jsonw.h"
#include "extract/extract-worker.h"
#include "extract/extract.h"

static void put(struct buf *b)
{
    (void)buf_append_char(b, '\n');
    (void)fwrite(b->data, 1, b->len, stdout);
    buf_clear(b);
}

static int on_text(void *ud, const char *path, const char *where, const char *text, size_t len)
{
    struct buf *b = ud;
    (void)buf_append_str(b, "{\"path\":");
    (void)jsonw_string(b, path);
    (void)buf_append_str(b, ",\"where\":");
    (void)jsonw_string(b, where);
    (void)buf_append_str(b, ",\"text\":");
    (void)jsonw_string_n(b, text, len);
    (void)buf_append_char(b, '}');
    put(b);
    return 0;
}

static void on_note(void *ud, const char *path, enum ex_note kind, const char *message)
{
    struct buf *b = ud;
    (void)buf_append_str(b, "{\"note\":");
    (void)jsonw_string(b, ex_note_name(kind));
    (void)buf_append_str(b, ",\"path\":");
    (void)jsonw_string(b, path);
    (void)buf_append_str(b, ",\"message\":");
    (void)jsonw_string(b, message);
    (void)buf_append_char(b, '}');
    put(b);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--worker") == 0) {
        return ex_worker_main(argc - 1, argv + 1);
    }
    bool isolated = argc > 1 && strcmp(argv[1], "--isolated") == 0;
    if (isolated) {
        argc--;
        argv++;
    }
    if (argc != 2 && argc != 8) {
        (void)fprintf(stderr, "usage: extract-dump FILE [6 limits]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    struct buf in;
    buf_init(&in, 0);
    char chunk[65536];
    size_t n;
    while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        (void)buf_append(&in, chunk, n);
    }
    if (f == NULL || in.err) {
        (void)fprintf(stderr, "extract-dump: cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(f);
    struct ex_limits lim;
    ex_limits_default(&lim);
    if (argc == 8) {
        lim.max_file = strtoull(argv[2], NULL, 10);
        lim.max_total = strtoull(argv[3], NULL, 10);
        lim.max_ratio = (uint32_t)strtoul(argv[4], NULL, 10);
        lim.max_depth = (uint32_t)strtoul(argv[5], NULL, 10);
        lim.max_members = (uint32_t)strtoul(argv[6], NULL, 10);
        lim.max_text = strtoull(argv[7], NULL, 10);
    }
    const char *base = strrchr(argv[1], '/');
    struct buf out;
    buf_init(&out, 0);
    struct ex_sink sink = {.text = on_text, .note = on_note, .userdata = &out};
    if (isolated) {
        const char *worker[17] = {"/proc/self/exe", "--worker", NULL};
        char *spec = getenv("EXTRACT_WORKER") ? strdup(getenv("EXTRACT_WORKER")) : NULL;
        size_t k = 0;
        for (char *save = NULL, *t = spec ? strtok_r(spec, " ", &save) : NULL; t && k < 16;
             t = strtok_r(NULL, " ", &save)) {
            worker[k++] = t;
        }
        if (k) {
            worker[k] = NULL;
        }
        struct ex_sandbox sb;
        ex_sandbox_default(&sb);
        if (getenv("EXTRACT_WALL_MS")) {
            sb.wall_ms = (uint32_t)strtoul(getenv("EXTRACT_WALL_MS"), NULL, 10);
        }
        int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        struct barra_error err;
        int r = fd < 0 ? -1
                       : ex_extract_isolated(fd, base ? base + 1 : argv[1], &lim, &sb, worker,
                                             &sink, &err);
        if (fd >= 0) {
            close(fd);
        }
        free(spec);
        buf_done(&out);
        buf_done(&in);
        return r == 0 ? 0 : 1;
    }
    int r = ex_extract((const uint8_t *)(in.data ? in.data : ""), in.len, base ? base + 1 : argv[1],
                       &lim, &sink);
    buf_done(&out);
    buf_done(&in);
    return r == 0 ? 0 : 1;
}
