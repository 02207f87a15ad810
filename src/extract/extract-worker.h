/* SPDX-License-Identifier: Apache-2.0 */
/* Extraction in a separate process (docs/files.md, "Isolation"). Parsing hostile files is what
 * the extractors do, and some libraries they stand on abort on out-of-memory or cannot be
 * interrupted, so each file is read by a worker process started afresh (fork, then exec of
 * Barra's worker program, barra-extract-worker): it reads the file from its standard input, loads
 * what it needs, then limits itself (address space, CPU time, no files written, no new
 * descriptors) and installs a seccomp filter that allows little more than reading, writing and
 * memory; then it extracts and writes what it finds to its standard output as frames. The caller
 * reads the frames, checks them as the untrusted output they are, and kills the worker when it
 * runs out of time. Whatever the worker does, the caller gets the text found before, and a note
 * saying what went wrong. */
#ifndef BARRA_EXTRACT_EXTRACT_WORKER_H
#define BARRA_EXTRACT_EXTRACT_WORKER_H

#include <stdint.h>

#include <barra/error.h>

#include "extract/extract.h"

struct ex_sandbox {
    uint64_t memory;  /* bytes of address space */
    uint32_t cpu_s;   /* seconds of CPU */
    uint32_t wall_ms; /* milliseconds until the worker is killed */
};

/* 2 GiB of address space, 60 s of CPU, 120 s in all. */
void ex_sandbox_default(struct ex_sandbox *s);

/* Extracts the file open for reading at `fd` (named `path` in locations) in a worker: `worker` is
 * the program and its arguments up to where the worker's own arguments go, or NULL for Barra's
 * own worker program, barra-extract-worker (core/helper.h). Returns 0 when the worker ran (notes
 * say what it could not do), the sink's non-zero answer, or a negative code when no worker could
 * be started. */
int ex_extract_isolated(int fd, const char *path, const struct ex_limits *lim,
                        const struct ex_sandbox *sb, const char *const *worker,
                        const struct ex_sink *sink, struct barra_error *reterr);

/* The worker's side, barra-extract-worker's main: argv holds the limits as ex_extract_isolated
 * passes them. Reads standard
 * input, writes frames to standard output; returns the exit status. */
int ex_worker_main(int argc, char **argv);

/* The caller's frame reader, exposed for its fuzz target: feeds bytes from the worker; complete
 * frames go to the sink. Returns 0, 1 once the end frame came, the sink's non-zero answer, or
 * -BARRA_EFORMAT for output no worker writes (the worker is then not trusted further). */
struct ex_frames;
struct ex_frames *ex_frames_new(const struct ex_limits *lim);
void ex_frames_free(struct ex_frames *f);
int ex_frames_feed(struct ex_frames *f, const uint8_t *data, size_t len,
                   const struct ex_sink *sink);

#endif
