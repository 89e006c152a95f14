/*
 * waitlist.c
 *		Waiting rows, first come, first served.
 *
 * A request that finds no room may wait: book_slot(..., waitlist => true), or the resource's
 * waitlist setting, writes it as a 'waitlisted' row, which takes nothing.  Its place is its id:
 * the earlier row waits in front.  Freed capacity goes to the waiting rows first, in the same
 * transaction, where the resource's auto_promote is on:
 *
 *	- a pool resource promotes its first waiting row as soon as its spots fit, then the next, and
 *	  stops at the first that does not fit (nobody overtakes it);
 *	- a timeline resource promotes, in arrival order, every waiting row whose range now fits.
 *
 * Capacity is freed by a cancel, a release, an expiry, a DELETE, a move or a smaller booking,
 * all of them writes to the bookings table, and by a higher capacity, a write to the resources
 * table: an AFTER trigger on each (booking_promote_trigger) promotes once the write is done.  A
 * new booking may not overtake a waiting one either: an INSERT that would take spots on a pool
 * resource with waiting rows, or a range that a waiting row asks for on a timeline resource,
 * first lets the line move and is refused if rows still wait (engine.c).  Where auto_promote is
 * off the waiting rows are a list that people work through with promote(), by hand and in any
 * order, and new bookings are admitted on the room alone.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "counter.h"
#include "api.h"
#include "engine.h"
#include "holder_limits.h"
#include "locks.h"
#include "pair.h"
#include "queue.h"
#include "states.h"
#include "timeline.h"
#include "waitlist.h"

PG_FUNCTION_INFO_V1(booking_promote);
PG_FUNCTION_INFO_V1(booking_promote_trigger);

static SPIPlanPtr setting_plan = NULL;
static SPIPlanPtr position_plan = NULL;
static SPIPlanPtr lock_plan = NULL;
static SPIPlanPtr promote_plan = NULL;

/* A waiting row's place on its resource's waitlist, 1 for the first.  SPI connected. */
int32
waitlist_position(BookingPair *pair, int64 resource_id, int64 booking_id)
{
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		args[2] = {Int64GetDatum(resource_id), Int64GetDatum(booking_id)};
	bool		isnull;
	int			ret;

	kept_plan(&position_plan,
			  "SELECT count(*)::pg_catalog.int4 FROM " BOOKING_SCHEMA ".queue q"
			  " JOIN " BOOKING_SCHEMA ".booking b ON b.id = q.booking_id"
			  " WHERE q.resource_id = $1 AND q.waiting AND q.booking_id <= $2"
			  " AND b.resource_id = $1 AND b.status = 'waitlisted'",
			  2, types);
	ret = spi_execute_as(pair->child_owner, position_plan, args, NULL, false, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "counting the waitlist failed: %s", SPI_result_code_string(ret));
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* The resource's auto_promote setting (false when it is gone).  SPI connected. */
bool
waitlist_auto_promote(int64 resource_id)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(resource_id)};
	bool		isnull;
	Datum		d;
	int			ret;

	kept_plan(&setting_plan,
			  "SELECT auto_promote FROM " BOOKING_SCHEMA ".resource WHERE id = $1", 1, types);
	ret = spi_execute_as(pair_by_id(BOOKING_OWN_PAIR)->parent_owner, setting_plan, args, NULL,
						 false, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the resource failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull && DatumGetBool(d);
}

/*
 * Promotes one waiting row through an UPDATE, which the child's trigger admits.  A row that
 * another transaction has locked (it is changing it: a cancel, a hand promotion) is left to it;
 * returns whether the row was promoted.
 */
static bool
promote_row(BookingPair *pair, int64 booking_id)
{
	Datum		args[1] = {Int64GetDatum(booking_id)};
	int			ret = pair_execute_as_owner(pair, PLAN_PROMOTE, args, NULL, 0, false);

	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "promoting booking %lld failed: %s", (long long) booking_id,
			 SPI_result_code_string(ret));
	return SPI_processed == 1;
}

/*
 * Promotes a resource's waiting rows that the room now left allows, first come first served
 * (see the top of the file); with check_setting, only where the resource's auto_promote is on.
 * The caller holds the resource's advisory lock and is connected to SPI.  Returns how many
 * rows were promoted.
 */
int
waitlist_promote(BookingPair *pair, int64 resource_id, bool check_setting)
{
	Datum		args[1] = {Int64GetDatum(resource_id)};
	int64		first;
	int			promoted = 0;
	uint64		n;
	uint64		i;
	int64	   *ids;
	int32	   *spots;
	Datum	   *ranges;
	bool	   *no_range;
	char	  **holders;
	TimelineRule rule;
	bool		is_timeline;
	int			ret;

	/* nobody waits, as the resource's count says (no look at the waitlist then), or as it shows */
	if (!counter_anyone_waiting(pair, resource_id) ||
		!queue_first_waiting(pair, resource_id, &first))
		return 0;
	if (check_setting && !waitlist_auto_promote(resource_id))
		return 0;

	ret = pair_execute_as_owner(pair, PLAN_WAITING, args, NULL, 0, true);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the waitlist failed: %s", SPI_result_code_string(ret));
	n = SPI_processed;
	ids = palloc(sizeof(int64) * Max(n, 1));
	spots = palloc(sizeof(int32) * Max(n, 1));
	ranges = palloc(sizeof(Datum) * Max(n, 1));
	no_range = palloc(sizeof(bool) * Max(n, 1));
	holders = palloc0(sizeof(char *) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		ids[i] = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		spots[i] = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		ranges[i] = SPI_getbinval(tup, desc, 3, &no_range[i]);
		if (!no_range[i])
			ranges[i] = SPI_datumTransfer(ranges[i], false, -1);
		holders[i] = SPI_getvalue(tup, desc, 4);
	}

	if (!timeline_lock_resource(pair, resource_id, &is_timeline, &rule))
		return 0;
	for (i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();

		/* a row whose holder has reached the resource's limit waits on, out of the line */
		if (rule.has_holder_max && holders[i] != NULL)
		{
			HolderCheck hc;
			int32		count;

			hc.holder = holders[i];
			hc.exclude_row = ids[i];
			if (limits_holder_full(pair, resource_id, &hc, rule.holder_max, &count))
				continue;
		}
		if (is_timeline)
		{
			Span		span;
			const char *why;
			TimelinePeak peak;

			/* every waiting range that fits now, in arrival order */
			if (no_range[i] || !span_from_range(ranges[i], &span, &why))
				continue;
			timeline_peak(pair, resource_id, &rule, widen(span, &rule), ids[i], true, &peak);
			if ((int64) peak.load + spots[i] > rule.capacity)
				continue;
		}
		else
		{
			Datum		pargs[1] = {Int64GetDatum(resource_id)};
			bool		isnull;
			int32		capacity;
			int32		reserved;

			/* the first that does not fit stops the line */
			ret = pair_execute_as_owner(pair, PLAN_PEEK, pargs, NULL, 1, true);
			if (ret != SPI_OK_SELECT || SPI_processed != 1)
				break;
			capacity = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			reserved = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
			if ((int64) reserved + spots[i] > capacity)
				break;
		}
		if (promote_row(pair, ids[i]))
			promoted++;
		else if (!is_timeline)
			break;				/* the first in line is busy: nobody overtakes it */
	}
	return promoted;
}

/*
 * The AFTER ROW trigger that gives freed capacity to the waiting rows: on the child table, after
 * an UPDATE or DELETE that freed what a row took; on the parent, after an UPDATE that raised the
 * capacity.  On the parent the row lock came first (the UPDATE's), so the resource's advisory
 * lock is only tried: when an admission holds it, that admission promotes the line itself
 * before it decides (engine.c).
 */
Datum
booking_promote_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	BookingPair *pair;
	TupleDesc	desc;
	int64		resource_id;
	bool		isnull;
	Datum		d;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"promote_trigger\" must be fired AFTER and FOR EACH ROW")));
	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	if (trigdata->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"promote_trigger\" needs the pair id as its one argument")));
	pair = pair_by_id((int32) strtol(trigdata->tg_trigger->tgargs[0], NULL, 10));
	if (!OidIsValid(pair->queue_relid) || engine_writing_counter())
		return PointerGetDatum(NULL);

	if (RelationGetRelid(rel) == pair->parent_relid)
	{
		bool		old_null;
		bool		new_null;
		int64		old_cap;
		int64		new_cap;
		LOCKTAG		tag;

		if (!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
			return PointerGetDatum(NULL);
		d = heap_getattr(trigdata->tg_trigtuple, pair->capacity_att, desc, &old_null);
		old_cap = old_null ? 0 : DatumGetInt32(d);
		d = heap_getattr(trigdata->tg_newtuple, pair->capacity_att, desc, &new_null);
		new_cap = new_null ? 0 : DatumGetInt32(d);
		if (new_null || new_cap <= old_cap)
			return PointerGetDatum(NULL);
		d = heap_getattr(trigdata->tg_newtuple, pair->parent_key_att, desc, &isnull);
		resource_id = DatumGetInt64(d);
		SET_LOCKTAG_BOOKING(tag, pair->id, resource_id);
		if (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
			return PointerGetDatum(NULL);
	}
	else
	{
		RowReader	old_row;
		RowReader	new_row;
		bool		updated = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event);

		row_reader_init(&old_row, trigdata->tg_trigtuple, desc);
		if (updated)
			row_reader_init(&new_row, trigdata->tg_newtuple, desc);
		waitlist_after_row(pair, rel, &old_row, updated ? &new_row : NULL);
		row_reader_done(&old_row);
		if (updated)
			row_reader_done(&new_row);
		return PointerGetDatum(NULL);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) waitlist_promote(pair, resource_id, true);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * What the child's AFTER UPDATE OR DELETE trigger does for one row (new_row NULL: deleted), and
 * a direct update (direct.c) after its rows: where the row took spots that it no longer takes
 * (status, resource, fewer spots, another range), the resource's waiting rows are promoted,
 * under its advisory lock.  The rows are read through the readers as they stand: a direct update
 * hands over the ones its guard already took apart.
 */
void
waitlist_after_row(BookingPair *pair, Relation rel, RowReader *old_row, RowReader *new_row)
{
	int64		resource_id;
	bool		isnull;
	Datum		d;

	{
		bool		old_consumed;

		if (!OidIsValid(pair->queue_relid) || engine_writing_counter())
			return;
		d = row_peek(old_row, pair->status_att, &isnull);
		old_consumed = pair_status_consumes(pair, d, isnull);
		if (!old_consumed)
			return;
		d = row_peek(old_row, pair->child_parent_att, &isnull);
		if (isnull)
			return;
		resource_id = DatumGetInt64(d);
		if (new_row != NULL)
		{
			/* what still holds the same resource with no fewer spots over the same range frees nothing */
			bool		n1;
			bool		n2;
			Datum		s1;
			Datum		s2;
			bool		same_range = true;

			if (pair->during_att != InvalidAttrNumber)
			{
				s1 = row_peek(old_row, pair->during_att, &n1);
				s2 = row_peek(new_row, pair->during_att, &n2);
				same_range = n1 == n2 && (n1 || datumIsEqual(s1, s2, false, -1));
			}
			d = row_peek(new_row, pair->status_att, &isnull);
			s1 = row_peek(old_row, pair->child_parent_att, &n1);
			s2 = row_peek(new_row, pair->child_parent_att, &n2);
			if (pair_status_consumes(pair, d, isnull) && !n2 &&
				DatumGetInt64(s1) == DatumGetInt64(s2) && same_range &&
				DatumGetInt32(row_peek(new_row, pair->spots_att, &n2)) >=
				DatumGetInt32(row_peek(old_row, pair->spots_att, &n1)))
				return;
		}
		lock_resource(pair, resource_id);
	}

	/* nobody waits there, as the resource's count says: nothing to promote, no SPI to open */
	if (!counter_anyone_waiting(pair, resource_id))
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) waitlist_promote(pair, resource_id, true);
	SPI_finish();
}

/*
 * promote(booking_id) returns setof booking.booking
 *
 * A waiting row made confirmed by hand, ahead of its turn if need be, when there is room: the
 * UPDATE is admitted like any other, so no room is 23514 (pool) or 23P01 (timeline); a row that
 * is not waiting is 55000 naming its status.
 */
Datum
booking_promote(PG_FUNCTION_ARGS)
{
	int64		booking_id;
	Tuplestorestate *store;
	Oid			types[1] = {INT8OID};
	Datum		args[1];
	HeapTuple	row;
	char	   *status;
	int			ret;

	booking_id = booking_call_begin(fcinfo, &store);
	kept_plan(&lock_plan,
			  "SELECT status::pg_catalog.text FROM " BOOKING_SCHEMA ".booking WHERE id = $1 FOR UPDATE",
			  1, types);
	row = booking_row(lock_plan, booking_id);
	status = SPI_getvalue(row, SPI_tuptable->tupdesc, 1);
	if (strcmp(status, "waitlisted") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("booking %lld is not waiting", (long long) booking_id),
				 errdetail("Its status is %s.", status)));
	kept_plan(&promote_plan,
			  "UPDATE " BOOKING_SCHEMA ".booking SET status = 'confirmed', updated_at = pg_catalog.now()"
			  " WHERE id = $1 RETURNING *",
			  1, types);
	args[0] = Int64GetDatum(booking_id);
	ret = SPI_execute_plan(promote_plan, args, NULL, false, 0);
	if (ret != SPI_OK_UPDATE_RETURNING || SPI_processed != 1)
		elog(ERROR, "promoting the booking failed: %s", SPI_result_code_string(ret));
	tuplestore_puttuple(store, SPI_tuptable->vals[0]);
	SPI_finish();
	return (Datum) 0;
}
