/*
 * states.h
 *		The life of a booking: which status changes are allowed.
 */
#ifndef BOOKING_STATES_H
#define BOOKING_STATES_H

#include "postgres.h"

#include "utils/rel.h"

#include "pair.h"

extern bool state_change_allowed(BookingState from, BookingState to);
extern void state_check_change(BookingPair *pair, Relation rel, RowReader *old_row,
							   RowReader *new_row);
extern const char *state_transition_action(BookingState from, BookingState to);

#endif							/* BOOKING_STATES_H */
