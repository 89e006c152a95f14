/*
 * digest.h
 *		SHA-256 of a message short enough for one block (digest.c).
 */
#ifndef BOOKING_DIGEST_H
#define BOOKING_DIGEST_H

#include "postgres.h"

#define DIGEST_SHA256_LEN 32
#define DIGEST_SHA256_MAX_SHORT 55	/* the longest message one padded block holds */

/* out = SHA-256 of the len bytes at message; len at most DIGEST_SHA256_MAX_SHORT. */
extern void digest_sha256_short(const uint8 *message, int len, uint8 out[DIGEST_SHA256_LEN]);

#endif							/* BOOKING_DIGEST_H */
