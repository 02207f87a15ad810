/* SPDX-License-Identifier: Apache-2.0 */
/* Activity events from other systems over syslog (RFC 5424): the header is checked field by field
 * (PRI, VERSION 1, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID), then the structured data and the
 * message. The event is the message when it is JSON, else the parameters of an "activity"
 * SD-ELEMENT, or, from APP-NAME squid or nginx, an access-log line of theirs. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "monitor/monitor.h"

#include "core/banned.h"

enum { MAX_PARAMS = 32, MAX_VALUE = 4096 };

struct cursor {
    const char *p, *end;
};

/* One header field up to the next space: printable US-ASCII, at most `max` bytes. */
static bool field(struct cursor *c, size_t max, char *out, size_t cap)
{
    const char *start = c->p;
    while (c->p < c->end && *c->p != ' ') {
        if (*c->p < 33 || *c->p > 126) {
            return false;
        }
        c->p++;
    }
    size_t n = (size_t)(c->p - start);
    if (n == 0 || n > max || n >= cap || c->p == c->end) {
        return false;
    }
    memcpy(out, start, n);
    out[n] = '\0';
    c->p++; /* the space */
    return true;
}

int mon_event_from_syslog(const char *msg, size_t len, const char *ref, struct mon_event **ret,
                          struct barra_error *err)
{
    struct cursor c = {msg, msg + len};
    char pri[8], version[4], stamp[64], host[256], app[64], procid[130], msgid[40];
    /* <PRI>VERSION: PRI 0-191 in at most three digits, VERSION 1 */
    size_t k = 0;
    if (c.p < c.end && *c.p == '<') {
        c.p++;
        while (c.p < c.end && k < 3 && *c.p >= '0' && *c.p <= '9') {
            pri[k++] = *c.p++;
        }
    }
    pri[k] = '\0';
    if (k == 0 || c.p == c.end || *c.p != '>' || (k > 1 && pri[0] == '0') ||
        (k == 3 && strcmp(pri, "191") > 0)) {
        return barra_error_set(err, -BARRA_EFORMAT, "%s: not RFC 5424 syslog (no <PRI>)", ref);
    }
    c.p++;
    if (!field(&c, 2, version, sizeof(version)) || strcmp(version, "1") != 0 ||
        !field(&c, 32, stamp, sizeof(stamp)) || !field(&c, 255, host, sizeof(host)) ||
        !field(&c, 48, app, sizeof(app)) || !field(&c, 128, procid, sizeof(procid)) ||
        !field(&c, 32, msgid, sizeof(msgid))) {
        return barra_error_set(err, -BARRA_EFORMAT,
                               "%s: not an RFC 5424 header (<PRI>1 TIMESTAMP HOSTNAME APP-NAME "
                               "PROCID MSGID)",
                               ref);
    }
    const char *time = strcmp(stamp, "-") == 0 ? NULL : stamp;
    /* STRUCTURED-DATA: "-" or SD-ELEMENTs */
    const char *names[MAX_PARAMS + 2], *values[MAX_PARAMS + 2];
    char store[MAX_PARAMS][MAX_VALUE];
    char name_store[MAX_PARAMS][33];
    size_t n = 0;
    if (c.p < c.end && *c.p == '-') {
        c.p++;
    } else {
        while (c.p < c.end && *c.p == '[') {
            c.p++;
            char id[40];
            size_t i = 0;
            while (c.p < c.end && *c.p != ' ' && *c.p != ']' && *c.p != '=' && *c.p != '"' &&
                   i + 1 < sizeof(id)) {
                id[i++] = *c.p++;
            }
            id[i] = '\0';
            if (i == 0) {
                return barra_error_set(err, -BARRA_EFORMAT, "%s: an SD-ELEMENT without an SD-ID",
                                       ref);
            }
            bool ours = i >= 8 && memcmp(id, "activity", 8) == 0 && (i == 8 || id[8] == '@');
            while (c.p < c.end && *c.p == ' ') {
                c.p++;
                char pname[33];
                size_t j = 0;
                while (c.p < c.end && *c.p != '=' && *c.p != ' ' && *c.p != ']' && *c.p != '"' &&
                       j + 1 < sizeof(pname)) {
                    pname[j++] = *c.p++;
                }
                pname[j] = '\0';
                if (j == 0 || c.end - c.p < 2 || c.p[0] != '=' || c.p[1] != '"') {
                    return barra_error_set(err, -BARRA_EFORMAT, "%s: an SD-PARAM is NAME=\"VALUE\"",
                                           ref);
                }
                c.p += 2;
                char value[MAX_VALUE];
                size_t v = 0;
                while (c.p < c.end && *c.p != '"') {
                    if (*c.p == '\\' && c.end - c.p > 1 &&
                        (c.p[1] == '"' || c.p[1] == '\\' || c.p[1] == ']')) {
                        c.p++; /* an escaped ", \ or ] */
                    }
                    if (v + 1 < sizeof(value)) {
                        value[v++] = *c.p;
                    }
                    c.p++;
                }
                if (c.p == c.end) {
                    return barra_error_set(err, -BARRA_EFORMAT, "%s: an SD-PARAM is not closed",
                                           ref);
                }
                c.p++;
                value[v] = '\0';
                if (ours && n < MAX_PARAMS) {
                    memcpy(name_store[n], pname, j + 1);
                    memcpy(store[n], value, v + 1);
                    names[n] = name_store[n];
                    values[n] = store[n];
                    n++;
                }
            }
            if (c.p == c.end || *c.p != ']') {
                return barra_error_set(err, -BARRA_EFORMAT, "%s: an SD-ELEMENT is not closed", ref);
            }
            c.p++;
        }
    }
    if (c.p < c.end && *c.p == ' ') {
        c.p++;
    }
    if (c.end - c.p >= 3 && memcmp(c.p, "\xEF\xBB\xBF", 3) == 0) {
        c.p += 3; /* MSG-UTF8's byte-order mark */
    }
    while (c.end > c.p && (c.end[-1] == '\n' || c.end[-1] == '\r')) {
        c.end--;
    }
    char source[300];
    (void)snprintf(source, sizeof(source), "syslog:%s", host);
    int r;
    if (c.p < c.end && *c.p == '{') {
        r = mon_event_from_json_at(c.p, (size_t)(c.end - c.p), ref, time, source, ret, err);
    } else if (n > 0) {
        bool has_time = false, has_source = false;
        for (size_t i = 0; i < n; i++) {
            has_time |= strcmp(names[i], "time") == 0;
            has_source |= strcmp(names[i], "source") == 0;
        }
        if (!has_time && time) {
            names[n] = "time";
            values[n++] = time;
        }
        if (!has_source) {
            names[n] = "source";
            values[n++] = source;
        }
        r = mon_event_from_fields(names, values, n, ref, ret, err);
    } else if (strcmp(app, "squid") == 0 || strcmp(app, "nginx") == 0) {
        /* a proxy forwarding its access log by syslog: the line is the message */
        r = app[0] == 's' ? mon_event_from_squid(c.p, (size_t)(c.end - c.p), ref, ret, err)
                          : mon_event_from_nginx(c.p, (size_t)(c.end - c.p), ref, ret, err);
    } else {
        return barra_error_set(err, -BARRA_EFORMAT,
                               "%s: no event: the message is not JSON, there is no [activity ...] "
                               "structured data, and APP-NAME is not squid or nginx",
                               ref);
    }
    return r;
}
