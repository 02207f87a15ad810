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

/* One of the audit log's histograms, at every fourth bucket bound (the powers of two from
 * 0.01 ms): the counts at those bounds are exact, and 24 lines say enough. */
static void audit_histogram(const char *name, const char *help, const uint64_t *buckets,
                            uint64_t sum_ns, struct buf *out)
{
    (void)buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (size_t i = 0; i < BARRA_AUDIT_BUCKETS; i++) {
        cum += buckets[i];
        if (i % 4 == 0 && i + 1 < BARRA_AUDIT_BUCKETS) {
            (void)buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name,
                             barra_audit_bucket_ms(i) / 1e3, (unsigned long long)cum);
        }
    }
    (void)buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
                     (unsigned long long)cum, name, (double)sum_ns / 1e9, name,
                     (unsigned long long)cum);
}

int gw_metrics_audit(const struct barra_audit_stats *st, struct buf *out)
{
    (void)buf_printf(out,
                     "# HELP barra_audit_commits_total Group commits of the audit log.\n"
                     "# TYPE barra_audit_commits_total counter\nbarra_audit_commits_total %llu\n"
                     "# HELP barra_audit_committed_entries_total Entries those commits made "
                     "durable.\n"
                     "# TYPE barra_audit_committed_entries_total counter\n"
                     "barra_audit_committed_entries_total %llu\n",
                     (unsigned long long)st->commits, (unsigned long long)st->entries);
    audit_histogram("barra_audit_commit_seconds",
                    "Time of each audit log commit, from its first write to its fsync.", st->commit,
                    st->commit_ns_sum, out);
    audit_histogram("barra_audit_ack_wait_seconds",
                    "Time of each audit entry from queued to acknowledged.", st->wait,
                    st->wait_ns_sum, out);
    return out->err;
}
