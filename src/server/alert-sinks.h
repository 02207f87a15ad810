/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's alerts to a SIEM or a mailbox (docs/serve.md, "Activity monitor"): syslog
 * (RFC 5424 over TCP, or TLS as RFC 5425 frames it), a webhook signed as Standard Webhooks
 * specifies, and e-mail through SMTP. Each alert is formatted per destination and queued; one
 * thread sends, retrying with backoff, so that a destination that is down delays nothing else
 * and loses nothing within the queue's bound. */
#ifndef BARRA_SERVER_ALERT_SINKS_H
#define BARRA_SERVER_ALERT_SINKS_H

#include <barra/error.h>

#include "core/buf.h"
#include "server/gw-config.h"

struct alert_sinks;
struct mon_alert;

/* NULL (and 0) when the configuration names no destination. */
int alert_sinks_start(const struct gw_monitor_config *c, struct alert_sinks **ret,
                      struct barra_error *reterr);
void alert_sinks_post(struct alert_sinks *s, const struct mon_alert *a);
/* Gives what waits up to grace_ms, then stops. */
void alert_sinks_stop(struct alert_sinks *s, int grace_ms);
void alert_sinks_metrics(struct alert_sinks *s, struct buf *b);

#endif
