/*
 * locks.h
 *		The lock protocol: a transaction-scoped advisory lock per resource, in a key space of the
 *		extension's own, taken before the resource's row lock.
 */
#ifndef BOOKING_LOCKS_H
#define BOOKING_LOCKS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/lock.h"

#include "pair.h"

/*
 * pg_advisory_lock() and friends put 1 (one bigint key) or 2 (two int4 keys) in field4 of an
 * advisory lock tag.  The engine's locks carry BOOKING_LOCK_SPACE plus the pair id there, so no
 * key an application chooses can ever name the same lock, and two pairs never share one.  Pair
 * ids run from 1 to 16383 (booking.pair's CHECK), so the field stays within 16385..32767 and
 * shows as a positive objsubid in pg_locks.
 */
#define BOOKING_LOCK_SPACE 0x4000

#define SET_LOCKTAG_BOOKING(tag, pairid, resid) \
	SET_LOCKTAG_ADVISORY((tag), MyDatabaseId, \
						 (uint32) (((uint64) (resid)) >> 32), \
						 (uint32) (((uint64) (resid)) & 0xFFFFFFFF), \
						 (uint16) (BOOKING_LOCK_SPACE + (pairid)))

/*
 * An idempotency key's lock: one (holder, key) hashed to 64 bits, in field4 16383 — below the
 * resources' range and never 1 or 2.  Two keys that share a hash only wait for each other.
 */
#define BOOKING_KEY_LOCK_SPACE 0x3FFF

extern void locks_init(void);
extern void lock_resource(BookingPair *pair, int64 resource_id);
extern TimestampTz lock_judgement_time(BookingPair *pair, int64 resource_id);
extern void lock_idempotency_key(const char *holder, const char *key);
extern void lock_resources(BookingPair *pair, int64 *resource_ids, int n);

#endif							/* BOOKING_LOCKS_H */
