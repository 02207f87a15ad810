/* SPDX-License-Identifier: Apache-2.0 */
/* `barra log`. */
#ifndef BARRA_CLI_LOG_H
#define BARRA_CLI_LOG_H

int cmd_log(int argc, char **argv);

#endif
