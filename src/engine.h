/*
 * engine.h
 *		Admission: the one place that decides whether spots fit on a resource, and that keeps the
 *		resource's counter equal to what its rows consume.
 */
#ifndef BOOKING_ENGINE_H
#define BOOKING_ENGINE_H

#include "postgres.h"

#include "utils/rel.h"

#include "counter.h"
#include "pair.h"
#include "timeline.h"

typedef enum AdmitOutcome
{
	ADMIT_OK,					/* admitted; the counter now includes the spots */
	ADMIT_FULL,					/* not enough room; nothing changed */
	ADMIT_NO_RESOURCE,			/* the resource does not exist; nothing changed */
	ADMIT_CONFLICT,				/* a timeline resource is full at some instant of the range */
	ADMIT_TOO_SOON,				/* the range starts sooner than the resource's min_notice */
	ADMIT_TOO_FAR,				/* the range starts later than the resource's max_horizon */
	ADMIT_QUEUED,				/* rows wait for that room: a new booking does not overtake them */
	ADMIT_HOLDER_LIMIT,			/* the holder has max_per_holder active bookings there */
	ADMIT_RATE_LIMITED			/* the holder asked for too many bookings in the window */
} AdmitOutcome;

/* What a row takes from a resource: nothing unless consumes. */
typedef struct RowClaim
{
	bool		has_resource;	/* the row names a resource (resource_id is set) */
	bool		consumes;		/* it takes spots from it */
	int64		resource_id;
	int32		spots;
	int64		row_id;			/* the row's own key (to leave it out of its own overlap check) */
	bool		has_range;		/* it has a time range (a timeline booking) */
	Span		span;			/* that range, half-open */
	bool		is_block;		/* an external busy block: takes the whole capacity */
	bool		by_api;			/* a new row of book_slot() or book_many(): waits its turn */
	char	   *holder;			/* its holder (the extension's own table), or NULL */
	bool		held;			/* a hold (status held) */
	bool		waiting;		/* a waiting row (status waitlisted) */
	bool		has_expiry;		/* with an expires_at */
	TimestampTz expires;		/* that expires_at */
	Datum		api_hold;		/* a by_api hold: its length as asked, judged against the resource's
								 * max_hold where the admission reads its row; or 0 */
} RowClaim;

/* The state of a resource when a decision was made. */
typedef struct AdmitResult
{
	AdmitOutcome outcome;
	int64		resource_id;
	int32		capacity;
	int32		reserved;
	int32		requested;
	TimelinePeak peak;			/* ADMIT_CONFLICT: where the range is full, and who holds it */
	Span		wanted;			/* ADMIT_CONFLICT: the range asked for */
	bool		timeline;		/* ADMIT_QUEUED: on a timeline resource */
	const char *holder;			/* ADMIT_HOLDER_LIMIT: whose limit (capacity: the limit, reserved:
								 * the active bookings found) */
	int64		waiting_id;		/* ADMIT_QUEUED: the first row waiting */
	HoldSlot	slot;			/* the resources' hold slots: slot.taken says the new row's hold
								 * went into its resource's (queue_sync() then lists it nowhere else) */
	bool		hold_judged;	/* the claim's api_hold was judged against max_hold (and fits) */
} AdmitResult;

/*
 * The hand-over between book_slot() and the trigger that its INSERT fires: book_slot() arms it,
 * the trigger takes it for that one row, decides through the same admission code as any other
 * write, and on a refusal records the outcome and skips the row instead of raising.
 *
 * book_many() arms it for a group: one INSERT writes the rows of group_id, and the trigger takes
 * it for each of them, noting the spots left on each resource.  After a refusal the group is
 * lost, so the rest of its rows are skipped without being judged.
 */
typedef struct SoftAdmission
{
	Oid			child_relid;
	bool		armed;
	bool		refused;
	AdmitResult result;			/* the row's outcome; for a group, the last one judged */
	int64		group_id;		/* 0: one row */
	int			nrows;			/* a group's rows judged so far */
	int			maxrows;
	int64	   *resource_ids;	/* each one's resource ... */
	int32	   *available;		/* ... and the spots left there after it */
	Datum		hold;			/* the hold's length as asked, set by the caller once armed; or 0 */
	int			holds_judged;	/* rows whose hold the admission judged against max_hold */
} SoftAdmission;

extern AdmitOutcome engine_change(BookingPair *pair, const RowClaim *old_claim,
								  const RowClaim *new_claim, AdmitResult *result);
extern void engine_report_refusal(BookingPair *pair, Relation rel, const AdmitResult *result)
			pg_attribute_noreturn();

extern void engine_soft_arm(SoftAdmission *soft, Oid child_relid);
extern void engine_soft_arm_group(SoftAdmission *soft, Oid child_relid, int64 group_id,
								  int maxrows);
extern void engine_soft_disarm(void);
extern SoftAdmission *engine_soft_take(Oid child_relid, int64 group_id);

extern CounterOutcome engine_counter_statement(BookingPair *pair, int64 resource_id, int32 delta,
											   bool conditional, int32 *capacity, int32 *reserved,
											   bool *is_timeline, const struct HolderCheck *hc);
extern bool engine_writing_counter(void);
extern bool engine_bulk_load(void);
extern uint64 engine_expire_holds(BookingPair *pair, int64 resource_id, int32 max);
extern void engine_set_counter(BookingPair *pair, int64 resource_id, int32 value);
extern bool guard_insert(BookingPair *pair, Relation rel, HeapTuple tuple);
extern void guard_update(BookingPair *pair, Relation rel, RowReader *old_row, RowReader *new_row);
extern void engine_raise_bound(BookingPair *pair, int64 resource_id, bool is_block, int64 length);
extern void engine_shift_waiting(BookingPair *pair, int64 resource_id, int32 delta, bool set);
extern void engine_xact_reset(void);

#endif							/* BOOKING_ENGINE_H */
