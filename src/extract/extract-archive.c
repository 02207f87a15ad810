/* SPDX-License-Identifier: Apache-2.0 */
/* Archives through libarchive: ZIP, TAR, 7z, and single files compressed with gzip, bzip2 or xz.
 * Every member is read into memory and extracted in its turn, within the limits counted on the
 * bytes actually decompressed: a member above max_file, all members together above max_total, the
 * archive's decompressed bytes above max_ratio times its own size (zip bombs, members that
 * overlap), nesting deeper than max_depth (archives that contain themselves), more than
 * max_members members. A ZIP whose parts make an Office Open XML document is that document. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "extract/extract-int.h"

#include "core/banned.h"

struct parts {
    struct ex_part *v;
    size_t n, cap;
};

static void parts_free(struct parts *p)
{
    for (size_t i = 0; i < p->n; i++) {
        barra_free(p->v[i].name);
        barra_free(p->v[i].data);
    }
    barra_free(p->v);
}

/* The parts of an Office document are kept until the end; everything else is extracted at once. */
static bool office_part(const char *name)
{
    bool office_folder = strncmp(name, "word/", 5) == 0 || strncmp(name, "xl/", 3) == 0 ||
                         strncmp(name, "ppt/", 4) == 0;
    bool xml = strstr(name, ".xml") != NULL || strstr(name, ".rels") != NULL;
    return strcmp(name, "[Content_Types].xml") == 0 || (office_folder && xml);
}

/* Reads the current member into *ret (owned); false when a limit stopped it (noted). */
static bool read_member(struct ex_ctx *c, struct archive *a, const char *path, uint8_t **ret,
                        size_t *ret_len)
{
    size_t cap = 0, len = 0;
    uint8_t *buf = NULL;
    for (;;) {
        uint8_t chunk[65536];
        la_ssize_t got = archive_read_data(a, chunk, sizeof(chunk));
        if (got == 0) {
            break;
        }
        if (got < 0) {
            ex_notef(c, path, EX_NOTE_CORRUPT, "cannot be read: %s", archive_error_string(a));
            barra_free(buf);
            return false;
        }
        c->expanded += (uint64_t)got;
        if (len + (size_t)got > c->lim->max_file) {
            ex_notef(c, path, EX_NOTE_LIMIT, "decompresses to more than %llu bytes",
                     (unsigned long long)c->lim->max_file);
            barra_free(buf);
            return false;
        }
        if (c->expanded > c->lim->max_total ||
            c->expanded > (uint64_t)c->lim->max_ratio * (c->input ? c->input : 1) + (1u << 20)) {
            ex_notef(c, path, EX_NOTE_LIMIT,
                     "the archive decompresses to more than %u times its size or %llu bytes in "
                     "all (a zip bomb?): reading stopped",
                     c->lim->max_ratio, (unsigned long long)c->lim->max_total);
            c->halted = true;
            barra_free(buf);
            return false;
        }
        if (len + (size_t)got > cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            while (ncap < len + (size_t)got) {
                ncap *= 2;
            }
            uint8_t *nb = barra_reallocarray(buf, ncap, 1);
            if (nb == NULL) {
                barra_free(buf);
                c->stop = -BARRA_ENOMEM;
                return false;
            }
            buf = nb;
            cap = ncap;
        }
        memcpy(buf + len, chunk, (size_t)got);
        len += (size_t)got;
    }
    *ret = buf;
    *ret_len = len;
    return true;
}

static int keep_part(struct parts *p, const char *name, uint8_t *data, size_t len)
{
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 32;
        struct ex_part *nv = barra_reallocarray(p->v, ncap, sizeof(*nv));
        if (nv == NULL) {
            return -BARRA_ENOMEM;
        }
        p->v = nv;
        p->cap = ncap;
    }
    char *copy = barra_strdup(name);
    if (copy == NULL) {
        return -BARRA_ENOMEM;
    }
    p->v[p->n++] = (struct ex_part){.name = copy, .data = data, .len = len};
    return 0;
}

/* The path of a member: the archive's path, '/', the member's name (for a single compressed
 * file, the archive's path without its .gz/.bz2/.xz). */
static void member_path(char *out, size_t size, const char *path, const char *name, bool raw)
{
    if (raw) {
        (void)snprintf(out, size, "%s", path);
        char *dot = strrchr(out, '.');
        if (dot &&
            (strcmp(dot, ".gz") == 0 || strcmp(dot, ".bz2") == 0 || strcmp(dot, ".xz") == 0)) {
            *dot = '\0';
        }
        return;
    }
    (void)snprintf(out, size, "%s/%s", path, name);
}

int ex_archive(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path)
{
    if (c->depth >= c->lim->max_depth) {
        ex_notef(c, path, EX_NOTE_LIMIT, "archives nested more than %u deep", c->lim->max_depth);
        return 0;
    }
    struct archive *a = archive_read_new();
    if (a == NULL) {
        return c->stop = -BARRA_ENOMEM;
    }
    (void)archive_read_support_filter_all(a);
    (void)archive_read_support_format_all(a);
    (void)archive_read_support_format_raw(a); /* a single compressed file; bids lowest */
    if (archive_read_open_memory(a, d, n) != ARCHIVE_OK) {
        ex_notef(c, path, EX_NOTE_CORRUPT, "not a readable archive: %s", archive_error_string(a));
        archive_read_free(a);
        return 0;
    }
    c->depth++;
    struct parts parts = {0};
    uint32_t members = 0;
    struct archive_entry *e;
    int h;
    while (!ex_stopped(c) && (h = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
        if (h < ARCHIVE_WARN) {
            ex_notef(c, path, EX_NOTE_CORRUPT, "damaged: %s", archive_error_string(a));
            break;
        }
        if (++members > c->lim->max_members) {
            ex_notef(c, path, EX_NOTE_LIMIT, "more than %u members: the rest were not read",
                     c->lim->max_members);
            break;
        }
        const char *name = archive_entry_pathname_utf8(e);
        name = name ? name : archive_entry_pathname(e);
        name = name ? name : "data";
        bool raw = archive_format(a) == ARCHIVE_FORMAT_RAW;
        char mpath[4096];
        member_path(mpath, sizeof(mpath), path, name, raw);
        if (archive_entry_filetype(e) != AE_IFREG) {
            continue;
        }
        if (archive_entry_is_encrypted(e)) {
            ex_notef(c, mpath, EX_NOTE_ENCRYPTED, "an encrypted archive member");
            continue;
        }
        uint8_t *data = NULL;
        size_t len = 0;
        if (!read_member(c, a, mpath, &data, &len)) {
            continue;
        }
        if (!raw && office_part(name)) {
            if (keep_part(&parts, name, data, len) < 0) {
                barra_free(data);
                c->stop = -BARRA_ENOMEM;
            }
            continue;
        }
        (void)ex_dispatch(c, data, len, mpath);
        barra_free(data);
    }
    if (!ex_stopped(c)) {
        if (ex_ooxml_is_document(parts.v, parts.n)) {
            (void)ex_ooxml(c, parts.v, parts.n, path);
        } else {
            for (size_t i = 0; i < parts.n && !ex_stopped(c); i++) {
                char mpath[4096];
                member_path(mpath, sizeof(mpath), path, parts.v[i].name, false);
                (void)ex_dispatch(c, parts.v[i].data, parts.v[i].len, mpath);
            }
        }
    }
    parts_free(&parts);
    c->depth--;
    archive_read_free(a);
    return c->stop;
}
