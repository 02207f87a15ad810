/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's configuration file (docs/serve.md): one YAML document, every key checked, every
 * error naming its line and column. */
#ifndef BARRA_SERVER_GW_CONFIG_H
#define BARRA_SERVER_GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/error.h>

enum gw_scope {
    GW_SCOPE_CLASSIFY = 1u << 0,
    GW_SCOPE_EVENTS = 1u << 1,
    GW_SCOPE_FILES = 1u << 2,
    GW_SCOPE_CONSENTS_READ = 1u << 3,
    GW_SCOPE_CONSENTS_WRITE = 1u << 4,
    GW_SCOPE_DECISIONS = 1u << 5,
    GW_SCOPE_VAULT = 1u << 6,
    GW_SCOPE_METRICS = 1u << 7,
    GW_SCOPE_CONNECTORS = 1u << 8,
    GW_SCOPE_ACTIVITY = 1u << 9, /* POST /v1/activity */
    GW_SCOPE_ALERTS = 1u << 10,  /* GET /v1/alerts */
};

/* The scope named `name` ("events", "consents:read", ...), or 0. */
uint32_t gw_scope_parse(const char *name);

struct gw_token_config {
    char *name;
    uint8_t sha256[32]; /* of the token: the token itself is never stored */
    uint32_t scopes;
};

enum gw_route_kind {
    GW_ROUTE_VAULT,
    GW_ROUTE_WEBDAV,
};

struct gw_route_config {
    char *name;
    enum gw_route_kind kind;
    /* WebDAV: the folder URL (ending in '/'), credentials, and whether to ask Nextcloud's sharing
     * API for a public link after the upload. */
    char *url;
    char *username;
    char *password; /* read from password_file */
    bool nextcloud_share;
    char *ca_file; /* for an https server with a private CA; NULL for the system's */
};

struct gw_generic_config {
    char *name;
    char *reply_url; /* where the connector posts each decision back; NULL for none */
};

/* The DingTalk connector (docs/dingtalk.md). Secrets come from files; every part is optional
 * except the app's Client ID, and each part that calls DingTalk's API needs the Client Secret. */
struct gw_dingtalk_config {
    char *client_id;     /* the app's Client ID (AppKey): the owner key of every pushed message */
    char *client_secret; /* for access tokens and Stream mode; NULL when not given */
    char *token;         /* HTTP push: the signature token (签名 token), or NULL */
    char *aes_key;       /* HTTP push: the 43-character aes_key (加密 aes_key), or NULL */
    uint32_t max_skew_s; /* pushed callbacks whose timestamp is further from now are refused */
    char *api_base;      /* "https://api.dingtalk.com" */
    char *oapi_base;     /* "https://oapi.dingtalk.com" */
    char *ca_file;       /* an extra CA for the TLS of both; NULL: the system's */
    bool stream;         /* receive events and robot messages over Stream mode */
    bool robot_replies;  /* answer robot messages through their session webhook */
    /* Approvals as the upload and consent gate: NULL process codes turn the part off. */
    char *gate_process;    /* the approval process Barra approves in */
    char *approver;        /* Barra's userId in that process */
    char *subject_field;   /* the form field naming the data subject's userId; NULL: originator */
    char *consent_process; /* the consent approval Barra starts for the data subject */
    char *consent_purpose; /* what those consents are for: "sensitive_data" */
    bool file_check;       /* Exclusive DingTalk: answer org_file_send_check */
    uint32_t audit_interval_s; /* Exclusive DingTalk: poll fileAuditLogs this often; 0: off */
    uint32_t audit_page_size;
    uint32_t audit_lookback_s;  /* how far back the first poll starts */
    char *alert_webhook;        /* the custom group robot's URL (with its access_token), or NULL */
    char *alert_secret;         /* its signing secret ("SEC..."), or NULL */
    uint32_t alerts_per_minute; /* at most DingTalk's 20 */
};

/* Where the monitor's alerts go besides the store, the audit log and the DingTalk robot. */
enum gw_alert_format { GW_ALERT_JSON, GW_ALERT_ECS, GW_ALERT_OCSF, GW_ALERT_CEF };
struct gw_alert_sink_config {
    char *url;     /* syslog: tcp:// or tls://HOST:PORT; webhook: https://; email: smtp(s):// */
    char *ca_file; /* NULL: the system's CAs */
    enum gw_alert_format format;
    char *secret;   /* webhook: the signing secret ("whsec_..." or raw) */
    char *username; /* email */
    char *password;
    char *from;
    char **to;
    size_t nto;
};

/* The activity monitor (docs/monitor.md, docs/serve.md): its rules, calendar, and inputs. */
struct gw_monitor_config {
    char *rules;         /* a folder of Sigma rules */
    char *calendar;      /* NULL: RULES/calendar/default.yaml when it exists */
    char *geoip;         /* a MaxMind-format database, or NULL */
    uint32_t lateness_s; /* events are held this long to be put in order (default 120) */
    uint64_t max_keys;   /* groups per rule */
    char *syslog_host;   /* RFC 5424 over TCP: where to listen, or NULL */
    uint16_t syslog_port;
    struct gw_alert_sink_config *alert_syslog, *alert_webhook, *alert_email; /* NULL: none */
};

struct gw_config {
    char *path;
    char *listen_host; /* "127.0.0.1" */
    uint16_t port;
    char *data_dir;
    char *policy_path;
    char *entities_dir; /* entity rules to compile instead of the built-in ones; NULL: built-in */
    char *public_url;   /* the base of links Barra hands out; default http(s)://listen */
    char *tls_cert, *tls_key;
    uint64_t max_body;      /* bytes of a JSON request */
    uint64_t max_file;      /* bytes of an upload */
    uint32_t max_in_flight; /* requests being worked on; beyond it 503 */
    double rate;            /* requests per second per token */
    uint32_t burst;
    uint32_t timeout_s; /* idle connections are closed after this */
    uint32_t threads;   /* 0: one per processor */
    struct gw_token_config *tokens;
    size_t ntokens;
    struct gw_route_config *routes;
    size_t nroutes;
    struct gw_generic_config *generic;
    size_t ngeneric;
    struct gw_dingtalk_config *dingtalk; /* NULL: not configured */
    struct gw_monitor_config *monitor;   /* NULL: not configured */
    char *audit_origin;
    char *checkpoint_dir;
    bool checkpoint_syslog;
    uint32_t checkpoint_s;
};

/* Reads and checks a configuration file. Relative paths in it are taken from the file's folder.
 * Returns owned; free with gw_config_free(). */
int gw_config_load(const char *path, struct gw_config **ret, struct barra_error *reterr);
/* The same from text; `path` names it in errors and gives the folder relative paths start from. */
int gw_config_parse(const char *text, size_t len, const char *path, struct gw_config **ret,
                    struct barra_error *reterr);
struct gw_config *gw_config_free(struct gw_config *c);
const struct gw_route_config *gw_config_route(const struct gw_config *c, const char *name);

#endif
