/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's configuration reader on arbitrary YAML: it either refuses with a message or gives
 * a configuration whose limits are within the documented ranges. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/gw-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_config *c = NULL;
    struct barra_error err;
    if (gw_config_parse((const char *)data, size, "/nonexistent/barra.yaml", &c, &err) == 0) {
        if (c->policy_path == NULL || c->max_body < 1024 || c->max_in_flight == 0 ||
            c->listen_host == NULL || c->burst == 0) {
            abort();
        }
        for (size_t i = 0; i < c->nroutes; i++) {
            if (c->routes[i].kind == GW_ROUTE_WEBDAV &&
                c->routes[i].url[strlen(c->routes[i].url) - 1] != '/') {
                abort();
            }
        }
        gw_config_free(c);
    } else if (err.message[0] == '\0') {
        abort();
    }
    return 0;
}
