/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's rule reader on arbitrary text (Sigma YAML, correlations, Barra's extensions):
 * either an error with a message, or rules that then run over a few fixed events without
 * crashing, leaking or alerting with a missing rule id. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "monitor/monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_alert(void *ud, const struct mon_alert *a)
{
    (void)ud;
    if (a->rule_id == NULL || a->title == NULL || a->level == NULL || a->group == NULL) {
        abort();
    }
}

static const char *const events[] = {
    "{\"time\":\"2026-03-02T10:00:00+08:00\",\"actor\":\"a\",\"action\":\"file_download\","
    "\"resource\":\"r1\",\"country\":\"MO\",\"tier\":\"restricted\",\"bytes\":100}",
    "{\"time\":\"2026-03-02T10:00:05+08:00\",\"actor\":\"a\",\"action\":\"file_download\","
    "\"resource\":\"r2\",\"ip\":\"10.1.2.3\",\"count\":7}",
    "{\"time\":\"2026-03-02T10:01:00+08:00\",\"actor\":\"b\",\"action\":\"plugin_sync\","
    "\"plugin\":\"crm\",\"destination\":{\"host\":\"x.example\",\"region\":\"sg\"}}",
    "{\"time\":\"2026-04-02T10:01:00+08:00\",\"actor\":\"a\",\"action\":\"login\","
    "\"country\":\"JP\",\"outcome\":\"success\"}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16) {
        return 0;
    }
    char *text = barra_malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    struct mon_rules *rs = NULL;
    struct barra_error err = {0};
    int r = mon_rules_from_text(text, size, "fuzz.yml", NULL, &rs, &err);
    if (r < 0 && err.message[0] == '\0' && r != -BARRA_ENOMEM) {
        abort(); /* every refusal says why */
    }
    if (r == 0) {
        struct mon_options opt = {.lateness_ms = 60000, .on_alert = on_alert};
        struct mon_engine *e = NULL;
        if (mon_engine_new(rs, &opt, &e) == 0) {
            for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
                struct mon_event *ev = NULL;
                if (mon_event_from_json(events[i], strlen(events[i]), "fuzz", &ev, NULL) == 0) {
                    (void)mon_engine_push(e, ev);
                }
            }
            (void)mon_engine_flush(e);
            mon_engine_free(e);
        }
        mon_rules_free(rs);
    }
    barra_free(text);
    return 0;
}
