/*
 * holder_limits.h
 *		Limits per holder: how many active bookings one holder may have on a resource.
 */
#ifndef BOOKING_HOLDER_LIMITS_H
#define BOOKING_HOLDER_LIMITS_H

#include "postgres.h"

#include "pair.h"

/* Who asks, for the per-holder limit: the row's holder, and the row itself left out. */
typedef struct HolderCheck
{
	const char *holder;
	int64		exclude_row;
} HolderCheck;

extern int	booking_holder_rate_limit;
extern int	booking_holder_rate_window;

extern int32 limits_rate_add(BookingPair *pair, const char *holder, int32 n);
extern bool limits_rate_exceeded(BookingPair *pair, const char *holder, int32 *attempts);
extern bool limits_holder_full(BookingPair *pair, int64 resource_id, const HolderCheck *hc,
							   int32 max, int32 *count);

#endif							/* BOOKING_HOLDER_LIMITS_H */
