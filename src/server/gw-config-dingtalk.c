/* SPDX-License-Identifier: Apache-2.0 */
/* connectors.dingtalk of the configuration (docs/serve.md, docs/dingtalk.md). */
#include "config.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "server/gw-config-int.h"

#include "core/banned.h"

static int get_url(struct cfg_parse *p, const struct ynode *n, const char *what, char **ret)
{
    if (cfg_get_string(p, n, what, ret) < 0) {
        return -BARRA_EPARSE;
    }
    if (strncmp(*ret, "https://", 8) != 0 && strncmp(*ret, "http://127.0.0.1", 16) != 0) {
        return cfg_fail(p, n, "%s is an https:// URL (plain http only on 127.0.0.1)", what);
    }
    size_t len = strlen(*ret);
    if (len > 400 || (*ret)[len - 1] == '/') {
        return cfg_fail(p, n, "%s is a URL without a trailing /, at most 400 bytes", what);
    }
    return 0;
}

static int parse_approval(struct cfg_parse *p, const struct ynode *n, struct gw_dingtalk_config *d)
{
    static const char *const keys[] = {"process_code",    "approver",        "subject_field",
                                       "consent_process", "consent_purpose", NULL};
    const struct ynode *v;
    if (cfg_check_keys(p, n, "dingtalk.approval", keys) < 0) {
        return -BARRA_EPARSE;
    }
    if (ytree_get(n, "process_code") == NULL || ytree_get(n, "approver") == NULL) {
        return cfg_fail(p, n,
                        "approval needs process_code (the gated process) and approver "
                        "(Barra's userId in it)");
    }
    if (cfg_get_string(p, ytree_get(n, "process_code"), "process_code", &d->gate_process) < 0 ||
        cfg_get_string(p, ytree_get(n, "approver"), "approver", &d->approver) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "subject_field")) &&
        cfg_get_string(p, v, "subject_field", &d->subject_field) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "consent_process")) &&
        cfg_get_string(p, v, "consent_process", &d->consent_process) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "consent_purpose"))) {
        if (cfg_get_string(p, v, "consent_purpose", &d->consent_purpose) < 0) {
            return -BARRA_EPARSE;
        }
        if (strlen(d->consent_purpose) > 64) {
            return cfg_fail(p, v, "consent_purpose is at most 64 bytes");
        }
    }
    return 0;
}

static int parse_file_audit(struct cfg_parse *p, const struct ynode *n,
                            struct gw_dingtalk_config *d)
{
    static const char *const keys[] = {"interval", "page_size", "lookback", NULL};
    const struct ynode *v;
    uint64_t x;
    if (cfg_check_keys(p, n, "dingtalk.file_audit", keys) < 0) {
        return -BARRA_EPARSE;
    }
    d->audit_interval_s = 300;
    if ((v = ytree_get(n, "interval"))) {
        if (cfg_get_uint(p, v, "interval", 1, 86400, false, &x) < 0) {
            return -BARRA_EPARSE;
        }
        d->audit_interval_s = (uint32_t)x;
    }
    if ((v = ytree_get(n, "page_size"))) {
        if (cfg_get_uint(p, v, "page_size", 1, 500, false, &x) < 0) { /* DingTalk's maximum */
            return -BARRA_EPARSE;
        }
        d->audit_page_size = (uint32_t)x;
    }
    if ((v = ytree_get(n, "lookback"))) {
        if (cfg_get_uint(p, v, "lookback", 0, 90 * 86400, false, &x) < 0) {
            return -BARRA_EPARSE;
        }
        d->audit_lookback_s = (uint32_t)x;
    }
    return 0;
}

static int parse_alerts(struct cfg_parse *p, const struct ynode *n, struct gw_dingtalk_config *d)
{
    static const char *const keys[] = {"webhook_file", "secret_file", "per_minute", NULL};
    const struct ynode *v;
    if (cfg_check_keys(p, n, "dingtalk.alerts", keys) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "webhook_file")) == NULL || ytree_get(n, "secret_file") == NULL) {
        return cfg_fail(p, n,
                        "alerts needs webhook_file (the custom robot's URL) and secret_file "
                        "(its signing secret)");
    }
    if (cfg_read_secret(p, v, &d->alert_webhook) < 0 ||
        cfg_read_secret(p, ytree_get(n, "secret_file"), &d->alert_secret) < 0) {
        return -BARRA_EPARSE;
    }
    if (strncmp(d->alert_webhook, "https://", 8) != 0 &&
        strncmp(d->alert_webhook, "http://127.0.0.1", 16) != 0) {
        return cfg_fail(p, v, "the robot webhook is an https:// URL");
    }
    if ((v = ytree_get(n, "per_minute"))) {
        uint64_t x;
        if (cfg_get_uint(p, v, "per_minute", 1, 20, false, &x) < 0) { /* DingTalk throttles >20 */
            return -BARRA_EPARSE;
        }
        d->alerts_per_minute = (uint32_t)x;
    }
    return 0;
}

static int parse_push(struct cfg_parse *p, const struct ynode *n, struct gw_dingtalk_config *d)
{
    const struct ynode *tok = ytree_get(n, "token_file"), *aes = ytree_get(n, "aes_key_file");
    if (tok == NULL && aes == NULL) {
        return 0;
    }
    if (tok == NULL || aes == NULL) {
        return cfg_fail(p, n, "HTTP push needs both token_file and aes_key_file");
    }
    if (cfg_read_secret(p, tok, &d->token) < 0 || cfg_read_secret(p, aes, &d->aes_key) < 0) {
        return -BARRA_EPARSE;
    }
    size_t tl = strlen(d->token);
    if (tl < 3 || tl > 32 || !cfg_all_alnum(d->token)) {
        return cfg_fail(p, tok, "the DingTalk token is 3 to 32 letters or digits");
    }
    if (strlen(d->aes_key) != 43 || !cfg_all_alnum(d->aes_key)) {
        return cfg_fail(p, aes, "the DingTalk aes_key is 43 letters or digits");
    }
    return 0;
}

static int set_defaults(struct cfg_parse *p, const struct ynode *n, struct gw_dingtalk_config *d)
{
    if ((d->api_base == NULL && (d->api_base = barra_strdup("https://api.dingtalk.com")) == NULL) ||
        (d->oapi_base == NULL &&
         (d->oapi_base = barra_strdup("https://oapi.dingtalk.com")) == NULL) ||
        (d->consent_purpose == NULL &&
         (d->consent_purpose = barra_strdup("sensitive_data")) == NULL)) {
        return barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
    }
    if (d->audit_page_size == 0) {
        d->audit_page_size = 100;
    }
    if (d->alerts_per_minute == 0) {
        d->alerts_per_minute = 20;
    }
    bool needs_api = d->stream || d->gate_process || d->file_check || d->audit_interval_s;
    if (needs_api && d->client_secret == NULL) {
        return cfg_fail(p, n,
                        "Stream mode, approval, file_check and file_audit call DingTalk's "
                        "API: give client_secret_file");
    }
    return 0;
}

int cfg_parse_dingtalk(struct cfg_parse *p, const struct ynode *n, struct gw_config *c)
{
    static const char *const keys[] = {
        "client_id", "client_secret_file", "token_file", "aes_key_file", "max_skew",
        "api_base",  "oapi_base",          "ca_file",    "stream",       "robot_replies",
        "approval",  "file_check",         "file_audit", "alerts",       NULL};
    if (cfg_check_keys(p, n, "dingtalk", keys) < 0) {
        return -BARRA_EPARSE;
    }
    struct gw_dingtalk_config *d = c->dingtalk = barra_calloc(1, sizeof(*d));
    if (d == NULL) {
        return barra_error_set(p->reterr, -BARRA_ENOMEM, "out of memory");
    }
    d->max_skew_s = 300;
    d->robot_replies = true;
    const struct ynode *v;
    if ((v = ytree_get(n, "client_id")) == NULL) {
        return cfg_fail(p, n, "dingtalk needs client_id, the app's Client ID (docs/dingtalk.md)");
    }
    if (cfg_get_string(p, v, "client_id", &d->client_id) < 0 || parse_push(p, n, d) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "client_secret_file")) && cfg_read_secret(p, v, &d->client_secret) < 0) {
        return -BARRA_EPARSE;
    }
    if ((v = ytree_get(n, "max_skew"))) {
        uint64_t x;
        if (cfg_get_uint(p, v, "max_skew", 10, 86400, false, &x) < 0) {
            return -BARRA_EPARSE;
        }
        d->max_skew_s = (uint32_t)x;
    }
    if (((v = ytree_get(n, "api_base")) && get_url(p, v, "api_base", &d->api_base) < 0) ||
        ((v = ytree_get(n, "oapi_base")) && get_url(p, v, "oapi_base", &d->oapi_base) < 0) ||
        ((v = ytree_get(n, "ca_file")) && cfg_get_path(p, v, "ca_file", &d->ca_file) < 0) ||
        ((v = ytree_get(n, "stream")) && cfg_get_bool(p, v, "stream", &d->stream) < 0) ||
        ((v = ytree_get(n, "robot_replies")) &&
         cfg_get_bool(p, v, "robot_replies", &d->robot_replies) < 0) ||
        ((v = ytree_get(n, "file_check")) &&
         cfg_get_bool(p, v, "file_check", &d->file_check) < 0) ||
        ((v = ytree_get(n, "approval")) && parse_approval(p, v, d) < 0) ||
        ((v = ytree_get(n, "file_audit")) && parse_file_audit(p, v, d) < 0) ||
        ((v = ytree_get(n, "alerts")) && parse_alerts(p, v, d) < 0)) {
        return -BARRA_EPARSE;
    }
    return set_defaults(p, n, d);
}

static void free_secret(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        barra_free(s);
    }
}

void cfg_free_dingtalk(struct gw_dingtalk_config *d)
{
    if (d == NULL) {
        return;
    }
    free_secret(d->token);
    free_secret(d->aes_key);
    free_secret(d->client_secret);
    free_secret(d->alert_webhook);
    free_secret(d->alert_secret);
    char *plain[] = {d->client_id,     d->api_base,        d->oapi_base,
                     d->ca_file,       d->gate_process,    d->approver,
                     d->subject_field, d->consent_process, d->consent_purpose};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        barra_free(plain[i]);
    }
    barra_free(d);
}
