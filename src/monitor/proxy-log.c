/* SPDX-License-Identifier: Apache-2.0 */
/* Plugin traffic from egress-proxy access logs, since DingTalk keeps no record of where a plugin
 * sends data: Squid's native format and nginx's "combined" format, one request a line, each
 * becoming a plugin_sync event whose actor and plugin are the proxy user (or the client address
 * when there is none) and whose destination host is the request's. Squid also logs the server's
 * address (destination.ip), whose region a geo database gives; otherwise the event has no
 * destination.region, which the shipped plugin-overseas rule treats as not allowed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/error.h"
#include "monitor/monitor.h"

#include "core/banned.h"

enum { MAX_TOKENS = 16 };

/* Splits at runs of spaces, keeping "quoted strings" and [bracketed times] whole (their quotes
 * and brackets dropped). Writes into buf. Returns the number of tokens, -1 when malformed. */
static int tokens(const char *line, size_t len, char *buf, size_t cap, char **tok)
{
    if (len >= cap) {
        return -1;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    int n = 0;
    char *p = buf;
    while (*p && n < MAX_TOKENS) {
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        char close = *p == '"' ? '"' : *p == '[' ? ']' : '\0';
        if (close) {
            char *end = p + 1;
            while (*end && *end != close) {
                end += *end == '\\' && end[1] ? 2 : 1;
            }
            if (*end != close) {
                return -1;
            }
            *end = '\0';
            tok[n++] = p + 1;
            p = end + 1;
        } else {
            tok[n++] = p;
            while (*p && *p != ' ' && *p != '\t') {
                p++;
            }
            if (*p) {
                *p++ = '\0';
            }
        }
    }
    return n;
}

/* The host of "https://host:443/path", "host:443" (CONNECT) or "host". */
static void host_of(const char *target, char *out, size_t cap)
{
    const char *p = strstr(target, "://");
    p = p ? p + 3 : target;
    const char *at = strchr(p, '@'), *slash = strchr(p, '/');
    if (at && (slash == NULL || at < slash)) {
        p = at + 1; /* user:password@ */
    }
    size_t n = strcspn(p, "/?#");
    if (n && p[0] != '[') {
        const char *colon = memchr(p, ':', n);
        n = colon ? (size_t)(colon - p) : n;
    } else if (p[0] == '[') {
        const char *close = memchr(p, ']', n);
        n = close ? (size_t)(close - p + 1) : n;
    }
    (void)snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

static bool digits(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s);
}

/* "1772416800.123" → RFC 3339 UTC */
static bool unix_time(const char *s, char *out, size_t cap)
{
    char *end = NULL;
    double t = strtod(s, &end);
    if (end == s || *end || t < 0 || t > 32503680000.0) {
        return false;
    }
    long long secs = (long long)t;
    int ms = (int)((t - (double)secs) * 1000 + 0.5) % 1000;
    long long rem = secs % 86400;
    int y, m, d;
    date_from_days(secs / 86400, &y, &m, &d);
    (void)snprintf(out, cap, "%04d-%02d-%02dT%02lld:%02lld:%02lld.%03dZ", y, m, d, rem / 3600,
                   rem / 60 % 60, rem % 60, ms);
    return true;
}

/* "05/Dec/2026:10:00:00 +0800" → "2026-12-05T10:00:00+08:00" */
static bool clf_time(const char *s, char *out, size_t cap)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int d, y, hh, mm, ss, zone;
    char mon[4], sign;
    if (strlen(s) != 26 ||
        sscanf(s, "%2d/%3s/%4d:%2d:%2d:%2d %c%4d", &d, mon, &y, &hh, &mm, &ss, &sign, &zone) != 8 ||
        (sign != '+' && sign != '-')) {
        return false;
    }
    const char *at = strstr(months, mon);
    if (at == NULL || (at - months) % 3 != 0) {
        return false;
    }
    (void)snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y,
                   (int)(at - months) / 3 + 1, d, hh, mm, ss, sign, zone / 100, zone % 100);
    return true;
}

static int make(const char *time, const char *user, const char *client, const char *target,
                const char *server, const char *bytes, const char *source, const char *ref,
                struct mon_event **ret, struct barra_error *err)
{
    char host[256];
    host_of(target, host, sizeof(host));
    const char *who = strcmp(user, "-") == 0 ? client : user;
    const char *names[] = {"time",  "actor",  "action",        "plugin", "ip", "destination.host",
                           "bytes", "source", "destination.ip"};
    const char *values[] = {
        time, who, "plugin_sync", who, client, host, digits(bytes) ? bytes : NULL, source, server};
    return mon_event_from_fields(names, values, 9, ref, ret, err);
}

int mon_event_from_squid(const char *line, size_t len, const char *ref, struct mon_event **ret,
                         struct barra_error *err)
{
    /* time elapsed client code/status bytes method URL user hierarchy/peer type */
    char buf[8192], *t[MAX_TOKENS], when[64];
    int n = tokens(line, len, buf, sizeof(buf), t);
    if (n < 8 || !unix_time(t[0], when, sizeof(when)) || !digits(t[1]) ||
        strchr(t[3], '/') == NULL || !digits(t[4])) {
        return barra_error_set(err, -BARRA_EFORMAT,
                               "%s: not a Squid access.log line (time elapsed client code/status "
                               "bytes method URL user ...)",
                               ref);
    }
    /* the server's address, from the hierarchy code: HIER_DIRECT/203.0.113.5 */
    const char *peer = n > 8 && strchr(t[8], '/') ? strchr(t[8], '/') + 1 : NULL;
    if (peer && (strcmp(peer, "-") == 0 || *peer == '\0')) {
        peer = NULL;
    }
    return make(when, t[7], t[2], t[6], peer, t[4], "squid", ref, ret, err);
}

int mon_event_from_nginx(const char *line, size_t len, const char *ref, struct mon_event **ret,
                         struct barra_error *err)
{
    /* client - user [time] "METHOD target PROTOCOL" status bytes "referer" "agent" */
    char buf[8192], *t[MAX_TOKENS], when[64], request[4096];
    int n = tokens(line, len, buf, sizeof(buf), t);
    char method[32] = "", target[4000] = "";
    if (n >= 7) {
        (void)snprintf(request, sizeof(request), "%s", t[4]);
    }
    if (n < 7 || !clf_time(t[3], when, sizeof(when)) ||
        sscanf(n >= 7 ? request : "", "%31s %3999s", method, target) != 2 || !digits(t[5])) {
        return barra_error_set(err, -BARRA_EFORMAT,
                               "%s: not an nginx combined log line (client - user [time] "
                               "\"request\" status bytes ...)",
                               ref);
    }
    return make(when, t[2], t[0], target, NULL, t[6], "nginx", ref, ret, err);
}
