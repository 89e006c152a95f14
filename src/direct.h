/*
 * direct.h
 *		book_slot()'s new row written straight through the table access method (direct.c).
 */
#ifndef BOOKING_DIRECT_H
#define BOOKING_DIRECT_H

#include "postgres.h"

#include "pair.h"

/* The values of one new booking row that book_slot() gives; the rest are the table's defaults. */
typedef struct DirectBooking
{
	int64		resource_id;
	const char *holder;
	int32		spots;
	Datum		during;
	bool		during_null;
	BookingState state;			/* STATE_CONFIRMED, STATE_HELD or STATE_WAITLISTED */
	Datum		expires_at;		/* a hold's */
	Datum		token_digest;	/* a hold's */
	Datum		idempotency_key;
	bool		idempotency_key_null;
	Datum		meta;
	bool		meta_null;
} DirectBooking;

/*
 * Writes the row as book_slot()'s INSERT would, through the engine's guard (an armed hand-over
 * sees it as from the statement).  Returns false, having done nothing, where the statement must
 * run instead; otherwise true, with *inserted false when the guard refused the row softly.
 */
extern bool direct_insert_booking(BookingPair *pair, const DirectBooking *row, bool *inserted,
								  int64 *booking_id, Datum *status);

#endif							/* BOOKING_DIRECT_H */
