/* SPDX-License-Identifier: Apache-2.0 */
/* The activity monitor inside the gateway (docs/monitor.md, docs/serve.md): activity events from
 * POST /v1/activity, syslog (RFC 5424 over TCP) and the DingTalk file audit are stored in the
 * store's `activity` namespace, fed from there in key order to the rule engine once a second, and
 * deleted only after the engine's state (which now counts them) has been saved. Alerts are stored
 * (`alerts` namespace), appended to the audit log and sent to the DingTalk alert robot. */
#ifndef BARRA_SERVER_ACTIVITY_H
#define BARRA_SERVER_ACTIVITY_H

#include <stddef.h>

#include <barra/error.h>

#include "core/buf.h"

struct gw;
struct mon_event;

/* Loads the rules and calendar, restores the engine's state from the data folder. Nothing
 * happens when the configuration has no monitor. */
int gw_monitor_open(struct gw *gw, struct barra_error *reterr);
/* Loads the rules, calendar and geo database of a configuration and says how many rules there
 * are (0 without a monitor): for --check-config. */
struct gw_config;
int gw_monitor_check(const struct gw_config *config, size_t *ret_rules, struct barra_error *reterr);
/* Starts the feeding thread and the syslog listener. */
int gw_monitor_start(struct gw *gw, struct barra_error *reterr);
/* Stops the threads, feeds what is stored, saves the state, frees everything. */
void gw_monitor_close(struct gw *gw);
/* Stores an event for the monitor; `via` ("api", "syslog") goes into its key. */
int gw_activity_store(struct gw *gw, const struct mon_event *ev, const char *via,
                      struct barra_error *reterr);
/* The syslog listener's bound port (0 when there is none). */
unsigned gw_monitor_syslog_port(struct gw *gw);
void gw_monitor_metrics(struct gw *gw, struct buf *b);

#endif
