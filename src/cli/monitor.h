/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BARRA_CLI_MONITOR_H
#define BARRA_CLI_MONITOR_H

/* `barra monitor run|test|check` (docs/monitor.md). */
int cmd_monitor(int argc, char **argv);

#endif
