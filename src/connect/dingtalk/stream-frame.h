/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the JSON frames DingTalk sends over a Stream mode WebSocket (docs/dingtalk.md, "Stream
 * mode"): {"specVersion", "type": SYSTEM|EVENT|CALLBACK, "headers": {...}, "data": "<JSON text>"}.
 * Read leniently where DingTalk's own examples vary (a missing messageId on ping and disconnect,
 * "header" for "headers", a missing specVersion) and strictly elsewhere: the frame is one JSON
 * object, header values and data are strings, and data is itself a JSON object. */
#ifndef BARRA_CONNECT_DINGTALK_STREAM_FRAME_H
#define BARRA_CONNECT_DINGTALK_STREAM_FRAME_H

#include <stddef.h>

#include <barra/error.h>

#include "core/jsonr.h"

enum dt_frame_type { DT_FRAME_SYSTEM, DT_FRAME_EVENT, DT_FRAME_CALLBACK };

struct dt_frame {
    enum dt_frame_type type;
    const char *topic;      /* "ping", "disconnect", "/v1.0/im/bot/messages/get", "*", ... */
    const char *message_id; /* NULL when absent (DingTalk's ping and disconnect examples) */
    const char *event_id;   /* EVENT: the event's id, else NULL */
    const char *event_type; /* EVENT: "bpms_instance_change", ..., else NULL */
    const char *data;       /* the data field: a JSON object's text (NUL-terminated), or NULL */
    size_t data_len;
    struct jr_doc doc; /* holds the strings above */
};

/* Reads one frame. On success the strings borrow from f->doc: free it with dt_frame_done() (also
 * after a failure). -BARRA_EFORMAT says what is wrong with the frame. */
int dt_frame_parse(const char *text, size_t len, struct dt_frame *f, struct barra_error *reterr);
void dt_frame_done(struct dt_frame *f);

#endif
