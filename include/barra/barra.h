/* SPDX-License-Identifier: Apache-2.0 */
/* Umbrella header of libbarra. */
#ifndef BARRA_BARRA_H
#define BARRA_BARRA_H

#include <barra/audit.h>
#include <barra/detect.h>
#include <barra/error.h>
#include <barra/extract.h>
#include <barra/policy.h>
#include <barra/version.h>

#endif
