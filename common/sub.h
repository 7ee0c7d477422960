/*
 * sub.h: the subscriber's former header, kept so that code written
 * against it still builds. The declarations are include/recon-client.h's,
 * the one public header; new code includes that.
 */
#ifndef RECON_SUB_H
#define RECON_SUB_H

#include "recon-client.h"

#endif
