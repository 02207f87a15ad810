/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/banned.h"

struct error_name {
    int code;
    const char *name;
    const char *text;
};

static const struct error_name error_names[] = {
    {BARRA_ENOENT, "ENOENT", "no such file or directory"},
    {BARRA_EIO, "EIO", "input/output error"},
    {BARRA_E2BIG, "E2BIG", "argument list too long"},
    {BARRA_ENOMEM, "ENOMEM", "out of memory"},
    {BARRA_EACCES, "EACCES", "permission denied"},
    {BARRA_EEXIST, "EEXIST", "already exists"},
    {BARRA_EISDIR, "EISDIR", "is a directory"},
    {BARRA_EINVAL, "EINVAL", "invalid argument"},
    {BARRA_EFBIG, "EFBIG", "too large"},
    {BARRA_ENOSPC, "ENOSPC", "no space left on device"},
    {BARRA_ERANGE, "ERANGE", "value out of range"},
    {BARRA_EOVERFLOW, "EOVERFLOW", "value too large for its type"},
    {BARRA_EILSEQ, "EILSEQ", "invalid byte sequence"},
    {BARRA_ECANCELED, "ECANCELED", "cancelled"},
    {BARRA_EPARSE, "EPARSE", "syntax error"},
    {BARRA_ERULES, "ERULES", "invalid rules"},
    {BARRA_EENGINE, "EENGINE", "pattern engine failure"},
    {BARRA_EFORMAT, "EFORMAT", "malformed input record"},
    {BARRA_ELIMIT, "ELIMIT", "input exceeds a configured limit"},
};

static const struct error_name *find_error(int err)
{
    if (err < 0) {
        err = -err;
    }
    for (size_t i = 0; i < sizeof(error_names) / sizeof(error_names[0]); i++) {
        if (error_names[i].code == err) {
            return &error_names[i];
        }
    }
    return NULL;
}

const char *barra_strerror(int err)
{
    const struct error_name *e = find_error(err);
    return e ? e->text : "unknown error";
}

const char *barra_errname(int err)
{
    const struct error_name *e = find_error(err);
    return e ? e->name : "EUNKNOWN";
}

__attribute__((format(printf, 3, 0))) static void error_vset(struct barra_error *reterr, int code,
                                                             const char *fmt, va_list ap)
{
    reterr->code = code;
    (void)vsnprintf(reterr->message, sizeof(reterr->message), fmt, ap);
}

int barra_error_set(struct barra_error *reterr, int code, const char *fmt, ...)
{
    if (reterr == NULL) {
        return code;
    }
    memset(reterr, 0, sizeof(*reterr));
    va_list ap;
    va_start(ap, fmt);
    error_vset(reterr, code, fmt, ap);
    va_end(ap);
    return code;
}

int barra_error_set_at(struct barra_error *reterr, int code, const char *file, uint32_t line,
                       uint32_t column, const char *fmt, ...)
{
    if (reterr == NULL) {
        return code;
    }
    memset(reterr, 0, sizeof(*reterr));
    va_list ap;
    va_start(ap, fmt);
    error_vset(reterr, code, fmt, ap);
    va_end(ap);
    if (file) {
        (void)snprintf(reterr->file, sizeof(reterr->file), "%s", file);
    }
    reterr->line = line;
    reterr->column = column;
    return code;
}
