/* SPDX-License-Identifier: Apache-2.0 */
/* Stream mode (docs/dingtalk.md, "Stream mode"): register with the app's credentials for an
 * endpoint and a single-use ticket, hold a WebSocket to it, answer DingTalk's pings, acknowledge
 * events once they are stored (LATER when they could not be: DingTalk then delivers again),
 * decide robot messages on arrival, and reconnect with a new ticket when DingTalk says
 * "disconnect" or the connection drops: at once after a disconnect, otherwise after 1 s doubling
 * to 60 s, with jitter so that several gateways do not return together. */
#include "config.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <barra/version.h>

#include "connect/dingtalk/stream-frame.h"
#include "connect/ws-client.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "server/dingtalk.h"

#include "core/banned.h"

#define ROBOT_TOPIC "/v1.0/im/bot/messages/get"

enum session_end { END_RECONNECT_NOW, END_FAILED, END_STOPPING };

/* Asks for an endpoint and ticket; writes "endpoint?ticket=..." into url. */
static int open_connection(struct gw_dingtalk *dt, char *url, size_t size)
{
    const struct gw_dingtalk_config *c = dt->c;
    char ua[64];
    (void)snprintf(ua, sizeof(ua), "barra/%d.%d.%d", BARRA_VERSION_MAJOR, BARRA_VERSION_MINOR,
                   BARRA_VERSION_PATCH);
    json_t *body =
        json_pack("{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}], s:s}", "clientId", c->client_id,
                  "clientSecret", c->client_secret, "subscriptions", "type", "EVENT", "topic", "*",
                  "type", "CALLBACK", "topic", ROBOT_TOPIC, "ua", ua);
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (s == NULL) {
        return -BARRA_ENOMEM;
    }
    char reg[512];
    (void)snprintf(reg, sizeof(reg), "%s/v1.0/gateway/connections/open", c->api_base);
    struct buf answer;
    buf_init(&answer, 1 << 16);
    long status = 0;
    struct barra_error err;
    int r = dt_http_post(reg, c->ca_file, s, &answer, &status, &err);
    explicit_bzero(s, strlen(s));
    free(s);
    json_t *j = r == 0 ? json_loadb(answer.data ? answer.data : "", answer.len, 0, NULL) : NULL;
    buf_done(&answer);
    const char *endpoint = json_string_value(json_object_get(j, "endpoint"));
    const char *ticket = json_string_value(json_object_get(j, "ticket"));
    if (r < 0) {
        dt_log("stream: registration: %s", err.message);
    } else if (status != 200 || endpoint == NULL || ticket == NULL ||
               strspn(ticket, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
                   strlen(ticket) ||
               strncmp(endpoint, "wss://", 6) != 0) {
        dt_log("stream: registration refused (HTTP %ld): check client_id and client_secret_file",
               status);
        r = -BARRA_EIO;
    } else if ((size_t)snprintf(url, size, "%s%cticket=%s", endpoint,
                                strchr(endpoint, '?') ? '&' : '?', ticket) >= size) {
        r = -BARRA_EINVAL;
    }
    json_decref(j);
    return r;
}

/* Sends an acknowledgement: `data` is itself a JSON text, sent as a string. */
static int ack(struct ws_client *ws, int code, const char *message_id, const char *data)
{
    json_t *a = json_pack("{s:i, s:{s:s, s:s}, s:s, s:s}", "code", code, "headers", "contentType",
                          "application/json", "messageId", message_id, "message",
                          code == 200 ? "OK" : "LATER", "data", data);
    char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (s == NULL) {
        return -BARRA_ENOMEM;
    }
    struct barra_error err;
    int r = ws_send_text(ws, s, strlen(s), &err);
    free(s);
    if (r < 0) {
        dt_log("stream: an acknowledgement was not sent: %s", err.message);
    }
    return r;
}

/* Handles one frame; returns 0 to go on, 1 when DingTalk asked to reconnect, negative to end. */
static int on_frame(struct gw_dingtalk *dt, struct ws_client *ws, const char *text, size_t len)
{
    struct dt_frame f;
    struct barra_error err;
    int r = dt_frame_parse(text, len, &f, &err);
    if (r < 0) {
        dt_log("stream: a frame was ignored: %s", err.message);
        dt_frame_done(&f);
        return r == -BARRA_ENOMEM ? r : 0;
    }
    if (f.type == DT_FRAME_SYSTEM && strcmp(f.topic, "ping") == 0) {
        r = ack(ws, 200, f.message_id ? f.message_id : "", f.data ? f.data : "{}");
    } else if (f.type == DT_FRAME_SYSTEM && strcmp(f.topic, "disconnect") == 0) {
        r = 1;
    } else if (f.type == DT_FRAME_EVENT) {
        int s =
            gw_dingtalk_accept(dt, f.event_id ? f.event_id : f.message_id,
                               f.event_type ? f.event_type : "unknown", f.data, f.data_len, &err);
        if (s < 0) {
            dt_log("stream: event not stored, asking DingTalk to deliver it later: %s",
                   err.message);
        }
        r = ack(ws, s < 0 ? 500 : 200, f.message_id,
                s < 0 ? "{\"status\":\"LATER\",\"message\":\"not stored\"}"
                      : "{\"status\":\"SUCCESS\",\"message\":\"\"}");
    } else if (f.type == DT_FRAME_CALLBACK) {
        if (strcmp(f.topic, ROBOT_TOPIC) == 0 &&
            gw_dingtalk_robot_message(dt, f.data, f.data_len, &err) < 0) {
            dt_log("stream: a robot message was not decided: %s", err.message);
        }
        r = ack(ws, 200, f.message_id, "{\"response\":null}");
    }
    dt_frame_done(&f);
    return r;
}

static enum session_end session(struct gw_dingtalk *dt)
{
    char url[1200];
    struct ws_client *ws = NULL;
    struct barra_error err;
    if (open_connection(dt, url, sizeof(url)) < 0) {
        return END_FAILED;
    }
    int r = ws_connect(url, dt->c->ca_file, 10000, &ws, &err);
    explicit_bzero(url, sizeof(url));
    if (r < 0) {
        dt_log("stream: cannot connect: %s", err.message);
        return END_FAILED;
    }
    atomic_fetch_add(&dt->stream_connects, 1);
    atomic_store(&dt->stream_up, true);
    dt_log("stream: connected");
    enum session_end end = END_FAILED;
    int64_t last_heard = clock_mono_ms();
    bool pinged = false;
    for (;;) {
        pthread_mutex_lock(&dt->lock);
        bool stopping = dt->stopping;
        pthread_mutex_unlock(&dt->lock);
        if (stopping) {
            end = END_STOPPING;
            break;
        }
        struct ws_message m;
        r = ws_recv(ws, 500, &m, &err);
        int64_t now = clock_mono_ms();
        if (r < 0) {
            dt_log("stream: the connection ended: %s", err.message);
            break;
        }
        if (r == 0) {
            /* Quiet for a minute: a WebSocket ping; no answer within 10 s more: reconnect. */
            if (!pinged && now - last_heard > 60000) {
                pinged = ws_send_ping(ws, "barra", 5, &err) == 0;
            } else if (pinged && now - last_heard > 70000) {
                dt_log("stream: no answer to a ping; reconnecting");
                break;
            }
            continue;
        }
        last_heard = now;
        pinged = false;
        if (m.opcode == WS_OP_CLOSE) {
            dt_log("stream: DingTalk closed the connection (%u)", (unsigned)m.close_code);
            break;
        }
        if (m.opcode != WS_OP_TEXT) {
            continue;
        }
        r = on_frame(dt, ws, (const char *)m.data, m.len);
        if (r != 0) {
            end = r > 0 ? END_RECONNECT_NOW : END_FAILED;
            if (r > 0) {
                dt_log("stream: DingTalk asked to reconnect");
            }
            break;
        }
    }
    atomic_store(&dt->stream_up, false);
    ws_close(ws);
    return end;
}

void *dt_stream_thread(void *arg)
{
    struct gw_dingtalk *dt = arg;
    int64_t backoff = 1000;
    for (;;) {
        int64_t began = clock_mono_ms();
        enum session_end end = session(dt);
        if (end == END_STOPPING) {
            break;
        }
        if (end == END_RECONNECT_NOW) {
            backoff = 1000;
            continue;
        }
        if (clock_mono_ms() - began > 60000) { /* it was up for a while: start over */
            backoff = 1000;
        }
        uint8_t r = 0;
        (void)RAND_bytes(&r, 1);
        int64_t wait = backoff / 2 + (backoff / 2) * r / 255; /* half to all of the backoff */
        if (backoff == 1000) { /* once an outage, not at every attempt */
            gw_dingtalk_notify(dt, "Barra: DingTalk Stream connection lost",
                               "Reconnecting with a growing delay; the serve log says why.");
        }
        if (!dt_sleep(dt, wait)) {
            break;
        }
        backoff = backoff * 2 > 60000 ? 60000 : backoff * 2;
    }
    return NULL;
}
