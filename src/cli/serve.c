/* SPDX-License-Identifier: Apache-2.0 */
/* `barra serve`: runs the gateway until SIGINT or SIGTERM; SIGHUP reloads the policy. */
#include "config.h"

#include "cli/serve.h"

#include <getopt.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "server/activity.h"
#include "server/gw-config.h"
#include "server/server.h"

static const char usage[] =
    "Usage: barra serve [--config FILE] [--check-config]\n"
    "       barra serve --new-token NAME [--scopes LIST]\n"
    "\n"
    "Runs the gateway: the HTTP API (/v1), the upload page (/), the consent registry, routing to\n"
    "local stores, every decision recorded in the audit log. SIGHUP reloads the policy (a bad\n"
    "policy keeps the old one); SIGINT or SIGTERM stop it after the requests in flight.\n"
    "\n"
    "  -c, --config FILE     the configuration (docs/serve.md); default ./barra.yaml\n"
    "      --check-config    check the configuration and the policy it names, then exit\n"
    "      --new-token NAME  make an API token: prints it once, and the lines for the\n"
    "                        configuration (which holds only its hash)\n"
    "      --scopes LIST     the new token's scopes, comma-separated (default: classify,events,\n"
    "                        files,consents,decisions)\n"
    "  -h, --help            this help\n"
    "\n"
    "Exit status: 0 after a clean stop or a good check, 2 on a configuration or start-up error.\n"
    "Manual: barra-serve(1); the API: docs/openapi.yaml.\n";

static int new_token(const char *name, const char *scopes)
{
    uint8_t raw[32], hash[32];
    char token[80], hex[65];
    static const char digits[] = "0123456789abcdef";
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        fputs("barra serve: no random bytes for a token\n", stderr);
        return 2;
    }
    memcpy(token, "barra_", 6);
    for (size_t i = 0; i < 32; i++) {
        token[6 + 2 * i] = digits[raw[i] >> 4];
        token[7 + 2 * i] = digits[raw[i] & 15];
    }
    token[70] = '\0';
    unsigned hl = 0;
    (void)EVP_Digest(token, strlen(token), hash, &hl, EVP_sha256(), NULL);
    for (size_t i = 0; i < 32; i++) {
        hex[2 * i] = digits[hash[i] >> 4];
        hex[2 * i + 1] = digits[hash[i] & 15];
    }
    hex[64] = '\0';
    char list[256];
    (void)snprintf(list, sizeof(list), "%s", scopes);
    printf("token: %s\n\n# Add to the configuration's tokens (only the hash is kept):\n"
           "  - name: %s\n    sha256: %s\n    scopes: [",
           token, name, hex);
    const char *p = list;
    for (bool first = true; *p; first = false) {
        size_t n = strcspn(p, ",");
        char one[64];
        (void)snprintf(one, sizeof(one), "%.*s", (int)n, p);
        if (gw_scope_parse(one) == 0) {
            fprintf(stderr, "\nbarra serve: unknown scope \"%s\"\n", one);
            return 2;
        }
        printf("%s%s", first ? "" : ", ", one);
        p += n + (p[n] == ',');
    }
    printf("]\n");
    explicit_bzero(token, sizeof(token));
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"new-token", required_argument, NULL, 't'},
        {"scopes", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = "barra.yaml", *token_name = NULL;
    const char *scopes = "classify,events,files,consents,decisions";
    bool check = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'k':
            check = true;
            break;
        case 't':
            token_name = optarg;
            break;
        case 's':
            scopes = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "barra serve: unexpected argument \"%s\"\n\n%s", argv[optind], usage);
        return 2;
    }
    if (token_name) {
        return new_token(token_name, scopes);
    }
    struct barra_error err;
    struct gw_config *cfg = NULL;
    if (gw_config_load(config_path, &cfg, &err) < 0) {
        if (err.line) {
            fprintf(stderr, "barra serve: %s:%u:%u: %s\n", err.file, err.line, err.column,
                    err.message);
        } else {
            fprintf(stderr, "barra serve: %s\n", err.message);
        }
        return 2;
    }
    if (check) {
        barra_policy_t *p = NULL;
        int r = barra_policy_load(cfg->policy_path, NULL, &p, &err);
        if (r == 0) {
            r = gw_check_routes(cfg, p, &err);
        }
        size_t monitor_rules = 0;
        if (r == 0) {
            r = gw_monitor_check(cfg, &monitor_rules, &err);
        }
        if (r < 0 && err.line && strstr(err.message, err.file) == NULL) {
            fprintf(stderr, "barra serve: %s:%u:%u: %s\n", err.file, err.line, err.column,
                    err.message);
        } else if (r < 0) {
            fprintf(stderr, "barra serve: %s\n", err.message);
        } else {
            printf("%s: ok (policy \"%s\", %zu rules; %zu tokens; %zu routes", config_path,
                   barra_policy_name(p), barra_policy_rule_count(p), cfg->ntokens, cfg->nroutes);
            if (cfg->monitor) {
                printf("; monitor: %zu rules", monitor_rules);
            }
            printf(")\n");
        }
        barra_policy_unref(p);
        gw_config_free(cfg);
        return r < 0 ? 2 : 0;
    }
    /* Signals are taken by this thread alone, with sigwait: every thread started from here on
     * (the HTTP pool, the audit writer) inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct gw *gw = NULL;
    if (gw_open(cfg, &gw, &err) < 0 || gw_start(gw, &err) < 0) {
        fprintf(stderr, "barra serve: %s\n", err.message);
        (void)gw_close(gw, NULL);
        return 2;
    }
    barra_policy_t *p = barra_policy_slot_get(gw->policy);
    printf("barra serve: listening on %s (API /v1, upload page /); policy \"%s\"; data in %s\n",
           gw->base_url, barra_policy_name(p), gw->config->data_dir);
    barra_policy_unref(p);
    if (gw->config->monitor) {
        printf("barra serve: activity monitor on, rules from %s", gw->config->monitor->rules);
        if (gw_monitor_syslog_port(gw)) {
            printf("; syslog (RFC 5424 over TCP) on %s:%u", gw->config->monitor->syslog_host,
                   gw_monitor_syslog_port(gw));
        }
        printf("\n");
    }
    fflush(stdout);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) {
            continue;
        }
        if (sig == SIGHUP) {
            if (gw_reload(gw, &err) < 0) {
                fprintf(stderr, "barra serve: reload refused, the current policy stays: %s%s%s\n",
                        err.line ? err.file : "", err.line ? ": " : "", err.message);
            } else {
                p = barra_policy_slot_get(gw->policy);
                printf("barra serve: policy reloaded: \"%s\" (%s)\n", barra_policy_name(p),
                       barra_policy_version(p));
                barra_policy_unref(p);
            }
            fflush(stdout);
            continue;
        }
        break;
    }
    printf("barra serve: stopping\n");
    fflush(stdout);
    if (gw_close(gw, &err) < 0) {
        fprintf(stderr, "barra serve: %s\n", err.message);
        return 2;
    }
    return 0;
}
