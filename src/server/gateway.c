/* SPDX-License-Identifier: Apache-2.0 */
/* Opening and closing the gateway: the data folder and everything in it, the policy, the tokens and
 * connectors; reloading the policy; each HTTP thread's scanner. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connect/dingtalk/callback-crypto.h"
#include "core/alloc.h"
#include "core/error.h"
#include "server/activity.h"
#include "server/dingtalk.h"
#include "server/http.h"
#include "server/server.h"

#include "core/banned.h"

static void worker_free(void *p)
{
    struct gw_worker *w = p;
    if (w) {
        barra_scanner_free(w->scanner);
        barra_findings_free(w->findings);
        barra_decision_free(w->decision);
        barra_free(w);
    }
}

struct gw_worker *gw_worker(struct gw *gw)
{
    struct gw_worker *w = pthread_getspecific(gw->worker_key);
    if (w) {
        return w;
    }
    w = barra_calloc(1, sizeof(*w));
    if (w == NULL || barra_scanner_new(gw->detector, 0, &w->scanner, NULL) < 0 ||
        barra_findings_new(&w->findings) < 0 || barra_decision_new(&w->decision) < 0 ||
        pthread_setspecific(gw->worker_key, w) != 0) {
        worker_free(w);
        return NULL;
    }
    return w;
}

int gw_check_routes(const struct gw_config *c, const barra_policy_t *p, struct barra_error *reterr)
{
    const char *route;
    for (size_t i = 0; (route = barra_policy_route(p, i)) != NULL; i++) {
        if (gw_config_route(c, route) == NULL && strcmp(route, "vault") != 0) {
            return barra_error_set(reterr, -BARRA_ERULES,
                                   "policy \"%s\" routes content to \"%s\", which the "
                                   "configuration's routes do not define (only \"vault\" is "
                                   "built in)",
                                   barra_policy_name(p), route);
        }
    }
    return 0;
}

static int load_policy(struct gw *gw, barra_policy_t **ret, struct barra_error *reterr)
{
    struct barra_policy_options po;
    barra_policy_options_init(&po);
    po.detector = gw->detector;
    int r = barra_policy_load(gw->config->policy_path, &po, ret, reterr);
    if (r == 0 && (r = gw_check_routes(gw->config, *ret, reterr)) < 0) {
        *ret = barra_policy_unref(*ret);
    }
    return r;
}

int gw_reload(struct gw *gw, struct barra_error *reterr)
{
    barra_policy_t *p = NULL;
    int r = load_policy(gw, &p, reterr);
    if (r < 0) {
        atomic_fetch_add(&gw->metrics.reload_failures, 1);
        return r;
    }
    barra_policy_slot_set(gw->policy, p);
    barra_policy_unref(p);
    atomic_fetch_add(&gw->metrics.reloads, 1);
    return 0;
}

static int make_dir(const char *path, struct barra_error *reterr)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        return barra_error_set(reterr, errno == EACCES ? -BARRA_EACCES : -BARRA_EIO,
                               "cannot create the folder %s: %s", path, strerror(errno));
    }
    return 0;
}

static int open_parts(struct gw *gw, struct barra_error *reterr)
{
    struct gw_config *c = gw->config;
    char path[4096];
    int r = make_dir(c->data_dir, reterr);
    if (r < 0) {
        return r;
    }
    char *abs = realpath(c->data_dir, NULL); /* for messages: the folder as the system names it */
    if (abs) {
        barra_free(c->data_dir);
        c->data_dir = barra_strdup(abs);
        free(abs);
        if (c->data_dir == NULL) {
            return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
        }
    }
    struct barra_detector_options dopts;
    barra_detector_options_init(&dopts);
    dopts.rules_dir = c->entities_dir;
    if ((r = barra_detector_new(&dopts, &gw->detector, reterr)) < 0) {
        return r;
    }
    barra_policy_t *p = NULL;
    if ((r = load_policy(gw, &p, reterr)) < 0) {
        return r;
    }
    r = barra_policy_slot_new(p, &gw->policy);
    barra_policy_unref(p);
    if (r < 0) {
        return barra_error_set(reterr, r, "out of memory");
    }
    (void)snprintf(path, sizeof(path), "%s/barra.key", c->data_dir);
    if ((r = barra_key_load(path, true, &gw->key, reterr)) < 0) {
        return r;
    }
    (void)snprintf(path, sizeof(path), "%s/audit", c->data_dir);
    struct barra_audit_options ao;
    barra_audit_options_init(&ao);
    ao.dir = path;
    ao.origin = c->audit_origin ? c->audit_origin : ao.origin;
    ao.checkpoint_ms = c->checkpoint_s * 1000;
    ao.checkpoint_dir = c->checkpoint_dir;
    ao.checkpoint_syslog = c->checkpoint_syslog;
    if ((r = barra_audit_open(&ao, &gw->audit, reterr)) < 0) {
        return r;
    }
    if ((r = store_sqlite_open(c->data_dir, &gw->store, reterr)) < 0) {
        return r;
    }
    if ((r = gw_consents_open(gw->store, gw->key, &gw->consents, reterr)) < 0) {
        return r;
    }
    (void)snprintf(path, sizeof(path), "%s/vault", c->data_dir);
    if ((r = vault_open(path, &gw->vault, reterr)) < 0) {
        return r;
    }
    gw->tokens = barra_calloc(c->ntokens ? c->ntokens : 1, sizeof(*gw->tokens));
    gw->connectors = barra_calloc(c->ngeneric ? c->ngeneric : 1, sizeof(*gw->connectors));
    if (gw->tokens == NULL || gw->connectors == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->ntokens; i++) {
        gw->tokens[i].config = &c->tokens[i];
        gw->tokens[i].bucket = c->burst;
        gw->tokens[i].refilled_ns = gw_now_ns();
        pthread_mutex_init(&gw->tokens[i].lock, NULL);
    }
    for (size_t i = 0; i < c->ngeneric; i++) {
        if ((r = connect_generic_new(c->generic[i].name, c->generic[i].reply_url,
                                     &gw->connectors[i], reterr)) < 0) {
            return r;
        }
        gw->nconnectors++;
    }
    if (c->dingtalk && c->dingtalk->aes_key &&
        dt_derive_key(c->dingtalk->aes_key, gw->dingtalk_key) < 0) {
        return barra_error_set(reterr, -BARRA_EINVAL, "the DingTalk aes_key is not a valid key");
    }
    if (c->public_url) {
        (void)snprintf(gw->base_url, sizeof(gw->base_url), "%s", c->public_url);
    }
    return gw_monitor_open(gw, reterr);
}

int gw_open(struct gw_config *config, struct gw **ret, struct barra_error *reterr)
{
    *ret = NULL;
    struct gw *gw = barra_calloc(1, sizeof(*gw));
    if (gw == NULL) {
        gw_config_free(config);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    gw->config = config;
    if (pthread_key_create(&gw->worker_key, worker_free) != 0) {
        barra_free(gw);
        gw_config_free(config);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of thread keys");
    }
    int r = open_parts(gw, reterr);
    if (r < 0) {
        (void)gw_close(gw, NULL);
        return r;
    }
    *ret = gw;
    return 0;
}

int gw_close(struct gw *gw, struct barra_error *reterr)
{
    if (gw == NULL) {
        return 0;
    }
    atomic_store(&gw->stopping, true);
    if (gw->mhd) {
        /* Stop accepting, then let the requests in flight (some waiting on the audit log) end:
         * libmicrohttpd must not be stopped with suspended connections. */
        (void)MHD_quiesce_daemon(gw->mhd);
        for (int i = 0; i < 3000 && atomic_load(&gw->in_flight) > 0; i++) {
            usleep(1000);
        }
        MHD_stop_daemon(gw->mhd);
    }
    gw_dingtalk_stop(gw); /* before the log closes: its threads record decisions */
    gw_monitor_close(gw); /* after the connectors (they store activity), before the log */
    int r = 0;
    if (gw->audit) {
        r = barra_audit_close(gw->audit, reterr);
    }
    for (size_t i = 0; i < gw->nconnectors; i++) {
        gw->connectors[i]->ops->free(gw->connectors[i]);
    }
    for (size_t i = 0; gw->tokens && i < gw->config->ntokens; i++) {
        pthread_mutex_destroy(&gw->tokens[i].lock);
    }
    barra_free(gw->connectors);
    barra_free(gw->tokens);
    explicit_bzero(gw->dingtalk_key, sizeof(gw->dingtalk_key));
    vault_close(gw->vault);
    gw_consents_close(gw->consents);
    if (gw->store) {
        gw->store->ops->close(gw->store);
    }
    barra_key_free(gw->key);
    barra_policy_slot_free(gw->policy);
    barra_detector_unref(gw->detector);
    /* The main thread may have made a worker too (tests call endpoints directly). */
    worker_free(pthread_getspecific(gw->worker_key));
    (void)pthread_setspecific(gw->worker_key, NULL);
    pthread_key_delete(gw->worker_key);
    gw_config_free(gw->config);
    barra_free(gw);
    return r;
}
