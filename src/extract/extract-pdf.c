/* SPDX-License-Identifier: Apache-2.0 */
/* PDF through poppler-glib: the text of each page ("page 3"), in reading order as poppler lays it
 * out. Chinese text needs poppler-data's character maps (installed with Barra). Pages beyond
 * max_pages are not read; an encrypted document is reported as such. */
#include "config.h"

#include <poppler.h>
#include <string.h>

#include "core/error.h"
#include "extract/extract-int.h"

#include "core/banned.h"

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
        if (text && text[0]) {
            char where[32];
            (void)snprintf(where, sizeof(where), "page %d", i + 1);
            (void)ex_emit(c, path, where, text, strlen(text));
        }
        g_free(text);
        if (page) {
            g_object_unref(page);
        }
    }
    g_object_unref(doc);
    return c->stop;
}
