/* SPDX-License-Identifier: Apache-2.0 */
/* Images (PNG, JPEG, TIFF, GIF, BMP, WebP) through OCR: leptonica decodes, Tesseract reads with
 * Debian's Traditional Chinese, Simplified Chinese and English models, finding the page's
 * orientation first (the orientation model straightens photos turned by 90, 180 or 270 degrees;
 * small tilts are corrected by Tesseract's own deskewing). The image's size is read from its
 * header and refused above max_pixels before anything is decoded. Debian's models are the small
 * "fast" ones: a clean scan reads well, a noisy photo less so (docs/files.md). */
#include "config.h"

#include <leptonica/allheaders.h>
#include <stdlib.h>
#include <string.h>
#include <tesseract/capi.h>

#include "core/error.h"
#include "extract/extract-int.h"

#include "core/banned.h"

static TessBaseAPI *ocr;
static bool ocr_tried;

void ex_ocr_warm_up(void)
{
    if (ocr_tried) {
        return;
    }
    ocr_tried = true;
    setenv("OMP_THREAD_LIMIT", "1", 1);    /* one thread: the worker is single-threaded */
    (void)setMsgSeverity(L_SEVERITY_NONE); /* leptonica's complaints go nowhere useful */
    ocr = TessBaseAPICreate();
    if (ocr && TessBaseAPIInit3(ocr, NULL, "chi_tra+chi_sim+eng") != 0) {
        TessBaseAPIDelete(ocr);
        ocr = NULL;
    }
    if (ocr) {
        TessBaseAPISetPageSegMode(ocr, PSM_AUTO_OSD);
        /* images rarely say their resolution; 300 dpi is what scans are made at */
        (void)TessBaseAPISetVariable(ocr, "user_defined_dpi", "300");
    }
}

bool ex_is_image(const uint8_t *d, size_t n)
{
    static const struct {
        const char *sig;
        size_t len;
    } sigs[] = {{"\x89PNG\r\n\x1a\n", 8},
                {"\xff\xd8\xff", 3},
                {"II*\0", 4},
                {"MM\0*", 4},
                {"GIF87a", 6},
                {"GIF89a", 6},
                {"BM", 2}};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (n >= sigs[i].len && memcmp(d, sigs[i].sig, sigs[i].len) == 0) {
            return true;
        }
    }
    return n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0;
}

/* Reads pix and hands the text on at `where`. */
static int recognise(struct ex_ctx *c, PIX *pix, const char *path, const char *where)
{
    TessBaseAPISetImage2(ocr, pix);
    char *text = TessBaseAPIGetUTF8Text(ocr);
    if (text && text[0]) {
        (void)ex_emit(c, path, where, text, strlen(text));
    }
    TessDeleteText(text);
    TessBaseAPIClear(ocr);
    return c->stop;
}

int ex_ocr_rgb(struct ex_ctx *c, const uint32_t *argb, int w, int h, int stride, const char *path,
               const char *where)
{
    ex_ocr_warm_up();
    if (ocr == NULL) {
        ex_notef(c, path, EX_NOTE_UNSUPPORTED,
                 "%s is a picture, and the OCR models are not "
                 "installed",
                 where);
        return 0;
    }
    PIX *pix = pixCreate(w, h, 32);
    if (pix == NULL) {
        return c->stop = -BARRA_ENOMEM;
    }
    l_uint32 *data = pixGetData(pix);
    l_int32 wpl = pixGetWpl(pix);
    for (int y = 0; y < h; y++) {
        const uint32_t *row =
            (const uint32_t *)((const uint8_t *)argb + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++) { /* 0xAARRGGBB to leptonica's 0xRRGGBBAA */
            data[(size_t)y * (size_t)wpl + (size_t)x] = (row[x] & 0xffffffu) << 8;
        }
    }
    (void)pixSetResolution(pix, 200, 200);
    int r = recognise(c, pix, path, where);
    pixDestroy(&pix);
    return r;
}

int ex_image(struct ex_ctx *c, const uint8_t *d, size_t n, const char *path)
{
    /* The size first: the models are large, and a picture too big is not read at all. */
    l_int32 format = 0, w = 0, h = 0, bps = 0, spp = 0, cmap = 0;
    if (pixReadHeaderMem(d, n, &format, &w, &h, &bps, &spp, &cmap) != 0 || w <= 0 || h <= 0) {
        ex_notef(c, path, EX_NOTE_CORRUPT, "an image whose header cannot be read");
        return 0;
    }
    if ((uint64_t)w * (uint64_t)h > c->lim->max_pixels) {
        ex_notef(c, path, EX_NOTE_LIMIT, "an image of %d x %d pixels, more than the %llu allowed",
                 w, h, (unsigned long long)c->lim->max_pixels);
        return 0;
    }
    ex_ocr_warm_up();
    if (ocr == NULL) {
        ex_notef(c, path, EX_NOTE_UNSUPPORTED,
                 "an image, and the OCR models (tesseract-ocr-chi-tra, -chi-sim, -eng) are not "
                 "installed");
        return 0;
    }
    PIX *pix = pixReadMem(d, n);
    if (pix == NULL) {
        ex_notef(c, path, EX_NOTE_CORRUPT, "an image that cannot be decoded");
        return 0;
    }
    int r = recognise(c, pix, path, "OCR");
    pixDestroy(&pix);
    return r;
}
