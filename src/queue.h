/*
 * queue.h
 *		booking.queue: the held and the waitlisted rows of each resource (queue.c).
 */
#ifndef BOOKING_QUEUE_H
#define BOOKING_QUEUE_H

#include "postgres.h"

#include "access/htup.h"
#include "utils/relcache.h"

struct BookingPair;
struct RowReader;

extern void queue_sync(struct BookingPair *pair, Relation rel, struct RowReader *old_row,
					   struct RowReader *new_row, bool in_slot);
extern bool queue_first_waiting(struct BookingPair *pair, int64 resource_id, int64 *first_id);
extern uint64 queue_verify(struct BookingPair *pair);
extern void queue_rebuild(struct BookingPair *pair, int64 resource_id);

#endif							/* BOOKING_QUEUE_H */
