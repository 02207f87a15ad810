/* SPDX-License-Identifier: Apache-2.0 */
/* What the parts of `barra monitor` share: its options, reading event files, the test cases. */
#ifndef BARRA_CLI_MONITOR_INPUT_H
#define BARRA_CLI_MONITOR_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/monitor.h"

struct monitor_args {
    const char *rules, *calendar, *state, *input_format, *geoip;
    int format; /* 0 json, 1 ecs, 2 ocsf, 3 cef */
    int64_t lateness_ms;
    size_t max_keys;
    bool verbose;
};

/* Loads the calendar (--calendar or RULES/calendar/default.yaml) and the rules; prints errors.
 * Returns 0 or an exit status. */
int monitor_load(const struct monitor_args *a, const char *rules, struct mon_calendar **cal,
                 struct mon_rules **rs);
/* What monitor_load opened, closed. */
void monitor_unload(struct mon_calendar *cal, struct mon_rules *rs);
/* Pushes every event of a JSON Lines, CSV, Squid or nginx file ("-": standard input) into the
 * engine; each rejected event is reported (file:line: why) and counted. Returns 0 or an exit
 * status. */
int monitor_read_events(const struct monitor_args *a, const char *path, struct mon_engine *e,
                        uint64_t *rejected);
/* `barra monitor test RULES CASES...` */
int monitor_test(const struct monitor_args *a, const char *rules, int n, char **cases);

#endif
