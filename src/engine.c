/*
 * engine.c
 *		Admission: whether spots fit on a resource, decided in one place for every writer.
 *
 * Every write that changes what a resource's rows consume arrives here as a pair of claims, the
 * row before and the row after: an INSERT has no "before", a DELETE no "after", an UPDATE may
 * move spots between resources or change their number or status.  The engine locks the
 * resources involved (advisory lock first, in ascending id order), then changes each counter
 * with one conditional UPDATE of the resource row: taking spots succeeds only where
 * counter + spots <= capacity, giving them back always succeeds.  The row lock that UPDATE takes
 * is what keeps the counter right under any concurrency; the advisory lock only orders the work.
 * A timeline resource has no counter: its row is locked, and the decision is an overlap search
 * under that lock (admit_on_timeline).
 *
 * book_slot() reaches this code through the INSERT trigger like any other writer; the only
 * difference is the SoftAdmission hand-over, which turns a refusal into a skipped row that
 * book_slot() reports, where a direct write gets an error.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "tcop/pquery.h"
#include "utils/lsyscache.h"
#include "utils/portal.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "counter.h"
#include "engine.h"
#include "holder_limits.h"
#include "locks.h"
#include "queue.h"
#include "waitlist.h"

/* Nesting depth of the engine's own counter writes; the parent's trigger lets only these by. */
static int	counter_depth = 0;

/* The armed hand-over of the book_slot() call in progress, if any. */
static SoftAdmission *current_soft = NULL;

bool
engine_writing_counter(void)
{
	return counter_depth > 0;
}

/*
 * Whether the statement running is a COPY FROM: a bulk load of rows as they were, which is how
 * pg_dump's output restores them.  The rules that keep the data right (capacity at every
 * instant, the resource existing, the state of a row) hold for it as for any write; the
 * policies on new requests (min_notice and max_horizon, max_per_holder, the holder's rate) do
 * not, or a restore would refuse the past bookings it is bringing back.
 */
bool
engine_bulk_load(void)
{
	PlannedStmt *stmt;

	if (ActivePortal == NULL || ActivePortal->commandTag != CMDTAG_COPY ||
		list_length(ActivePortal->stmts) != 1)
		return false;
	stmt = linitial_node(PlannedStmt, ActivePortal->stmts);
	/* COPY ... FROM; not a COPY (query) TO, whose query may well write bookings */
	return stmt->utilityStmt != NULL && IsA(stmt->utilityStmt, CopyStmt) &&
		((CopyStmt *) stmt->utilityStmt)->is_from;
}

/*
 * Forgets the per-call state at the end of a failed transaction.  Within a transaction the
 * callers restore it themselves (PG_FINALLY) as an error unwinds through them, which is what
 * keeps it right when a savepoint catches the error.
 */
void
engine_xact_reset(void)
{
	counter_depth = 0;
	current_soft = NULL;
}

void
engine_soft_arm(SoftAdmission *soft, Oid child_relid)
{
	memset(soft, 0, sizeof(SoftAdmission));
	soft->child_relid = child_relid;
	soft->armed = true;
	current_soft = soft;
}

/* Arms the hand-over for the rows of one group, at most maxrows of them. */
void
engine_soft_arm_group(SoftAdmission *soft, Oid child_relid, int64 group_id, int maxrows)
{
	engine_soft_arm(soft, child_relid);
	soft->group_id = group_id;
	soft->maxrows = maxrows;
	soft->resource_ids = palloc0(sizeof(int64) * Max(maxrows, 1));
	soft->available = palloc0(sizeof(int32) * Max(maxrows, 1));
}

void
engine_soft_disarm(void)
{
	current_soft = NULL;
}

/*
 * The trigger's side of the hand-over: returns the armed SoftAdmission for an INSERT into
 * child_relid and disarms it, so that any other row written further down (by a user's trigger,
 * say) is judged as a direct write.  A group's stays armed for the rows of its group_id.
 */
SoftAdmission *
engine_soft_take(Oid child_relid, int64 group_id)
{
	SoftAdmission *soft = current_soft;

	if (soft == NULL || !soft->armed || soft->child_relid != child_relid)
		return NULL;
	if (soft->group_id != 0)
		return group_id == soft->group_id && soft->nrows < soft->maxrows ? soft : NULL;
	soft->armed = false;
	return soft;
}

/*
 * Runs one of the pair's statements on the parent as the parent's owner, the way PostgreSQL's
 * foreign-key triggers act on the referenced table: a writer of bookings needs no privilege on
 * the counter, and so cannot write it outside the engine either.  A counter statement also tells
 * the parent's trigger that it is the engine writing.  Returns the SPI code; the returned row,
 * if any, is in SPI_tuptable.  An error unwinds both through the (sub)transaction abort.
 */
static int
run_parent_plan_with(BookingPair *pair, PairPlan which, Datum *args)
{
	volatile int ret = 0;
	Oid			save_userid;
	int			save_sec;
	bool		counter = which == PLAN_ADMIT || which == PLAN_FORCE || which == PLAN_SET ||
		which == PLAN_GROW || which == PLAN_WAIT_SHIFT || which == PLAN_WAIT_SET;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(pair->parent_owner,
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	if (counter)
		counter_depth++;
	PG_TRY();
	{
		ret = SPI_execute_plan(pair_plan(pair, which), args, NULL, false, 1);
	}
	PG_FINALLY();
	{
		if (counter)
			counter_depth--;
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
	return ret;
}

static int
run_parent_plan(BookingPair *pair, PairPlan which, int64 resource_id, int32 value)
{
	Datum		args[2];

	args[0] = pair_resource_datum(pair, resource_id);
	args[1] = Int32GetDatum(value);
	return run_parent_plan_with(pair, which, args);
}

/*
 * Raises a timeline resource's bound on the length of its bookings' (or with is_block, its
 * blocks') ranges to at least length microseconds, as the parent's owner; the bound never goes
 * down.  The overlap search trusts it (timeline.c), so a row longer than the bound must not
 * become visible before the bound is raised: the callers hold the resource's locks, or (a row
 * that only waits) take its row lock through this UPDATE.  The caller is connected to SPI.
 */
void
engine_raise_bound(BookingPair *pair, int64 resource_id, bool is_block, int64 length)
{
	Datum		args[3];
	Interval   *iv = palloc0(sizeof(Interval));
	int			ret;

	if (!OidIsValid(pair->slot_index))
		return;					/* the search runs a statement and needs no bound */
	iv->time = length;
	args[0] = pair_resource_datum(pair, resource_id);
	args[1] = IntervalPGetDatum(iv);
	args[2] = BoolGetDatum(is_block);
	ret = run_parent_plan_with(pair, PLAN_GROW, args);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "raising the range bound failed: %s", SPI_result_code_string(ret));
}

/*
 * Keeps a resource's count of waitlisted rows (the parent's waiting column, where the pair has
 * one): delta is +1 when a row starts waiting there, -1 when it stops; with set, the count is
 * rewritten from the rows instead (repair).  An UPDATE as the parent's owner, under the
 * resource's advisory lock, which it takes first if the caller does not hold it yet (the
 * protocol's order: the advisory lock, then the resource's row).  A row starts or stops waiting
 * far less often than bookings are made, and every admission that finds the count at zero is
 * spared a look at the waitlist (engine.c's take_spots(), waitlist_promote()).
 */
void
engine_shift_waiting(BookingPair *pair, int64 resource_id, int32 delta, bool set)
{
	int			ret;

	if (pair->waiting_att == InvalidAttrNumber)
		return;
	lock_resource(pair, resource_id);
	counter_forget_waiting();	/* what counter_apply() last wrote of the count is past */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (set)
	{
		Datum		args[1] = {pair_resource_datum(pair, resource_id)};

		ret = run_parent_plan_with(pair, PLAN_WAIT_SET, args);
	}
	else
		ret = run_parent_plan(pair, PLAN_WAIT_SHIFT, resource_id, delta);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "counting the waitlist failed: %s", SPI_result_code_string(ret));
	SPI_finish();
}

/* The length of a range as its bound counts it (the search allows for open bounds). */
static int64
range_length(Span span)
{
	return span.hi - span.lo;
}

static void
read_state(int32 *capacity, int32 *reserved, bool *is_timeline)
{
	bool		isnull;
	Datum		d;

	*capacity = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
											&isnull));
	*reserved = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
											&isnull));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	*is_timeline = !isnull && DatumGetBool(d);
}

/*
 * The statement way of changing a counter (see counter.c): the pair's kept conditional or
 * unconditional UPDATE, and on a refusal a look at the row to say why.  The caller is connected
 * to SPI.
 */
CounterOutcome
engine_counter_statement(BookingPair *pair, int64 resource_id, int32 delta, bool conditional,
						 int32 *capacity, int32 *reserved, bool *is_timeline, const HolderCheck *hc)
{
	int			ret;

	if (hc != NULL && pair->max_per_holder_att != InvalidAttrNumber)
	{
		Datum		args[1] = {pair_resource_datum(pair, resource_id)};
		bool		isnull;
		Datum		d;
		int32		count;

		ret = pair_execute_as_owner(pair, PLAN_HOLDER_MAX, args, NULL, 1, false);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "reading the holder limit failed: %s", SPI_result_code_string(ret));
		if (SPI_processed == 1)
		{
			d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			if (!isnull && limits_holder_full(pair, resource_id, hc, DatumGetInt32(d), &count))
			{
				*capacity = DatumGetInt32(d);
				*reserved = count;
				return COUNTER_HOLDER_LIMIT;
			}
		}
	}

	ret = run_parent_plan(pair, conditional ? PLAN_ADMIT : PLAN_FORCE, resource_id, delta);
	if (ret != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "booking counter update failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		read_state(capacity, reserved, is_timeline);
		return COUNTER_DONE;
	}
	if (!conditional)
		return COUNTER_NO_ROW;

	ret = run_parent_plan(pair, PLAN_PEEK, resource_id, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "booking resource lookup failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return COUNTER_NO_ROW;
	read_state(capacity, reserved, is_timeline);
	return COUNTER_REFUSED;
}

/*
 * A booking without a range on a timeline resource: refused, whatever its spots.
 */
static void
report_missing_range(BookingPair *pair, int64 resource_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("a booking of timeline resource %s needs a time range",
					pair_resource_text(pair, resource_id)),
			 errdetail("Timeline resources hold their capacity at every instant; \"during\" must be a bounded range.")));
}

/*
 * Marks expired the holds of one pool resource whose time has passed, before a refusal: an
 * expired hold never costs a customer a place.  Each row goes through the child's trigger like
 * any UPDATE, which gives its spots back and records the expiry.  The caller holds the
 * resource's advisory lock and its row (the nested admissions take them again at no cost) and
 * is connected to SPI.  Expires at most max (oldest first); holds another transaction has
 * locked are left to it.  Returns how many expired.  Also booking.expire_holds()'s worker.
 */
uint64
engine_expire_holds(BookingPair *pair, int64 resource_id, int32 max)
{
	Datum		args[2] = {pair_resource_datum(pair, resource_id), Int32GetDatum(max)};
	int			ret;

	if (pair->expires_att == InvalidAttrNumber)
		return 0;
	ret = pair_execute_as_owner(pair, PLAN_EXPIRE, args, NULL, 0, false);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "expiring holds failed: %s", SPI_result_code_string(ret));
	return SPI_processed;
}

/*
 * Takes spots on one pool resource whose advisory lock the caller holds.  Changes the counter
 * only when the spots fit.  hold: the length of a hold asked for through the API, or 0, judged
 * against the resource's max_hold as its row is read (result->hold_judged).
 */
static AdmitOutcome
take_spots(BookingPair *pair, int64 resource_id, int32 spots, bool fresh, const HolderCheck *hc,
		   Datum hold, AdmitResult *result)
{
	CounterOutcome outcome;
	bool		is_timeline;
	int64		waiting;

	result->resource_id = resource_id;
	result->requested = spots;

	/*
	 * A new booking asked for through the API does not overtake the waiting rows where the
	 * resource promotes on its own: the line moves first, and whoever still waits keeps the
	 * room.  A direct INSERT is judged on the room alone: it is how a restore or an import
	 * writes rows back as they were, waiting rows before the bookings that came after them.
	 * Holds past due go first: their spots belong to the line too.  The resource's count of
	 * waitlisted rows, read with its counter, says when nobody waits: then the waitlist is not
	 * asked at all, which is the common case.
	 */
	outcome = counter_apply(pair, resource_id, spots, true, &result->capacity, &result->reserved,
							&is_timeline, hc, fresh, hold, &result->hold_judged, &result->slot);
	if (outcome == COUNTER_WAITING)
	{
		if (queue_first_waiting(pair, resource_id, &waiting) && waitlist_auto_promote(resource_id))
		{
			(void) engine_expire_holds(pair, resource_id, PG_INT32_MAX);
			(void) waitlist_promote(pair, resource_id, false);
			if (queue_first_waiting(pair, resource_id, &waiting))
			{
				result->outcome = ADMIT_QUEUED;
				result->waiting_id = waiting;
				return ADMIT_QUEUED;
			}
		}
		outcome = counter_apply(pair, resource_id, spots, true, &result->capacity,
								&result->reserved, &is_timeline, hc, false, hold,
								&result->hold_judged, &result->slot);
	}
	if (outcome != COUNTER_NO_ROW && is_timeline)
		report_missing_range(pair, resource_id);
	if (outcome == COUNTER_REFUSED && engine_expire_holds(pair, resource_id, PG_INT32_MAX) > 0)
	{
		/* room was held by holds whose time had passed: they are expired now, decide again */
		outcome = counter_apply(pair, resource_id, spots, true, &result->capacity,
								&result->reserved, &is_timeline, hc, false, hold,
								&result->hold_judged, &result->slot);
	}
	switch (outcome)
	{
		case COUNTER_DONE:
			result->outcome = ADMIT_OK;
			break;
		case COUNTER_REFUSED:
			result->outcome = ADMIT_FULL;
			break;
		case COUNTER_NO_ROW:
			result->outcome = ADMIT_NO_RESOURCE;
			break;
		case COUNTER_HOLDER_LIMIT:
			result->outcome = ADMIT_HOLDER_LIMIT;
			result->holder = hc->holder;
			break;
		case COUNTER_WAITING:
			elog(ERROR, "the counter stopped for the waitlist twice");
			break;
	}
	return result->outcome;
}

/*
 * Changes a counter by delta whatever the capacity: gives spots back (delta < 0), or records
 * spots whose admission was decided elsewhere (a timeline's overlap check).  Returns whether
 * the resource is a timeline resource.  A resource that no longer exists has nothing to change
 * (its rows are gone with it).
 */
static bool
shift_counter(BookingPair *pair, int64 resource_id, int32 delta, HoldSlot *slot)
{
	int32		capacity;
	int32		reserved;
	bool		is_timeline;

	(void) counter_apply(pair, resource_id, delta, false, &capacity, &reserved, &is_timeline,
						 NULL, false, (Datum) 0, NULL, slot);
	return is_timeline;
}

/*
 * Gives back what a row consumed.  A pool resource's counter goes down by its spots; a timeline
 * row frees its range by its own write, with no counter to change.
 */
static void
give_back(BookingPair *pair, const RowClaim *claim, HoldSlot *slot)
{
	if (!claim->has_range)
		(void) shift_counter(pair, claim->resource_id, -claim->spots, slot);
}

/*
 * Admits a claim with a time range on its resource: locks the resource's row and reads its
 * rule, finds the peak load over the claim's widened range (leaving the row itself out, so
 * that a reschedule is one step), and refuses when the claim's spots do not fit at every
 * instant.  A block is never refused: it is a fact from another calendar.  A timeline
 * resource has no counter to change (its load is a function of time, which the row lock and
 * the overlap search protect): admitting writes nothing to the resource row but the lock.  The
 * caller holds the advisory lock.
 */
static AdmitOutcome
admit_on_timeline(BookingPair *pair, const RowClaim *claim, bool new_range, bool fresh,
				  const HolderCheck *hc, AdmitResult *result)
{
	TimelineRule rule;
	bool		is_timeline;

	result->resource_id = claim->resource_id;
	result->requested = claim->spots;
	result->wanted = claim->span;
	if (!timeline_lock_resource(pair, claim->resource_id, &is_timeline, &rule))
	{
		result->outcome = ADMIT_NO_RESOURCE;
		return ADMIT_NO_RESOURCE;
	}
	if (!is_timeline)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a booking of pool resource %s cannot have a time range",
						pair_resource_text(pair, claim->resource_id)),
				 errdetail("Pool resources have one capacity for the whole resource; \"during\" must be NULL.")));
	result->capacity = rule.capacity;

	/* notice and horizon: a policy on new ranges, not on rows already booked */
	if (!claim->is_block && new_range && !engine_bulk_load())
	{
		switch (timeline_timing(&rule, claim->span.lo))
		{
			case TIMING_TOO_SOON:
				result->outcome = ADMIT_TOO_SOON;
				return ADMIT_TOO_SOON;
			case TIMING_TOO_FAR:
				result->outcome = ADMIT_TOO_FAR;
				return ADMIT_TOO_FAR;
			case TIMING_OK:
				break;
		}
	}

	/* the holder's limit on this resource (holder_limits.c) */
	if (hc != NULL && rule.has_holder_max)
	{
		int32		count;

		if (limits_holder_full(pair, claim->resource_id, hc, rule.holder_max, &count))
		{
			result->capacity = rule.holder_max;
			result->reserved = count;
			result->holder = hc->holder;
			result->outcome = ADMIT_HOLDER_LIMIT;
			return ADMIT_HOLDER_LIMIT;
		}
	}

	if (!claim->is_block)
	{
		bool		queue;

		timeline_peak(pair, claim->resource_id, &rule, widen(claim->span, &rule), claim->row_id,
					  true, &result->peak);
		/* a new booking does not overtake a row waiting for that range (see take_spots) */
		queue = fresh && result->peak.waiting_id != 0 &&
			waitlist_auto_promote(claim->resource_id);

		if (queue && waitlist_promote(pair, claim->resource_id, false) > 0)
			timeline_peak(pair, claim->resource_id, &rule, widen(claim->span, &rule),
						  claim->row_id, true, &result->peak);
		if (queue && result->peak.waiting_id != 0)
		{
			result->outcome = ADMIT_QUEUED;
			result->timeline = true;
			result->waiting_id = result->peak.waiting_id;
			return ADMIT_QUEUED;
		}
		if ((int64) result->peak.load + claim->spots > rule.capacity)
		{
			result->reserved = result->peak.load;
			result->outcome = ADMIT_CONFLICT;
			return ADMIT_CONFLICT;
		}
	}
	result->reserved = result->peak.load + claim->spots;
	result->outcome = ADMIT_OK;
	/* the row's range within its kind's bound before the row is written (timeline.c) */
	if (range_length(claim->span) > (claim->is_block ? rule.longest_block : rule.longest_booking))
		engine_raise_bound(pair, claim->resource_id, claim->is_block, range_length(claim->span));
	return ADMIT_OK;
}

/*
 * Looks up a resource and locks it FOR KEY SHARE, as a foreign key's check would, so that it
 * cannot be deleted before this transaction ends.  For rows that take no capacity; a row that
 * takes some finds and locks its resource through the counter.
 */
static bool
resource_exists(BookingPair *pair, int64 resource_id)
{
	int			ret = run_parent_plan(pair, PLAN_KEY_SHARE, resource_id, 0);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "booking resource lookup failed: %s", SPI_result_code_string(ret));
	return SPI_processed > 0;
}

/*
 * A row that starts or stops waiting changes its resource's count of waiting rows (queue_sync()
 * and engine_shift_waiting() write it once the row is admitted).  Those resources' advisory
 * locks, and those of any resource whose counter the write changes, are taken here first, in
 * ascending id order, before any of their rows is locked (a range bound's raise, the count's
 * UPDATE, the counter): the protocol's order, advisory lock then row, which a waiting row that
 * takes nothing would otherwise not follow.
 */
static void
lock_for_waiting(BookingPair *pair, const RowClaim *old_claim, const RowClaim *new_claim,
				 bool had, bool has)
{
	bool		was = old_claim != NULL && old_claim->waiting && old_claim->has_resource;
	bool		is = new_claim != NULL && new_claim->waiting && new_claim->has_resource;
	int64		ids[2];
	int			n = 0;

	if (pair->waiting_att == InvalidAttrNumber || (!was && !is) ||
		(was && is && old_claim->resource_id == new_claim->resource_id))
		return;
	if (was || had)
		ids[n++] = old_claim->resource_id;
	if ((is || has) && !(n == 1 && ids[0] == new_claim->resource_id))
		ids[n++] = new_claim->resource_id;
	lock_resources(pair, ids, n);
}

/*
 * The admission decision for one written row.  old_claim is what the row consumed before the
 * write (NULL for an INSERT), new_claim what it consumes after (NULL for a DELETE).
 *
 * Locks: the advisory lock of every resource involved, in ascending id order, then each
 * resource's row through its counter update, also in ascending id order.  Both are held to the
 * end of the transaction.
 *
 * Returns ADMIT_OK with every counter changed, or a refusal with nothing changed and *result
 * saying which resource refused and its figures.
 */
AdmitOutcome
engine_change(BookingPair *pair, const RowClaim *old_claim, const RowClaim *new_claim,
			  AdmitResult *result)
{
	bool		had = old_claim != NULL && old_claim->consumes;
	bool		has = new_claim != NULL && new_claim->consumes;
	bool		same_resource = had && has && old_claim->resource_id == new_claim->resource_id;
	AdmitOutcome outcome = ADMIT_OK;
	HolderCheck holder_check;
	const HolderCheck *hc = NULL;
	bool		revived = false;

	memset(result, 0, sizeof(AdmitResult));
	result->outcome = ADMIT_OK;

	/*
	 * A pool hold with an expiry that starts to take spots may go in its resource's hold slot
	 * instead of booking.queue; a row that stops taking them there leaves the slot it may
	 * still be named in (a confirmed row, whose hold put it there).
	 */
	if (has && new_claim->held && new_claim->has_expiry && !new_claim->has_range)
	{
		result->slot.put = new_claim->row_id;
		result->slot.put_resource = new_claim->resource_id;
		result->slot.put_due = new_claim->expires;
	}
	if (had && !old_claim->has_range &&
		!(same_resource && new_claim->held))
	{
		result->slot.clear = old_claim->row_id;
		result->slot.clear_resource = old_claim->resource_id;
	}

	/*
	 * A row that takes nothing still needs its resource to exist, when it is new or moves: the
	 * check a foreign key would make (see the install script).
	 */
	if (!has && new_claim != NULL && new_claim->has_resource &&
		(old_claim == NULL || !old_claim->has_resource ||
		 old_claim->resource_id != new_claim->resource_id))
	{
		bool		exists;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		exists = resource_exists(pair, new_claim->resource_id);
		SPI_finish();
		if (!exists)
		{
			result->outcome = ADMIT_NO_RESOURCE;
			result->resource_id = new_claim->resource_id;
			return ADMIT_NO_RESOURCE;
		}
	}

	lock_for_waiting(pair, old_claim, new_claim, had, has);

	/*
	 * A waiting row is found by the overlap search too (a new booking must not overtake it):
	 * its range within the bound, raised under the resource's row lock, before it is written.
	 */
	if (!has && new_claim != NULL && new_claim->waiting && new_claim->has_range &&
		!(old_claim != NULL && old_claim->waiting && old_claim->has_range &&
		  old_claim->resource_id == new_claim->resource_id &&
		  old_claim->is_block == new_claim->is_block &&
		  range_length(old_claim->span) >= range_length(new_claim->span)))
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		engine_raise_bound(pair, new_claim->resource_id, new_claim->is_block,
						   range_length(new_claim->span));
		SPI_finish();
	}

	if (!had && !has)
		return ADMIT_OK;
	/*
	 * A hold on a timeline that lives on (confirmed, sent for approval, or given a later expiry)
	 * is judged again: a transaction that started after its expiry left it out and may have
	 * booked its range, which this transaction, started before, cannot see as taken.
	 */
	if (same_resource && new_claim->has_range && old_claim->held && old_claim->has_expiry &&
		(!new_claim->held || !new_claim->has_expiry || new_claim->expires > old_claim->expires))
		revived = true;

	if (!revived && same_resource && old_claim->spots == new_claim->spots &&
		old_claim->has_range == new_claim->has_range &&
		old_claim->is_block == new_claim->is_block &&
		(!new_claim->has_range || (old_claim->span.lo == new_claim->span.lo &&
								   old_claim->span.hi == new_claim->span.hi)) &&
		(old_claim->holder == NULL) == (new_claim->holder == NULL) &&
		(old_claim->holder == NULL || strcmp(old_claim->holder, new_claim->holder) == 0))
		return ADMIT_OK;		/* nothing this resource counts has changed */

	/*
	 * The holder's limit counts when a row starts to take spots on a resource for its holder:
	 * a new row, a status that starts consuming, a move, another holder.
	 */
	if (has && new_claim->holder != NULL && !engine_bulk_load() &&
		!(had && same_resource && old_claim->holder != NULL &&
		  strcmp(old_claim->holder, new_claim->holder) == 0))
	{
		holder_check.holder = new_claim->holder;
		holder_check.exclude_row = new_claim->row_id;
		hc = &holder_check;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* The advisory locks of every resource involved, in ascending id order. */
	if (had && has && !same_resource)
	{
		lock_resource(pair, Min(old_claim->resource_id, new_claim->resource_id));
		lock_resource(pair, Max(old_claim->resource_id, new_claim->resource_id));
	}
	else
		lock_resource(pair, has ? new_claim->resource_id : old_claim->resource_id);

	/*
	 * A new booking counts against its holder's rate, under the resource's lock: the rate's row
	 * is always locked after the resources, by book_slot() and book_many() alike.
	 */
	if (old_claim == NULL && has && new_claim->holder != NULL && booking_holder_rate_limit > 0 &&
		!engine_bulk_load() &&
		pair->holder_att != InvalidAttrNumber)
	{
		int32		attempts;

		if (limits_rate_exceeded(pair, new_claim->holder, &attempts))
		{
			SPI_finish();
			result->outcome = ADMIT_RATE_LIMITED;
			result->resource_id = new_claim->resource_id;
			result->holder = new_claim->holder;
			result->capacity = booking_holder_rate_limit;
			result->reserved = attempts;
			return ADMIT_RATE_LIMITED;
		}
	}

	if (has && new_claim->has_range)
	{
		/*
		 * A timeline claim.  A reschedule or resize on the same resource is judged as one step.
		 * A move gives the old resource back what the row took there, row locks in ascending
		 * id order like the advisory locks.
		 */
		bool		new_range = !(same_resource && old_claim->has_range &&
								  old_claim->span.lo == new_claim->span.lo &&
								  old_claim->span.hi == new_claim->span.hi);
		bool		moved = had && !same_resource;

		if (moved && old_claim->resource_id < new_claim->resource_id)
		{
			give_back(pair, old_claim, &result->slot);
			outcome = admit_on_timeline(pair, new_claim, new_range,
										old_claim == NULL && new_claim->by_api, hc, result);
		}
		else
		{
			outcome = admit_on_timeline(pair, new_claim, new_range,
										old_claim == NULL && new_claim->by_api, hc, result);
			if (moved && outcome == ADMIT_OK)
				give_back(pair, old_claim, &result->slot);
		}
	}
	else if (same_resource)
	{
		int32		delta = new_claim->spots - old_claim->spots;

		/* more spots, or another holder (whose limit counts): admitted; fewer: given back */
		if (delta > 0 || hc != NULL)
		{
			outcome = take_spots(pair, new_claim->resource_id, Max(delta, 0), false, hc, (Datum) 0,
								 result);
			if (outcome == ADMIT_OK && delta < 0)
				(void) shift_counter(pair, new_claim->resource_id, delta, &result->slot);
		}
		else if (shift_counter(pair, new_claim->resource_id, delta, &result->slot))
			report_missing_range(pair, new_claim->resource_id);
	}
	else if (had && has)
	{
		/* A move between pool resources: row locks in ascending id order too. */
		if (old_claim->resource_id < new_claim->resource_id)
		{
			give_back(pair, old_claim, &result->slot);
			outcome = take_spots(pair, new_claim->resource_id, new_claim->spots, false, hc,
								 (Datum) 0, result);
		}
		else
		{
			outcome = take_spots(pair, new_claim->resource_id, new_claim->spots, false, hc,
								 (Datum) 0, result);
			if (outcome == ADMIT_OK)
				give_back(pair, old_claim, &result->slot);
		}
		/*
		 * A refusal after the give-back leaves the old counter lowered; the caller raises (a
		 * direct write) and the statement's rollback restores it.  A soft refusal never moves
		 * rows, only inserts them, so it cannot get here.
		 */
	}
	else if (has)
		outcome = take_spots(pair, new_claim->resource_id, new_claim->spots,
							 old_claim == NULL && new_claim->by_api, hc,
							 old_claim == NULL ? new_claim->api_hold : (Datum) 0, result);
	else
		give_back(pair, old_claim, &result->slot);

	SPI_finish();
	return outcome;
}

/*
 * Raises the error a direct write gets for a refusal: 23514 on constraint booking_capacity with
 * the figures, or 23503 when the resource does not exist.  rel is the table being written.
 */
void
engine_report_refusal(BookingPair *pair, Relation rel, const AdmitResult *result)
{
	const char *resource = pair_resource_text(pair, result->resource_id);

	if (result->outcome == ADMIT_NO_RESOURCE)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("resource %s does not exist", resource),
				 errdetail("Table %s has no row with %s = %s.",
						   pair->parent_sql, pair->parent_key_sql,
						   resource),
				 errtable(rel)));

	if (result->outcome == ADMIT_TOO_SOON || result->outcome == ADMIT_TOO_FAR)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("booking of resource %s starts %s", resource,
						result->outcome == ADMIT_TOO_SOON ? "sooner than its minimum notice"
						: "later than its booking horizon"),
				 errdetail("The range asked for is %s.", span_to_cstring(result->wanted)),
				 errtableconstraint(rel, result->outcome == ADMIT_TOO_SOON ? "booking_notice"
									: "booking_horizon")));

	if (result->outcome == ADMIT_RATE_LIMITED)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("holder \"%s\" asked for too many bookings", result->holder ? result->holder : ""),
				 errdetail("booking.holder_rate_limit is %d in %d s; this is attempt %d.",
						   result->capacity, booking_holder_rate_window, result->reserved),
				 errtableconstraint(rel, "booking_rate_limit")));

	if (result->outcome == ADMIT_HOLDER_LIMIT)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("holder \"%s\" has as many bookings of resource %s as it allows",
						result->holder ? result->holder : "", resource),
				 errdetail("max_per_holder is %d; %d active bookings of this holder are there.",
						   result->capacity, result->reserved),
				 errtableconstraint(rel, "booking_holder_limit")));

	if (result->outcome == ADMIT_QUEUED)
		ereport(ERROR,
				(errcode(result->timeline ? ERRCODE_EXCLUSION_VIOLATION : ERRCODE_CHECK_VIOLATION),
				 errmsg("booking %lld is waiting for resource %s first",
						(long long) result->waiting_id, resource),
				 errdetail("A new booking does not overtake a waiting one; promote or cancel booking %lld first.",
						   (long long) result->waiting_id),
				 errtableconstraint(rel, result->timeline ? "booking_no_overlap" : "booking_capacity")));

	if (result->outcome == ADMIT_CONFLICT)
	{
		if (result->peak.row_id != 0)
			ereport(ERROR,
					(errcode(ERRCODE_EXCLUSION_VIOLATION),
					 errmsg("booking conflicts with %s %s on resource %s",
							result->peak.row_is_block ? "block" : "booking",
							pair_row_text(pair, result->peak.row_id), resource),
					 errdetail("%s %s holds %s; at %s, %d of capacity %d are taken and %d more were requested for %s.",
							   result->peak.row_is_block ? "Block" : "Booking",
							   pair_row_text(pair, result->peak.row_id),
							   span_to_cstring(result->peak.row_span),
							   pstrdup(timestamptz_to_str(result->peak.at)),
							   result->peak.load, result->capacity, result->requested,
							   span_to_cstring(result->wanted)),
					 errtableconstraint(rel, "booking_no_overlap")));
		ereport(ERROR,
				(errcode(ERRCODE_EXCLUSION_VIOLATION),
				 errmsg("resource %s has not enough free spots over the range",
						resource),
				 errdetail("Capacity is %d, requested is %d for %s.", result->capacity,
						   result->requested, span_to_cstring(result->wanted)),
				 errtableconstraint(rel, "booking_no_overlap")));
	}

	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("resource %s has not enough free spots", resource),
			 errdetail("Capacity is %d, reserved is %d, requested is %d.",
					   result->capacity, result->reserved, result->requested),
			 errtableconstraint(rel, "booking_capacity")));
	pg_unreachable();
}

/*
 * Writes a resource's counter outright: only booking.repair() does this, under the resource's
 * advisory lock, after counting its rows.  The caller is connected to SPI.
 */
void
engine_set_counter(BookingPair *pair, int64 resource_id, int32 value)
{
	int			ret;

	ret = run_parent_plan(pair, PLAN_SET, resource_id, value);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "booking counter update failed: %s", SPI_result_code_string(ret));
}
