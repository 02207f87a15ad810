/* SPDX-License-Identifier: Apache-2.0 */
/* PDF through poppler-glib: the text of each page ("page 3"), in reading order as poppler lays it
 * out, and a page that holds (almost) no text — a scan — rendered at 200 dpi and read by OCR.
 * Chinese text needs poppler-data's character maps (installed with Barra). Pages beyond
 * max_pages are not read; an encrypted document is reported as such. */
#include "config.h"

#include <cairo.h>
#include <poppler.h>
#include <string.h>

#include "core/error.h"
#include "extract/extract-int.h"

#include "core/banned.h"

/* Fewer than 16 characters that are not white space: a page that is a picture (a scan). */
static bool nearly_empty(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p && n < 16; p++) {
        n += !(*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == '\f');
    }
    return n < 16;
}

/* Renders the page at 200 dpi on white and reads it by OCR. */
static int ocr_page(struct ex_ctx *c, PopplerPage *page, const char *path, const char *where)
{
    double pw = 0, ph = 0;
    poppler_page_get_size(page, &pw, &ph);
    const double scale = 200.0 / 72.0;
    double w = pw * scale, h = ph * scale;
    if (!(w >= 1 && h >= 1) || w * h > (double)c->lim->max_pixels) {
        ex_notef(c, path, EX_NOTE_LIMIT, "%s: a picture too large to read (%.0f x %.0f pixels)",
                 where, w, h);
        return 0;
    }
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)w, (int)h);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_scale(cr, scale, scale);
    poppler_page_render(page, cr);
    cairo_surface_flush(s);
    int r = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS
                ? ex_ocr_rgb(c, (const uint32_t *)(const void *)cairo_image_surface_get_data(s),
                             cairo_image_surface_get_width(s), cairo_image_surface_get_height(s),
                             cairo_image_surface_get_stride(s), path, where)
                : (c->stop = -BARRA_ENOMEM);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    return r;
}

int ex_pdf(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path)
{
    GBytes *bytes = g_bytes_new_static(d, n);
    GError *err = NULL;
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &err);
    g_bytes_unref(bytes);
    if (doc == NULL) {
        bool encrypted =
            err && err->domain == POPPLER_ERROR && err->code == POPPLER_ERROR_ENCRYPTED;
        ex_notef(c, path, encrypted ? EX_NOTE_ENCRYPTED : EX_NOTE_CORRUPT, "%s",
                 encrypted             ? "a password-protected PDF"
                 : err && err->message ? err->message
                                       : "not a readable PDF");
        if (err) {
            g_error_free(err);
        }
        return 0;
    }
    int pages = poppler_document_get_n_pages(doc);
    for (int i = 0; i < pages && !ex_stopped(c); i++) {
        if ((uint32_t)i >= c->lim->max_pages) {
            ex_notef(c, path, EX_NOTE_LIMIT, "more than %u pages: the rest were not read",
                     c->lim->max_pages);
            break;
        }
        PopplerPage *page = poppler_document_get_page(doc, i);
        char *text = page ? poppler_page_get_text(page) : NULL;
        char where[32];
        (void)snprintf(where, sizeof(where), "page %d", i + 1);
        if (text && !nearly_empty(text)) {
            (void)ex_emit(c, path, where, text, strlen(text));
        } else if (page) { /* a scanned page: its picture is read */
            (void)ocr_page(c, page, path, where);
        }
        g_free(text);
        if (page) {
            g_object_unref(page);
        }
    }
    g_object_unref(doc);
    return c->stop;
}
