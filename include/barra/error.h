/* SPDX-License-Identifier: Apache-2.0 */
/* Error codes and error details returned by every Barra function. */
#ifndef BARRA_ERROR_H
#define BARRA_ERROR_H

#include <stdint.h>

#include <barra/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Functions return 0 or a positive count on success and a negative code on failure. Codes below
 * 1000 equal the Linux errno value of the same name. */
enum barra_errno {
    BARRA_ENOENT = 2,
    BARRA_EIO = 5,
    BARRA_E2BIG = 7,
    BARRA_ENOMEM = 12,
    BARRA_EACCES = 13,
    BARRA_EEXIST = 17,
    BARRA_EISDIR = 21,
    BARRA_EINVAL = 22,
    BARRA_EFBIG = 27,
    BARRA_ENOSPC = 28,
    BARRA_ERANGE = 34,
    BARRA_EOVERFLOW = 75,
    BARRA_EILSEQ = 84,
    BARRA_ECANCELED = 125,
    BARRA_EPARSE = 1000,  /* a rules, policy or configuration file has a syntax error */
    BARRA_ERULES = 1001,  /* a rules file is well-formed but says something impossible */
    BARRA_EENGINE = 1002, /* the pattern engine (Vectorscan) refused or failed */
    BARRA_EFORMAT = 1003, /* an input record is malformed (broken JSON line, bad CSV quoting) */
    BARRA_ELIMIT = 1004,  /* an input exceeded a configured limit */
};

/* Details of a failure. Every function that takes `struct barra_error *reterr` fills it on failure
 * when reterr is not NULL; `file`, `line` and `column` are set for parse errors (line and column
 * count from 1, 0 means unknown). */
struct barra_error {
    int code;
    char message[512];
    char file[256];
    uint32_t line;
    uint32_t column;
};

/* A human-readable sentence for a code; static storage. */
BARRA_EXPORT const char *barra_strerror(int err);
/* The symbolic name of a code, e.g. "EINVAL"; static storage. */
BARRA_EXPORT const char *barra_errname(int err);

#ifdef __cplusplus
}
#endif

#endif
