/* SPDX-License-Identifier: Apache-2.0 */
/* Checkpoints sent off the box as they are signed: a copy in a folder (a file share, a WORM mount)
 * and a line in syslog (which the host forwards). What leaves the box is what proves, later, that
 * the log on it was not rewritten or rolled back. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "audit/audit-int.h"
#include "core/alloc.h"

#include "core/banned.h"

static int copy_to_dir(const char *dir, const char *note, uint64_t size)
{
    char path[4200], tmp[4220];
    (void)snprintf(path, sizeof(path), "%s/%020llu.checkpoint", dir, (unsigned long long)size);
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -errno;
    }
    size_t len = strlen(note);
    bool ok = write(fd, note, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno ? errno : EIO;
        (void)unlink(tmp);
        return -e;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd); /* the rename itself durable */
        (void)close(dfd);
    }
    return 0;
}

void audit_sink_checkpoint(barra_audit_t *log, const char *note, uint64_t size)
{
    if (log->opts.checkpoint_dir) {
        int r = copy_to_dir(log->opts.checkpoint_dir, note, size);
        if (r < 0) {
            (void)snprintf(log->sink_error, sizeof(log->sink_error),
                           "cannot copy the checkpoint of size %llu to \"%s\": %s",
                           (unsigned long long)size, log->opts.checkpoint_dir, strerror(-r));
        }
    }
    if (log->opts.checkpoint_syslog) {
        /* The note as base64 on one line: `base64 -d` gives back the exact signed note. */
        size_t len = strlen(note);
        char *b64 = barra_malloc(4 * (len / 3 + 1) + 1);
        if (b64) {
            (void)EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)note, (int)len);
            syslog(LOG_AUTHPRIV | LOG_NOTICE, "barra-audit-checkpoint origin=%s size=%llu note=%s",
                   log->origin, (unsigned long long)size, b64);
            barra_free(b64);
        }
    }
}

BARRA_EXPORT const char *barra_audit_sink_error(barra_audit_t *log)
{
    return log && log->sink_error[0] ? log->sink_error : NULL;
}
