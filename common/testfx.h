/*
 * testfx.h: what common's cmocka tests share. Test code: every failure
 * fails the running test.
 */
#ifndef RECON_COMMON_TESTFX_H
#define RECON_COMMON_TESTFX_H

/* A TCP port nobody holds now on 127.0.0.1. */
int testfx_free_port(void);

#endif
