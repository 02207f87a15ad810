/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration reader's shared helpers: gw-config.c reads the file's top level, and each
 * connector's section has a file of its own (gw-config-dingtalk.c). Every helper reports a bad
 * value with the file, line and column it came from. */
#ifndef BARRA_SERVER_GW_CONFIG_INT_H
#define BARRA_SERVER_GW_CONFIG_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/yamltree.h"
#include "server/gw-config.h"

struct cfg_parse {
    const char *file;
    char *base; /* the configuration file's folder */
    struct barra_error *reterr;
};

int cfg_fail(struct cfg_parse *p, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Checks that every key of map is one of `allowed` (NULL-terminated). */
int cfg_check_keys(struct cfg_parse *p, const struct ynode *map, const char *what,
                   const char *const *allowed);
int cfg_scalar(struct cfg_parse *p, const struct ynode *n, const char *what);
int cfg_get_string(struct cfg_parse *p, const struct ynode *n, const char *what, char **ret);
/* A path: relative ones are taken from the configuration file's folder. */
int cfg_get_path(struct cfg_parse *p, const struct ynode *n, const char *what, char **ret);
int cfg_get_bool(struct cfg_parse *p, const struct ynode *n, const char *what, bool *ret);
/* A whole number within [min, max], with an optional KiB/MiB/GiB suffix when `sizes`. */
int cfg_get_uint(struct cfg_parse *p, const struct ynode *n, const char *what, uint64_t min,
                 uint64_t max, bool sizes, uint64_t *ret);
/* The first line of the file the node names (secrets live in files, not in the configuration). */
int cfg_read_secret(struct cfg_parse *p, const struct ynode *n, char **ret);
bool cfg_all_alnum(const char *s);

/* HOST:PORT; `what` names it in errors. */
int cfg_get_host_port(struct cfg_parse *p, const struct ynode *n, const char *what, char **host,
                      uint16_t *port);
/* monitor (gw-config-monitor.c). */
int cfg_parse_monitor(struct cfg_parse *p, const struct ynode *n, struct gw_config *c);
void cfg_free_monitor(struct gw_monitor_config *m);

/* connectors.dingtalk (gw-config-dingtalk.c). */
int cfg_parse_dingtalk(struct cfg_parse *p, const struct ynode *n, struct gw_config *c);
void cfg_free_dingtalk(struct gw_dingtalk_config *d);

#endif
