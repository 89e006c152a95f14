/*
 * waitlist.h
 *		Waiting rows: first come, first served.
 */
#ifndef BOOKING_WAITLIST_H
#define BOOKING_WAITLIST_H

#include "postgres.h"

#include "pair.h"

extern int32 waitlist_position(BookingPair *pair, int64 resource_id, int64 booking_id);
extern bool waitlist_auto_promote(int64 resource_id);
extern int	waitlist_promote(BookingPair *pair, int64 resource_id, bool check_setting);
extern void waitlist_after_row(BookingPair *pair, Relation rel, RowReader *old_row,
							   RowReader *new_row);

#endif							/* BOOKING_WAITLIST_H */
