/* SPDX-License-Identifier: Apache-2.0 */
/* Connectors: how a platform's traffic becomes Barra's content events, and how Barra's decisions
 * are carried out on the platform. A connector only translates; classifying, deciding and
 * recording are the gateway's. DingTalk, the generic JSON webhook and later other platforms
 * implement the same operations. */
#ifndef BARRA_CONNECT_CONNECT_H
#define BARRA_CONNECT_CONNECT_H

#include <stdbool.h>
#include <stddef.h>

#include <barra/error.h>
#include <barra/policy.h>

/* What the platform should do once Barra has decided. */
enum connect_action {
    CONNECT_REPLY,  /* answer the sender in their conversation (the tip, the link, the redaction) */
    CONNECT_RECALL, /* take back content that reached the platform before Barra saw it */
    CONNECT_NOTIFY, /* tell someone else (the data-protection officer) */
};

struct connect_outcome {
    enum connect_action action;
    const barra_event_t *event;
    const char *decision_id;   /* the audit entry's index */
    const char *decision_json; /* the decision as the audit log holds it */
    bool deliver;              /* whether the content may go on */
    const char *text;          /* what may go on in its place (redacted text, a link), or NULL */
    const char *tip;           /* in the sender's language, or NULL */
};

struct connector;

struct connector_ops {
    const char *kind; /* "generic", "dingtalk" */
    /* Turns a request body the platform sent into a content event (owned by the caller). */
    int (*to_event)(struct connector *c, const char *body, size_t len, barra_event_t **ret,
                    struct barra_error *reterr);
    /* Carries out an outcome on the platform; -BARRA_EINVAL for an action it cannot do. */
    int (*act)(struct connector *c, const struct connect_outcome *o, struct barra_error *reterr);
    void (*free)(struct connector *c);
};

struct connector {
    const struct connector_ops *ops;
    char *name; /* from the configuration; part of the connector's URL */
};

/* The generic JSON webhook: takes content events (docs/events.md) as they are, and posts each
 * outcome to reply_url (NULL: replies are only the HTTP answer). */
int connect_generic_new(const char *name, const char *reply_url, struct connector **ret,
                        struct barra_error *reterr);

#endif
