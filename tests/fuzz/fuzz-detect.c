/* SPDX-License-Identifier: Apache-2.0 */
/* The classifier on arbitrary bytes: scanned whole, then streamed in two pieces cut where the first
 * byte says; both must succeed and agree (the window logic must not depend on the cut). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <barra/detect.h>

static barra_detector_t *det;
static barra_scanner_t *scanner;

struct tally {
    uint64_t n, sum;
};

static int count(const struct barra_finding *f, void *ud)
{
    struct tally *t = ud;
    t->n++;
    t->sum += f->start * 31 + f->end + f->line;
    if (f->end <= f->start || f->value_len != f->end - f->start) {
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct barra_error err;
    if (det == NULL) {
        struct barra_detector_options o;
        barra_detector_options_init(&o);
        o.reference_date = 20261123;
        if (barra_detector_new(&o, &det, &err) < 0 ||
            barra_scanner_new(det, BARRA_SCAN_LINES | BARRA_SCAN_CHECK_UTF8, &scanner, &err) < 0) {
            abort();
        }
    }
    struct tally whole = {0}, parts = {0};
    if (barra_scanner_scan(scanner, (const char *)data, size, (const char *)data,
                           size < 16 ? size : 16, count, &whole) < 0) {
        abort();
    }
    /* Without the label the two must agree exactly. */
    whole = (struct tally){0};
    if (barra_scanner_scan(scanner, (const char *)data, size, NULL, 0, count, &whole) < 0) {
        abort();
    }
    size_t cut = size ? data[0] % (size + 1) : 0;
    if (barra_scanner_feed(scanner, (const char *)data, cut, count, &parts) < 0 ||
        barra_scanner_feed(scanner, (const char *)data + cut, size - cut, count, &parts) < 0 ||
        barra_scanner_finish(scanner, count, &parts) < 0) {
        abort();
    }
    if (whole.n != parts.n || whole.sum != parts.sum) {
        abort();
    }
    return 0;
}
