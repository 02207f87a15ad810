/* SPDX-License-Identifier: Apache-2.0 */
/* The DingTalk connector inside the gateway (docs/dingtalk.md). Events arrive by HTTP push
 * (api-dingtalk.c) or Stream mode (dingtalk-stream.c); each is stored before it is acknowledged
 * (its body encrypted in the vault, de-duplicated by its eventId) and processed by a worker
 * thread, again after a restart if need be. Robot messages are decided and recorded on arrival,
 * since DingTalk never redelivers them. Approvals are the consent and upload gate
 * (dingtalk-approval.c); Exclusive DingTalk's file-send check and file audit are in
 * dingtalk-files.c; alerts go to a group through the custom robot. */
#ifndef BARRA_SERVER_DINGTALK_H
#define BARRA_SERVER_DINGTALK_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <barra/error.h>

#include "connect/dingtalk/api.h"
#include "connect/dingtalk/robot-alerts.h"
#include "server/server.h"

struct dt_pending; /* an event waiting for the worker */

struct gw_dingtalk {
    struct gw *gw;
    const struct gw_dingtalk_config *c;
    struct dt_api *api;       /* NULL without a client secret */
    struct dt_alerts *alerts; /* NULL without alerts */
    pthread_mutex_t lock;     /* guards the queue and stopping */
    pthread_cond_t cond;
    struct dt_pending *queue;
    bool stopping;
    pthread_t worker, poller, stream;
    bool has_worker, has_poller, has_stream;
    atomic_uint_fast64_t events_stored, events_processed, events_failed, robot_messages,
        activity_events, stream_connects;
    atomic_bool stream_up;
};

int gw_dingtalk_start(struct gw *gw, struct barra_error *reterr);
/* Stops the threads; events not yet processed stay stored for the next start. */
void gw_dingtalk_stop(struct gw *gw);

/* Stores an event (its JSON fields at the top level) for processing. 0 when stored now, 1 when it
 * was seen before (acknowledge it again), negative when it could not be stored (do not
 * acknowledge: DingTalk will deliver it again). */
int gw_dingtalk_accept(struct gw_dingtalk *dt, const char *event_id, const char *type,
                       const char *json, size_t len, struct barra_error *reterr);
/* Decides about a robot message (JSON of DingTalk's robot callback), records the decision, and
 * answers the sender through the session webhook. 0 once recorded. */
int gw_dingtalk_robot_message(struct gw_dingtalk *dt, const char *json, size_t len,
                              struct barra_error *reterr);
/* Queues a notice for the alert group (when alerts are configured). */
void gw_dingtalk_notify(struct gw_dingtalk *dt, const char *title, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes the connector's counters in the Prometheus text format. */
void gw_dingtalk_metrics(struct gw_dingtalk *dt, struct buf *b);

/* What processing an event gives: done, or worth another try later (DingTalk unreachable). */
enum { DT_DONE = 0, DT_RETRY = 1 };

/* Calls DingTalk's API (path below api_base) with an optional JSON body and parses the answer:
 * 0 with *ret (owned), DT_RETRY when no answer came or DingTalk failed (5xx, 429), a negative code
 * when it refused. */
int dt_call(struct gw_dingtalk *dt, const char *method, const char *path, json_t *body,
            json_t **ret);
/* Downloads a file DingTalk handed out and appends its text (extract-upload.h) to text after a
 * newline: -BARRA_EFORMAT when it cannot be read whole, -BARRA_EIO when it could not be fetched.
 * At most the configuration's max_file bytes. */
int dt_fetch_text(struct gw_dingtalk *dt, const char *url, struct buf *text);

/* The handlers (dingtalk-approval.c, dingtalk-files.c); each returns DT_DONE, DT_RETRY or a
 * negative code for an event that can never be processed. */
int dt_approval_event(struct gw_dingtalk *dt, const char *json, size_t len);
int dt_file_check_event(struct gw_dingtalk *dt, const char *json, size_t len);
/* The file-audit poller's thread body (dingtalk-files.c). */
void *dt_file_audit_thread(void *arg);
/* The Stream mode client's thread body (dingtalk-stream.c). */
void *dt_stream_thread(void *arg);

/* Sleeps until `ms` pass or the connector stops; returns false when stopping. */
bool dt_sleep(struct gw_dingtalk *dt, int64_t ms);

#endif
