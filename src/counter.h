/*
 * counter.h
 *		Changing a resource's reserved-spots counter under its row lock.
 */
#ifndef BOOKING_COUNTER_H
#define BOOKING_COUNTER_H

#include "postgres.h"

#include "access/tableam.h"
#include "nodes/lockoptions.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

#include "pair.h"

typedef enum CounterOutcome
{
	COUNTER_DONE,				/* changed */
	COUNTER_REFUSED,			/* would exceed capacity; unchanged */
	COUNTER_NO_ROW,				/* no such resource */
	COUNTER_HOLDER_LIMIT,		/* the holder has max_per_holder active bookings there; unchanged */
	COUNTER_WAITING				/* asked to stop if someone may wait there, and someone may; unchanged */
} CounterOutcome;

struct HolderCheck;

/*
 * What a write of a resource's counter does with the resource's hold slot (the own pair's
 * hold_id and hold_due, see queue.c).  put: a held row that starts to take spots on
 * put_resource, recorded in its slot where the slot is free; clear: a row that gives its spots
 * back on clear_resource, forgotten where the slot names it.  taken: put was recorded.
 */
typedef struct HoldSlot
{
	int64		put;			/* the held row's key, 0: none */
	int64		put_resource;
	TimestampTz put_due;		/* its expires_at */
	int64		clear;			/* the row's key, 0: none */
	int64		clear_resource;
	bool		taken;
} HoldSlot;

typedef enum RowLockOutcome
{
	ROW_LOCKED,
	ROW_MISSING,
	ROW_NOT_PLAIN
} RowLockOutcome;

extern RowLockOutcome counter_lock_row(BookingPair *pair, int64 resource_id,
									   struct TupleTableSlot **slot);
/*
 * One column of several resources' rows as one new statement sees them, without a lock:
 * ROW_LOCKED (every row is there, values[i] and isnull[i] set), ROW_MISSING (resource_ids[*missing]
 * is not, and those before it are set), or ROW_NOT_PLAIN (the statement must run instead).
 */
extern RowLockOutcome counter_read_values(BookingPair *pair, const int64 *resource_ids, int n,
										  AttrNumber att, Datum *values, bool *isnull,
										  int *missing);
extern CounterOutcome counter_apply(BookingPair *pair, int64 resource_id, int32 delta,
									bool conditional, int32 *capacity, int32 *reserved,
									bool *is_timeline, const struct HolderCheck *hc,
									bool stop_if_waiting, Datum hold, bool *hold_judged,
									HoldSlot *slot);
/*
 * Whether rows may wait on a resource, as of now: false only when its count of waitlisted rows
 * (the parent's waiting column) says none; true where the pair keeps no count.
 */
extern bool counter_anyone_waiting(BookingPair *pair, int64 resource_id);
/* Forgets which resources counter_apply() last wrote with nobody waiting (see counter.c). */
extern void counter_forget_waiting(void);

extern TM_Result booking_lock_row(Relation rel, ItemPointer tid, Snapshot snapshot,
								  LockTupleMode mode, struct TupleTableSlot *slot,
								  bool *traversed);

#endif							/* BOOKING_COUNTER_H */
