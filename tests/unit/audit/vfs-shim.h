/* SPDX-License-Identifier: Apache-2.0 */
/* A SQLite VFS for tests that passes everything to the default one, except what its hooks take
 * over: writes, reads, syncs, sizes and truncations of the main files (the shared-memory index is
 * always the real one). Register it once with shim_register(); open logs through it by setting
 * audit_store_vfs = "barra-shim". */
#ifndef BARRA_TEST_VFS_SHIM_H
#define BARRA_TEST_VFS_SHIM_H

#include <sqlite3.h>
#include <string.h>

struct shim_file {
    sqlite3_file base;
    sqlite3_file *real; /* follows this struct */
    void *state;        /* the hooks' own, per file (NULL until they set it) */
    int flags;          /* as opened: SQLITE_OPEN_MAIN_DB, SQLITE_OPEN_WAL, ... */
    const char *name;   /* as opened (SQLite keeps it valid until the file is closed) */
};

/* Each hook returns -1 to let the real file do it, or an SQLite result code. */
struct shim_hooks {
    int (*write)(struct shim_file *f, const void *p, int n, sqlite3_int64 off);
    int (*read)(struct shim_file *f, void *p, int n, sqlite3_int64 off);
    int (*sync)(struct shim_file *f, int flags);
    int (*size)(struct shim_file *f, sqlite3_int64 *size);
    int (*truncate)(struct shim_file *f, sqlite3_int64 size);
    void (*close)(struct shim_file *f);
};

static struct shim_hooks shim;
static sqlite3_vfs shim_vfs, *shim_real;

#define SHIM_REAL(f) (((struct shim_file *)(f))->real)

static int s_close(sqlite3_file *f)
{
    if (shim.close) {
        shim.close((struct shim_file *)f);
    }
    return SHIM_REAL(f)->pMethods ? SHIM_REAL(f)->pMethods->xClose(SHIM_REAL(f)) : SQLITE_OK;
}
static int s_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    int r = shim.read ? shim.read((struct shim_file *)f, p, n, off) : -1;
    return r >= 0 ? r : SHIM_REAL(f)->pMethods->xRead(SHIM_REAL(f), p, n, off);
}
static int s_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    int r = shim.write ? shim.write((struct shim_file *)f, p, n, off) : -1;
    return r >= 0 ? r : SHIM_REAL(f)->pMethods->xWrite(SHIM_REAL(f), p, n, off);
}
static int s_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    int r = shim.truncate ? shim.truncate((struct shim_file *)f, size) : -1;
    return r >= 0 ? r : SHIM_REAL(f)->pMethods->xTruncate(SHIM_REAL(f), size);
}
static int s_sync(sqlite3_file *f, int flags)
{
    int r = shim.sync ? shim.sync((struct shim_file *)f, flags) : -1;
    return r >= 0 ? r : SHIM_REAL(f)->pMethods->xSync(SHIM_REAL(f), flags);
}
static int s_size(sqlite3_file *f, sqlite3_int64 *size)
{
    int r = shim.size ? shim.size((struct shim_file *)f, size) : -1;
    return r >= 0 ? r : SHIM_REAL(f)->pMethods->xFileSize(SHIM_REAL(f), size);
}
static int s_lock(sqlite3_file *f, int l)
{
    return SHIM_REAL(f)->pMethods->xLock(SHIM_REAL(f), l);
}
static int s_unlock(sqlite3_file *f, int l)
{
    return SHIM_REAL(f)->pMethods->xUnlock(SHIM_REAL(f), l);
}
static int s_check(sqlite3_file *f, int *out)
{
    return SHIM_REAL(f)->pMethods->xCheckReservedLock(SHIM_REAL(f), out);
}
static int s_control(sqlite3_file *f, int op, void *arg)
{
    return SHIM_REAL(f)->pMethods->xFileControl(SHIM_REAL(f), op, arg);
}
static int s_sector(sqlite3_file *f)
{
    return SHIM_REAL(f)->pMethods->xSectorSize(SHIM_REAL(f));
}
static int s_chars(sqlite3_file *f)
{
    return SHIM_REAL(f)->pMethods->xDeviceCharacteristics(SHIM_REAL(f));
}
static int s_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
    return SHIM_REAL(f)->pMethods->xShmMap(SHIM_REAL(f), pg, sz, ext, pp);
}
static int s_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return SHIM_REAL(f)->pMethods->xShmLock(SHIM_REAL(f), off, n, flags);
}
static void s_shm_barrier(sqlite3_file *f)
{
    SHIM_REAL(f)->pMethods->xShmBarrier(SHIM_REAL(f));
}
static int s_shm_unmap(sqlite3_file *f, int del)
{
    return SHIM_REAL(f)->pMethods->xShmUnmap(SHIM_REAL(f), del);
}

static const sqlite3_io_methods shim_methods = {
    2,          s_close,       s_read,      s_write,   s_truncate, s_sync,  s_size,
    s_lock,     s_unlock,      s_check,     s_control, s_sector,   s_chars, s_shm_map,
    s_shm_lock, s_shm_barrier, s_shm_unmap, NULL,      NULL,
};

static int s_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    struct shim_file *sf = (struct shim_file *)f;
    sf->real = (sqlite3_file *)(sf + 1);
    sf->state = NULL;
    sf->flags = flags;
    sf->name = name;
    int rc = shim_real->xOpen(shim_real, name, sf->real, flags, out);
    f->pMethods = rc == SQLITE_OK ? &shim_methods : NULL;
    return rc;
}
static int v_delete(sqlite3_vfs *v, const char *n, int s)
{
    (void)v;
    return shim_real->xDelete(shim_real, n, s);
}
static int v_access(sqlite3_vfs *v, const char *n, int f, int *o)
{
    (void)v;
    return shim_real->xAccess(shim_real, n, f, o);
}
static int v_full(sqlite3_vfs *v, const char *n, int l, char *o)
{
    (void)v;
    return shim_real->xFullPathname(shim_real, n, l, o);
}
static int v_random(sqlite3_vfs *v, int n, char *o)
{
    (void)v;
    return shim_real->xRandomness(shim_real, n, o);
}
static int v_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return shim_real->xSleep(shim_real, us);
}
static int v_time(sqlite3_vfs *v, double *o)
{
    (void)v;
    return shim_real->xCurrentTime(shim_real, o);
}
static int v_error(sqlite3_vfs *v, int n, char *o)
{
    (void)v;
    return shim_real->xGetLastError(shim_real, n, o);
}

static int shim_register(void)
{
    shim_real = sqlite3_vfs_find(NULL);
    shim_vfs = (sqlite3_vfs){
        .iVersion = 1,
        .szOsFile = (int)sizeof(struct shim_file) + shim_real->szOsFile,
        .mxPathname = shim_real->mxPathname,
        .zName = "barra-shim",
        .xOpen = s_open,
        .xDelete = v_delete,
        .xAccess = v_access,
        .xFullPathname = v_full,
        .xRandomness = v_random,
        .xSleep = v_sleep,
        .xCurrentTime = v_time,
        .xGetLastError = v_error,
    };
    return sqlite3_vfs_register(&shim_vfs, 0);
}

#endif
