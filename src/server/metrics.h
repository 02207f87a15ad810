/* SPDX-License-Identifier: Apache-2.0 */
/* Counters for /metrics (Prometheus text format). Atomic: every HTTP thread adds to them. */
#ifndef BARRA_SERVER_METRICS_H
#define BARRA_SERVER_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include <barra/audit.h>
#include <barra/policy.h>

#include "core/buf.h"

#define GW_LATENCY_BUCKETS 12

enum gw_reject {
    GW_REJECT_AUTH,      /* no or wrong token */
    GW_REJECT_SCOPE,     /* token without the scope */
    GW_REJECT_RATE,      /* over the token's rate */
    GW_REJECT_BUSY,      /* too many requests in flight */
    GW_REJECT_SIZE,      /* body over the limit */
    GW_REJECT_MALFORMED, /* bad JSON, unknown fields, bad multipart */
    GW_REJECT_AUDIT,     /* the audit log could not make the entry durable */
    GW_REJECT_COUNT,
};

struct gw_metrics {
    atomic_uint_fast64_t requests[6]; /* by status class: 1xx..5xx, [0] unused */
    atomic_uint_fast64_t decisions[BARRA_ACTION_BLOCK + 1];
    atomic_uint_fast64_t rejects[GW_REJECT_COUNT];
    atomic_uint_fast64_t latency[GW_LATENCY_BUCKETS + 1]; /* cumulative at export */
    atomic_uint_fast64_t latency_sum_us;
    atomic_uint_fast64_t findings;
    atomic_uint_fast64_t reloads, reload_failures;
    atomic_uint_fast64_t vault_items;
};

void gw_metrics_request(struct gw_metrics *m, unsigned status, int64_t elapsed_ns);
/* Writes the Prometheus exposition; in_flight and the audit log's size are read by the caller. */
int gw_metrics_format(const struct gw_metrics *m, int in_flight, uint64_t audit_size,
                      struct buf *out);
/* The audit log's group commit: commits, entries, and the commit and wait histograms. */
int gw_metrics_audit(const struct barra_audit_stats *st, struct buf *out);

#endif
