/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway (`barra serve`): what it holds and how its parts talk. The HTTP layer (http.c) only
 * reads requests, checks tokens and limits, and writes answers; the endpoints (api-*.c) turn a
 * request into calls to the classifier, the policy, the vault and the audit log. */
#ifndef BARRA_SERVER_SERVER_H
#define BARRA_SERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <barra/audit.h>
#include <barra/detect.h>
#include <barra/policy.h>

#include "connect/connect.h"
#include "core/buf.h"
#include "server/consents.h"
#include "server/gw-config.h"
#include "server/metrics.h"
#include "store/store.h"
#include "vault/vault.h"

struct gw_token {
    const struct gw_token_config *config;
    pthread_mutex_t lock; /* guards the bucket */
    double bucket;        /* requests it may still make now */
    int64_t refilled_ns;
};

struct gw {
    struct gw_config *config;
    barra_detector_t *detector;
    barra_policy_slot_t *policy;
    barra_key_t *key;
    barra_audit_t *audit;
    struct store *store;
    struct vault *vault;
    struct gw_consents *consents;
    struct gw_metrics metrics;
    struct gw_token *tokens;
    struct connector **connectors;
    size_t nconnectors;
    pthread_key_t worker_key; /* each HTTP thread's scanner and scratch (struct gw_worker) */
    struct MHD_Daemon *mhd;
    uint16_t port; /* as bound */
    atomic_int in_flight;
    atomic_bool stopping;
    char base_url[512];           /* public_url, or http(s)://listen */
    uint8_t dingtalk_key[32];     /* from the DingTalk connector's aes_key, when configured */
    struct gw_dingtalk *dingtalk; /* the DingTalk connector's threads (dingtalk.h), or NULL */
    struct gw_monitor *monitor;   /* the activity monitor (activity.h), or NULL */
};

/* One HTTP thread's reusable state: made on its first request, freed when the thread ends. */
struct gw_worker {
    barra_scanner_t *scanner;
    barra_findings_t *findings;
    barra_decision_t *decision;
};

/* Opens everything the configuration names (data folder, key, audit log, store, vault, policy).
 * `log` receives progress lines. */
int gw_open(struct gw_config *config, struct gw **ret, struct barra_error *reterr);
/* Starts serving; gw->port then holds the bound port. */
int gw_start(struct gw *gw, struct barra_error *reterr);
/* Reloads the policy (build aside, then swap); on failure the old one stays and reterr says why. */
int gw_reload(struct gw *gw, struct barra_error *reterr);
/* Stops taking requests, lets those in flight finish, closes the log (signing a last
 * checkpoint). Frees gw and its configuration. */
int gw_close(struct gw *gw, struct barra_error *reterr);

struct gw_worker *gw_worker(struct gw *gw);
/* Checks that the configuration has a destination for every route the policy names. */
int gw_check_routes(const struct gw_config *c, const barra_policy_t *p, struct barra_error *reterr);

#endif
