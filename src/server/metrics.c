/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "server/metrics.h"

#include "core/banned.h"

/* Upper bounds of the latency histogram, in microseconds. */
static const uint64_t bounds_us[GW_LATENCY_BUCKETS] = {
    250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000};

void gw_metrics_request(struct gw_metrics *m, unsigned status, int64_t elapsed_ns)
{
    unsigned cls = status / 100;
    if (cls >= 1 && cls <= 5) {
        atomic_fetch_add_explicit(&m->requests[cls], 1, memory_order_relaxed);
    }
    uint64_t us = elapsed_ns > 0 ? (uint64_t)elapsed_ns / 1000 : 0;
    size_t b = 0;
    while (b < GW_LATENCY_BUCKETS && us > bounds_us[b]) {
        b++;
    }
    atomic_fetch_add_explicit(&m->latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_us, us, memory_order_relaxed);
}

static uint64_t get(const atomic_uint_fast64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

int gw_metrics_format(const struct gw_metrics *m, int in_flight, uint64_t audit_size,
                      struct buf *out)
{
    static const char *const reject_names[GW_REJECT_COUNT] = {
        "auth", "scope", "rate", "busy", "size", "malformed", "audit",
    };
    (void)buf_append_str(out, "# HELP barra_http_requests_total HTTP requests answered, by "
                              "status class.\n# TYPE barra_http_requests_total counter\n");
    for (unsigned c = 1; c <= 5; c++) {
        (void)buf_printf(out, "barra_http_requests_total{class=\"%uxx\"} %llu\n", c,
                         (unsigned long long)get(&m->requests[c]));
    }
    (void)buf_append_str(out, "# HELP barra_decisions_total Decisions made and recorded, by "
                              "action.\n# TYPE barra_decisions_total counter\n");
    for (int a = BARRA_ACTION_ALLOW; a <= BARRA_ACTION_BLOCK; a++) {
        (void)buf_printf(out, "barra_decisions_total{action=\"%s\"} %llu\n",
                         barra_action_name((enum barra_action)a),
                         (unsigned long long)get(&m->decisions[a]));
    }
    (void)buf_append_str(out, "# HELP barra_rejected_total Requests refused, by reason.\n"
                              "# TYPE barra_rejected_total counter\n");
    for (int r = 0; r < GW_REJECT_COUNT; r++) {
        (void)buf_printf(out, "barra_rejected_total{reason=\"%s\"} %llu\n", reject_names[r],
                         (unsigned long long)get(&m->rejects[r]));
    }
    (void)buf_append_str(out, "# HELP barra_request_duration_seconds Time from a request's "
                              "headers to its answer.\n"
                              "# TYPE barra_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t b = 0; b < GW_LATENCY_BUCKETS; b++) {
        cum += get(&m->latency[b]);
        (void)buf_printf(out, "barra_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                         (double)bounds_us[b] / 1e6, (unsigned long long)cum);
    }
    cum += get(&m->latency[GW_LATENCY_BUCKETS]);
    (void)buf_printf(out, "barra_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                     (unsigned long long)cum);
    (void)buf_printf(out, "barra_request_duration_seconds_sum %.6f\n",
                     (double)get(&m->latency_sum_us) / 1e6);
    (void)buf_printf(out, "barra_request_duration_seconds_count %llu\n", (unsigned long long)cum);
    (void)buf_printf(out,
                     "# HELP barra_findings_total Personal data found.\n"
                     "# TYPE barra_findings_total counter\nbarra_findings_total %llu\n"
                     "# HELP barra_policy_reloads_total Policy reloads, by result.\n"
                     "# TYPE barra_policy_reloads_total counter\n"
                     "barra_policy_reloads_total{result=\"ok\"} %llu\n"
                     "barra_policy_reloads_total{result=\"failed\"} %llu\n"
                     "# HELP barra_vault_items_total Items routed into the vault.\n"
                     "# TYPE barra_vault_items_total counter\nbarra_vault_items_total %llu\n"
                     "# HELP barra_in_flight Requests being worked on.\n"
                     "# TYPE barra_in_flight gauge\nbarra_in_flight %d\n"
                     "# HELP barra_audit_entries Entries in the audit log.\n"
                     "# TYPE barra_audit_entries gauge\nbarra_audit_entries %llu\n",
                     (unsigned long long)get(&m->findings), (unsigned long long)get(&m->reloads),
                     (unsigned long long)get(&m->reload_failures),
                     (unsigned long long)get(&m->vault_items), in_flight,
                     (unsigned long long)audit_size);
    return out->err;
}
