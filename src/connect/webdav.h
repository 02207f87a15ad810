/* SPDX-License-Identifier: Apache-2.0 */
/* A WebDAV folder (Nextcloud, Apache mod_dav) as a local destination for routed content. */
#ifndef BARRA_CONNECT_WEBDAV_H
#define BARRA_CONNECT_WEBDAV_H

#include <stddef.h>

#include <barra/error.h>

#include "server/gw-config.h"

/* Uploads data as `name` into the route's folder (PUT, failing if the name exists), then makes the
 * link to hand out: Nextcloud's public share link when the route asks for one, else the file's
 * URL. *ret_link is owned. */
int webdav_put(const struct gw_route_config *r, const char *name, const void *data, size_t len,
               char **ret_link, struct barra_error *reterr);

#endif
