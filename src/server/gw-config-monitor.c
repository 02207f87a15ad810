/* SPDX-License-Identifier: Apache-2.0 */
/* `monitor:` of the configuration (docs/serve.md, docs/monitor.md). */
#include "config.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "server/gw-config-int.h"

#include "core/banned.h"

static void free_sink(struct gw_alert_sink_config *k)
{
    if (k) {
        barra_free(k->url);
        barra_free(k->ca_file);
        barra_free(k->secret);
        barra_free(k->username);
        if (k->password) {
            explicit_bzero(k->password, strlen(k->password));
        }
        barra_free(k->password);
        barra_free(k->from);
        for (size_t i = 0; i < k->nto; i++) {
            barra_free(k->to[i]);
        }
        barra_free(k->to);
        barra_free(k);
    }
}

void cfg_free_monitor(struct gw_monitor_config *m)
{
    if (m) {
        free_sink(m->alert_syslog);
        free_sink(m->alert_webhook);
        free_sink(m->alert_email);
        barra_free(m->rules);
        barra_free(m->calendar);
        barra_free(m->geoip);
        barra_free(m->syslog_host);
        barra_free(m);
    }
}

/* A URL of one of the schemes; plain ones (no TLS) only to loopback. */
static int get_sink_url(struct cfg_parse *p, const struct ynode *n, const char *what,
                        const char *secure, const char *plain, char **ret)
{
    if (cfg_get_string(p, n, what, ret) < 0) {
        return -BARRA_EPARSE;
    }
    size_t ks = strlen(secure), kp = strlen(plain);
    bool ok = strncmp(*ret, secure, ks) == 0 ||
              (strncmp(*ret, plain, kp) == 0 && (strncmp(*ret + kp, "127.0.0.1", 9) == 0 ||
                                                 strncmp(*ret + kp, "localhost", 9) == 0));
    if (!ok || strlen(*ret) > 400) {
        return cfg_fail(p, n, "%s is a %sHOST URL (%s only to 127.0.0.1)", what, secure, plain);
    }
    return 0;
}

static int get_format(struct cfg_parse *p, const struct ynode *n, enum gw_alert_format *ret)
{
    static const char *const names[] = {"json", "ecs", "ocsf", "cef"};
    if (cfg_scalar(p, n, "format") < 0) {
        return -BARRA_EPARSE;
    }
    for (int i = 0; i < 4; i++) {
        if (strcmp(n->value, names[i]) == 0) {
            *ret = (enum gw_alert_format)i;
            return 0;
        }
    }
    return cfg_fail(p, n, "format is json, ecs, ocsf or cef");
}

static int parse_sink(struct cfg_parse *p, const struct ynode *n, const char *kind,
                      struct gw_alert_sink_config **ret)
{
    static const char *const syslog_keys[] = {"url", "ca_file", "format", NULL};
    static const char *const webhook_keys[] = {"url", "ca_file", "format", "secret_file", NULL};
    static const char *const email_keys[] = {"url",      "ca_file",       "from", "to",
                                             "username", "password_file", NULL};
    bool syslog = strcmp(kind, "syslog") == 0, webhook = strcmp(kind, "webhook") == 0;
    if (cfg_check_keys(p, n, kind,
                       syslog    ? syslog_keys
                       : webhook ? webhook_keys
                                 : email_keys) < 0) {
        return -BARRA_EPARSE;
    }
    struct gw_alert_sink_config *k = barra_calloc(1, sizeof(*k));
    if (k == NULL) {
        return barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
    }
    *ret = k;
    k->format = syslog ? GW_ALERT_CEF : GW_ALERT_JSON;
    const struct ynode *v = ytree_get(n, "url");
    if (v == NULL) {
        return cfg_fail(p, n, "alerts.%s needs a url", kind);
    }
    int r = syslog    ? get_sink_url(p, v, "alerts.syslog.url", "tls://", "tcp://", &k->url)
            : webhook ? get_sink_url(p, v, "alerts.webhook.url", "https://", "http://", &k->url)
                      : get_sink_url(p, v, "alerts.email.url", "smtps://", "smtp://", &k->url);
    if (r < 0) {
        return r;
    }
    if ((v = ytree_get(n, "ca_file")) && cfg_get_path(p, v, "ca_file", &k->ca_file) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "format")) && get_format(p, v, &k->format) < 0) {
        return -BARRA_EPARSE;
    }
    if (webhook) {
        if ((v = ytree_get(n, "secret_file")) == NULL) {
            return cfg_fail(p, n, "alerts.webhook needs secret_file (its signing secret)");
        }
        return cfg_read_secret(p, v, &k->secret);
    }
    if (syslog) {
        return 0;
    }
    if ((v = ytree_get(n, "from")) == NULL || cfg_get_string(p, v, "from", &k->from) < 0) {
        return v ? -BARRA_EPARSE : cfg_fail(p, n, "alerts.email needs from (an address)");
    }
    if ((v = ytree_get(n, "to")) == NULL) {
        return cfg_fail(p, n, "alerts.email needs to (one address or a list)");
    }
    const struct ynode *const *items;
    size_t m = ytree_as_list(&v, &items);
    if ((k->to = barra_calloc(m + 1, sizeof(*k->to))) == NULL) {
        return barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m; i++) {
        if (cfg_get_string(p, items[i], "to", &k->to[i]) < 0) {
            return -BARRA_EPARSE;
        }
        k->nto = i + 1;
        if (strchr(k->to[i], '@') == NULL || strpbrk(k->to[i], "<>\r\n ,")) {
            return cfg_fail(p, items[i], "to: \"%s\" is not a plain e-mail address", k->to[i]);
        }
    }
    if (strchr(k->from, '@') == NULL || strpbrk(k->from, "<>\r\n ,")) {
        return cfg_fail(p, ytree_get(n, "from"), "from is a plain e-mail address");
    }
    if ((v = ytree_get(n, "username")) && cfg_get_string(p, v, "username", &k->username) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "password_file")) && cfg_read_secret(p, v, &k->password) < 0) {
        return -BARRA_EPARSE;
    }
    return 0;
}

static int parse_alerts(struct cfg_parse *p, const struct ynode *n, struct gw_monitor_config *m)
{
    static const char *const keys[] = {"syslog", "webhook", "email", NULL};
    const struct ynode *v;
    if (cfg_check_keys(p, n, "monitor.alerts", keys) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "syslog")) && parse_sink(p, v, "syslog", &m->alert_syslog) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "webhook")) && parse_sink(p, v, "webhook", &m->alert_webhook) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "email")) && parse_sink(p, v, "email", &m->alert_email) < 0) {
        return -BARRA_EPARSE;
    }
    return 0;
}

int cfg_parse_monitor(struct cfg_parse *p, const struct ynode *n, struct gw_config *c)
{
    static const char *const keys[] = {"rules",    "calendar",      "geoip",  "lateness",
                                       "max_keys", "syslog_listen", "alerts", NULL};
    if (cfg_check_keys(p, n, "monitor", keys) < 0) {
        return -BARRA_EPARSE;
    }
    struct gw_monitor_config *m = barra_calloc(1, sizeof(*m));
    if (m == NULL) {
        return barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
    }
    c->monitor = m;
    m->lateness_s = 120;
    m->max_keys = 1000000;
    const struct ynode *v;
    uint64_t x;
    if ((v = ytree_get(n, "rules")) == NULL) {
        return cfg_fail(p, n, "monitor needs rules (a folder such as rules/monitor)");
    }
    if (cfg_get_path(p, v, "rules", &m->rules) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "calendar")) && cfg_get_path(p, v, "calendar", &m->calendar) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "geoip")) && cfg_get_path(p, v, "geoip", &m->geoip) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "lateness"))) {
        if (cfg_get_uint(p, v, "lateness (seconds)", 0, 86400, false, &x) < 0) {
            return -BARRA_EPARSE;
        }
        m->lateness_s = (uint32_t)x;
    }
    if ((v = ytree_get(n, "max_keys"))) {
        if (cfg_get_uint(p, v, "max_keys", 1, 100000000, false, &m->max_keys) < 0) {
            return -BARRA_EPARSE;
        }
    }
    if ((v = ytree_get(n, "alerts")) && parse_alerts(p, v, m) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "syslog_listen")) &&
        cfg_get_host_port(p, v, "syslog_listen", &m->syslog_host, &m->syslog_port) < 0) {
        return -BARRA_EPARSE;
    }
    return 0;
}
