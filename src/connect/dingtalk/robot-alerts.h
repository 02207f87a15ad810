/* SPDX-License-Identifier: Apache-2.0 */
/* Alerts and notices to a DingTalk group through its custom robot, signed (robot-sign.h). DingTalk
 * throttles a robot that posts more than 20 messages a minute (for ten minutes), so notices are
 * queued and sent by one thread within the configured rate; whatever waits when a message may go
 * is merged into one Markdown digest. Nothing is dropped silently: a notice waits until DingTalk
 * took it, and beyond the queue's bound notices are counted into the next digest. */
#ifndef BARRA_CONNECT_DINGTALK_ROBOT_ALERTS_H
#define BARRA_CONNECT_DINGTALK_ROBOT_ALERTS_H

#include <stdint.h>

#include <barra/error.h>

struct dt_alerts;

struct dt_alerts_stats {
    uint64_t messages_sent; /* messages DingTalk accepted */
    uint64_t notices_sent;  /* notices in them */
    uint64_t pending;       /* notices waiting */
    uint64_t overflowed;    /* notices beyond the queue's bound, counted into a digest */
    uint64_t failures;      /* attempts DingTalk refused or that got no answer */
};

/* Starts the sender. webhook is the robot's URL with its access_token; secret its "SEC..." key. */
int dt_alerts_start(const char *webhook, const char *secret, const char *ca_file,
                    uint32_t per_minute, struct dt_alerts **ret, struct barra_error *reterr);
/* Queues a notice (title: one line; text: Markdown). Never blocks on the network. */
int dt_alerts_post(struct dt_alerts *a, const char *title, const char *text);
void dt_alerts_stats(struct dt_alerts *a, struct dt_alerts_stats *ret);
/* Stops, giving what waits up to `grace_ms` to be sent; says in the log how many were not. */
void dt_alerts_stop(struct dt_alerts *a, int grace_ms);

#endif
