/* SPDX-License-Identifier: Apache-2.0 */
/* Activity events by syslog: RFC 5424 messages over TCP (RFC 6587 framing: octet counting, or
 * one message a line), each stored for the monitor (activity.h). */
#ifndef BARRA_SERVER_SYSLOG_IN_H
#define BARRA_SERVER_SYSLOG_IN_H

#include <stdint.h>

#include <barra/error.h>

struct gw;
struct syslog_in;

int syslog_in_start(struct gw *gw, const char *host, uint16_t port, struct syslog_in **ret,
                    struct barra_error *reterr);
/* The bound port. */
unsigned syslog_in_port(const struct syslog_in *s);
void syslog_in_stop(struct syslog_in *s);

#endif
