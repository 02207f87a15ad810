/* SPDX-License-Identifier: Apache-2.0 */
/* `barra log export`: the log in plain files for a verifier that shares no code with Barra. */
#include "config.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit-int.h"
#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

static FILE *create(const char *dir, const char *name, struct barra_error *reterr)
{
    char path[4200];
    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wxe");
    if (f == NULL) {
        (void)barra_error_set(reterr, -errno, "cannot create \"%s\": %s", path, strerror(errno));
    }
    return f;
}

static int finish(FILE *f, const char *name, struct barra_error *reterr)
{
    bool ok = f && !ferror(f) && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (f && fclose(f) != 0) {
        ok = false;
    }
    return ok ? 0 : barra_error_set(reterr, -BARRA_EIO, "cannot write \"%s\"", name);
}

static void b64(FILE *f, const void *p, size_t n)
{
    char out[4 * 1024 + 8];
    const uint8_t *in = p;
    while (n > 0) {
        size_t take = n > 3 * 1024 ? 3 * 1024 : n; /* a multiple of 3: no padding in the middle */
        (void)EVP_EncodeBlock((unsigned char *)out, in, (int)take);
        fputs(out, f);
        in += take;
        n -= take;
    }
}

static void hex(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%02x", p[i]);
    }
}

static int export_entries(struct audit_store *s, const char *dir, struct barra_error *reterr)
{
    FILE *f = create(dir, "entries.jsonl", reterr);
    if (f == NULL) {
        return reterr ? reterr->code : -BARRA_EIO;
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT seq, time_ns, type, record, payload_digest FROM entries "
                                "ORDER BY seq",
                                -1, &st, NULL);
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        fprintf(f, "{\"seq\":%lld,\"time_ns\":%lld,\"type_base64\":\"", sqlite3_column_int64(st, 0),
                sqlite3_column_int64(st, 1));
        b64(f, sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
        fputs("\",\"record_base64\":\"", f);
        b64(f, sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3));
        fputs("\",\"payload_digest\":", f);
        if (sqlite3_column_type(st, 4) == SQLITE_NULL) {
            fputs("null", f);
        } else {
            fputc('"', f);
            hex(f, sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4));
            fputc('"', f);
        }
        fputs("}\n", f);
    }
    (void)sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        (void)fclose(f);
        return audit_store_error(s, rc, "cannot read the entries", reterr);
    }
    return finish(f, "entries.jsonl", reterr);
}

static int export_checkpoints(struct audit_store *s, const char *dir, struct barra_error *reterr)
{
    char sub[4200];
    (void)snprintf(sub, sizeof(sub), "%s/checkpoints", dir);
    if (mkdir(sub, 0755) < 0) {
        return barra_error_set(reterr, -errno, "cannot create \"%s\": %s", sub, strerror(errno));
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "SELECT size, note FROM checkpoints ORDER BY size", -1, &st,
                                NULL);
    int r = rc == SQLITE_OK ? 0 : audit_store_error(s, rc, "cannot read the checkpoints", reterr);
    while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
        char name[64];
        (void)snprintf(name, sizeof(name), "checkpoints/%020lld", sqlite3_column_int64(st, 0));
        FILE *f = create(dir, name, reterr);
        if (f == NULL) {
            r = reterr ? reterr->code : -BARRA_EIO;
            break;
        }
        const char *note = (const char *)sqlite3_column_text(st, 1);
        fputs(note ? note : "", f);
        r = finish(f, name, reterr);
    }
    (void)sqlite3_finalize(st);
    return r;
}

/* The key history: from which size each key signs, with the endorsements of each rotation. */
static int export_keys(struct audit_store *s, const char *dir, struct barra_error *reterr)
{
    FILE *f = create(dir, "keys.jsonl", reterr);
    if (f == NULL) {
        return reterr ? reterr->code : -BARRA_EIO;
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT from_size, verifier_key, endorsement FROM keys ORDER BY "
                                "from_size",
                                -1, &st, NULL);
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *endorsement = (const char *)sqlite3_column_text(st, 2);
        /* Keys and endorsements are ASCII (base64 and fixed names): written as they are. */
        fprintf(f, "{\"from_size\":%lld,\"verifier_key\":\"%s\",\"endorsement\":%s}\n",
                sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                endorsement ? endorsement : "null");
    }
    (void)sqlite3_finalize(st);
    return finish(f, "keys.jsonl", reterr);
}

/* Leaf hashes of entries pruned away: the tree still needs them. */
static int export_pruned(struct audit_store *s, const char *dir, uint64_t min_index,
                         struct barra_error *reterr)
{
    FILE *f = create(dir, "pruned-leaves.txt", reterr);
    if (f == NULL) {
        return reterr ? reterr->code : -BARRA_EIO;
    }
    for (uint64_t i = 0; i < min_index; i++) {
        uint8_t h[MERKLE_HASH];
        if (audit_store_node(s, 0, i, h) < 0) {
            (void)fclose(f);
            return barra_error_set(reterr, -BARRA_EIO, "leaf hash %llu is missing",
                                   (unsigned long long)i);
        }
        hex(f, h, MERKLE_HASH);
        fputc('\n', f);
    }
    return finish(f, "pruned-leaves.txt", reterr);
}

BARRA_EXPORT int barra_audit_export(barra_audit_t *log, const char *outdir,
                                    struct barra_error *reterr)
{
    if (log == NULL || outdir == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no log or folder");
    }
    if (mkdir(outdir, 0755) < 0) {
        return barra_error_set(reterr, -errno, "cannot create \"%s\" (it must not exist): %s",
                               outdir, strerror(errno));
    }
    char *key = NULL, *min = NULL;
    int r = barra_audit_verifier_key(log, &key, reterr);
    pthread_mutex_lock(&log->db_lock);
    if (r == 0) {
        FILE *f = create(outdir, "verifier.key", reterr);
        if (f) {
            fprintf(f, "%s\n", key);
        }
        r = f ? finish(f, "verifier.key", reterr) : -BARRA_EIO;
    }
    uint64_t min_index = 0;
    if (r == 0 && audit_store_meta_get(&log->store, "min_index", &min) == 0 && min) {
        min_index = strtoull(min, NULL, 10);
    }
    if (r == 0) {
        r = export_entries(&log->store, outdir, reterr);
    }
    if (r == 0) {
        r = export_checkpoints(&log->store, outdir, reterr);
    }
    if (r == 0) {
        r = export_pruned(&log->store, outdir, min_index, reterr);
    }
    if (r == 0) {
        r = export_keys(&log->store, outdir, reterr);
    }
    pthread_mutex_unlock(&log->db_lock);
    barra_free(key);
    barra_free(min);
    return r;
}
