/* SPDX-License-Identifier: Apache-2.0 */
/* `monitor:` of the configuration (docs/serve.md, docs/monitor.md). */
#include "config.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "server/gw-config-int.h"

#include "core/banned.h"

void cfg_free_monitor(struct gw_monitor_config *m)
{
    if (m) {
        barra_free(m->rules);
        barra_free(m->calendar);
        barra_free(m->geoip);
        barra_free(m->syslog_host);
        barra_free(m);
    }
}

int cfg_parse_monitor(struct cfg_parse *p, const struct ynode *n, struct gw_config *c)
{
    static const char *const keys[] = {"rules",    "calendar",      "geoip", "lateness",
                                       "max_keys", "syslog_listen", NULL};
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
    if ((v = ytree_get(n, "syslog_listen")) &&
        cfg_get_host_port(p, v, "syslog_listen", &m->syslog_host, &m->syslog_port) < 0) {
        return -BARRA_EPARSE;
    }
    return 0;
}
