/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's activity-event readers on arbitrary bytes: JSON (POST /v1/activity, JSON Lines),
 * an RFC 5424 syslog message, Squid and nginx access-log lines, and, split at commas as a CSV row
 * under a fixed header, named fields. An accepted event has its required fields and a time; a
 * refused one says why. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/utf8.h"
#include "monitor/monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int r, struct mon_event *ev, const struct barra_error *err)
{
    if (r == 0) {
        if (ev == NULL || ev->f[MF_ACTOR] == NULL || ev->f[MF_ACTION] == NULL ||
            !utf8_is_valid(ev->f[MF_ACTOR], strlen(ev->f[MF_ACTOR])) || ev->ref[0] == '\0') {
            abort();
        }
        barra_free(ev);
    } else if (r != -BARRA_ENOMEM && err->message[0] == '\0') {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16) {
        return 0;
    }
    struct mon_event *ev = NULL;
    struct barra_error err = {0};
    int r = mon_event_from_json((const char *)data, size, "fuzz:1", &ev, &err);
    check(r, ev, &err);
    ev = NULL;
    memset(&err, 0, sizeof(err));
    r = mon_event_from_syslog((const char *)data, size, "fuzz:3", &ev, &err);
    check(r, ev, &err);
    ev = NULL;
    memset(&err, 0, sizeof(err));
    r = mon_event_from_squid((const char *)data, size, "fuzz:4", &ev, &err);
    check(r, ev, &err);
    ev = NULL;
    memset(&err, 0, sizeof(err));
    r = mon_event_from_nginx((const char *)data, size, "fuzz:5", &ev, &err);
    check(r, ev, &err);
    char *row = barra_malloc(size + 1);
    if (row == NULL) {
        return 0;
    }
    memcpy(row, data, size);
    row[size] = '\0';
    static const char *const names[] = {"time",  "actor", "action", "resource",
                                        "count", "bytes", "ip",     "destination_region"};
    const char *values[8] = {0};
    size_t n = 0;
    for (char *p = row, *comma; n < 8 && p; p = comma ? comma + 1 : NULL) {
        comma = strchr(p, ',');
        if (comma) {
            *comma = '\0';
        }
        values[n++] = p;
    }
    ev = NULL;
    memset(&err, 0, sizeof(err));
    r = mon_event_from_fields(names, values, n, "fuzz:2", &ev, &err);
    check(r, ev, &err);
    barra_free(row);
    return 0;
}
