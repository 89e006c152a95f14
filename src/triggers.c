/*
 * triggers.c
 *		The triggers that put every writer through the engine.
 *
 * booking_guard, BEFORE INSERT OR UPDATE OR DELETE FOR EACH ROW on a pair's child table, turns
 * the row before and after the write into claims and hands them to engine_change(): the same
 * admission code that book_slot() reaches, since book_slot() writes its row with an INSERT that
 * fires this very trigger.  booking_resource_guard on the parent table refuses writes of the
 * counter by anyone but the engine and capacity below what is reserved.  booking_truncate_guard
 * refuses TRUNCATE, which fires no row triggers and would leave the counters wrong.
 *
 * Each trigger takes the pair id as its one argument and checks that it is attached to that
 * pair's table.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "access/xact.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "api.h"
#include "audit.h"
#include "engine.h"
#include "pair.h"
#include "queue.h"
#include "states.h"
#include "timeline.h"

PG_FUNCTION_INFO_V1(booking_guard);
PG_FUNCTION_INFO_V1(booking_resource_guard);
PG_FUNCTION_INFO_V1(booking_truncate_guard);

/*
 * Checks that we were called as the kind of trigger we are meant to be and returns the pair
 * named by the trigger's argument.  39P01 otherwise.
 */
static BookingPair *
trigger_pair(FunctionCallInfo fcinfo, const char *fname, bool row_level)
{
	TriggerData *trigdata;
	int32		pairid;
	char	   *end;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be called as a trigger", fname)));
	trigdata = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		(row_level != (TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) != 0)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired BEFORE and FOR EACH %s", fname,
						row_level ? "ROW" : "STATEMENT")));
	if (trigdata->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" needs the pair id as its one argument", fname)));
	pairid = (int32) strtol(trigdata->tg_trigger->tgargs[0], &end, 10);
	if (*end != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" needs the pair id as its one argument", fname)));
	return pair_by_id(pairid);
}


/*
 * Reads what a row of the child table claims, through the caller's reader of it.  With
 * validate, a new row's values are checked first: spots must be positive (22023), not NULL
 * (23502), and a pool booking has no range (22023).
 */
static void
row_claim(BookingPair *pair, Relation rel, RowReader *row, bool validate, RowClaim *claim)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Datum		value;
	bool		isnull;

	if (pair->status_att != InvalidAttrNumber)
	{
		value = row_read(row, pair->status_att, &isnull);
		claim->consumes = pair_status_consumes(pair, value, isnull);
	}
	else
		claim->consumes = true; /* no status: every row takes its spots */

	claim->spots = 1;
	if (pair->spots_att != InvalidAttrNumber)
	{
		value = row_read(row, pair->spots_att, &isnull);
		if (isnull)
		{
			if (validate)
				ereport(ERROR,
						(errcode(ERRCODE_NOT_NULL_VIOLATION),
						 errmsg("spots must not be null"),
						 errtable(rel)));
			claim->spots = 0;
		}
		else
		{
			int64		spots = pair_integer(value,
											  TupleDescAttr(desc, pair->spots_att - 1)->atttypid);

			if (validate && spots <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("spots must be greater than zero"),
						 errdetail("The row asks for %lld spots.", (long long) spots),
						 errtable(rel)));
			claim->spots = (int32) Min(spots, PG_INT32_MAX);
		}
	}

	value = row_read(row, pair->child_parent_att, &isnull);
	if (isnull)
	{
		/* A row attached to no resource takes nothing; NOT NULL, if declared, refuses it. */
		claim->has_resource = false;
		claim->consumes = false;
		claim->resource_id = 0;
	}
	else
	{
		claim->has_resource = true;
		/* an integer reference whatever its width; any other key in the parent key's type */
		claim->resource_id = pair_key_is_integer(pair->parent_key_type)
			? pair_integer(value, TupleDescAttr(desc, pair->child_parent_att - 1)->atttypid)
			: pair_key_handle(value, pair->parent_key_type);
	}

	value = row_read(row, pair->child_key_att, &isnull);
	claim->row_id = isnull ? 0 : pair_key_handle(value, pair->child_key_type);

	/*
	 * A range makes the row a timeline booking, judged at every instant; whether the resource
	 * is a timeline resource is the engine's to check, under its lock.
	 */
	claim->has_range = false;
	claim->is_block = false;
	claim->by_api = false;
	claim->api_hold = (Datum) 0;
	claim->holder = NULL;
	claim->held = false;
	claim->has_expiry = false;
	claim->expires = 0;
	claim->waiting = false;
	if (pair->has_states)
		value = row_read(row, pair->status_att, &isnull);
	if (pair->has_states)
		claim->waiting = pair_state(pair, value, isnull) == STATE_WAITLISTED;
	if (pair->has_states && pair->expires_att != InvalidAttrNumber &&
		pair_state(pair, value, isnull) == STATE_HELD)
	{
		claim->held = true;
		value = row_read(row, pair->expires_att, &isnull);
		claim->has_expiry = !isnull;
		claim->expires = isnull ? 0 : DatumGetTimestampTz(value);
	}
	if (pair->holder_att != InvalidAttrNumber)
	{
		value = row_read(row, pair->holder_att, &isnull);
		if (!isnull)
			claim->holder = TextDatumGetCString(value);
	}
	{
		const char *why = NULL;
		bool		present;

		if (timeline_row_span(pair, row, &present, &claim->span, &why))
			claim->has_range = true;
		else if (present && validate && claim->consumes)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a booking's time range must be bounded and not empty"),
					 errdetail("The range given for resource %s cannot be booked: %s.",
							   pair_resource_text(pair, claim->resource_id), why),
					 errtable(rel)));
		else if (present)
			claim->consumes = false;	/* an old row with a range no rule can judge */
		else if (pair->timeline_const && claim->consumes && claim->has_resource)
		{
			/* a pair of time slots only: a row without a range takes nothing it could count */
			if (validate)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("a booking of timeline resource %s needs a time range",
								pair_resource_text(pair, claim->resource_id)),
						 errdetail("Its pair holds capacity at every instant; the row's range columns must not be NULL."),
						 errtable(rel)));
			claim->consumes = false;
		}
	}
	/*
	 * A hold whose time has passed takes nothing on a timeline (the overlap search leaves it
	 * out too), so a write that gives it a later expiry is admitted afresh.  On a pool it is
	 * counted until it is marked expired.
	 */
	if (claim->has_range && claim->consumes && pair->has_states &&
		pair->expires_att != InvalidAttrNumber)
	{
		value = row_read(row, pair->status_att, &isnull);
		if (pair_state(pair, value, isnull) == STATE_HELD)
		{
			value = row_read(row, pair->expires_att, &isnull);
			if (!isnull && DatumGetTimestampTz(value) <= GetCurrentTransactionStartTimestamp())
				claim->consumes = false;
		}
	}
	if (claim->has_range && pair->kind_att != InvalidAttrNumber)
	{
		value = row_read(row, pair->kind_att, &isnull);
		claim->is_block = pair_kind_is_block(pair, value, isnull,
											 TupleDescAttr(desc, pair->kind_att - 1)->atttypid);
	}
}

/*
 * Records a change of status of a row of the extension's own table in booking.attempt, whoever
 * made it: a confirm, release, expiry, promotion or cancel through the API, or an UPDATE.
 */
static void
audit_transition(BookingPair *pair, Relation rel, RowReader *old_row, RowReader *new_row)
{
	TupleDesc	desc = RelationGetDescr(rel);
	bool		old_null;
	bool		isnull;
	Datum		old_status;
	Datum		d;
	AttemptRecord rec;
	BookingState from;
	BookingState to;

	if (pair->id != BOOKING_OWN_PAIR || !booking_audit_enabled)
		return;
	old_status = row_read(old_row, pair->status_att, &old_null);
	memset(&rec, 0, sizeof(rec));
	rec.status = row_read(new_row, pair->status_att, &rec.status_null);
	from = pair_state(pair, old_status, old_null);
	to = pair_state(pair, rec.status, rec.status_null);
	if (from == to)
		return;
	rec.action = state_transition_action(from, to);
	if (pair->holder_att != InvalidAttrNumber)
	{
		d = row_read(new_row, pair->holder_att, &isnull);
		rec.holder = isnull ? NULL : TextDatumGetCString(d);
	}
	d = row_read(new_row, pair->child_parent_att, &isnull);
	rec.resource_id = isnull ? 0 : pair_integer(d, TupleDescAttr(desc, pair->child_parent_att - 1)->atttypid);
	rec.spots = 1;
	if (pair->spots_att != InvalidAttrNumber)
	{
		d = row_read(new_row, pair->spots_att, &isnull);
		rec.spots = isnull ? 0 : (int32) pair_integer(d, TupleDescAttr(desc, pair->spots_att - 1)->atttypid);
	}
	rec.during_null = true;
	if (pair->during_att != InvalidAttrNumber)
		rec.during = row_read(new_row, pair->during_att, &rec.during_null);
	d = row_read(new_row, pair->child_key_att, &isnull);
	rec.booking_id = isnull ? 0 : pair_integer(d, TupleDescAttr(desc, pair->child_key_att - 1)->atttypid);
	rec.ok = true;
	audit_attempt(&rec);
}

/* The group a row belongs to (book_many()), 0 for none. */
static int64
row_group(BookingPair *pair, RowReader *row)
{
	bool		isnull;
	Datum		d;

	if (pair->group_att == InvalidAttrNumber)
		return 0;
	d = row_read(row, pair->group_att, &isnull);
	return isnull ? 0 : DatumGetInt64(d);
}

/*
 * The guard of a changed row of the child, as its BEFORE UPDATE trigger runs it and as a direct
 * update (direct.c) does: the state machine, the engine's decision on what the row takes before
 * and after (a refusal raises), booking.queue and the audit of the transition.  The rows are
 * read through the caller's readers, each taken apart once for all of these (a direct update
 * hands the same readers to waitlist_after_row() afterwards).
 */
void
guard_update(BookingPair *pair, Relation rel, RowReader *old_row, RowReader *new_row)
{
	RowClaim	old_claim;
	RowClaim	new_claim;
	AdmitResult result;

	state_check_change(pair, rel, old_row, new_row);
	row_claim(pair, rel, old_row, false, &old_claim);
	row_claim(pair, rel, new_row, true, &new_claim);
	hold_check_direct(pair, rel, &old_claim, &new_claim, new_row->tuple);
	if (engine_change(pair, &old_claim, &new_claim, &result) != ADMIT_OK)
		engine_report_refusal(pair, rel, &result);
	queue_sync(pair, rel, old_row, new_row, result.slot.taken);
	audit_transition(pair, rel, old_row, new_row);
}

/*
 * The guard of a new row of the child, as its BEFORE INSERT trigger runs it and as a direct
 * insert (direct.c) does: judges the row through the engine, hands the outcome to an armed
 * book_slot()/book_many() (whose refused row is then skipped), or raises the refusal; keeps
 * booking.queue.  Returns whether the row is to be written.
 */
bool
guard_insert(BookingPair *pair, Relation rel, HeapTuple tuple)
{
	RowReader	row;
	SoftAdmission *soft;
	RowClaim	new_claim;
	AdmitResult result;
	AdmitOutcome outcome;

	row_reader_init(&row, tuple, RelationGetDescr(rel));
	soft = engine_soft_take(RelationGetRelid(rel), row_group(pair, &row));
	/* a group that one of its rows lost: the rest are not judged */
	if (soft != NULL && soft->group_id != 0 && soft->refused)
	{
		row_reader_done(&row);
		return false;
	}
	row_claim(pair, rel, &row, true, &new_claim);
	new_claim.by_api = soft != NULL;
	if (soft != NULL && new_claim.held)
		new_claim.api_hold = soft->hold;
	hold_check_direct(pair, rel, NULL, &new_claim, tuple);
	outcome = engine_change(pair, NULL, &new_claim, &result);
	if (soft != NULL)
	{
		soft->result = result;
		if (result.hold_judged)
			soft->holds_judged++;
		if (soft->group_id != 0)
		{
			soft->resource_ids[soft->nrows] = new_claim.resource_id;
			soft->available[soft->nrows] = Max(result.capacity - result.reserved, 0);
			soft->nrows++;
		}
		if (outcome == ADMIT_NO_RESOURCE)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("resource %s does not exist", pair_resource_text(pair, new_claim.resource_id))));
		if (outcome != ADMIT_OK)
		{
			soft->refused = true;
			row_reader_done(&row);
			return false;
		}
	}
	else if (outcome != ADMIT_OK)
		engine_report_refusal(pair, rel, &result);
	queue_sync(pair, rel, NULL, &row, result.slot.taken);
	row_reader_done(&row);
	return true;
}

/*
 * The child table's row trigger.  Admits the row's claim through engine_change() and returns
 * the row to write; for book_slot()'s own INSERT a refusal skips the row (returns NULL) and is
 * reported back through the SoftAdmission, for every other write it raises.
 */
Datum
booking_guard(PG_FUNCTION_ARGS)
{
	BookingPair *pair = trigger_pair(fcinfo, "booking_guard", true);
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel = trigdata->tg_relation;
	TriggerEvent event = trigdata->tg_event;
	RowClaim	old_claim;
	AdmitResult result;

	if (pair->child_relid != RelationGetRelid(rel))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" is not on the child table of booking pair %d",
						trigdata->tg_trigger->tgname, pair->id)));

	if (TRIGGER_FIRED_BY_INSERT(event))
		return guard_insert(pair, rel, trigdata->tg_trigtuple)
			? PointerGetDatum(trigdata->tg_trigtuple) : PointerGetDatum(NULL);
	else if (TRIGGER_FIRED_BY_UPDATE(event))
	{
		RowReader	old_row;
		RowReader	new_row;

		row_reader_init(&old_row, trigdata->tg_trigtuple, RelationGetDescr(rel));
		row_reader_init(&new_row, trigdata->tg_newtuple, RelationGetDescr(rel));
		guard_update(pair, rel, &old_row, &new_row);
		row_reader_done(&old_row);
		row_reader_done(&new_row);
		return PointerGetDatum(trigdata->tg_newtuple);
	}
	else if (TRIGGER_FIRED_BY_DELETE(event))
	{
		RowReader	old_row;

		row_reader_init(&old_row, trigdata->tg_trigtuple, RelationGetDescr(rel));
		row_claim(pair, rel, &old_row, false, &old_claim);
		(void) engine_change(pair, &old_claim, NULL, &result);
		queue_sync(pair, rel, &old_row, NULL, false);
		row_reader_done(&old_row);
		return PointerGetDatum(trigdata->tg_trigtuple);
	}

	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("function \"booking_guard\" must be fired for INSERT, UPDATE or DELETE")));
	PG_RETURN_NULL();
}

static int32
int_column(Relation rel, HeapTuple tuple, AttrNumber att, bool *isnull)
{
	Datum		value;

	if (att == InvalidAttrNumber)
	{
		*isnull = true;			/* the pair's constant, or no counter */
		return 0;
	}
	value = heap_getattr(tuple, att, RelationGetDescr(rel), isnull);
	if (*isnull)
		return 0;
	return (int32) pair_integer(value, TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid);
}

static bool
row_timeline(BookingPair *pair, Relation rel, HeapTuple tuple)
{
	bool		isnull;
	Datum		d;

	if (pair->timeline_att == InvalidAttrNumber)
		return pair->timeline_const;
	d = heap_getattr(tuple, pair->timeline_att, RelationGetDescr(rel), &isnull);
	return !isnull && DatumGetBool(d);
}

static int64
row_buffer(Relation rel, HeapTuple tuple, AttrNumber att)
{
	bool		isnull;
	Datum		d;

	if (att == InvalidAttrNumber)
		return 0;
	d = heap_getattr(tuple, att, RelationGetDescr(rel), &isnull);
	return isnull ? 0 : Max(buffer_usecs(d), 0);
}

/*
 * An UPDATE of a resource that changes how its bookings are judged.  Switching between pool and
 * timeline is refused while bookings take capacity (55000): their rows were admitted under the
 * other rule.  On a timeline resource, lowering the capacity or widening a buffer is refused
 * (23514, booking_capacity) where the bookings would then exceed the capacity at some instant.
 * The UPDATE holds the resource's row, which every admission locks before deciding.
 */
static void
check_timeline_change(BookingPair *pair, Relation rel, HeapTuple oldtup, HeapTuple newtup,
					  int64 resource_id, int32 capacity)
{
	bool		was = row_timeline(pair, rel, oldtup);
	bool		is = row_timeline(pair, rel, newtup);
	bool		cap_null;
	int32		old_capacity = int_column(rel, oldtup, pair->capacity_att, &cap_null);
	TimelineRule rule;
	TimelinePeak peak;
	Span		all;

	if (was != is)
	{
		Datum		args[1] = {pair_resource_datum(pair, resource_id)};
		bool		n;
		int32		taken;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_plan(pair_plan(pair, PLAN_COUNT_ONE), args, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "counting bookings failed");
		taken = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n));
		SPI_finish();
		if (taken > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("resource %s cannot become a %s resource while it has bookings",
							pair_resource_text(pair, resource_id), is ? "timeline" : "pool"),
					 errdetail("%d spots are taken under the %s rule.", taken, was ? "timeline" : "pool"),
					 errhint("Cancel or move its bookings first.")));
		return;
	}
	if (!is)
		return;

	rule.capacity = capacity;
	rule.before = row_buffer(rel, newtup, pair->buffer_before_att);
	rule.after = row_buffer(rel, newtup, pair->buffer_after_att);
	rule.longest_booking = TIMELINE_NO_BOUND;
	rule.longest_block = TIMELINE_NO_BOUND;
	if (!cap_null && capacity >= old_capacity &&
		rule.before <= row_buffer(rel, oldtup, pair->buffer_before_att) &&
		rule.after <= row_buffer(rel, oldtup, pair->buffer_after_att))
		return;					/* nothing got tighter */

	all.lo = MIN_TIMESTAMP + USECS_PER_DAY * 366;
	all.hi = END_TIMESTAMP - USECS_PER_DAY * 366;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	timeline_peak(pair, resource_id, &rule, all, 0, true, &peak);
	SPI_finish();
	if (peak.load > capacity)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("capacity of resource %s cannot be lower than its bookings at every instant",
						pair_resource_text(pair, resource_id)),
				 errdetail("Capacity would be %d; at %s, %d spots are taken with the buffers as they would be.",
						   capacity, timestamptz_to_str(peak.at), peak.load),
				 errtableconstraint(rel, "booking_capacity")));
}

/*
 * The bounds on the length of a timeline resource's ranges (longest_booking, longest_block) are
 * the engine's, as the counter is: the overlap search trusts them, so a bound written lower than
 * a row's range would hide that row from it.  An UPDATE that changes one gets 428C9.
 */
static void
check_bound_kept(BookingPair *pair, Relation rel, HeapTuple oldtup, HeapTuple newtup,
				 AttrNumber att)
{
	TupleDesc	desc = RelationGetDescr(rel);
	bool		old_null;
	bool		new_null;
	Datum		old;
	Datum		new;

	if (att == InvalidAttrNumber)
		return;
	old = heap_getattr(oldtup, att, desc, &old_null);
	new = heap_getattr(newtup, att, desc, &new_null);
	if (old_null != new_null ||
		(!old_null && !DatumGetBool(DirectFunctionCall2(interval_eq, old, new))))
		ereport(ERROR,
				(errcode(ERRCODE_GENERATED_ALWAYS),
				 errmsg("column %s of table %s can only be written by the booking engine",
						quote_identifier(NameStr(TupleDescAttr(desc, att - 1)->attname)),
						pair->parent_sql),
				 errdetail("It bounds the length of the resource's ranges for the overlap search."),
				 errhint("Use booking.repair() to raise a bound below a row's range."),
				 errtable(rel)));
}

/*
 * The count of a resource's waitlisted rows is the engine's too: an admission that finds it at
 * zero does not look at the waitlist, so a count written lower than the rows would let a new
 * booking overtake them.  An UPDATE that changes it gets 428C9.
 */
static void
check_waiting_kept(BookingPair *pair, Relation rel, HeapTuple oldtup, HeapTuple newtup)
{
	bool		old_null;
	bool		new_null;
	int32		old;
	int32		new;

	if (pair->waiting_att == InvalidAttrNumber)
		return;
	old = int_column(rel, oldtup, pair->waiting_att, &old_null);
	new = int_column(rel, newtup, pair->waiting_att, &new_null);
	if (old_null != new_null || old != new)
		ereport(ERROR,
				(errcode(ERRCODE_GENERATED_ALWAYS),
				 errmsg("column waiting of table %s can only be written by the booking engine",
						pair->parent_sql),
				 errdetail("It counts the resource's waitlisted rows."),
				 errhint("Use booking.repair() to recount it from the rows."),
				 errtable(rel)));
}

/*
 * The hold slot is the engine's as well: a slot emptied by hand would leave its hold listed
 * nowhere, so that no admission would find it when it expires.  An UPDATE that changes it gets
 * 428C9.
 */
static void
check_slot_kept(BookingPair *pair, Relation rel, HeapTuple oldtup, HeapTuple newtup)
{
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber	atts[2] = {pair->hold_id_att, pair->hold_due_att};
	int			i;

	if (pair->hold_id_att == InvalidAttrNumber)
		return;
	for (i = 0; i < 2; i++)
	{
		bool		old_null;
		bool		new_null;
		Datum		old = heap_getattr(oldtup, atts[i], desc, &old_null);
		Datum		new = heap_getattr(newtup, atts[i], desc, &new_null);

		/* both bigint and timestamptz: compared as 8-byte values */
		if (old_null != new_null || (!old_null && DatumGetInt64(old) != DatumGetInt64(new)))
			ereport(ERROR,
					(errcode(ERRCODE_GENERATED_ALWAYS),
					 errmsg("column %s of table %s can only be written by the booking engine",
							NameStr(TupleDescAttr(desc, atts[i] - 1)->attname), pair->parent_sql),
					 errdetail("It records one of the resource's holds, which the engine expires when due."),
					 errtable(rel)));
	}
}

/*
 * A new resource has no ranges yet: its bounds start at zero, and its rows raise them.  Nor has
 * it holds: its hold slot starts empty.
 */
static HeapTuple
bounds_at_zero(BookingPair *pair, Relation rel, HeapTuple tuple)
{
	int			cols[5];
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	Interval   *zero = palloc0(sizeof(Interval));
	int			n = 0;

	if (pair->longest_booking_att != InvalidAttrNumber)
	{
		values[n] = IntervalPGetDatum(zero);
		cols[n++] = pair->longest_booking_att;
	}
	if (pair->longest_block_att != InvalidAttrNumber)
	{
		values[n] = IntervalPGetDatum(zero);
		cols[n++] = pair->longest_block_att;
	}
	/* nor waiting rows: its count starts at zero too, and its rows raise it */
	if (pair->waiting_att != InvalidAttrNumber)
	{
		values[n] = Int32GetDatum(0);
		cols[n++] = pair->waiting_att;
	}
	if (pair->hold_id_att != InvalidAttrNumber)
	{
		values[n] = (Datum) 0;
		nulls[n] = true;
		cols[n++] = pair->hold_id_att;
		values[n] = (Datum) 0;
		nulls[n] = true;
		cols[n++] = pair->hold_due_att;
	}
	if (n == 0)
		return tuple;
	return heap_modify_tuple_by_cols(tuple, RelationGetDescr(rel), n, cols, values, nulls);
}

/*
 * The parent table's row trigger.  The counter is the engine's: a new resource starts at zero
 * and only the engine (admission, release, repair) changes it; an UPDATE that writes it gets
 * 428C9.  Capacity may
 * not drop below what is reserved (23514, booking_capacity).  The UPDATE that fires this holds
 * the resource row, so no admission can slip in between the check and the write.
 */
Datum
booking_resource_guard(PG_FUNCTION_ARGS)
{
	BookingPair *pair = trigger_pair(fcinfo, "booking_resource_guard", true);
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel = trigdata->tg_relation;
	HeapTuple	newtup;
	int32		capacity;
	int32		counter;
	bool		cap_null;
	bool		counter_null;
	bool		isnull;
	Datum		key;

	if (pair->parent_relid != RelationGetRelid(rel))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" is not on the parent table of booking pair %d",
						trigdata->tg_trigger->tgname, pair->id)));
	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		return PointerGetDatum(trigdata->tg_trigtuple);

	newtup = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple
		: trigdata->tg_trigtuple;
	capacity = int_column(rel, newtup, pair->capacity_att, &cap_null);
	counter = int_column(rel, newtup, pair->counter_att, &counter_null);

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) && pair->counter_att != InvalidAttrNumber &&
		(counter_null || counter != 0))
	{
		/*
		 * A new resource has no bookings yet, so its counter starts at zero whatever the
		 * writer said; its bookings, written after it, count themselves in.  This is also what
		 * makes a pg_dump restore right: the resource's COPY brings the old counter, the
		 * bookings' COPY then admits each row again.
		 */
		int			col = pair->counter_att;
		Oid			type = TupleDescAttr(RelationGetDescr(rel), col - 1)->atttypid;
		Datum		zero = type == INT8OID ? Int64GetDatum(0) :
			type == INT2OID ? Int16GetDatum(0) : Int32GetDatum(0);
		bool		zero_null = false;

		newtup = heap_modify_tuple_by_cols(newtup, RelationGetDescr(rel), 1, &col, &zero,
										   &zero_null);
		counter = 0;
		counter_null = false;
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) && !engine_writing_counter())
	{
		bool		old_null;
		int32		old = int_column(rel, trigdata->tg_trigtuple, pair->counter_att, &old_null);

		if (pair->counter_att != InvalidAttrNumber && (old_null != counter_null || old != counter))
			ereport(ERROR,
					(errcode(ERRCODE_GENERATED_ALWAYS),
					 errmsg("column %s of table %s can only be written by the booking engine",
							pair->counter_sql, pair->parent_sql),
					 errdetail("The counter is kept equal to the spots its bookings consume."),
					 errhint("Use booking.repair() to recompute counters from the rows."),
					 errtable(rel)));
		check_bound_kept(pair, rel, trigdata->tg_trigtuple, newtup, pair->longest_booking_att);
		check_bound_kept(pair, rel, trigdata->tg_trigtuple, newtup, pair->longest_block_att);
		check_waiting_kept(pair, rel, trigdata->tg_trigtuple, newtup);
		check_slot_kept(pair, rel, trigdata->tg_trigtuple, newtup);
	}
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		newtup = bounds_at_zero(pair, rel, newtup);

	key = heap_getattr(newtup, pair->parent_key_att, RelationGetDescr(rel), &isnull);
	if (!cap_null && capacity < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("capacity must not be negative"),
				 errdetail("Capacity would be %d.", capacity),
				 errtableconstraint(rel, "resource_capacity_nonnegative")));
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) && !isnull && !cap_null &&
		!engine_writing_counter())
		check_timeline_change(pair, rel, trigdata->tg_trigtuple, newtup,
							  pair_key_handle(key, pair->parent_key_type), capacity);
	if (row_timeline(pair, rel, newtup))
		return PointerGetDatum(newtup);		/* its counter is no measure of its capacity */
	if (!cap_null && !counter_null && counter > capacity && !engine_writing_counter())
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("capacity of resource %s cannot be lower than its reserved spots",
						isnull ? "0" : pair_resource_text(pair, pair_key_handle(key, pair->parent_key_type))),
				 errdetail("Capacity would be %d, reserved is %d.", capacity, counter),
				 errtableconstraint(rel, "booking_capacity")));

	return PointerGetDatum(newtup);
}

/*
 * Refuses TRUNCATE of a protected table: it fires no row trigger, so it would leave the
 * counters (or the rows they count) behind.  booking.reset() deletes through the engine.
 */
Datum
booking_truncate_guard(PG_FUNCTION_ARGS)
{
	BookingPair *pair = trigger_pair(fcinfo, "booking_truncate_guard", false);
	TriggerData *trigdata;

	trigdata = (TriggerData *) fcinfo->context;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot truncate table %s", RelationGetRelationName(trigdata->tg_relation)),
			 errdetail("TRUNCATE fires no row triggers and would leave the reserved-spots counters wrong."),
			 pair->id == BOOKING_OWN_PAIR
			 ? errhint("Use booking.reset() to delete bookings through the engine.")
			 : errhint("Use DELETE, whose row triggers keep the counters right.")));
	PG_RETURN_NULL();
}
