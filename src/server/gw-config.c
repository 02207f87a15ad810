/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the gateway's configuration (docs/serve.md). Unknown keys are errors: a misspelt limit
 * must not silently leave the default in place. */
#include "config.h"

#include "server/gw-config.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/yamltree.h"
#include "server/gw-config-int.h"

#include "core/banned.h"

int cfg_fail(struct cfg_parse *p, const struct ynode *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return barra_error_set_at(p->reterr, -BARRA_EPARSE, p->file, n ? n->line : 0, n ? n->column : 0,
                              "%s", msg);
}

static const struct {
    const char *name;
    uint32_t bit;
} scopes[] = {
    {"classify", GW_SCOPE_CLASSIFY},
    {"events", GW_SCOPE_EVENTS},
    {"files", GW_SCOPE_FILES},
    {"consents:read", GW_SCOPE_CONSENTS_READ},
    {"consents:write", GW_SCOPE_CONSENTS_WRITE},
    {"consents", GW_SCOPE_CONSENTS_READ | GW_SCOPE_CONSENTS_WRITE},
    {"decisions", GW_SCOPE_DECISIONS},
    {"vault", GW_SCOPE_VAULT},
    {"metrics", GW_SCOPE_METRICS},
    {"connectors", GW_SCOPE_CONNECTORS},
    {"activity", GW_SCOPE_ACTIVITY},
    {"alerts", GW_SCOPE_ALERTS},
};

uint32_t gw_scope_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
        if (strcmp(scopes[i].name, name) == 0) {
            return scopes[i].bit;
        }
    }
    return 0;
}

/* Checks that every key of map is one of `allowed` (NULL-terminated). */
int cfg_check_keys(struct cfg_parse *p, const struct ynode *map, const char *what,
                   const char *const *allowed)
{
    if (map->kind != YNODE_MAP) {
        return cfg_fail(p, map, "%s takes a mapping, not %s", what, ytree_kind_name(map->kind));
    }
    for (size_t i = 0; i < map->n; i += 2) {
        const struct ynode *k = map->items[i];
        bool ok = false;
        for (size_t j = 0; allowed[j] && !ok; j++) {
            ok = strcmp(allowed[j], k->value) == 0;
        }
        if (!ok) {
            char list[300] = "";
            size_t used = 0;
            for (size_t j = 0; allowed[j] && used < sizeof(list); j++) {
                int n =
                    snprintf(list + used, sizeof(list) - used, "%s%s", j ? ", " : "", allowed[j]);
                used += n > 0 ? (size_t)n : 0;
            }
            return cfg_fail(p, k, "unknown key \"%s\" in %s (known: %s)", k->value, what, list);
        }
    }
    return 0;
}

int cfg_scalar(struct cfg_parse *p, const struct ynode *n, const char *what)
{
    if (n->kind != YNODE_SCALAR) {
        return cfg_fail(p, n, "%s takes a single value, not %s", what, ytree_kind_name(n->kind));
    }
    return 0;
}

int cfg_get_string(struct cfg_parse *p, const struct ynode *n, const char *what, char **ret)
{
    if (cfg_scalar(p, n, what) < 0) {
        return -BARRA_EPARSE;
    }
    if (n->value[0] == '\0') {
        return cfg_fail(p, n, "%s must not be empty", what);
    }
    char *s = barra_strdup(n->value);
    if (s == NULL) {
        return barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
    }
    barra_free(*ret);
    *ret = s;
    return 0;
}

/* A path: relative ones are taken from the configuration file's folder. */
int cfg_get_path(struct cfg_parse *p, const struct ynode *n, const char *what, char **ret)
{
    int r = cfg_get_string(p, n, what, ret);
    if (r < 0 || (*ret)[0] == '/') {
        return r;
    }
    size_t len = strlen(p->base) + strlen(*ret) + 2;
    char *full = barra_malloc(len);
    if (full == NULL) {
        return barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
    }
    (void)snprintf(full, len, "%s/%s", p->base, *ret);
    barra_free(*ret);
    *ret = full;
    return 0;
}

int cfg_get_bool(struct cfg_parse *p, const struct ynode *n, const char *what, bool *ret)
{
    if (cfg_scalar(p, n, what) < 0) {
        return -BARRA_EPARSE;
    }
    if (strcmp(n->value, "true") == 0 || strcmp(n->value, "false") == 0) {
        *ret = n->value[0] == 't';
        return 0;
    }
    return cfg_fail(p, n, "%s is true or false, not \"%s\"", what, n->value);
}

/* A whole number within [min, max], with an optional KiB/MiB/GiB suffix when `sizes`. */
int cfg_get_uint(struct cfg_parse *p, const struct ynode *n, const char *what, uint64_t min,
                 uint64_t max, bool sizes, uint64_t *ret)
{
    if (cfg_scalar(p, n, what) < 0) {
        return -BARRA_EPARSE;
    }
    const char *s = n->value;
    char *end = NULL;
    errno = 0;
    unsigned long long v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
    if (end == NULL || end == s || errno) {
        return cfg_fail(p, n, "%s must be a whole number, not \"%s\"", what, s);
    }
    uint64_t mult = 1;
    if (*end && sizes) {
        mult = strcmp(end, "KiB") == 0   ? 1024ull
               : strcmp(end, "MiB") == 0 ? 1024ull * 1024
               : strcmp(end, "GiB") == 0 ? 1024ull * 1024 * 1024
                                         : 0;
    } else if (*end) {
        mult = 0;
    }
    if (mult == 0) {
        return cfg_fail(p, n, "%s must be a whole number%s, not \"%s\"", what,
                        sizes ? " of bytes, optionally with KiB, MiB or GiB" : "", s);
    }
    if (v > max / mult || v * mult < min || v * mult > max) {
        return cfg_fail(p, n, "%s must be between %llu and %llu, not %s", what,
                        (unsigned long long)min, (unsigned long long)max, s);
    }
    *ret = v * mult;
    return 0;
}

static int hex_digit(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int parse_token(struct cfg_parse *p, const struct ynode *n, struct gw_token_config *t)
{
    static const char *const keys[] = {"name", "sha256", "scopes", NULL};
    if (cfg_check_keys(p, n, "a token", keys) < 0) {
        return -BARRA_EPARSE;
    }
    const struct ynode *name = ytree_get(n, "name"), *hash = ytree_get(n, "sha256"),
                       *sc = ytree_get(n, "scopes");
    if (name == NULL || hash == NULL || sc == NULL) {
        return cfg_fail(p, n, "a token needs a name, its sha256 and its scopes");
    }
    if (cfg_get_string(p, name, "a token's name", &t->name) < 0 ||
        cfg_scalar(p, hash, "a token's sha256") < 0) {
        return -BARRA_EPARSE;
    }
    if (strlen(hash->value) != 64) {
        return cfg_fail(
            p, hash,
            "a token's sha256 is 64 lowercase hex digits (barra serve --new-token makes "
            "one)");
    }
    for (size_t i = 0; i < 32; i++) {
        int hi = hex_digit(hash->value[2 * i]), lo = hex_digit(hash->value[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return cfg_fail(p, hash, "a token's sha256 is 64 lowercase hex digits");
        }
        t->sha256[i] = (uint8_t)(hi << 4 | lo);
    }
    const struct ynode *const *items;
    size_t k = ytree_as_list(&sc, &items);
    for (size_t i = 0; i < k; i++) {
        uint32_t bit = items[i]->kind == YNODE_SCALAR ? gw_scope_parse(items[i]->value) : 0;
        if (bit == 0) {
            return cfg_fail(p, items[i],
                            "unknown scope \"%s\" (known: classify, events, files, consents, "
                            "consents:read, consents:write, decisions, vault, metrics, connectors, "
                            "activity, alerts)",
                            items[i]->kind == YNODE_SCALAR ? items[i]->value : "?");
        }
        t->scopes |= bit;
    }
    return 0;
}

int cfg_read_secret(struct cfg_parse *p, const struct ynode *n, char **ret)
{
    char *path = NULL;
    if (cfg_get_path(p, n, "a secret file", &path) < 0) {
        return -BARRA_EPARSE;
    }
    FILE *f = fopen(path, "re");
    char line[512];
    bool ok = f && fgets(line, sizeof(line), f);
    if (f) {
        fclose(f);
    }
    barra_free(path);
    if (!ok) {
        return cfg_fail(p, n, "cannot read the secret file \"%s\"", n->value);
    }
    line[strcspn(line, "\r\n")] = '\0';
    *ret = barra_strdup(line);
    explicit_bzero(line, sizeof(line));
    return *ret ? 0 : barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
}

static int parse_route(struct cfg_parse *p, const struct ynode *key, const struct ynode *n,
                       struct gw_route_config *r)
{
    static const char *const keys[] = {"type",  "url",     "username", "password_file",
                                       "share", "ca_file", NULL};
    if (cfg_check_keys(p, n, "a route", keys) < 0) {
        return -BARRA_EPARSE;
    }
    if ((r->name = barra_strdup(key->value)) == NULL) {
        return barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
    }
    const struct ynode *type = ytree_get(n, "type");
    if (type == NULL || cfg_scalar(p, type, "a route's type") < 0 ||
        (strcmp(type->value, "vault") != 0 && strcmp(type->value, "webdav") != 0)) {
        return cfg_fail(p, type ? type : n, "a route's type is vault or webdav");
    }
    r->kind = strcmp(type->value, "vault") == 0 ? GW_ROUTE_VAULT : GW_ROUTE_WEBDAV;
    const struct ynode *v;
    if (r->kind == GW_ROUTE_VAULT) {
        for (size_t i = 0; i < n->n; i += 2) {
            if (strcmp(n->items[i]->value, "type") != 0) {
                return cfg_fail(p, n->items[i], "a vault route takes only a type");
            }
        }
        return 0;
    }
    if ((v = ytree_get(n, "url")) == NULL) {
        return cfg_fail(p, n, "a webdav route needs the url of its folder");
    }
    if (cfg_get_string(p, v, "url", &r->url) < 0) {
        return -BARRA_EPARSE;
    }
    if (strncmp(r->url, "http://", 7) != 0 && strncmp(r->url, "https://", 8) != 0) {
        return cfg_fail(p, v,
                        "a webdav url starts with https:// (or http:// on a trusted network)");
    }
    if (r->url[strlen(r->url) - 1] != '/') {
        return cfg_fail(p, v, "a webdav url names a folder and ends with '/'");
    }
    if ((v = ytree_get(n, "username")) && cfg_get_string(p, v, "username", &r->username) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "password_file")) && cfg_read_secret(p, v, &r->password) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "ca_file")) && cfg_get_path(p, v, "ca_file", &r->ca_file) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "share"))) {
        if (cfg_scalar(p, v, "share") < 0 ||
            (strcmp(v->value, "nextcloud") != 0 && strcmp(v->value, "none") != 0)) {
            return cfg_fail(p, v, "share is nextcloud (ask for a public link) or none");
        }
        r->nextcloud_share = strcmp(v->value, "nextcloud") == 0;
    }
    return 0;
}

int cfg_get_host_port(struct cfg_parse *p, const struct ynode *n, const char *what, char **host,
                      uint16_t *port)
{
    if (cfg_scalar(p, n, what) < 0) {
        return -BARRA_EPARSE;
    }
    const char *colon = strrchr(n->value, ':');
    char *end = NULL;
    unsigned long v = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (colon == NULL || colon == n->value || end == colon + 1 || *end || v > 65535) {
        return cfg_fail(p, n, "%s is HOST:PORT, e.g. 127.0.0.1:8443 (port 0 picks a free one)",
                        what);
    }
    barra_free(*host);
    *host = barra_strndup(n->value, (size_t)(colon - n->value));
    *port = (uint16_t)v;
    return *host ? 0 : barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
}

static int parse_listen(struct cfg_parse *p, const struct ynode *n, struct gw_config *c)
{
    return cfg_get_host_port(p, n, "listen", &c->listen_host, &c->port);
}

static int parse_limits(struct cfg_parse *p, const struct ynode *n, struct gw_config *c)
{
    static const char *const keys[] = {"max_body", "max_file", "in_flight", "rate",
                                       "burst",    "timeout",  NULL};
    if (cfg_check_keys(p, n, "limits", keys) < 0) {
        return -BARRA_EPARSE;
    }
    const struct ynode *v;
    uint64_t x;
    if ((v = ytree_get(n, "max_body"))) {
        if (cfg_get_uint(p, v, "max_body", 1024, 64ull << 20, true, &c->max_body) < 0) {
            return -BARRA_EPARSE;
        }
    }
    if ((v = ytree_get(n, "max_file"))) {
        if (cfg_get_uint(p, v, "max_file", 1024, 4ull << 30, true, &c->max_file) < 0) {
            return -BARRA_EPARSE;
        }
    }
    if ((v = ytree_get(n, "in_flight"))) {
        if (cfg_get_uint(p, v, "in_flight", 1, 100000, false, &x) < 0) {
            return -BARRA_EPARSE;
        }
        c->max_in_flight = (uint32_t)x;
    }
    if ((v = ytree_get(n, "rate"))) {
        if (cfg_get_uint(p, v, "rate", 1, 10000000, false, &x) < 0) {
            return -BARRA_EPARSE;
        }
        c->rate = (double)x;
    }
    if ((v = ytree_get(n, "burst"))) {
        if (cfg_get_uint(p, v, "burst", 1, 10000000, false, &x) < 0) {
            return -BARRA_EPARSE;
        }
        c->burst = (uint32_t)x;
    }
    if ((v = ytree_get(n, "timeout"))) {
        if (cfg_get_uint(p, v, "timeout", 1, 3600, false, &x) < 0) {
            return -BARRA_EPARSE;
        }
        c->timeout_s = (uint32_t)x;
    }
    return 0;
}

static int parse_audit(struct cfg_parse *p, const struct ynode *n, struct gw_config *c)
{
    static const char *const keys[] = {"origin", "checkpoint_dir", "syslog", "checkpoint_interval",
                                       NULL};
    if (cfg_check_keys(p, n, "audit", keys) < 0) {
        return -BARRA_EPARSE;
    }
    const struct ynode *v;
    uint64_t x;
    if ((v = ytree_get(n, "origin")) && cfg_get_string(p, v, "origin", &c->audit_origin) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "checkpoint_dir")) &&
        cfg_get_path(p, v, "checkpoint_dir", &c->checkpoint_dir) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "syslog")) && cfg_get_bool(p, v, "syslog", &c->checkpoint_syslog) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "checkpoint_interval"))) {
        if (cfg_get_uint(p, v, "checkpoint_interval", 1, 3600, false, &x) < 0) {
            return -BARRA_EPARSE;
        }
        c->checkpoint_s = (uint32_t)x;
    }
    return 0;
}

bool cfg_all_alnum(const char *s)
{
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == strlen(s);
}

static int parse_connectors(struct cfg_parse *p, const struct ynode *n, struct gw_config *c)
{
    static const char *const keys[] = {"generic", "dingtalk", NULL};
    static const char *const gkeys[] = {"name", "reply_url", NULL};
    if (cfg_check_keys(p, n, "connectors", keys) < 0) {
        return -BARRA_EPARSE;
    }
    const struct ynode *dt = ytree_get(n, "dingtalk");
    if (dt && cfg_parse_dingtalk(p, dt, c) < 0) {
        return -BARRA_EPARSE;
    }
    const struct ynode *g = ytree_get(n, "generic");
    if (g == NULL) {
        return 0;
    }
    const struct ynode *const *items;
    size_t k = ytree_as_list(&g, &items);
    c->generic = barra_calloc(k, sizeof(*c->generic));
    if (c->generic == NULL) {
        return barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < k; i++) {
        struct gw_generic_config *gc = &c->generic[c->ngeneric++];
        const struct ynode *v;
        if (cfg_check_keys(p, items[i], "a generic connector", gkeys) < 0) {
            return -BARRA_EPARSE;
        }
        if ((v = ytree_get(items[i], "name")) == NULL) {
            return cfg_fail(p, items[i],
                            "a generic connector needs a name (it appears in its URL)");
        }
        if (cfg_get_string(p, v, "name", &gc->name) < 0) {
            return -BARRA_EPARSE;
        }
        if (strspn(gc->name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(gc->name)) {
            return cfg_fail(p, v, "a connector's name uses a-z, 0-9, '-' and '_'");
        }
        for (size_t j = 0; j + 1 < c->ngeneric; j++) {
            if (strcmp(c->generic[j].name, gc->name) == 0) {
                return cfg_fail(p, v, "two generic connectors are named \"%s\"", gc->name);
            }
        }
        if ((v = ytree_get(items[i], "reply_url"))) {
            if (cfg_get_string(p, v, "reply_url", &gc->reply_url) < 0) {
                return -BARRA_EPARSE;
            }
            if (strncmp(gc->reply_url, "http://", 7) != 0 &&
                strncmp(gc->reply_url, "https://", 8) != 0) {
                return cfg_fail(p, v, "reply_url is an http:// or https:// URL");
            }
        }
    }
    return 0;
}

static int parse_root(struct cfg_parse *p, const struct ynode *root, struct gw_config *c)
{
    static const char *const keys[] = {"listen", "data_dir",   "policy",  "entities", "public_url",
                                       "tls",    "limits",     "threads", "tokens",   "routes",
                                       "audit",  "connectors", "monitor", NULL};
    if (cfg_check_keys(p, root, "the configuration", keys) < 0) {
        return -BARRA_EPARSE;
    }
    const struct ynode *v;
    uint64_t x;
    if ((v = ytree_get(root, "listen")) && parse_listen(p, v, c) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(root, "data_dir")) && cfg_get_path(p, v, "data_dir", &c->data_dir) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(root, "policy")) == NULL) {
        return cfg_fail(p, root,
                        "the configuration needs a policy (a file such as "
                        "rules/policies/general.yaml)");
    }
    if (cfg_get_path(p, v, "policy", &c->policy_path) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(root, "entities")) && cfg_get_path(p, v, "entities", &c->entities_dir) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(root, "public_url")) &&
        cfg_get_string(p, v, "public_url", &c->public_url) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(root, "tls"))) {
        static const char *const tkeys[] = {"certificate", "key", NULL};
        const struct ynode *cert, *key;
        if (cfg_check_keys(p, v, "tls", tkeys) < 0) {
            return -BARRA_EPARSE;
        }
        if ((cert = ytree_get(v, "certificate")) == NULL || (key = ytree_get(v, "key")) == NULL) {
            return cfg_fail(p, v, "tls needs a certificate and a key (PEM files)");
        }
        if (cfg_get_path(p, cert, "certificate", &c->tls_cert) < 0 ||
            cfg_get_path(p, key, "key", &c->tls_key) < 0) {
            return -BARRA_EPARSE;
        }
    }
    if ((v = ytree_get(root, "monitor")) && cfg_parse_monitor(p, v, c) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(root, "limits")) && parse_limits(p, v, c) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(root, "threads"))) {
        if (cfg_get_uint(p, v, "threads", 0, 256, false, &x) < 0) {
            return -BARRA_EPARSE;
        }
        c->threads = (uint32_t)x;
    }
    if ((v = ytree_get(root, "tokens"))) {
        const struct ynode *const *items;
        size_t k = ytree_as_list(&v, &items);
        if ((c->tokens = barra_calloc(k, sizeof(*c->tokens))) == NULL) {
            return barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < k; i++) {
            c->ntokens++;
            if (parse_token(p, items[i], &c->tokens[i]) < 0) {
                return -BARRA_EPARSE;
            }
            for (size_t j = 0; j < i; j++) {
                if (strcmp(c->tokens[j].name, c->tokens[i].name) == 0) {
                    return cfg_fail(p, items[i], "two tokens are named \"%s\"", c->tokens[i].name);
                }
            }
        }
    }
    if ((v = ytree_get(root, "routes"))) {
        if (v->kind != YNODE_MAP) {
            return cfg_fail(p, v, "routes takes a mapping of route names to destinations");
        }
        if ((c->routes = barra_calloc(v->n / 2, sizeof(*c->routes))) == NULL) {
            return barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < v->n; i += 2) {
            c->nroutes++;
            if (parse_route(p, v->items[i], v->items[i + 1], &c->routes[i / 2]) < 0) {
                return -BARRA_EPARSE;
            }
        }
    }
    if ((v = ytree_get(root, "audit")) && parse_audit(p, v, c) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(root, "connectors")) && parse_connectors(p, v, c) < 0) {
        return -BARRA_EPARSE;
    }
    return 0;
}

static int set_defaults(struct cfg_parse *p, struct gw_config *c)
{
    c->port = 8080;
    c->max_body = 1u << 20;
    c->max_file = 64u << 20;
    c->max_in_flight = 1024;
    c->rate = 5000;
    c->burst = 10000;
    c->timeout_s = 30;
    c->checkpoint_s = 5;
    c->listen_host = barra_strdup("127.0.0.1");
    size_t len = strlen(p->base) + sizeof("/barra-data");
    c->data_dir = barra_malloc(len);
    if (c->listen_host == NULL || c->data_dir == NULL) {
        return barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
    }
    (void)snprintf(c->data_dir, len, "%s/barra-data", p->base);
    return 0;
}

static int config_from_tree(struct ynode *root, const char *path, struct gw_config **ret,
                            struct barra_error *reterr)
{
    int r;
    char *copy = barra_strdup(path);
    struct gw_config *c = barra_calloc(1, sizeof(*c));
    struct cfg_parse p = {.file = path, .reterr = reterr};
    if (copy == NULL || c == NULL || (c->path = barra_strdup(path)) == NULL ||
        (p.base = barra_strdup(dirname(copy))) == NULL) {
        r = barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    } else {
        r = set_defaults(&p, c);
    }
    if (r == 0) {
        r = parse_root(&p, root, c);
    }
    if (r == 0 && c->burst < c->rate / 10) {
        r = barra_error_set_at(reterr, -BARRA_EPARSE, path, 0, 0,
                               "limits: burst (%u) should hold at least a tenth of a second of "
                               "the rate (%.0f)",
                               c->burst, c->rate);
    }
    barra_free(copy);
    barra_free(p.base);
    ytree_free(root);
    if (r < 0) {
        gw_config_free(c);
        return r;
    }
    *ret = c;
    return 0;
}

int gw_config_load(const char *path, struct gw_config **ret, struct barra_error *reterr)
{
    *ret = NULL;
    struct ynode *root = NULL;
    int r = ytree_load_file(path, &root, reterr);
    return r < 0 ? r : config_from_tree(root, path, ret, reterr);
}

int gw_config_parse(const char *text, size_t len, const char *path, struct gw_config **ret,
                    struct barra_error *reterr)
{
    *ret = NULL;
    struct ynode *root = NULL;
    int r = ytree_load_string(text, len, path, &root, reterr);
    return r < 0 ? r : config_from_tree(root, path, ret, reterr);
}

const struct gw_route_config *gw_config_route(const struct gw_config *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->nroutes; i++) {
        if (strcmp(c->routes[i].name, name) == 0) {
            return &c->routes[i];
        }
    }
    return NULL;
}

struct gw_config *gw_config_free(struct gw_config *c)
{
    if (c == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < c->ntokens; i++) {
        barra_free(c->tokens[i].name);
    }
    for (size_t i = 0; i < c->nroutes; i++) {
        struct gw_route_config *r = &c->routes[i];
        barra_free(r->name);
        barra_free(r->url);
        barra_free(r->username);
        if (r->password) {
            explicit_bzero(r->password, strlen(r->password));
        }
        barra_free(r->password);
        barra_free(r->ca_file);
    }
    for (size_t i = 0; i < c->ngeneric; i++) {
        barra_free(c->generic[i].name);
        barra_free(c->generic[i].reply_url);
    }
    barra_free(c->generic);
    cfg_free_dingtalk(c->dingtalk);
    cfg_free_monitor(c->monitor);
    barra_free(c->routes);
    barra_free(c->tokens);
    barra_free(c->path);
    barra_free(c->listen_host);
    barra_free(c->data_dir);
    barra_free(c->policy_path);
    barra_free(c->entities_dir);
    barra_free(c->public_url);
    barra_free(c->tls_cert);
    barra_free(c->tls_key);
    barra_free(c->audit_origin);
    barra_free(c->checkpoint_dir);
    barra_free(c);
    return NULL;
}
