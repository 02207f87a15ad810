/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BARRA_CLI_SERVE_H
#define BARRA_CLI_SERVE_H

int cmd_serve(int argc, char **argv);

#endif
