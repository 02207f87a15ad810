/* SPDX-License-Identifier: Apache-2.0 */
/* OLE2 compound files: the container of .msg, .xls and .doc (and .ppt, not read). libgsf reads the
 * container; the streams inside are told apart by name. */
#include "config.h"

#include "extract/extract-ole.h"

#include <gsf/gsf-infile-msole.h>
#include <gsf/gsf-infile.h>
#include <gsf/gsf-input-memory.h>
#include <gsf/gsf-utils.h>
#include <string.h>

#include "core/utf8.h"

#include "core/banned.h"

bool ex_ole_stream(GsfInfile *dir, const char *name, uint64_t max, struct buf *out)
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

void ex_utf16le(const uint8_t *p, size_t n, bool nul_ends, struct buf *out)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        uint32_t cp = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < n) {
            uint32_t lo = (uint32_t)p[i + 2] | (uint32_t)p[i + 3] << 8;
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            }
        }
        if (cp == 0 && nul_ends) {
            return;
        }
        char enc[4];
        size_t k = utf8_encode(cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp, enc);
        (void)buf_append(out, enc, k);
    }
}

uint32_t ex_cp1252(uint8_t b)
{
    /* 0x80–0x9F differ from Latin-1; the five unassigned ones stay as their C1 controls. */
    static const uint16_t high[32] = {
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};
    return b >= 0x80 && b <= 0x9F ? high[b - 0x80] : b;
}

static bool has_child(GsfInfile *ole, const char *name)
{
    GsfInput *in = gsf_infile_child_by_name(ole, name);
    if (in) {
        g_object_unref(in);
    }
    return in != NULL;
}

/* Outlook keeps every MAPI property in a stream named "__substg1.0_<id><type>". */
static bool is_msg(GsfInfile *ole)
{
    int n = gsf_infile_num_children(ole);
    for (int i = 0; i < n; i++) {
        const char *name = gsf_infile_name_by_index(ole, i);
        if (name && strncmp(name, "__substg1.0_", 12) == 0) {
            return true;
        }
    }
    return false;
}

/* Reads a document's main stream whole and hands it to its reader. */
static int
main_stream(struct ex_ctx *c, GsfInfile *ole, const char *name, const char *what, const char *path,
            int (*reader)(struct ex_ctx *, GsfInfile *, const uint8_t *, size_t, const char *))
{
    struct buf data;
    buf_init(&data, c->lim->max_file);
    int r = 0;
    if (!ex_ole_stream(ole, name, c->lim->max_file, &data)) {
        ex_notef(c, path, EX_NOTE_CORRUPT, "the %s stream could not be read", what);
    } else {
        r = reader(c, ole, (const uint8_t *)(data.data ? data.data : ""), data.len, path);
    }
    buf_done(&data);
    return r;
}

int ex_ole(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path)
{
    gsf_init();
    GsfInput *mem = gsf_input_memory_new(d, (gsf_off_t)n, FALSE);
    GError *err = NULL;
    GsfInfile *ole = mem ? gsf_infile_msole_new(mem, &err) : NULL;
    if (ole == NULL) {
        ex_notef(c, path, EX_NOTE_CORRUPT, "not a readable OLE2 compound file%s%s", err ? ": " : "",
                 err ? err->message : "");
        if (err) {
            g_error_free(err);
        }
        if (mem) {
            g_object_unref(mem);
        }
        return 0;
    }
    int r = 0;
    if (is_msg(ole)) {
        r = ex_msg(c, ole, path);
    } else if (has_child(ole, "Workbook")) {
        r = main_stream(c, ole, "Workbook", "Excel workbook", path, ex_xls);
    } else if (has_child(ole, "WordDocument")) {
        r = main_stream(c, ole, "WordDocument", "Word document", path, ex_doc);
    } else if (has_child(ole, "Book")) {
        ex_notef(c, path, EX_NOTE_UNSUPPORTED,
                 "an Excel 5.0/95 workbook: save it as .xlsx or Excel 97–2003 .xls");
    } else if (has_child(ole, "PowerPoint Document")) {
        ex_notef(c, path, EX_NOTE_UNSUPPORTED, "a legacy PowerPoint file: save it as .pptx");
    } else {
        ex_notef(c, path, EX_NOTE_UNSUPPORTED, "an OLE2 compound file of an unknown kind");
    }
    g_object_unref(ole);
    g_object_unref(mem);
    return r;
}
