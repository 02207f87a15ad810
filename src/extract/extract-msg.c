/* SPDX-License-Identifier: Apache-2.0 */
/* Outlook messages (.msg): an OLE2 compound file whose streams are MAPI properties, read with
 * libgsf. The sender, recipients and subject ("headers"), the plain-text body ("body"), and each
 * attachment's data, extracted in its turn under its file name ("mail.msg/report.docx").
 * Properties come as UTF-16 (type 001F) or 8-bit (001E) strings, attachments as binary (0102). */
#include "config.h"

#include <gsf/gsf-infile-msole.h>
#include <gsf/gsf-infile.h>
#include <gsf/gsf-input-memory.h>
#include <gsf/gsf-utils.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/utf8.h"
#include "extract/extract-int.h"

#include "core/banned.h"

enum { MAX_ATTACHMENTS = 1000 };

/* The bytes of a child stream, at most `max`, or false. */
static bool read_stream(GsfInfile *dir, const char *name, uint64_t max, struct buf *out)
{
    GsfInput *in = gsf_infile_child_by_name(dir, name);
    if (in == NULL) {
        return false;
    }
    gsf_off_t size = gsf_input_size(in);
    bool ok = size >= 0 && (uint64_t)size <= max;
    const guint8 *data = ok && size > 0 ? gsf_input_read(in, (size_t)size, NULL) : NULL;
    if (ok && size > 0) {
        ok = data != NULL && buf_append(out, data, (size_t)size) == 0;
    }
    g_object_unref(in);
    return ok;
}

/* A string property (id like "0037") as UTF-8, appended to out. */
static bool string_prop(GsfInfile *dir, const char *id, uint64_t max, struct buf *out)
{
    char name[40];
    struct buf raw;
    buf_init(&raw, max);
    (void)snprintf(name, sizeof(name), "__substg1.0_%s001F", id);
    bool ok = read_stream(dir, name, max, &raw);
    if (ok) { /* UTF-16LE */
        const uint8_t *p = (const uint8_t *)(raw.data ? raw.data : "");
        for (size_t i = 0; i + 1 < raw.len; i += 2) {
            uint32_t cp = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < raw.len) {
                uint32_t lo = (uint32_t)p[i + 2] | (uint32_t)p[i + 3] << 8;
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 2;
                }
            }
            if (cp == 0) {
                break;
            }
            char enc[4];
            size_t k =
                cp >= 0xD800 && cp <= 0xDFFF ? utf8_encode(0xFFFD, enc) : utf8_encode(cp, enc);
            (void)buf_append(out, enc, k);
        }
    } else {
        (void)snprintf(name, sizeof(name), "__substg1.0_%s001E", id);
        buf_clear(&raw);
        ok = read_stream(dir, name, max, &raw);
        if (ok && utf8_is_valid(raw.data ? raw.data : "", raw.len)) {
            (void)buf_append(out, raw.data ? raw.data : "",
                             strnlen(raw.data ? raw.data : "", raw.len));
        }
    }
    buf_done(&raw);
    return ok;
}

bool ex_is_msg(const uint8_t *d, size_t n)
{
    static const char name[] = "_\0_\0s\0u\0b\0s\0t\0g\0"
                               "1\0.\0"
                               "0\0_\0";
    return memmem(d, n, name, sizeof(name) - 1) != NULL;
}

int ex_msg(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path)
{
    gsf_init();
    GsfInput *mem = gsf_input_memory_new(d, (gsf_off_t)n, FALSE);
    GError *err = NULL;
    GsfInfile *msg = mem ? gsf_infile_msole_new(mem, &err) : NULL;
    if (msg == NULL) {
        ex_notef(c, path, EX_NOTE_CORRUPT, "not a readable Outlook message%s%s", err ? ": " : "",
                 err ? err->message : "");
        if (err) {
            g_error_free(err);
        }
        if (mem) {
            g_object_unref(mem);
        }
        return 0;
    }
    uint64_t max = c->lim->max_file;
    struct buf text;
    buf_init(&text, max * 2 + 4096);
    static const struct {
        const char *id, *label;
    } heads[] = {
        {"0C1A", "From"}, {"0C1F", "From"}, {"0E04", "To"}, {"0E03", "Cc"}, {"0037", "Subject"}};
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        size_t before = text.len;
        (void)buf_printf(&text, "%s: ", heads[i].label);
        if (string_prop(GSF_INFILE(msg), heads[i].id, max, &text)) {
            (void)buf_append_char(&text, '\n');
        } else {
            text.len = before;
        }
    }
    if (!text.err && text.len) {
        (void)ex_emit(c, path, "headers", text.data, text.len);
    }
    buf_clear(&text);
    if (string_prop(GSF_INFILE(msg), "1000", max, &text) && !text.err && text.len) {
        (void)ex_emit(c, path, "body", text.data, text.len);
    }
    for (int i = 0; i < MAX_ATTACHMENTS && !ex_stopped(c); i++) {
        char dir[64];
        (void)snprintf(dir, sizeof(dir), "__attach_version1.0_#%08X", i);
        GsfInput *a = gsf_infile_child_by_name(GSF_INFILE(msg), dir);
        if (a == NULL || !GSF_IS_INFILE(a)) {
            if (a) {
                g_object_unref(a);
            }
            break;
        }
        struct buf name, data;
        buf_init(&name, 4096);
        buf_init(&data, max);
        if (!string_prop(GSF_INFILE(a), "3707", 4096, &name) &&
            !string_prop(GSF_INFILE(a), "3704", 4096, &name)) {
            (void)buf_printf(&name, "attachment-%d", i + 1);
        }
        char apath[4096];
        (void)snprintf(apath, sizeof(apath), "%s/%s", path, name.data ? name.data : "");
        if (read_stream(GSF_INFILE(a), "__substg1.0_37010102", max, &data)) {
            (void)ex_dispatch(c, (const uint8_t *)(data.data ? data.data : ""), data.len, apath);
        } else {
            ex_notef(c, apath, EX_NOTE_UNSUPPORTED,
                     "an attachment that is not a file (an "
                     "embedded message or object)");
        }
        buf_done(&name);
        buf_done(&data);
        g_object_unref(a);
    }
    buf_done(&text);
    g_object_unref(msg);
    g_object_unref(mem);
    return c->stop;
}
