/* SPDX-License-Identifier: Apache-2.0 */
/* A small RFC 6455 WebSocket client over TLS (OpenSSL) for DingTalk's Stream mode: Debian's libcurl
 * is built without WebSocket support. One connection, one thread at a time (thread-compatible, not
 * thread-safe): a client is used by the thread that owns it, and different clients need no locks.
 *
 * TLS is 1.2 or newer, and the server's certificate is always verified: against the system's
 * trusted roots plus, when given, a CA file, and for the URL's host name (or IP address, for a
 * literal). There is no switch to turn it off.
 *
 * Writes block SIGPIPE for the calling thread while they run, so a connection the server dropped
 * is an error and not a signal, whether or not the process ignores SIGPIPE. */
#ifndef BARRA_CONNECT_WS_CLIENT_H
#define BARRA_CONNECT_WS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <barra/error.h>

#include "connect/ws-frame.h"

struct ws_client;

/* Connects to `url`, wss://host[:port][/path][?query] (host a name, an IPv4 literal or an [IPv6]
 * literal; no user info, no fragment), and performs the opening handshake, all within timeout_ms
 * (> 0; name resolution through getaddrinfo has only the resolver's own timeouts). ws:// is taken
 * only for a loopback literal (127.0.0.0/8 or [::1]): it is for tests, since in the clear a
 * Stream connection's ticket and every event would be readable on the network, and on loopback
 * nothing leaves the machine. ca_file (PEM, optional) adds trusted roots to the system's. The
 * timeout also bounds each later send. On success *ret is owned: close it with ws_close().
 * Errors: -BARRA_EINVAL for a bad URL or arguments; -BARRA_EIO for resolution, connection, TLS
 * and certificate failures and the timeout (the message says which); the handshake's
 * -BARRA_EFORMAT / -BARRA_ELIMIT (see ws_parse_upgrade), with reterr->line set to the HTTP status
 * when the server answered one (401 for a refused ticket); -BARRA_ENOMEM. */
int ws_connect(const char *url, const char *ca_file, int timeout_ms, struct ws_client **ret,
               struct barra_error *reterr);

/* Send one message (never fragmented); text must be valid UTF-8, ping and pong payloads at most
 * 125 bytes. Each returns 0, or a negative code: -BARRA_EINVAL for bad arguments, -BARRA_ECANCELED
 * when the connection failed before or the client sent a close, -BARRA_EIO on a write error or
 * when the send takes longer than ws_connect's timeout. A failed send leaves the connection
 * unusable (a frame may be half written): close it. */
int ws_send_text(struct ws_client *c, const char *text, size_t len, struct barra_error *reterr);
int ws_send_ping(struct ws_client *c, const void *payload, size_t len, struct barra_error *reterr);
int ws_send_pong(struct ws_client *c, const void *payload, size_t len, struct barra_error *reterr);
/* Starts the closing handshake with `code` (1000-4999 but not 1004-1006 or 1015) and an optional
 * UTF-8 reason (at most 123 bytes); ws_recv() then returns the server's close. Sending anything
 * after it is an error. */
int ws_send_close(struct ws_client *c, uint16_t code, const char *reason,
                  struct barra_error *reterr);

/* Waits up to timeout_ms (< 0: without limit, 0: only what has already arrived) for a message.
 * Returns 1 with *msg (its data borrowed until the next ws_recv or ws_close), 0 on timeout, or a
 * negative code.
 *
 * - Text, binary and pong messages are returned. DingTalk's own keepalive is a text message
 *   (topic "ping") that the caller answers; a WebSocket pong answers a ws_send_ping().
 * - WebSocket pings are answered with a pong carrying the same payload, and not returned: RFC 6455
 *   §5.5.2 requires the answer, and the caller has nothing to decide.
 * - A close from the server is answered with a close echoing its code (unless the client already
 *   sent one) and returned once as WS_OP_CLOSE with its code and reason; afterwards every call
 *   returns -BARRA_ECANCELED.
 * - A protocol violation by the server (-BARRA_EFORMAT, -BARRA_EILSEQ, -BARRA_ELIMIT, see
 *   ws_decode) is answered with a close of the matching code, and the connection is failed.
 * - -BARRA_EIO when the connection breaks or ends without a close frame. */
int ws_recv(struct ws_client *c, int timeout_ms, struct ws_message *msg,
            struct barra_error *reterr);

/* Sends a close (1000) if none was sent and the connection still works, without waiting for the
 * answer (the send itself may take up to ws_connect's timeout on a stalled connection), shuts TLS
 * down and frees everything. NULL does nothing. */
void ws_close(struct ws_client *c);

#endif
