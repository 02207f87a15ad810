/* SPDX-License-Identifier: Apache-2.0 */
/* DingTalk Stream mode's frames on arbitrary bytes: read as one frame's JSON, and as a WebSocket
 * byte stream whose text messages are read as frames (what the Stream client does). A frame that
 * is accepted must hold what the reader promises: a topic, and for EVENT and CALLBACK frames a
 * messageId and data that is a JSON object of the length given. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connect/dingtalk/stream-frame.h"
#include "connect/ws-frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_frame(const char *text, size_t len)
{
    struct dt_frame f;
    struct barra_error err;
    if (dt_frame_parse(text, len, &f, &err) == 0) {
        if (f.topic == NULL || (f.data && strlen(f.data) != f.data_len) ||
            (f.type != DT_FRAME_SYSTEM && (f.message_id == NULL || f.data == NULL)) ||
            (f.type != DT_FRAME_EVENT && (f.event_id || f.event_type))) {
            abort();
        }
        struct jr_doc inner;
        struct jr_error jerr;
        if (f.data &&
            (jr_parse(f.data, f.data_len, &inner, &jerr) != 0 || inner.root.type != JR_OBJECT)) {
            abort();
        }
        if (f.data) {
            jr_free(&inner);
        }
    }
    dt_frame_done(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_frame((const char *)data, size);
    struct ws_decoder d;
    ws_decoder_init(&d, 1 << 20);
    size_t off = 0;
    while (off < size) {
        size_t used = 0;
        struct ws_message m;
        struct barra_error err;
        int r = ws_decode(&d, data + off, size - off, &used, &m, &err);
        if (r < 0 || used == 0) {
            break;
        }
        off += used;
        if (r == 1 && m.opcode == WS_OP_TEXT) {
            read_frame((const char *)m.data, m.len);
        }
    }
    ws_decoder_done(&d);
    return 0;
}
