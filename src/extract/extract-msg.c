/* SPDX-License-Identifier: Apache-2.0 */
/* Outlook messages (.msg): an OLE2 compound file whose streams are MAPI properties, read with
 * libgsf. The sender, recipients and subject ("headers"), the plain-text body ("body"), and each
 * attachment's data, extracted in its turn under its file name ("mail.msg/report.docx").
 * Properties come as UTF-16 (type 001F) or 8-bit (001E) strings, attachments as binary (0102). */
#include "config.h"

#include <gsf/gsf-infile.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/utf8.h"
#include "extract/extract-ole.h"

#include "core/banned.h"

enum { MAX_ATTACHMENTS = 1000 };

/* A string property (id like "0037") as UTF-8, appended to out. */
static bool string_prop(GsfInfile *dir, const char *id, uint64_t max, struct buf *out)
{
    char name[40];
    struct buf raw;
    buf_init(&raw, max);
    (void)snprintf(name, sizeof(name), "__substg1.0_%s001F", id);
    bool ok = ex_ole_stream(dir, name, max, &raw);
    if (ok) {
        ex_utf16le((const uint8_t *)(raw.data ? raw.data : ""), raw.len, true, out);
    } else {
        (void)snprintf(name, sizeof(name), "__substg1.0_%s001E", id);
        buf_clear(&raw);
        ok = ex_ole_stream(dir, name, max, &raw);
        if (ok && utf8_is_valid(raw.data ? raw.data : "", raw.len)) {
            (void)buf_append(out, raw.data ? raw.data : "",
                             strnlen(raw.data ? raw.data : "", raw.len));
        }
    }
    buf_done(&raw);
    return ok;
}

int ex_msg(struct ex_ctx *c, GsfInfile *msg, const char *path)
{
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
        if (string_prop(msg, heads[i].id, max, &text)) {
            (void)buf_append_char(&text, '\n');
        } else {
            text.len = before;
        }
    }
    if (!text.err && text.len) {
        (void)ex_emit(c, path, "headers", text.data, text.len);
    }
    buf_clear(&text);
    if (string_prop(msg, "1000", max, &text) && !text.err && text.len) {
        (void)ex_emit(c, path, "body", text.data, text.len);
    }
    for (int i = 0; i < MAX_ATTACHMENTS && !ex_stopped(c); i++) {
        char dir[64];
        (void)snprintf(dir, sizeof(dir), "__attach_version1.0_#%08X", i);
        GsfInput *a = gsf_infile_child_by_name(msg, dir);
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
        if (ex_ole_stream(GSF_INFILE(a), "__substg1.0_37010102", max, &data)) {
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
    return c->stop;
}
