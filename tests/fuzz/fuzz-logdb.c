/* SPDX-License-Identifier: Apache-2.0 */
/* The log reader: any bytes as the log's database file, verified. A damaged or hostile file is
 * refused with an error, never a crash, and never reported as verified unless it is a log signed by
 * the fixed key (32 bytes of 0x11) whose every hash holds. */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <barra/audit.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void write_file(const char *name, const void *p, size_t n, mode_t mode)
{
    char path[128];
    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    (void)unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, p, n) != (ssize_t)n) {
        abort();
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        (void)snprintf(dir, sizeof(dir), "/tmp/barra-fuzz-logdb-%d", (int)getpid());
        (void)mkdir(dir, 0700);
        write_file("log.key", "1111111111111111111111111111111111111111111111111111111111111111\n",
                   65, 0600);
    }
    char path[128];
    (void)snprintf(path, sizeof(path), "%s/audit.db-wal", dir);
    (void)unlink(path);
    (void)snprintf(path, sizeof(path), "%s/audit.db-shm", dir);
    (void)unlink(path);
    write_file("audit.db", data, size, 0600);
    struct barra_audit_verify_options o = {.dir = dir};
    struct barra_audit_verify_report rep;
    struct barra_error err;
    (void)barra_audit_verify(&o, &rep, &err);
    return 0;
}
