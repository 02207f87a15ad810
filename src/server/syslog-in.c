/* SPDX-License-Identifier: Apache-2.0 */
/* The syslog listener (syslog-in.h): one thread accepts, one thread per sender reads (at most
 * MAX_SENDERS at a time). A message that is not an activity event is counted and reported on
 * standard error, without its content. */
#include "config.h"

#include "server/syslog-in.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "monitor/monitor.h"
#include "server/activity.h"

#include "core/banned.h"

enum { MAX_SENDERS = 16, MAX_MESSAGE = 65536 };

struct syslog_in {
    struct gw *gw;
    int fd;
    unsigned port;
    pthread_t thread;
    atomic_bool stop;
    atomic_int senders;
};

struct sender {
    struct syslog_in *s;
    int fd;
    char peer[64];
};

static void handle(struct sender *c, const char *msg, size_t len, unsigned long n)
{
    char ref[48];
    (void)snprintf(ref, sizeof(ref), "syslog:%.24s#%lu", c->peer, n);
    struct mon_event *ev = NULL;
    struct barra_error err = {0};
    if (mon_event_from_syslog(msg, len, ref, &ev, &err) < 0) {
        fprintf(stderr, "barra serve: syslog from %s: message %lu refused: %s\n", c->peer, n,
                err.message);
        return;
    }
    if (gw_activity_store(c->s->gw, ev, "syslog", &err) < 0) {
        fprintf(stderr, "barra serve: syslog from %s: not stored: %s\n", c->peer, err.message);
    }
    barra_free(ev);
}

/* RFC 6587: "LEN SP MSG" when the frame starts with a digit, else a message a line. */
static void *read_sender(void *arg)
{
    struct sender *c = arg;
    char *buf = barra_malloc(MAX_MESSAGE * 2);
    size_t have = 0;
    unsigned long n = 0;
    while (buf && !atomic_load(&c->s->stop)) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0) {
            continue;
        }
        ssize_t k = read(c->fd, buf + have, MAX_MESSAGE * 2 - have);
        if (k <= 0) {
            break;
        }
        have += (size_t)k;
        for (;;) {
            size_t used = 0;
            if (have && buf[0] >= '1' && buf[0] <= '9') {
                size_t i = 0, len = 0;
                while (i < have && i < 6 && buf[i] >= '0' && buf[i] <= '9') {
                    len = len * 10 + (size_t)(buf[i++] - '0');
                }
                if (i == have) {
                    break; /* the length goes on */
                }
                if (buf[i] != ' ' || len == 0 || len > MAX_MESSAGE) {
                    have = 0; /* not a frame: drop what came, read on */
                    break;
                }
                if (have - i - 1 < len) {
                    break;
                }
                handle(c, buf + i + 1, len, ++n);
                used = i + 1 + len;
            } else {
                char *nl = memchr(buf, '\n', have);
                if (nl == NULL) {
                    if (have >= MAX_MESSAGE) {
                        have = 0;
                    }
                    break;
                }
                if (nl > buf) {
                    handle(c, buf, (size_t)(nl - buf), ++n);
                }
                used = (size_t)(nl - buf) + 1;
            }
            memmove(buf, buf + used, have - used);
            have -= used;
        }
    }
    barra_free(buf);
    (void)close(c->fd);
    atomic_fetch_sub(&c->s->senders, 1);
    barra_free(c);
    return NULL;
}

static void *accepter(void *arg)
{
    struct syslog_in *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0) {
            continue;
        }
        struct sockaddr_storage addr;
        socklen_t alen = sizeof(addr);
        int fd = accept4(s->fd, (struct sockaddr *)&addr, &alen, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        struct sender *c = barra_calloc(1, sizeof(*c));
        if (c == NULL || atomic_load(&s->senders) >= MAX_SENDERS) {
            barra_free(c);
            (void)close(fd);
            continue;
        }
        c->s = s;
        c->fd = fd;
        (void)getnameinfo((struct sockaddr *)&addr, alen, c->peer, sizeof(c->peer), NULL, 0,
                          NI_NUMERICHOST);
        atomic_fetch_add(&s->senders, 1);
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, read_sender, c) != 0) {
            atomic_fetch_sub(&s->senders, 1);
            (void)close(fd);
            barra_free(c);
        }
        pthread_attr_destroy(&at);
    }
    return NULL;
}

int syslog_in_start(struct gw *gw, const char *host, uint16_t port, struct syslog_in **ret,
                    struct barra_error *reterr)
{
    *ret = NULL;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char service[8];
    (void)snprintf(service, sizeof(service), "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &ai) != 0 || ai == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "syslog_listen: cannot resolve %s", host);
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
        int e = errno;
        freeaddrinfo(ai);
        if (fd >= 0) {
            (void)close(fd);
        }
        return barra_error_set(reterr, -BARRA_EIO, "syslog_listen: cannot listen on %s:%u: %s",
                               host, (unsigned)port, strerror(e));
    }
    freeaddrinfo(ai);
    struct syslog_in *s = barra_calloc(1, sizeof(*s));
    if (s == NULL) {
        (void)close(fd);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    s->gw = gw;
    s->fd = fd;
    struct sockaddr_storage addr;
    socklen_t alen = sizeof(addr);
    if (getsockname(fd, (struct sockaddr *)&addr, &alen) == 0) {
        s->port = ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                                   : ((struct sockaddr_in *)&addr)->sin_port);
    }
    if (pthread_create(&s->thread, NULL, accepter, s) != 0) {
        (void)close(fd);
        barra_free(s);
        return barra_error_set(reterr, -BARRA_ENOMEM, "cannot start the syslog listener");
    }
    *ret = s;
    return 0;
}

unsigned syslog_in_port(const struct syslog_in *s)
{
    return s ? s->port : 0;
}

void syslog_in_stop(struct syslog_in *s)
{
    if (s == NULL) {
        return;
    }
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    for (int i = 0; i < 50 && atomic_load(&s->senders) > 0; i++) {
        usleep(20000); /* readers see stop within a poll */
    }
    (void)close(s->fd);
    barra_free(s);
}
