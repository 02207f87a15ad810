/* SPDX-License-Identifier: Apache-2.0 */
/* The WebSocket client against a small WebSocket server in a thread of this test, on 127.0.0.1,
 * over TLS with a CA and certificates made here with OpenSSL (EC P-256): certificate and name
 * checks, the echo of text of every length class, pings answered without the caller, the server's
 * close, a protocol error answered with 1002, a refused upgrade, bursts of messages in few TLS
 * records (nothing OpenSSL buffers is missed), and timeouts. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "connect/ws-client.h"

#define TIMEOUT_MS 5000

/* ---- Certificates ---- */

static EVP_PKEY *ca_key, *server_key;
static X509 *ca_cert, *ip_cert, *other_cert, *localhost_cert;
static char ca_path[] = "/tmp/barra-test-ws-ca-XXXXXX";

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

/* A certificate for key, signed by issuer (NULL: self-signed CA). */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                       const char *san)
{
    static long serial = 1;
    X509 *x = X509_new();
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
    X509_NAME *name = X509_get_subject_name(x);
    assert_int_equal(
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0),
        1);
    assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name), 1);
    assert_int_equal(X509_set_pubkey(x, key), 1);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    if (issuer == NULL) {
        add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, &ctx, NID_basic_constraints, "CA:FALSE");
        add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature");
        add_ext(x, &ctx, NID_ext_key_usage, "serverAuth");
        add_ext(x, &ctx, NID_subject_alt_name, san);
    }
    assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return x;
}

static int make_pki(void **state)
{
    (void)state;
    ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    server_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(ca_key);
    assert_non_null(server_key);
    ca_cert = make_cert("Barra test CA", ca_key, NULL, NULL, NULL);
    ip_cert = make_cert("127.0.0.1", server_key, ca_cert, ca_key, "IP:127.0.0.1");
    other_cert = make_cert("other.example", server_key, ca_cert, ca_key, "DNS:other.example");
    localhost_cert = make_cert("localhost", server_key, ca_cert, ca_key, "DNS:localhost");
    int fd = mkstemp(ca_path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, ca_cert), 1);
    assert_int_equal(fclose(f), 0);
    return 0;
}

static int free_pki(void **state)
{
    (void)state;
    (void)unlink(ca_path);
    X509_free(ca_cert);
    X509_free(ip_cert);
    X509_free(other_cert);
    X509_free(localhost_cert);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(server_key);
    return 0;
}

/* ---- The server thread ---- */

enum scenario {
    SC_ECHO,     /* echo text and binary, answer pings, answer a close and stop */
    SC_PING,     /* ping the client, expect the pong, send "after ping", then echo */
    SC_CLOSE,    /* close with 1001 "going away", read the client's answer */
    SC_MASKED,   /* send a masked frame (forbidden), read the client's close */
    SC_BURST,    /* 101 and a burst of messages in one write, then echo */
    SC_REFUSE,   /* answer the upgrade with 401 */
    SC_BAD_HEAD, /* answer the upgrade with a wrong Sec-WebSocket-Accept */
    SC_DROP,     /* end the connection right after the upgrade, without a close frame */
};

#define BURST 24

struct server {
    int listen_fd, port;
    bool tls;
    X509 *cert;
    enum scenario sc;
    pthread_t thread;
    /* What the server saw. */
    bool tls_ok, upgraded, pong_ok;
    int close_code; /* of the client's close frame, -1 for none */
    char request_line[256], host[128], sni[64];
};

struct peer {
    int fd;
    SSL *ssl;
};

static bool peer_read(struct peer *p, void *buf, size_t n)
{
    uint8_t *b = buf;
    size_t got = 0;
    while (got < n) {
        if (p->ssl) {
            size_t k = 0;
            if (SSL_read_ex(p->ssl, b + got, n - got, &k) != 1) {
                return false;
            }
            got += k;
        } else {
            ssize_t k = recv(p->fd, b + got, n - got, 0);
            if (k <= 0) {
                return false;
            }
            got += (size_t)k;
        }
    }
    return true;
}

static bool peer_write(struct peer *p, const void *buf, size_t n)
{
    if (p->ssl) {
        size_t k = 0;
        return SSL_write_ex(p->ssl, buf, n, &k) == 1 && k == n;
    }
    return send(p->fd, buf, n, MSG_NOSIGNAL) == (ssize_t)n;
}

/* Appends a server frame (unmasked unless `mask`) to out at *len. */
static size_t put_frame(uint8_t *out, int b0, const void *payload, size_t n, bool mask)
{
    size_t h = 0;
    out[h++] = (uint8_t)b0;
    uint8_t m = mask ? 0x80 : 0;
    if (n < 126) {
        out[h++] = (uint8_t)(m | n);
    } else if (n <= 0xFFFF) {
        out[h++] = m | 126;
        out[h++] = (uint8_t)(n >> 8);
        out[h++] = (uint8_t)n;
    } else {
        out[h++] = m | 127;
        for (int s = 56; s >= 0; s -= 8) {
            out[h++] = (uint8_t)((uint64_t)n >> s);
        }
    }
    if (mask) {
        memcpy(out + h, "\x01\x02\x03\x04", 4);
        h += 4;
    }
    for (size_t i = 0; i < n; i++) {
        out[h + i] = ((const uint8_t *)payload)[i] ^ (mask ? (uint8_t)(1 + i % 4) : 0);
    }
    return h + n;
}

static bool send_frame(struct peer *p, int b0, const void *payload, size_t n)
{
    uint8_t *f = malloc(n + 14);
    bool ok = f && peer_write(p, f, put_frame(f, b0, payload, n, false));
    free(f);
    return ok;
}

/* Reads one client frame, which must be masked with FIN set; *ret_payload is malloc'd. */
static bool read_frame(struct peer *p, int *ret_op, uint8_t **ret_payload, size_t *ret_len)
{
    uint8_t h[8];
    if (!peer_read(p, h, 2) || (h[0] & 0xF0) != 0x80 || !(h[1] & 0x80)) {
        return false;
    }
    int op = h[0] & 0x0F;
    uint64_t n = h[1] & 0x7F;
    if (n == 126) {
        if (!peer_read(p, h, 2)) {
            return false;
        }
        n = (uint64_t)h[0] << 8 | h[1];
    } else if (n == 127) {
        if (!peer_read(p, h, 8)) {
            return false;
        }
        n = 0;
        for (int i = 0; i < 8; i++) {
            n = n << 8 | h[i];
        }
    }
    uint8_t mask[4];
    if (n > (1u << 24) || !peer_read(p, mask, 4)) {
        return false;
    }
    uint8_t *b = malloc(n + 1);
    if (b == NULL || !peer_read(p, b, n)) {
        free(b);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        b[i] ^= mask[i % 4];
    }
    b[n] = '\0';
    *ret_op = op;
    *ret_payload = b;
    *ret_len = n;
    return true;
}

/* Reads the upgrade request and answers it, with `extra` bytes in the same write (or refuses). */
static bool server_upgrade(struct server *s, struct peer *p, const uint8_t *extra, size_t extra_len)
{
    char req[8192];
    size_t len = 0;
    while (len < sizeof(req) - 1 && (len < 4 || memcmp(req + len - 4, "\r\n\r\n", 4) != 0)) {
        if (!peer_read(p, req + len, 1)) {
            return false;
        }
        len++;
    }
    req[len] = '\0';
    (void)snprintf(s->request_line, sizeof(s->request_line), "%.*s", (int)strcspn(req, "\r"), req);
    const char *host = strstr(req, "\r\nHost: ");
    if (host) {
        host += 8;
        (void)snprintf(s->host, sizeof(s->host), "%.*s", (int)strcspn(host, "\r"), host);
    }
    const char *k = strstr(req, "\r\nSec-WebSocket-Key: ");
    if (k == NULL || strstr(req, "\r\nSec-WebSocket-Version: 13\r\n") == NULL ||
        strstr(req, "\r\nUpgrade: websocket\r\n") == NULL ||
        strstr(req, "\r\nConnection: Upgrade\r\n") == NULL) {
        return false;
    }
    k += 21;
    char joined[128];
    int jn = snprintf(joined, sizeof(joined), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
                      (int)strcspn(k, "\r"), k);
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    char accept[64];
    if (jn < 0 || EVP_Digest(joined, (size_t)jn, digest, &dlen, EVP_sha1(), NULL) != 1) {
        return false;
    }
    (void)EVP_EncodeBlock((unsigned char *)accept, digest, (int)dlen);
    if (s->sc == SC_REFUSE) {
        static const char no[] = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
        (void)peer_write(p, no, strlen(no));
        return false;
    }
    if (s->sc == SC_BAD_HEAD) {
        accept[0] = accept[0] == 'A' ? 'B' : 'A';
    }
    char resp[256];
    int rn = snprintf(resp, sizeof(resp),
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                      accept);
    uint8_t *all = malloc((size_t)rn + extra_len);
    if (all == NULL) {
        return false;
    }
    memcpy(all, resp, (size_t)rn);
    if (extra_len) {
        memcpy(all + rn, extra, extra_len);
    }
    bool ok = peer_write(p, all, (size_t)rn + extra_len);
    free(all);
    s->upgraded = ok;
    return ok;
}

/* Echoes text and binary, answers pings, and answers a close (recording its code), then stops. */
static void server_echo(struct server *s, struct peer *p)
{
    for (;;) {
        int op = 0;
        uint8_t *b = NULL;
        size_t n = 0;
        if (!read_frame(p, &op, &b, &n)) {
            return;
        }
        bool more = true;
        if (op == 0x1 || op == 0x2) {
            more = send_frame(p, 0x80 | op, b, n);
        } else if (op == 0x9) {
            more = send_frame(p, 0x8A, b, n);
        } else if (op == 0x8) {
            s->close_code = n >= 2 ? b[0] << 8 | b[1] : 0;
            (void)send_frame(p, 0x88, b, n >= 2 ? 2 : 0);
            more = false;
        }
        free(b);
        if (!more) {
            return;
        }
    }
}

/* The burst: BURST text messages of growing sizes (2 KiB steps, so they straddle TLS records). */
static uint8_t *make_burst(size_t *ret_len)
{
    size_t total = 0;
    for (size_t i = 0; i < BURST; i++) {
        total += 2048 * i + 1 + 14;
    }
    uint8_t *all = malloc(total), *text = malloc(2048 * BURST + 1);
    assert_non_null(all);
    assert_non_null(text);
    size_t len = 0;
    for (size_t i = 0; i < BURST; i++) {
        memset(text, 'a' + (int)i, 2048 * i + 1);
        len += put_frame(all + len, 0x81, text, 2048 * i + 1, false);
    }
    free(text);
    *ret_len = len;
    return all;
}

static void server_scenario(struct server *s, struct peer *p)
{
    uint8_t *extra = NULL;
    size_t extra_len = 0;
    if (s->sc == SC_BURST) {
        extra = make_burst(&extra_len);
    }
    bool up = server_upgrade(s, p, extra, extra_len);
    free(extra);
    if (!up) {
        return;
    }
    int op = 0;
    uint8_t *b = NULL;
    size_t n = 0;
    switch (s->sc) {
    case SC_PING:
        if (send_frame(p, 0x89, "are you there", 13) && read_frame(p, &op, &b, &n)) {
            s->pong_ok = op == 0xA && n == 13 && memcmp(b, "are you there", 13) == 0;
            free(b);
            (void)send_frame(p, 0x81, "after ping", 10);
        }
        break;
    case SC_CLOSE:
        if (send_frame(p, 0x88, "\x03\xe9going away", 12) && read_frame(p, &op, &b, &n)) {
            s->close_code = op == 0x8 && n == 2 ? b[0] << 8 | b[1] : 0;
            free(b);
        }
        return;
    case SC_DROP:
        return;
    case SC_MASKED: {
        uint8_t f[32];
        (void)peer_write(p, f, put_frame(f, 0x81, "masked", 6, true));
        break;
    }
    default:
        break;
    }
    server_echo(s, p);
}

static void *server_main(void *arg)
{
    struct server *s = arg;
    sigset_t pipe_set;
    (void)sigemptyset(&pipe_set);
    (void)sigaddset(&pipe_set, SIGPIPE);
    (void)pthread_sigmask(SIG_BLOCK, &pipe_set, NULL); /* the client's guard is what is tested */
    struct peer p = {.fd = accept(s->listen_fd, NULL, NULL)};
    if (p.fd < 0) {
        return NULL;
    }
    struct timeval tv = {.tv_sec = 10};
    (void)setsockopt(p.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    SSL_CTX *ctx = NULL;
    if (s->tls) {
        ctx = SSL_CTX_new(TLS_server_method());
        p.ssl = ctx ? SSL_new(ctx) : NULL;
        if (p.ssl && SSL_use_certificate(p.ssl, s->cert) == 1 &&
            SSL_use_PrivateKey(p.ssl, server_key) == 1 && SSL_set_fd(p.ssl, p.fd) == 1 &&
            SSL_accept(p.ssl) == 1) {
            s->tls_ok = true;
            const char *sni = SSL_get_servername(p.ssl, TLSEXT_NAMETYPE_host_name);
            (void)snprintf(s->sni, sizeof(s->sni), "%s", sni ? sni : "");
        }
    }
    if (!s->tls || s->tls_ok) {
        server_scenario(s, &p);
    }
    if (p.ssl) {
        if (s->tls_ok) {
            (void)SSL_shutdown(p.ssl);
        }
        SSL_free(p.ssl);
    }
    SSL_CTX_free(ctx);
    (void)close(p.fd);
    ERR_clear_error();
    OPENSSL_thread_stop();
    return NULL;
}

static void server_start(struct server *s, enum scenario sc, bool tls, X509 *cert)
{
    memset(s, 0, sizeof(*s));
    s->sc = sc;
    s->tls = tls;
    s->cert = cert;
    s->close_code = -1;
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->listen_fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->listen_fd, 4), 0);
    assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_join(struct server *s)
{
    assert_int_equal(pthread_join(s->thread, NULL), 0);
    (void)close(s->listen_fd);
}

static struct ws_client *connect_to(const struct server *s, const char *path, const char *ca,
                                    int *ret, struct barra_error *err)
{
    char url[256];
    (void)snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", s->tls ? "wss" : "ws", s->port, path);
    struct ws_client *c = NULL;
    *ret = ws_connect(url, ca, TIMEOUT_MS, &c, err);
    return c;
}

static int64_t ms_now(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Tests ---- */

static void expect_text(struct ws_client *c, const char *want, size_t len)
{
    struct ws_message m;
    struct barra_error err = {0};
    int r = ws_recv(c, TIMEOUT_MS, &m, &err);
    if (r != 1) {
        fail_msg("ws_recv: %d %s", r, err.message);
    }
    assert_int_equal(m.opcode, WS_OP_TEXT);
    assert_int_equal(m.len, len);
    assert_memory_equal(m.data, want, len);
}

static void test_echo(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, SC_ECHO, true, ip_cert);
    struct barra_error err = {0};
    int r = 0;
    struct ws_client *c = connect_to(&s, "/connect?ticket=abc-123", ca_path, &r, &err);
    if (r != 0) {
        fail_msg("ws_connect: %s", err.message);
    }
    /* Lengths in each class: 7-bit, 16-bit, 64-bit. */
    static const size_t sizes[] = {0, 5, 125, 126, 65535, 65536, 300000};
    char *text = malloc(300000);
    assert_non_null(text);
    for (size_t i = 0; i < 300000; i++) {
        text[i] = (char)('a' + i % 26);
    }
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        assert_int_equal(ws_send_text(c, text, sizes[i], &err), 0);
        expect_text(c, text, sizes[i]);
    }
    free(text);
    /* A ping of the client's is answered with a pong, which comes back to the caller. */
    assert_int_equal(ws_send_ping(c, "p1", 2, &err), 0);
    struct ws_message m;
    assert_int_equal(ws_recv(c, TIMEOUT_MS, &m, &err), 1);
    assert_int_equal(m.opcode, WS_OP_PONG);
    assert_int_equal(m.len, 2);
    assert_memory_equal(m.data, "p1", 2);
    assert_int_equal(ws_send_pong(c, "unasked", 7, &err), 0); /* a unilateral pong is allowed */
    /* Bad input is refused before anything is sent. */
    assert_int_equal(ws_send_text(c, "\xc3\x28", 2, &err), -BARRA_EINVAL);
    char big[126] = {0};
    assert_int_equal(ws_send_ping(c, big, sizeof(big), &err), -BARRA_EINVAL);
    assert_int_equal(ws_send_close(c, 1005, NULL, &err), -BARRA_EINVAL);
    assert_int_equal(ws_send_close(c, 999, NULL, &err), -BARRA_EINVAL);
    assert_int_equal(ws_send_close(c, 1000, "\xff", &err), -BARRA_EINVAL);
    assert_int_equal(ws_send_text(c, "still", 5, &err), 0); /* nothing came back for the pong */
    expect_text(c, "still", 5);
    /* The client's close comes back, then the connection is over. */
    assert_int_equal(ws_send_close(c, 4000, "done", &err), 0);
    assert_int_equal(ws_send_text(c, "late", 4, &err), -BARRA_ECANCELED);
    assert_int_equal(ws_recv(c, TIMEOUT_MS, &m, &err), 1);
    assert_int_equal(m.opcode, WS_OP_CLOSE);
    assert_int_equal(m.close_code, 4000);
    assert_int_equal(ws_recv(c, TIMEOUT_MS, &m, &err), -BARRA_ECANCELED);
    ws_close(c);
    server_join(&s);
    assert_true(s.tls_ok);
    assert_string_equal(s.request_line, "GET /connect?ticket=abc-123 HTTP/1.1");
    char host[64];
    (void)snprintf(host, sizeof(host), "127.0.0.1:%d", s.port);
    assert_string_equal(s.host, host);
    assert_string_equal(s.sni, ""); /* no SNI for an IP literal */
    assert_int_equal(s.close_code, 4000);
}

static void test_server_ping(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, SC_PING, true, ip_cert);
    struct barra_error err = {0};
    int r = 0;
    struct ws_client *c = connect_to(&s, "", ca_path, &r, &err);
    assert_int_equal(r, 0);
    expect_text(c, "after ping", 10); /* the ping was answered, not returned */
    ws_close(c);
    server_join(&s);
    assert_true(s.pong_ok);
    assert_string_equal(s.request_line, "GET / HTTP/1.1");
    assert_int_equal(s.close_code, WS_CLOSE_NORMAL); /* ws_close says goodbye */
}

static void test_server_close(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, SC_CLOSE, true, ip_cert);
    struct barra_error err = {0};
    int r = 0;
    struct ws_client *c = connect_to(&s, "?ticket=t", ca_path, &r, &err);
    assert_int_equal(r, 0);
    struct ws_message m;
    assert_int_equal(ws_recv(c, TIMEOUT_MS, &m, &err), 1);
    assert_int_equal(m.opcode, WS_OP_CLOSE);
    assert_int_equal(m.close_code, WS_CLOSE_GOING_AWAY);
    assert_int_equal(m.close_reason_len, 10);
    assert_string_equal(m.close_reason, "going away");
    assert_int_equal(ws_recv(c, TIMEOUT_MS, &m, &err), -BARRA_ECANCELED);
    ws_close(c);
    server_join(&s);
    assert_string_equal(s.request_line, "GET /?ticket=t HTTP/1.1");
    assert_int_equal(s.close_code, WS_CLOSE_GOING_AWAY); /* echoed */
}

static void test_protocol_error(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, SC_MASKED, true, ip_cert);
    struct barra_error err = {0};
    int r = 0;
    struct ws_client *c = connect_to(&s, "/", ca_path, &r, &err);
    assert_int_equal(r, 0);
    struct ws_message m;
    assert_int_equal(ws_recv(c, TIMEOUT_MS, &m, &err), -BARRA_EFORMAT);
    assert_non_null(strstr(err.message, "masked"));
    assert_int_equal(ws_recv(c, TIMEOUT_MS, &m, &err), -BARRA_ECANCELED);
    assert_int_equal(ws_send_text(c, "x", 1, &err), -BARRA_ECANCELED);
    ws_close(c);
    server_join(&s);
    assert_int_equal(s.close_code, WS_CLOSE_PROTOCOL_ERROR);
}

static void test_burst(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, SC_BURST, true, ip_cert);
    struct barra_error err = {0};
    int r = 0;
    struct ws_client *c = connect_to(&s, "/", ca_path, &r, &err);
    assert_int_equal(r, 0);
    char *want = malloc(2048 * BURST + 1);
    assert_non_null(want);
    for (size_t i = 0; i < BURST; i++) {
        memset(want, 'a' + (int)i, 2048 * i + 1);
        expect_text(c, want, 2048 * i + 1);
    }
    free(want);
    struct ws_message m;
    assert_int_equal(ws_recv(c, 0, &m, &err), 0);
    ws_close(c);
    server_join(&s);
    assert_int_equal(s.close_code, WS_CLOSE_NORMAL);
}

static void test_timeout(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, SC_ECHO, true, ip_cert);
    struct barra_error err = {0};
    int r = 0;
    struct ws_client *c = connect_to(&s, "/", ca_path, &r, &err);
    assert_int_equal(r, 0);
    struct ws_message m;
    int64_t t0 = ms_now();
    assert_int_equal(ws_recv(c, 0, &m, &err), 0);
    assert_int_equal(ws_recv(c, 300, &m, &err), 0);
    int64_t took = ms_now() - t0;
    assert_true(took >= 290);
    assert_true(took < 3000);
    assert_int_equal(ws_send_text(c, "ok", 2, &err), 0); /* a timeout is not an error */
    expect_text(c, "ok", 2);
    ws_close(c);
    server_join(&s);
    assert_int_equal(s.close_code, WS_CLOSE_NORMAL);
}

static void test_untrusted(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, SC_ECHO, true, ip_cert);
    struct barra_error err = {0};
    int r = 0;
    struct ws_client *c = connect_to(&s, "/", NULL, &r, &err); /* the test CA is not trusted */
    assert_null(c);
    assert_int_equal(r, -BARRA_EIO);
    assert_non_null(strstr(err.message, "does not verify"));
    server_join(&s);
    assert_false(s.tls_ok);
}

static void test_wrong_name(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, SC_ECHO, true, other_cert);
    struct barra_error err = {0};
    int r = 0;
    struct ws_client *c = connect_to(&s, "/", ca_path, &r, &err);
    assert_null(c);
    assert_int_equal(r, -BARRA_EIO);
    assert_non_null(strstr(err.message, "mismatch"));
    server_join(&s);
    assert_false(s.tls_ok);
}

static void test_host_name(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, SC_ECHO, true, localhost_cert);
    char url[128];
    (void)snprintf(url, sizeof(url), "wss://localhost:%d/a/b", s.port);
    struct barra_error err = {0};
    struct ws_client *c = NULL;
    int r = ws_connect(url, ca_path, TIMEOUT_MS, &c, &err);
    if (r != 0) {
        fail_msg("ws_connect: %s", err.message);
    }
    assert_int_equal(ws_send_text(c, "name", 4, &err), 0);
    expect_text(c, "name", 4);
    ws_close(c);
    server_join(&s);
    assert_string_equal(s.sni, "localhost");
    char host[64];
    (void)snprintf(host, sizeof(host), "localhost:%d", s.port);
    assert_string_equal(s.host, host);
    assert_string_equal(s.request_line, "GET /a/b HTTP/1.1");

    /* The same certificate does not do for the IP address. */
    server_start(&s, SC_ECHO, true, localhost_cert);
    c = connect_to(&s, "/", ca_path, &r, &err);
    assert_int_equal(r, -BARRA_EIO);
    server_join(&s);
}

static void test_refused_upgrade(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, SC_REFUSE, true, ip_cert);
    struct barra_error err = {0};
    int r = 0;
    struct ws_client *c = connect_to(&s, "/?ticket=stale", ca_path, &r, &err);
    assert_null(c);
    assert_int_equal(r, -BARRA_EFORMAT);
    assert_int_equal(err.line, 401);
    assert_non_null(strstr(err.message, "401"));
    server_join(&s);

    server_start(&s, SC_BAD_HEAD, true, ip_cert);
    c = connect_to(&s, "/", ca_path, &r, &err);
    assert_null(c);
    assert_int_equal(r, -BARRA_EFORMAT);
    assert_int_equal(err.line, 101);
    assert_non_null(strstr(err.message, "Sec-WebSocket-Accept"));
    server_join(&s);
}

static void test_plain_loopback(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, SC_PING, false, NULL);
    struct barra_error err = {0};
    int r = 0;
    struct ws_client *c = connect_to(&s, "/plain", NULL, &r, &err);
    assert_int_equal(r, 0);
    expect_text(c, "after ping", 10);
    assert_int_equal(ws_send_text(c, "clear", 5, &err), 0);
    expect_text(c, "clear", 5);
    ws_close(c);
    server_join(&s);
    assert_true(s.pong_ok);
    assert_int_equal(s.close_code, WS_CLOSE_NORMAL);
}

/* The server goes away without a close frame: writes fail with an error, not SIGPIPE (left at
 * its default, which would end this process), and reads report the broken connection. */
static void test_dropped(void **state)
{
    (void)state;
    struct server s;
    server_start(&s, SC_DROP, true, ip_cert);
    struct barra_error err = {0};
    int r = 0;
    struct ws_client *c = connect_to(&s, "/", ca_path, &r, &err);
    assert_int_equal(r, 0);
    server_join(&s);
    for (int i = 0; i < 100 && r == 0; i++) {
        r = ws_send_text(c, "anyone?", 7, &err);
        (void)usleep(10000);
    }
    assert_int_equal(r, -BARRA_EIO);
    struct ws_message m;
    assert_int_equal(ws_recv(c, TIMEOUT_MS, &m, &err), -BARRA_ECANCELED);
    ws_close(c);

    server_start(&s, SC_DROP, true, ip_cert);
    c = connect_to(&s, "/", ca_path, &r, &err);
    assert_int_equal(r, 0);
    assert_int_equal(ws_recv(c, TIMEOUT_MS, &m, &err), -BARRA_EIO);
    assert_non_null(strstr(err.message, "without a close frame"));
    ws_close(c);
    server_join(&s);
}

static void test_bad_urls(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "http://127.0.0.1/",
        "wss://",
        "wss:///x",
        "wss://127.0.0.1:0/",
        "wss://127.0.0.1:65536/",
        "wss://127.0.0.1:12a/",
        "wss://127.0.0.1:/",
        "wss://user@127.0.0.1/",
        "wss://127.0.0.1/a b",
        "wss://127.0.0.1/a#frag",
        "wss://127.0.0.1/\xe4",
        "wss://[::1/",
        "wss://[zz]/",
        "wss://[::1]x/",
        "wss://ho$t/",
        "ws://example.com/",
        "ws://10.0.0.1/",
        "ws://localhost/",
        "wss://127.0.0.1/a\r\nX: y",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ws_client *c = NULL;
        struct barra_error err = {0};
        if (ws_connect(bad[i], NULL, TIMEOUT_MS, &c, &err) != -BARRA_EINVAL) {
            fail_msg("accepted %s", bad[i]);
        }
        assert_null(c);
    }
    struct ws_client *c = NULL;
    assert_int_equal(ws_connect(NULL, NULL, TIMEOUT_MS, &c, NULL), -BARRA_EINVAL);
    assert_int_equal(ws_connect("wss://127.0.0.1/", NULL, 0, &c, NULL), -BARRA_EINVAL);

    /* Nothing listens: refused, quickly. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    (void)close(fd);
    char url[64];
    (void)snprintf(url, sizeof(url), "wss://127.0.0.1:%d/", ntohs(a.sin_port));
    struct barra_error err = {0};
    assert_int_equal(ws_connect(url, NULL, TIMEOUT_MS, &c, &err), -BARRA_EIO);
    assert_non_null(strstr(err.message, "cannot connect"));
    /* A CA file that is not there. */
    assert_int_equal(ws_connect("wss://127.0.0.1:1/", "/nonexistent/ca.pem", TIMEOUT_MS, &c, &err),
                     -BARRA_EIO);
    ws_close(NULL);
}

int main(void)
{
    (void)signal(SIGPIPE, SIG_DFL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo),           cmocka_unit_test(test_server_ping),
        cmocka_unit_test(test_server_close),   cmocka_unit_test(test_protocol_error),
        cmocka_unit_test(test_burst),          cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_untrusted),      cmocka_unit_test(test_wrong_name),
        cmocka_unit_test(test_host_name),      cmocka_unit_test(test_refused_upgrade),
        cmocka_unit_test(test_plain_loopback), cmocka_unit_test(test_dropped),
        cmocka_unit_test(test_bad_urls),
    };
    return cmocka_run_group_tests(tests, make_pki, free_pki);
}
