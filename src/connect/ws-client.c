/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "connect/ws-client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/utf8.h"

#include "core/banned.h"

/* A sent frame's buffer bigger than this is freed after the send (see WS_KEEP_BUFFER). */
#define WS_OUT_KEEP ((size_t)64 * 1024)

struct ws_client {
    int fd;
    SSL_CTX *ctx; /* NULL for ws:// */
    SSL *ssl;
    int timeout_ms;  /* for each send */
    bool open;       /* the handshake succeeded */
    bool failed;     /* an I/O or protocol error: nothing more can be sent or received */
    bool close_sent; /* the client sent a close frame */
    bool close_received;
    struct ws_decoder dec;
    struct buf out;          /* the frame being sent */
    size_t in_pos, in_len;   /* in[in_pos..in_len) is read and not yet decoded */
    uint8_t in[WS_MAX_HEAD]; /* as large as a handshake head may be */
};

/* The parts of a ws:// or wss:// URL. */
struct ws_url {
    bool tls;
    bool ip;        /* the host is an IP literal */
    char host[256]; /* without brackets: what getaddrinfo, SNI and the name check get */
    char port[6];
    char authority[270]; /* the Host header: host (bracketed for IPv6) and a non-default port */
    const char *target;  /* path and query, borrowed from the URL; may be empty or start with '?' */
    size_t target_len;
};

/* ---- SIGPIPE ---- */

/* A write to a socket the peer has closed raises SIGPIPE, and OpenSSL writes with write(2). While
 * the guard is up the signal stays blocked for this thread; one it raised is taken off the pending
 * set before the old mask comes back. */
struct sigpipe_guard {
    sigset_t old;
    bool was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
    sigset_t pipe_set, pending;
    (void)sigemptyset(&pipe_set);
    (void)sigaddset(&pipe_set, SIGPIPE);
    (void)sigemptyset(&pending);
    (void)sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
    (void)pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old);
}

static void sigpipe_restore(const struct sigpipe_guard *g)
{
    sigset_t pipe_set, pending;
    (void)sigemptyset(&pipe_set);
    (void)sigaddset(&pipe_set, SIGPIPE);
    (void)sigemptyset(&pending);
    (void)sigpending(&pending);
    if (!g->was_pending && sigismember(&pending, SIGPIPE) == 1) {
        const struct timespec zero = {0, 0};
        (void)sigtimedwait(&pipe_set, NULL, &zero);
    }
    (void)pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- Time and waiting ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A deadline timeout_ms from now; -1 (none) for a negative timeout. */
static int64_t deadline_in(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int wait = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            wait = left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, wait);
        if (n > 0) {
            return 1; /* errors and hang-ups too: the next read or write reports them */
        }
        if (n == 0) {
            return 0;
        }
        if (errno != EINTR) {
            return -errno;
        }
    }
}

static const char *errno_text(int e)
{
    const char *s = strerrordesc_np(e);
    return s ? s : "unknown error";
}

/* The first error OpenSSL queued for this thread, as text. */
static const char *tls_text(char *out, size_t size)
{
    unsigned long e = ERR_get_error();
    if (e == 0) {
        return "no detail";
    }
    ERR_error_string_n(e, out, size);
    return out;
}

/* ---- URL ---- */

static bool is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* Splits host[:port] (host possibly a bracketed IPv6 literal) from a[0..n) into u. */
static int parse_authority(const char *a, size_t n, struct ws_url *u, struct barra_error *reterr)
{
    const char *host = a, *port = NULL;
    size_t hlen = n;
    if (n > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (close == NULL) {
            return barra_error_set(reterr, -BARRA_EINVAL, "WebSocket URL: an unclosed '['");
        }
        host = a + 1;
        hlen = (size_t)(close - host);
        if (close + 1 < a + n) {
            if (close[1] != ':') {
                return barra_error_set(reterr, -BARRA_EINVAL, "WebSocket URL: a bad authority");
            }
            port = close + 2;
        }
    } else {
        const char *colon = memchr(a, ':', n);
        if (colon) {
            hlen = (size_t)(colon - a);
            port = colon + 1;
        }
    }
    if (hlen == 0 || hlen >= sizeof(u->host)) {
        return barra_error_set(reterr, -BARRA_EINVAL, "WebSocket URL: no host or a too long one");
    }
    memcpy(u->host, host, hlen);
    u->host[hlen] = '\0';
    bool bracketed = host != a;
    struct in6_addr a6;
    struct in_addr a4;
    if (bracketed ? inet_pton(AF_INET6, u->host, &a6) != 1
                  : strspn(u->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789.-_") != hlen) {
        return barra_error_set(reterr, -BARRA_EINVAL, "WebSocket URL: a bad host");
    }
    u->ip = bracketed || inet_pton(AF_INET, u->host, &a4) == 1;
    unsigned long pnum = u->tls ? 443 : 80;
    if (port) {
        size_t plen = (size_t)(a + n - port);
        if (plen == 0 || plen > 5 || strspn(port, "0123456789") < plen) {
            return barra_error_set(reterr, -BARRA_EINVAL, "WebSocket URL: a bad port");
        }
        pnum = 0;
        for (size_t i = 0; i < plen; i++) {
            pnum = pnum * 10 + (unsigned long)(port[i] - '0');
        }
        if (pnum == 0 || pnum > 65535) {
            return barra_error_set(reterr, -BARRA_EINVAL, "WebSocket URL: a bad port");
        }
    }
    (void)snprintf(u->port, sizeof(u->port), "%lu", pnum);
    bool default_port = pnum == (u->tls ? 443u : 80u);
    (void)snprintf(u->authority, sizeof(u->authority), "%s%s%s%s%s", bracketed ? "[" : "", u->host,
                   bracketed ? "]" : "", default_port ? "" : ":", default_port ? "" : u->port);
    return 0;
}

static int parse_url(const char *url, struct ws_url *u, struct barra_error *reterr)
{
    memset(u, 0, sizeof(*u));
    const char *p;
    if (strncasecmp(url, "wss://", 6) == 0) {
        u->tls = true;
        p = url + 6;
    } else if (strncasecmp(url, "ws://", 5) == 0) {
        p = url + 5;
    } else {
        return barra_error_set(reterr, -BARRA_EINVAL, "WebSocket URL: not ws:// or wss://");
    }
    size_t alen = strcspn(p, "/?#");
    if (memchr(p, '@', alen) != NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "WebSocket URL: user info is not allowed");
    }
    int r = parse_authority(p, alen, u, reterr);
    if (r < 0) {
        return r;
    }
    u->target = p + alen;
    u->target_len = strlen(u->target);
    for (size_t i = 0; i < u->target_len; i++) {
        unsigned char c = (unsigned char)u->target[i];
        if (c <= 0x20 || c >= 0x7F || c == '#') {
            return barra_error_set(
                reterr, -BARRA_EINVAL,
                "WebSocket URL: a fragment, space or non-ASCII byte in the path");
        }
    }
    if (!u->tls && !is_loopback(u->host)) {
        return barra_error_set(reterr, -BARRA_EINVAL,
                               "WebSocket URL: ws:// (no TLS) is only for loopback addresses");
    }
    return 0;
}

/* ---- Transport ---- */

static int tcp_connect(struct ws_client *c, const struct ws_url *u, int64_t deadline,
                       struct barra_error *reterr)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | (u->ip ? AI_NUMERICHOST : 0)};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(u->host, u->port, &hints, &res);
    if (g != 0) {
        return barra_error_set(reterr, -BARRA_EIO, "WebSocket: cannot resolve \"%s\": %s", u->host,
                               g == EAI_SYSTEM ? errno_text(errno) : gai_strerror(g));
    }
    int err = ECONNREFUSED;
    bool timed_out = false;
    for (const struct addrinfo *ai = res; ai && c->fd < 0 && !timed_out; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int e = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
        if (e == EINPROGRESS) {
            int w = wait_fd(fd, POLLOUT, deadline);
            socklen_t elen = sizeof(e);
            if (w == 0) {
                timed_out = true;
                e = ETIMEDOUT;
            } else if (w < 0) {
                e = -w;
            } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0) {
                e = errno;
            }
        }
        if (e == 0) {
            c->fd = fd;
        } else {
            err = e;
            (void)close(fd);
        }
    }
    freeaddrinfo(res);
    if (c->fd < 0) {
        return barra_error_set(reterr, -BARRA_EIO, "WebSocket: cannot connect to %s port %s: %s",
                               u->host, u->port, errno_text(err));
    }
    int one = 1; /* frames are small and each is written whole: no Nagle delay */
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return 0;
}

/* Which way an SSL call that did not finish wants to wait, or 0 for a real error. */
static short tls_want(const struct ws_client *c, int ret)
{
    int e = SSL_get_error(c->ssl, ret);
    return (short)(e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0);
}

static int tls_start(struct ws_client *c, const struct ws_url *u, const char *ca_file,
                     int64_t deadline, struct barra_error *reterr)
{
    char detail[256];
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "WebSocket: cannot set up TLS");
    }
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    (void)SSL_CTX_set_options(c->ctx, SSL_OP_NO_RENEGOTIATION);
    /* Read ahead: fewer reads, and records often wait inside OpenSSL where poll() cannot see them
     * (conn_read calls SSL_read before every poll; the burst test depends on it). */
    SSL_CTX_set_read_ahead(c->ctx, 1);
    if (SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
        return barra_error_set(reterr, -BARRA_EIO, "WebSocket: cannot set up TLS: %s",
                               tls_text(detail, sizeof(detail)));
    }
    if (ca_file && SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1) {
        return barra_error_set(reterr, -BARRA_EIO, "WebSocket: cannot load the CA file \"%s\": %s",
                               ca_file, tls_text(detail, sizeof(detail)));
    }
    c->ssl = SSL_new(c->ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "WebSocket: cannot set up TLS");
    }
    SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    /* SNI carries names only (RFC 6066 §3); an IP literal is checked against the IP SANs. */
    bool named = u->ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), u->host) == 1
                       : SSL_set_tlsext_host_name(c->ssl, u->host) == 1 &&
                             SSL_set1_host(c->ssl, u->host) == 1;
    if (!named) {
        return barra_error_set(reterr, -BARRA_EIO, "WebSocket: cannot set the TLS peer name");
    }
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(c->ssl);
        if (r == 1) {
            return 0;
        }
        short want = tls_want(c, r);
        if (want == 0) {
            break;
        }
        int w = wait_fd(c->fd, want, deadline);
        if (w <= 0) {
            return barra_error_set(reterr, -BARRA_EIO, "WebSocket: TLS handshake with %s: %s",
                                   u->host, w == 0 ? "timed out" : errno_text(-w));
        }
    }
    long v = SSL_get_verify_result(c->ssl);
    if (v != X509_V_OK) {
        return barra_error_set(reterr, -BARRA_EIO,
                               "WebSocket: the certificate of %s does not verify: %s", u->host,
                               X509_verify_cert_error_string(v));
    }
    return barra_error_set(reterr, -BARRA_EIO, "WebSocket: TLS handshake with %s failed: %s",
                           u->host, tls_text(detail, sizeof(detail)));
}

/* Reads what is available into in[in_len..): 1 read something, 0 the deadline passed, or an
 * error. SSL_read is tried before every poll, so records OpenSSL already holds are never missed. */
static int conn_read(struct ws_client *c, int64_t deadline, struct barra_error *reterr)
{
    char detail[256];
    for (;;) {
        short want = POLLIN;
        size_t n = 0;
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_read_ex(c->ssl, c->in + c->in_len, sizeof(c->in) - c->in_len, &n);
            if (r == 1) {
                c->in_len += n;
                return 1;
            }
            want = tls_want(c, r);
            if (want == 0) {
                bool eof = SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN;
                return barra_error_set(reterr, -BARRA_EIO, "WebSocket: the connection %s",
                                       eof ? "was closed without a close frame"
                                           : tls_text(detail, sizeof(detail)));
            }
        } else {
            ssize_t k = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
            if (k > 0) {
                c->in_len += (size_t)k;
                return 1;
            }
            if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                return barra_error_set(reterr, -BARRA_EIO, "WebSocket: the connection %s",
                                       k == 0 ? "was closed without a close frame"
                                              : errno_text(errno));
            }
        }
        int w = wait_fd(c->fd, want, deadline);
        if (w < 0) {
            return barra_error_set(reterr, -BARRA_EIO, "WebSocket: %s", errno_text(-w));
        }
        if (w == 0) {
            return 0;
        }
    }
}

static int conn_write(struct ws_client *c, const void *data, size_t len, int64_t deadline,
                      struct barra_error *reterr)
{
    char detail[256];
    const uint8_t *p = data;
    size_t off = 0;
    while (off < len) {
        short want = POLLOUT;
        if (c->ssl) {
            size_t n = 0;
            ERR_clear_error();
            /* After WANT_* the same call is repeated with the same arguments, as OpenSSL asks. */
            int r = SSL_write_ex(c->ssl, p + off, len - off, &n);
            if (r == 1) {
                off += n;
                continue;
            }
            want = tls_want(c, r);
            if (want == 0) {
                return barra_error_set(reterr, -BARRA_EIO, "WebSocket: cannot send: %s",
                                       tls_text(detail, sizeof(detail)));
            }
        } else {
            ssize_t k = send(c->fd, p + off, len - off, MSG_NOSIGNAL);
            if (k >= 0) {
                off += (size_t)k;
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                return barra_error_set(reterr, -BARRA_EIO, "WebSocket: cannot send: %s",
                                       errno_text(errno));
            }
        }
        int w = wait_fd(c->fd, want, deadline);
        if (w <= 0) {
            return barra_error_set(reterr, -BARRA_EIO, "WebSocket: cannot send: %s",
                                   w == 0 ? "timed out" : errno_text(-w));
        }
    }
    return 0;
}

/* ---- The opening handshake ---- */

static int handshake(struct ws_client *c, const struct ws_url *u, int64_t deadline,
                     struct barra_error *reterr)
{
    char key[WS_KEY_CHARS + 1];
    if (ws_client_key(key) < 0) {
        return barra_error_set(reterr, -BARRA_EIO, "WebSocket: no random bytes for the key");
    }
    bool slash = u->target_len == 0 || u->target[0] != '/';
    buf_clear(&c->out);
    (void)buf_printf(
        &c->out,
        "GET %s%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
        slash ? "/" : "", u->target, u->authority, key);
    if (c->out.err < 0) {
        return barra_error_set(reterr, c->out.err, "WebSocket: the request is too large");
    }
    int r = conn_write(c, c->out.data, c->out.len, deadline, reterr);
    while (r == 0) {
        size_t consumed = 0;
        int status = 0;
        r = ws_parse_upgrade((const char *)c->in, c->in_len, key, &consumed, &status, reterr);
        if (r == 0) {
            c->in_pos = consumed;
            break;
        }
        if (r < 0) {
            if (reterr && status) {
                reterr->line = (uint32_t)status;
            }
            break;
        }
        r = conn_read(c, deadline, reterr);
        if (r == 0) {
            r = barra_error_set(reterr, -BARRA_EIO, "WebSocket: the handshake with %s timed out",
                                u->host);
        } else if (r > 0) {
            r = 0;
        }
    }
    buf_done(&c->out); /* the request held the ticket */
    return r;
}

static void client_free(struct ws_client *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
    }
    SSL_CTX_free(c->ctx);
    if (c->fd >= 0) {
        (void)close(c->fd);
    }
    ws_decoder_done(&c->dec);
    buf_done(&c->out);
    explicit_bzero(c->in, sizeof(c->in));
    barra_free(c);
}

int ws_connect(const char *url, const char *ca_file, int timeout_ms, struct ws_client **ret,
               struct barra_error *reterr)
{
    if (url == NULL || ret == NULL || timeout_ms <= 0) {
        return barra_error_set(reterr, -BARRA_EINVAL, "WebSocket: bad arguments");
    }
    struct ws_url u;
    int r = parse_url(url, &u, reterr);
    if (r < 0) {
        return r;
    }
    struct ws_client *c = barra_calloc(1, sizeof(*c));
    if (c == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    c->fd = -1;
    c->timeout_ms = timeout_ms;
    ws_decoder_init(&c->dec, 0);
    buf_init(&c->out, WS_DEFAULT_MAX_MESSAGE + 14);
    struct sigpipe_guard g;
    sigpipe_block(&g);
    int64_t deadline = deadline_in(timeout_ms);
    r = tcp_connect(c, &u, deadline, reterr);
    if (r == 0 && u.tls) {
        r = tls_start(c, &u, ca_file, deadline, reterr);
    }
    if (r == 0) {
        r = handshake(c, &u, deadline, reterr);
    }
    sigpipe_restore(&g);
    if (r < 0) {
        c->failed = true; /* no TLS shutdown on a half-made connection */
        client_free(c);
        return r;
    }
    c->open = true;
    *ret = c;
    return 0;
}

/* ---- Messages ---- */

static int send_frame(struct ws_client *c, int opcode, const void *payload, size_t len,
                      struct barra_error *reterr)
{
    if (c->failed || c->close_sent) {
        return barra_error_set(reterr, -BARRA_ECANCELED, "WebSocket: the connection is %s",
                               c->failed ? "broken" : "closing");
    }
    buf_clear(&c->out);
    int r = ws_encode(&c->out, opcode, payload, len);
    if (r < 0) {
        return barra_error_set(reterr, r, "WebSocket: cannot send this message (%s)",
                               r == -BARRA_EINVAL ? "too long or not UTF-8" : "no memory");
    }
    r = conn_write(c, c->out.data, c->out.len, deadline_in(c->timeout_ms), reterr);
    if (c->out.cap > WS_OUT_KEEP) {
        buf_done(&c->out);
    }
    if (r < 0) {
        c->failed = true;
    } else if (opcode == WS_OP_CLOSE) {
        c->close_sent = true;
    }
    return r;
}

static int send_guarded(struct ws_client *c, int opcode, const void *payload, size_t len,
                        struct barra_error *reterr)
{
    if (c == NULL || (len > 0 && payload == NULL)) {
        return barra_error_set(reterr, -BARRA_EINVAL, "WebSocket: bad arguments");
    }
    struct sigpipe_guard g;
    sigpipe_block(&g);
    int r = send_frame(c, opcode, payload, len, reterr);
    sigpipe_restore(&g);
    return r;
}

int ws_send_text(struct ws_client *c, const char *text, size_t len, struct barra_error *reterr)
{
    return send_guarded(c, WS_OP_TEXT, text, len, reterr);
}

int ws_send_ping(struct ws_client *c, const void *payload, size_t len, struct barra_error *reterr)
{
    return send_guarded(c, WS_OP_PING, payload, len, reterr);
}

int ws_send_pong(struct ws_client *c, const void *payload, size_t len, struct barra_error *reterr)
{
    return send_guarded(c, WS_OP_PONG, payload, len, reterr);
}

static int close_payload(uint16_t code, const char *reason, uint8_t out[WS_MAX_CONTROL],
                         size_t *ret_len)
{
    size_t rlen = reason ? strnlen(reason, WS_MAX_CONTROL) : 0;
    bool code_ok = code >= 1000 && code <= 4999 && (code < 1004 || code > 1006) && code != 1015;
    if (!code_ok || rlen > WS_MAX_CONTROL - 2) {
        return -BARRA_EINVAL;
    }
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    if (rlen) {
        memcpy(out + 2, reason, rlen);
    }
    *ret_len = rlen + 2;
    return 0;
}

int ws_send_close(struct ws_client *c, uint16_t code, const char *reason,
                  struct barra_error *reterr)
{
    uint8_t payload[WS_MAX_CONTROL];
    size_t len = 0;
    if (close_payload(code, reason, payload, &len) < 0 ||
        !utf8_is_valid((const char *)payload + 2, len - 2)) {
        return barra_error_set(reterr, -BARRA_EINVAL, "WebSocket: a bad close code or reason");
    }
    return send_guarded(c, WS_OP_CLOSE, payload, len, reterr);
}

/* What ws_recv does with a decoded message: 1 return it, 0 go on reading, or an error. */
static int on_message(struct ws_client *c, const struct ws_message *m, struct barra_error *reterr)
{
    if (m->opcode == WS_OP_PING) {
        return c->close_sent ? 0 : send_frame(c, WS_OP_PONG, m->data, m->len, reterr);
    }
    if (m->opcode == WS_OP_CLOSE) {
        c->close_received = true;
        if (!c->close_sent) {
            uint8_t echo[2] = {(uint8_t)(m->close_code >> 8), (uint8_t)m->close_code};
            bool has_code = m->close_code != WS_CLOSE_NO_STATUS;
            (void)send_frame(c, WS_OP_CLOSE, echo, has_code ? 2 : 0, NULL);
        }
    }
    return 1;
}

/* Decodes from in[in_pos..in_len): 1 a message for the caller, 0 go on reading, or an error
 * (answered with a close of the matching code). */
static int decode_some(struct ws_client *c, struct ws_message *msg, struct barra_error *reterr)
{
    size_t used = 0;
    int r = ws_decode(&c->dec, c->in + c->in_pos, c->in_len - c->in_pos, &used, msg, reterr);
    c->in_pos += used;
    if (r < 0) {
        if (!c->close_sent) {
            uint16_t code = ws_close_code_for(r);
            uint8_t payload[2] = {(uint8_t)(code >> 8), (uint8_t)code};
            (void)send_frame(c, WS_OP_CLOSE, payload, 2, NULL);
        }
        c->failed = true;
        return r;
    }
    return r == 1 ? on_message(c, msg, reterr) : 0;
}

int ws_recv(struct ws_client *c, int timeout_ms, struct ws_message *msg, struct barra_error *reterr)
{
    if (c == NULL || msg == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "WebSocket: bad arguments");
    }
    if (c->failed || c->close_received) {
        return barra_error_set(reterr, -BARRA_ECANCELED, "WebSocket: the connection is %s",
                               c->failed ? "broken" : "closed");
    }
    struct sigpipe_guard g;
    sigpipe_block(&g);
    int64_t deadline = deadline_in(timeout_ms);
    int r = 0;
    for (;;) {
        if (c->in_pos < c->in_len) {
            r = decode_some(c, msg, reterr);
            if (r != 0) {
                break;
            }
            continue;
        }
        c->in_pos = c->in_len = 0;
        r = conn_read(c, deadline, reterr);
        if (r <= 0) {
            c->failed = r < 0;
            break;
        }
    }
    sigpipe_restore(&g);
    return r;
}

void ws_close(struct ws_client *c)
{
    if (c == NULL) {
        return;
    }
    struct sigpipe_guard g;
    sigpipe_block(&g);
    if (c->open && !c->failed && !c->close_sent && !c->close_received) {
        uint8_t payload[2] = {WS_CLOSE_NORMAL >> 8, WS_CLOSE_NORMAL & 0xFF};
        (void)send_frame(c, WS_OP_CLOSE, payload, 2, NULL);
    }
    if (c->ssl && c->open && !c->failed) {
        (void)SSL_shutdown(c->ssl); /* one try: sends close_notify, does not wait for the answer */
    }
    client_free(c);
    sigpipe_restore(&g);
}
