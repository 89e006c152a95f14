/*
 * api.c
 *		The SQL-callable functions: book_slot(), cancel(), availability(), verify(), repair(),
 *		reset().
 *
 * None of them decides admission itself.  book_slot() writes its row with an INSERT whose trigger
 * runs the engine, cancel() an UPDATE, reset() a DELETE: whatever rule holds for a direct write
 * holds for them, by construction.  Business refusals (a full resource) are returned by
 * book_slot() as a row with ok = false, and audited; misuse raises with a documented SQLSTATE.
 */
#include "postgres.h"

#include "access/table.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/array.h"
#include "utils/rangetypes.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

#include "compat.h"
#include "api.h"
#include "audit.h"
#include "direct.h"
#include "engine.h"
#include "locks.h"
#include "pair.h"
#include "queue.h"
#include "states.h"
#include "timeline.h"
#include "waitlist.h"

PG_FUNCTION_INFO_V1(booking_book_slot);
PG_FUNCTION_INFO_V1(booking_cancel);
PG_FUNCTION_INFO_V1(booking_availability);
PG_FUNCTION_INFO_V1(booking_verify);
PG_FUNCTION_INFO_V1(booking_repair);
PG_FUNCTION_INFO_V1(booking_reset);
PG_FUNCTION_INFO_V1(booking_free_slots);


static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr insert_hold_plan = NULL;
static SPIPlanPtr insert_waiting_plan = NULL;
static SPIPlanPtr waitlist_setting_plan = NULL;
static int	insert_armed(SPIPlanPtr plan, Datum *args, char *nulls);
static SPIPlanPtr lock_booking_plan = NULL;
static SPIPlanPtr cancel_plan = NULL;

/*
 * Runs a kept plan as role (a table's owner), the way the engine's own reads and writes are
 * made: what the engine looks up on a caller's behalf needs no privilege of the caller's.  With
 * latest, rows are read as of now rather than as of the transaction's snapshot.
 */
int
spi_execute_as(Oid role, SPIPlanPtr plan, Datum *args, const char *nulls, bool latest,
			   bool read_only, long count)
{
	Oid			save_userid;
	int			save_sec;
	volatile int ret = 0;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(role, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	PG_TRY();
	{
		if (latest)
			ret = SPI_execute_snapshot(plan, args, nulls, GetLatestSnapshot(), InvalidSnapshot,
									   read_only, true, count);
		else
			ret = SPI_execute_plan(plan, args, nulls, read_only, count);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
	return ret;
}

/*
 * Prepares and keeps a plan on first use, or again after it was invalidated for good.  The
 * caller is connected to SPI.
 */
SPIPlanPtr
kept_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes)
{
	return kept_plan_with(slot, sql, nargs, argtypes, 0);
}

/*
 * kept_plan() with cursor options: CURSOR_OPT_GENERIC_PLAN for a statement whose custom plans
 * the plan cache would otherwise keep making (one over an array parameter, whose size it cannot
 * know, looks dearer as a generic plan than it is).
 */
SPIPlanPtr
kept_plan_with(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes, int options)
{
	SPIPlanPtr	plan;

	if (*slot != NULL && SPI_plan_is_valid(*slot))
		return *slot;
	plan = SPI_prepare_cursor(sql, nargs, argtypes, options);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	if (*slot != NULL)
		SPI_freeplan(*slot);
	*slot = plan;
	return plan;
}

/*
 * Runs plan, a kept SELECT of one booking by its id ($1, a bigint), and returns its row (its
 * descriptor is SPI_tuptable's); P0002 when there is no such booking.  SPI connected.
 */
HeapTuple
booking_row(SPIPlanPtr plan, int64 booking_id)
{
	Datum		args[1] = {Int64GetDatum(booking_id)};
	int			ret = SPI_execute_plan(plan, args, NULL, false, 1);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading booking %lld failed: %s", (long long) booking_id,
			 SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("booking %lld does not exist", (long long) booking_id)));
	return SPI_tuptable->vals[0];
}

/*
 * The bigint values of one column of the last SPI result, in a new array (of one element at
 * least, so that an empty result needs no special case); *n is how many.
 */
int64 *
spi_int64_column(int column, uint64 *n)
{
	int64	   *values = palloc(sizeof(int64) * Max(SPI_processed, 1));
	uint64		i;

	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, column, &isnull);

		values[i] = isnull ? 0 : DatumGetInt64(d);
	}
	*n = SPI_processed;
	return values;
}

void
require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/* The spots argument of book_slot() and book_many(): not NULL (22004), positive (22023). */
int32
spots_arg(FunctionCallInfo fcinfo, int argno)
{
	int32		spots;

	require_arg(fcinfo, argno, "spots");
	spots = PG_GETARG_INT32(argno);
	if (spots <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("spots must be greater than zero"),
				 errdetail("spots is %d.", spots)));
	return spots;
}

/* The holder argument: current_user when NULL. */
char *
holder_arg(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? GetUserNameFromId(GetUserId(), false)
		: text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * The start of a function of one booking (cancel, confirm, release, extend, promote): its id,
 * which must not be NULL (22004), a materialized result in *store, and SPI connected.
 */
int64
booking_call_begin(FunctionCallInfo fcinfo, Tuplestorestate **store)
{
	TupleDesc	desc;
	int64		booking_id;

	require_arg(fcinfo, 0, "booking_id");
	booking_id = PG_GETARG_INT64(0);
	*store = begin_materialize(fcinfo, &desc);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	return booking_id;
}

/*
 * Sets up a materialized result for a set-returning function and returns the store; *desc gets
 * the result's row type.
 */
Tuplestorestate *
begin_materialize(FunctionCallInfo fcinfo, TupleDesc *desc)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;
	TupleDesc	tupdesc;
	Oid			rettype;
	Tuplestorestate *store;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (rsinfo->expectedDesc != NULL)
	{
		/* the row the caller expects, where it says so (a FROM clause does): no type look-up */
		tupdesc = CreateTupleDescCopy(rsinfo->expectedDesc);
	}
	else
	{
		switch (get_call_result_type(fcinfo, &rettype, &tupdesc))
		{
			case TYPEFUNC_COMPOSITE:
				tupdesc = CreateTupleDescCopy(tupdesc);
				break;
			case TYPEFUNC_SCALAR:
				/* a one-column RETURNS TABLE: a row of that one value */
				tupdesc = CreateTemplateTupleDesc(1);
				TupleDescInitEntry(tupdesc, (AttrNumber) 1, "value", rettype, -1, 0);
				break;
			default:
				elog(ERROR, "return type must be a row type");
		}
	}
	store = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = tupdesc;
	MemoryContextSwitchTo(old);

	*desc = tupdesc;
	return store;
}

/* How many alternatives a refused book_slot() offers, and how far from the range it looks. */
#define ALTERNATIVES_MAX 3
#define ALTERNATIVES_REACH (7 * USECS_PER_DAY)

const char *
refusal_reason(const AdmitResult *result)
{
	switch (result->outcome)
	{
		case ADMIT_CONFLICT:
			return "conflict";
		case ADMIT_TOO_SOON:
			return "too_soon";
		case ADMIT_TOO_FAR:
			return "too_far";
		case ADMIT_QUEUED:
			return result->timeline ? "conflict" : "full";
		case ADMIT_HOLDER_LIMIT:
			return "holder_limit";
		case ADMIT_RATE_LIMITED:
			return "rate_limited";
		default:
			return "full";
	}
}

/* A span as the tstzrange [lo, hi). */
static Datum
span_datum(TypeCacheEntry *typcache, Span span)
{
	RangeBound	lower;
	RangeBound	upper;

	lower.val = TimestampTzGetDatum(span.lo);
	lower.infinite = false;
	lower.inclusive = true;
	lower.lower = true;
	upper.val = TimestampTzGetDatum(span.hi);
	upper.infinite = false;
	upper.inclusive = false;
	upper.lower = false;
	return RangeTypePGetDatum(booking_make_range(typcache, &lower, &upper));
}

/* A tstzrange[] of spans, in the caller's memory context. */
static Datum
spans_to_array(Span *spans, int n)
{
	TypeCacheEntry *typcache = lookup_type_cache(TSTZRANGEOID, TYPECACHE_RANGE_INFO);
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = span_datum(typcache, spans[i]);
	return PointerGetDatum(construct_array(elems, n, TSTZRANGEOID, typcache->typlen,
										   typcache->typbyval, typcache->typalign));
}

/*
 * The alternatives a refused timeline booking is offered: the nearest free ranges of the same
 * length, before and after, found under the locks the refusal took (same transaction), so that
 * booking one of them at once cannot meet a booking made in between.
 */
Datum
alternatives_for(BookingPair *pair, const AdmitResult *refusal, int32 spots)
{
	TimelineRule rule;
	bool		is_timeline;
	Span		found[ALTERNATIVES_MAX];
	int			n = 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (timeline_lock_resource(pair, refusal->resource_id, &is_timeline, &rule) && is_timeline)
		n = timeline_alternatives(pair, refusal->resource_id, &rule, refusal->wanted, spots, 0,
								  ALTERNATIVES_REACH, ALTERNATIVES_MAX, found);
	SPI_finish();
	return spans_to_array(found, n);
}

/*
 * The parts of a book_slot() result that say how the admission went, for the extension's own
 * tables and a managed pair alike: ok, the resource (when its key is an integer), the spots, the
 * spots left, and for a refusal its reason and (a timeline conflict, unless the request now
 * waits) the alternatives; the call's range.  Every other column is left NULL for the caller.
 */
void
result_outcome(FunctionCallInfo fcinfo, BookingPair *pair, const SoftAdmission *soft,
			   bool inserted, bool waiting, bool has_resource_id, int64 resource_id, int32 spots,
			   Datum *values, bool *isnull)
{
	memset(isnull, true, sizeof(bool) * RESULT_NATTS);
	values[RESULT_OK] = BoolGetDatum(inserted);
	isnull[RESULT_OK] = false;
	if (has_resource_id)
	{
		values[RESULT_RESOURCE_ID] = Int64GetDatum(resource_id);
		isnull[RESULT_RESOURCE_ID] = false;
	}
	values[RESULT_SPOTS] = Int32GetDatum(spots);
	isnull[RESULT_SPOTS] = false;
	values[RESULT_AVAILABLE] = Int32GetDatum(Max(soft->result.capacity - soft->result.reserved, 0));
	isnull[RESULT_AVAILABLE] = false;
	if (!inserted)
	{
		values[RESULT_REASON] = CStringGetTextDatum(refusal_reason(&soft->result));
		isnull[RESULT_REASON] = false;
	}
	if (!PG_ARGISNULL(2))
	{
		values[RESULT_DURING] = PG_GETARG_DATUM(2);
		isnull[RESULT_DURING] = false;
	}
	if (!inserted && !waiting && soft->result.outcome == ADMIT_CONFLICT)
	{
		values[RESULT_ALTERNATIVES] = alternatives_for(pair, &soft->result, spots);
		isnull[RESULT_ALTERNATIVES] = false;
	}
}

/*
 * Runs book_slot()'s INSERT with the hand-over armed, so that the trigger reports a refusal
 * instead of raising it.  Disarms whatever happens.
 */
int
insert_softly(BookingPair *pair, SoftAdmission *soft, SPIPlanPtr plan, Datum *args, char *nulls)
{
	engine_soft_arm(soft, pair->child_relid);
	return insert_armed(plan, args, nulls);
}

/* The same for book_many()'s INSERT of a group's rows, at most nrows of them. */
int
insert_group_softly(BookingPair *pair, SoftAdmission *soft, int64 group_id, int nrows,
					SPIPlanPtr plan, Datum *args, char *nulls)
{
	engine_soft_arm_group(soft, pair->child_relid, group_id, nrows);
	return insert_armed(plan, args, nulls);
}

/*
 * book_slot()'s new row straight through the table AM (direct.c) with the hand-over armed, as
 * insert_softly() runs the statement.  Returns false, having done nothing, where the statement
 * must run instead.
 */
static bool
insert_directly(BookingPair *pair, SoftAdmission *soft, const DirectBooking *row,
				bool *inserted, int64 *booking_id, Datum *status)
{
	volatile bool done = false;

	if (soft != NULL)
	{
		engine_soft_arm(soft, pair->child_relid);
		soft->hold = row->hold;
	}
	PG_TRY();
	{
		done = direct_insert_booking(pair, row, inserted, booking_id, status);
	}
	PG_CATCH();
	{
		if (soft != NULL)
			engine_soft_disarm();
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (soft != NULL)
		engine_soft_disarm();
	return done;
}

static int
insert_armed(SPIPlanPtr plan, Datum *args, char *nulls)
{
	volatile int ret = 0;

	PG_TRY();
	{
		ret = SPI_execute_plan(plan, args, nulls, false, 0);
	}
	PG_CATCH();
	{
		engine_soft_disarm();
		PG_RE_THROW();
	}
	PG_END_TRY();
	engine_soft_disarm();
	return ret;
}

/*
 * Idempotency: one (holder, idempotency_key) is one booking.  A retry takes the key's lock (in
 * the extension's key space, so two concurrent retries of one key run one after the other),
 * then looks for the booking the key already made, reading the rows as of now so that a retry
 * that waited sees the booking its twin just committed.  When there is one:
 *	- the same request (resource, spots and range) returns that booking as it stands now, ok,
 *	  without booking again; a booking still held gets a new hold token (the engine never keeps
 *	  tokens, and the first answer may be what was lost), which replaces the old one;
 *	- another request under the same key is 22023.
 * A refused request made no booking, so its retry asks again.  Returns whether it replayed, with
 * the result row in *result.  The caller is connected to SPI.
 */
static SPIPlanPtr replay_plan = NULL;
static SPIPlanPtr rotate_plan = NULL;

/* A tstzrange as text, for messages. */
static char *
range_text(Datum range)
{
	Oid			typoutput;
	bool		varlena;

	getTypeOutputInfo(TSTZRANGEOID, &typoutput, &varlena);
	return OidOutputFunctionCall(typoutput, range);
}

static bool
idempotent_replay(FunctionCallInfo fcinfo, TupleDesc tupdesc, const char *holder, Datum *result)
{
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(6));
	int64		resource_id = PG_GETARG_INT64(0);
	int32		spots = PG_GETARG_INT32(1);
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	HeapTuple	tup;
	TupleDesc	desc;
	bool		n;
	bool		during_null;
	Datum		during;
	int64		booking_id;
	int64		was_resource;
	int32		was_spots;
	bool		same;
	Datum		values[RESULT_NATTS];
	bool		isnull[RESULT_NATTS];
	AttemptRecord rec;
	int			ret;

	lock_idempotency_key(holder, key);
	kept_plan(&replay_plan,
			  "SELECT id, resource_id, spots, during, status, expires_at"
			  " FROM " BOOKING_SCHEMA ".booking WHERE holder = $1 AND idempotency_key = $2"
			  " FOR UPDATE",
			  2, types);
	args[0] = CStringGetTextDatum(holder);
	args[1] = CStringGetTextDatum(key);
	ret = spi_execute_as(pair_by_id(BOOKING_OWN_PAIR)->child_owner, replay_plan, args, NULL, true,
						 false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "looking up the idempotency key failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;

	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	booking_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &n));
	was_resource = DatumGetInt64(SPI_getbinval(tup, desc, 2, &n));
	was_spots = DatumGetInt32(SPI_getbinval(tup, desc, 3, &n));
	during = SPI_getbinval(tup, desc, 4, &during_null);
	same = was_resource == resource_id && was_spots == spots && during_null == PG_ARGISNULL(2) &&
		(during_null ||
		 range_eq_internal(lookup_type_cache(TSTZRANGEOID, TYPECACHE_RANGE_INFO),
						   DatumGetRangeTypeP(during), DatumGetRangeTypeP(PG_GETARG_DATUM(2))));
	if (!same)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("idempotency key \"%s\" of holder \"%s\" was used for another request",
						key, holder),
				 errdetail("It made booking %lld: %d spots on resource %lld%s%s.",
						   (long long) booking_id, was_spots, (long long) was_resource,
						   during_null ? "" : " over ",
						   during_null ? "" : range_text(during)),
				 errhint("Use a new key for a new request.")));

	memset(isnull, true, sizeof(isnull));
	values[RESULT_OK] = BoolGetDatum(true);
	isnull[RESULT_OK] = false;
	values[RESULT_BOOKING_ID] = Int64GetDatum(booking_id);
	values[RESULT_STATUS] = SPI_getbinval(tup, desc, 5, &isnull[RESULT_STATUS]);
	/* ok as the first answer was: a waiting row was not a booking */
	if (!isnull[RESULT_STATUS] &&
		pair_state(pair_by_id(BOOKING_OWN_PAIR), values[RESULT_STATUS], false) == STATE_WAITLISTED)
		values[RESULT_OK] = BoolGetDatum(false);
	isnull[RESULT_BOOKING_ID] = false;
	values[RESULT_RESOURCE_ID] = Int64GetDatum(resource_id);
	isnull[RESULT_RESOURCE_ID] = false;
	values[RESULT_SPOTS] = Int32GetDatum(spots);
	isnull[RESULT_SPOTS] = false;
	if (!during_null)
	{
		values[RESULT_DURING] = PG_GETARG_DATUM(2);
		isnull[RESULT_DURING] = false;
	}
	values[RESULT_EXPIRES_AT] = SPI_getbinval(tup, desc, 6, &isnull[RESULT_EXPIRES_AT]);

	memset(&rec, 0, sizeof(rec));
	rec.status = values[RESULT_STATUS];
	rec.status_null = isnull[RESULT_STATUS];
	if (!isnull[RESULT_STATUS] &&
		pair_state(pair_by_id(BOOKING_OWN_PAIR), values[RESULT_STATUS], false) == STATE_HELD)
	{
		Oid			rtypes[2] = {INT8OID, BYTEAOID};
		Datum		rargs[2];

		kept_plan(&rotate_plan,
				  "UPDATE " BOOKING_SCHEMA ".booking SET hold_token_digest = $2,"
				  " updated_at = pg_catalog.now() WHERE id = $1",
				  2, rtypes);
		values[RESULT_HOLD_TOKEN] = hold_token_new(&rargs[1]);
		isnull[RESULT_HOLD_TOKEN] = false;
		rargs[0] = Int64GetDatum(booking_id);
		ret = spi_execute_as(pair_by_id(BOOKING_OWN_PAIR)->child_owner, rotate_plan, rargs, NULL,
							 true, false, 0);
		if (ret != SPI_OK_UPDATE || SPI_processed != 1)
			elog(ERROR, "renewing the hold token failed: %s", SPI_result_code_string(ret));
	}
	*result = HeapTupleGetDatum(heap_form_tuple(tupdesc, values, isnull));

	rec.action = "replay";
	rec.holder = holder;
	rec.resource_id = resource_id;
	rec.spots = spots;
	rec.during = during;
	rec.during_null = during_null;
	rec.ok = DatumGetBool(values[RESULT_OK]);
	rec.booking_id = booking_id;
	rec.idempotency_key = key;
	audit_attempt(&rec);
	return true;
}

/*
 * Whether a refused request may wait: the call's waitlist argument, or else the resource's
 * waitlist setting; never for more spots than the resource has at all, which no cancellation
 * could ever free.  The caller is connected to SPI.
 */
static bool
may_wait(FunctionCallInfo fcinfo, int64 resource_id, int32 spots)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(resource_id)};
	bool		isnull;
	Datum		d;
	int			ret;

	if (!PG_ARGISNULL(5) && !PG_GETARG_BOOL(5))
		return false;
	kept_plan(&waitlist_setting_plan,
			  "SELECT waitlist, capacity FROM " BOOKING_SCHEMA ".resource WHERE id = $1", 1, types);
	ret = spi_execute_as(pair_by_id(BOOKING_OWN_PAIR)->parent_owner, waitlist_setting_plan, args,
						 NULL, false, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the resource failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (isnull || spots > DatumGetInt32(d))
		return false;
	if (!PG_ARGISNULL(5))
		return true;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull && DatumGetBool(d);
}

/*
 * book_slot(resource_id, spots, during, holder, hold, waitlist, idempotency_key, meta)
 *
 * Books spots on a resource and returns one booking.result row.  The row is written by an
 * INSERT into booking.booking whose trigger admits it (see engine.c); a refusal comes back
 * through the SoftAdmission as ok = false with the reason.  With hold, the row is held until
 * now() + hold, and the result carries its expires_at and the hold token (holds.c).  Every call
 * that gets that far writes a booking.attempt row.
 */
Datum
booking_book_slot(PG_FUNCTION_ARGS)
{
	BookingPair *pair;
	int64		resource_id;
	int32		spots;
	char	   *holder;
	SoftAdmission soft;
	Datum		args[8];
	char		nulls[8];
	SPIPlanPtr	plan;
	Datum		expires_at = (Datum) 0;
	Datum		hold_token = (Datum) 0;
	int			ret;
	bool		inserted;
	bool		waiting = false;
	int32		position = 0;
	int64		booking_id = 0;
	Datum		status = (Datum) 0;
	AttemptRecord rec;
	TupleDesc	tupdesc;
	Datum		values[RESULT_NATTS];
	bool		isnull[RESULT_NATTS];
	DirectBooking row;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	/* an application's tables put under the engine by manage() */
	if (PG_NARGS() > 8 && !PG_ARGISNULL(8))
		PG_RETURN_DATUM(book_slot_managed(fcinfo, tupdesc));
	if (PG_NARGS() > 9 && !PG_ARGISNULL(9))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("resource_key needs managed"),
				 errdetail("The extension's own resources are named by resource_id.")));

	require_arg(fcinfo, 0, "resource_id");
	resource_id = PG_GETARG_INT64(0);
	spots = spots_arg(fcinfo, 1);
	memset(args, 0, sizeof(args));
	holder = holder_arg(fcinfo, 3);

	pair = pair_by_id(BOOKING_OWN_PAIR);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* a retry of a request already made: its booking, once */
	if (!PG_ARGISNULL(6))
	{
		Datum		replayed;

		if (idempotent_replay(fcinfo, tupdesc, holder, &replayed))
		{
			SPI_finish();
			PG_RETURN_DATUM(replayed);
		}
	}

	memset(nulls, ' ', sizeof(nulls));
	if (PG_ARGISNULL(4))
	{
		Oid			types[6] = {INT8OID, TEXTOID, INT4OID, TSTZRANGEOID, JSONBOID, TEXTOID};

		plan = kept_plan(&insert_plan,
						 "INSERT INTO " BOOKING_SCHEMA ".booking (resource_id, holder, spots, during, meta,"
						 " idempotency_key)"
						 " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, status",
						 6, types);
	}
	else
	{
		/* a hold: its length checked against the resource's max_hold, a token made for it */
		Oid			types[8] = {INT8OID, TEXTOID, INT4OID, TSTZRANGEOID, JSONBOID, TEXTOID,
			TIMESTAMPTZOID, BYTEAOID};

		plan = kept_plan(&insert_hold_plan,
						 "INSERT INTO " BOOKING_SCHEMA ".booking (resource_id, holder, spots, during, meta,"
						 " idempotency_key, status, expires_at, hold_token_digest)"
						 " VALUES ($1, $2, $3, $4, $5, $6, 'held', $7, $8) RETURNING id, status",
						 8, types);
		expires_at = hold_expiry(PG_GETARG_DATUM(4));
		hold_token = hold_token_new(&args[7]);
		args[6] = expires_at;
	}
	args[5] = PG_ARGISNULL(6) ? (Datum) 0 : PG_GETARG_DATUM(6);
	nulls[5] = PG_ARGISNULL(6) ? 'n' : ' ';
	args[0] = Int64GetDatum(resource_id);
	args[1] = CStringGetTextDatum(holder);
	args[2] = Int32GetDatum(spots);
	args[3] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	nulls[3] = PG_ARGISNULL(2) ? 'n' : ' ';
	args[4] = PG_ARGISNULL(7) ? (Datum) 0 : PG_GETARG_DATUM(7);
	nulls[4] = PG_ARGISNULL(7) ? 'n' : ' ';

	row.resource_id = resource_id;
	row.holder = holder;
	row.spots = spots;
	row.during = args[3];
	row.during_null = nulls[3] == 'n';
	row.state = PG_ARGISNULL(4) ? STATE_CONFIRMED : STATE_HELD;
	row.expires_at = args[6];
	row.token_digest = args[7];
	row.idempotency_key = args[5];
	row.idempotency_key_null = nulls[5] == 'n';
	row.meta = args[4];
	row.meta_null = nulls[4] == 'n';
	row.group_id = 0;
	row.hold = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
	if (!insert_directly(pair, &soft, &row, &inserted, &booking_id, &status))
	{
		ret = insert_softly(pair, &soft, plan, args, nulls);
		if (ret != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "inserting the booking failed: %s", SPI_result_code_string(ret));

		inserted = SPI_processed == 1;
		if (inserted)
		{
			bool		n;

			booking_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc, 1, &n));
			status = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &n);
		}
	}
	if (!inserted && !soft.refused)
		elog(ERROR, "the booking row was skipped by another trigger on %s", pair->child_sql);
	/* a hold's length, where the admission did not judge it: an error before any refusal */
	if (!PG_ARGISNULL(4) && !(inserted && soft.holds_judged == 1))
		hold_check_length(&resource_id, 1, PG_GETARG_DATUM(4));

	/*
	 * No room: the request waits, where the call or else the resource says it may; not for more
	 * spots than the resource has at all, which no cancellation could ever free.
	 */
	if (!inserted && (soft.result.outcome == ADMIT_FULL || soft.result.outcome == ADMIT_CONFLICT ||
					  soft.result.outcome == ADMIT_QUEUED) &&
		may_wait(fcinfo, resource_id, spots))
	{
		Oid			types[6] = {INT8OID, TEXTOID, INT4OID, TSTZRANGEOID, JSONBOID, TEXTOID};
		bool		n;

		kept_plan(&insert_waiting_plan,
				  "INSERT INTO " BOOKING_SCHEMA ".booking (resource_id, holder, spots, during, meta,"
				  " idempotency_key, status)"
				  " VALUES ($1, $2, $3, $4, $5, $6, 'waitlisted') RETURNING id, status",
				  6, types);
		row.state = STATE_WAITLISTED;
		if (!insert_directly(pair, NULL, &row, &n, &booking_id, &status))
		{
			ret = SPI_execute_plan(insert_waiting_plan, args, nulls, false, 0);
			if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
				elog(ERROR, "writing the waiting row failed: %s", SPI_result_code_string(ret));
			booking_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc, 1, &n));
			status = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &n);
		}
		else if (!n)
			elog(ERROR, "the waiting row was skipped by another trigger on %s", pair->child_sql);
		waiting = true;
		position = waitlist_position(pair, resource_id, booking_id);
	}
	SPI_finish();

	memset(&rec, 0, sizeof(rec));
	rec.action = "book";
	rec.holder = holder;
	rec.resource_id = resource_id;
	rec.spots = spots;
	rec.during = args[3];
	rec.during_null = PG_ARGISNULL(2);
	rec.ok = inserted;
	rec.reason = inserted ? NULL : refusal_reason(&soft.result);
	rec.booking_id = booking_id;
	rec.status = status;
	rec.status_null = !inserted && !waiting;
	rec.idempotency_key = PG_ARGISNULL(6) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(6));
	audit_attempt(&rec);

	result_outcome(fcinfo, pair, &soft, inserted, waiting, true, resource_id, spots, values, isnull);
	if (inserted)
	{
		values[RESULT_BOOKING_ID] = Int64GetDatum(booking_id);
		isnull[RESULT_BOOKING_ID] = false;
		values[RESULT_STATUS] = status;
		isnull[RESULT_STATUS] = false;
		if (hold_token != (Datum) 0)
		{
			values[RESULT_EXPIRES_AT] = expires_at;
			isnull[RESULT_EXPIRES_AT] = false;
			values[RESULT_HOLD_TOKEN] = hold_token;
			isnull[RESULT_HOLD_TOKEN] = false;
		}
	}
	if (waiting)
	{
		values[RESULT_BOOKING_ID] = Int64GetDatum(booking_id);
		isnull[RESULT_BOOKING_ID] = false;
		values[RESULT_STATUS] = status;
		isnull[RESULT_STATUS] = false;
		values[RESULT_WAITLIST_POSITION] = Int32GetDatum(position);
		isnull[RESULT_WAITLIST_POSITION] = false;
	}

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, isnull)));
}

/*
 * cancel(booking_id, reason, whole_group) returns setof booking.booking
 *
 * Marks the booking cancelled with an UPDATE whose trigger gives its spots back and records the
 * change in booking.attempt; refuses a booking already cancelled, expired or completed (55000).
 * With whole_group, every row of the booking's group (book_many()) that is still live is
 * cancelled in the same UPDATE, its resources locked first in ascending id order.  Returns the
 * cancelled rows.
 */
#define CANCEL_SET \
	"UPDATE " BOOKING_SCHEMA ".booking" \
	" SET status = 'cancelled', updated_at = pg_catalog.now()," \
	"     meta = CASE WHEN $2 IS NULL THEN meta ELSE" \
	"            COALESCE(meta, '{}'::pg_catalog.jsonb)" \
	"            || pg_catalog.jsonb_build_object('cancel_reason', $2) END" \
	" WHERE status IN ('held', 'pending', 'confirmed', 'waitlisted') AND "

static SPIPlanPtr cancel_group_plan = NULL;

/* Whether a status is live: what CANCEL_SET's WHERE lets through. */
static bool
status_is_live(BookingPair *pair, Datum status, bool isnull)
{
	BookingState state = pair_state(pair, status, isnull);

	return state == STATE_HELD || state == STATE_PENDING || state == STATE_CONFIRMED ||
		state == STATE_WAITLISTED;
}

/* DirectChange.judge of an unlocked cancel of one row: 55000 naming a status that is over. */
static void
judge_live(BookingPair *pair, HeapTuple tuple, TupleDesc desc, void *arg)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, BOOKING_COL_STATUS, desc, &isnull);

	if (!status_is_live(pair, d, isnull))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("booking %lld cannot be cancelled", (long long) *(int64 *) arg),
				 errdetail("Its status is %s.", direct_state_name(pair, d, isnull))));
}

/*
 * cancel() with no reason, of pool rows, without locking them first (DirectChange.unlocked): the
 * booking, or with whole_group its group's live rows in ascending resource order, each cancelled
 * under its update's lock, then given back under its resource's lock.  Returns false, having
 * changed nothing, where the locked way must run: the snapshot sees the booking with a range
 * (or a group with one), no live row, or the statement is needed.
 */
static bool
cancel_unlocked(BookingPair *pair, int64 booking_id, bool whole_group, Tuplestorestate *store)
{
	bool		done;
	HeapTuple	seen;
	Relation	rel;
	bool		no_range;
	bool		ranged = false;
	bool		no_group;
	DirectChange change = {.state = STATE_CANCELLED, .only_from = status_is_live,
	.unlocked = true};
	int64	   *ids = &booking_id;
	int64	   *resources;
	HeapTuple  *group_tuples;
	int			n = 1;
	int			ngroup = 0;
	int			updated;

	/* the booking, and with whole_group its group's live rows, as one snapshot sees them */
	if (whole_group)
		ngroup = direct_member_group_rows(pair, booking_id, status_is_live, &seen, &ids,
										  &resources, &group_tuples, &ranged, &done);
	else
		seen = direct_read_booking(pair, booking_id, &done);
	if (!done || seen == NULL)
		return false;
	rel = table_open(pair->child_relid, NoLock);
	(void) heap_getattr(seen, BOOKING_COL_DURING, RelationGetDescr(rel), &no_range);
	(void) heap_getattr(seen, BOOKING_COL_GROUP, RelationGetDescr(rel), &no_group);
	table_close(rel, NoLock);
	if (!no_range)
		return false;
	if (whole_group && !no_group)
	{
		if (ranged || ngroup == 0)
			return false;
		n = ngroup;
		change.seen = group_tuples;
	}
	else
	{
		/* one row: judged at each version read, as the statement's WHERE and its report */
		ids = &booking_id;
		n = 1;
		change.seen = &seen;
		change.must_id = booking_id;
		change.judge = judge_live;
		change.judge_arg = &booking_id;
	}
	return direct_update_bookings(pair, ids, n, &change, store, &updated) && updated > 0;
}

Datum
booking_cancel(PG_FUNCTION_ARGS)
{
	int64		booking_id;
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	int			ret;
	Tuplestorestate *store;
	char	   *current;
	bool		whole_group = PG_NARGS() > 2 && !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	SPIPlanPtr	plan;
	uint64		i;

	booking_id = booking_call_begin(fcinfo, &store);
	{
		Oid			types[1] = {INT8OID};

		kept_plan(&lock_booking_plan,
				  "SELECT status::pg_catalog.text FROM " BOOKING_SCHEMA ".booking WHERE id = $1",
				  1, types);
	}
	{
		Oid			types[2] = {INT8OID, TEXTOID};

		kept_plan(&cancel_plan, CANCEL_SET "id = $1 RETURNING *", 2, types);
		kept_plan(&cancel_group_plan, CANCEL_SET "group_id = $1 RETURNING *", 2, types);
	}

	args[0] = Int64GetDatum(booking_id);
	if (PG_ARGISNULL(1))
		nulls[1] = 'n';
	else
		args[1] = PG_GETARG_DATUM(1);
	plan = cancel_plan;
	if (PG_ARGISNULL(1) &&
		cancel_unlocked(pair_by_id(BOOKING_OWN_PAIR), booking_id, whole_group, store))
	{
		SPI_finish();
		return (Datum) 0;
	}
	if (whole_group)
	{
		int64		group = 0;
		int64	   *resources;
		int64	   *rows;
		int			nrows;

		/* the booking's group, its live rows locked: none for a booking of no group */
		nrows = lock_group_rows(&group, booking_id, true, &resources, &rows);
		if (nrows > 0)
		{
			DirectChange change = {.state = STATE_CANCELLED, .only_from = status_is_live};
			int			updated;

			/* the rows are locked: straight through the table AM where nothing needs the statement */
			if (PG_ARGISNULL(1) &&
				direct_update_bookings(pair_by_id(BOOKING_OWN_PAIR), rows, nrows, &change, store,
									   &updated) && updated > 0)
			{
				SPI_finish();
				return (Datum) 0;
			}
			/* the statement cancels the rows in any order: their locks first, ascending */
			lock_resources(pair_by_id(BOOKING_OWN_PAIR), resources, nrows);
			plan = cancel_group_plan;
			args[0] = Int64GetDatum(group);
		}
	}

	/*
	 * One row, no reason: its lock (FOR NO KEY UPDATE, as the UPDATE's) and the change straight
	 * through the table AM where nothing needs the statements (direct.c).  The lock judges the
	 * row's newest version at READ COMMITTED, as the UPDATE does.
	 */
	if (plan == cancel_plan && PG_ARGISNULL(1))
	{
		BookingPair *pair = pair_by_id(BOOKING_OWN_PAIR);
		bool		done;
		HeapTuple	locked = direct_lock_booking(pair, booking_id, LockTupleNoKeyExclusive, &done);

		if (done)
		{
			Relation	rel = table_open(pair->child_relid, NoLock);
			bool		isnull;
			Datum		d;
			DirectChange change = {.state = STATE_CANCELLED, .only_from = status_is_live};
			int			updated;

			if (locked == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_NO_DATA_FOUND),
						 errmsg("booking %lld does not exist", (long long) booking_id)));
			d = heap_getattr(locked, BOOKING_COL_STATUS, RelationGetDescr(rel), &isnull);
			table_close(rel, NoLock);
			if (!status_is_live(pair, d, isnull))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("booking %lld cannot be cancelled", (long long) booking_id),
						 errdetail("Its status is %s.", direct_state_name(pair, d, isnull))));
			if (direct_update_bookings(pair, &booking_id, 1, &change, store, &updated) &&
				updated == 1)
			{
				SPI_finish();
				return (Datum) 0;
			}
		}
	}

	/*
	 * One statement: the UPDATE locks the row and, at READ COMMITTED, judges its newest
	 * version, so a cancellation racing another finds the row already cancelled.  Only when it
	 * changed nothing does a look at the row say why.
	 */
	ret = SPI_execute_plan(plan, args, nulls, false, 0);
	if (ret != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "cancelling the booking failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		HeapTuple	row = booking_row(lock_booking_plan, booking_id);

		current = SPI_getvalue(row, SPI_tuptable->tupdesc, 1);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("booking %lld cannot be cancelled", (long long) booking_id),
				 errdetail("Its status is %s.", current)));
	}
	for (i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(store, SPI_tuptable->vals[i]);

	SPI_finish();
	return (Datum) 0;
}

/*
 * availability(resource_id, during) returns integer
 *
 * Spots still free on a pool resource, as the caller's snapshot sees them.  Takes no lock: the
 * answer is advice, book_slot() is the decision.
 */
Datum
booking_availability(PG_FUNCTION_ARGS)
{
	BookingPair *pair;
	int64		resource_id;
	Datum		args[1];
	int			ret;
	int32		capacity;
	int32		reserved;
	bool		n;

	require_arg(fcinfo, 0, "resource_id");
	resource_id = PG_GETARG_INT64(0);

	pair = pair_by_id(BOOKING_OWN_PAIR);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	{
		bool		is_timeline;
		TimelineRule rule;
		TimelinePeak peak;
		Span		span;
		const char *why;

		if (!timeline_read_resource(pair, resource_id, &is_timeline, &rule))
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("resource %lld does not exist", (long long) resource_id)));
		if (is_timeline)
		{
			/* the least free over the range: capacity less the peak a booking there would meet */
			if (PG_ARGISNULL(1))
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("availability of timeline resource %lld needs a time range",
								(long long) resource_id)));
			if (!span_from_range(PG_GETARG_DATUM(1), &span, &why))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("a time range must be bounded and not empty"),
						 errdetail("The range given cannot be booked: %s.", why)));
			timeline_peak(pair, resource_id, &rule, widen(span, &rule), 0, false, &peak);
			SPI_finish();
			PG_RETURN_INT32(Max(rule.capacity - peak.load, 0));
		}
		if (!PG_ARGISNULL(1))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("availability of a pool resource takes no time range"),
					 errdetail("Pool resources have one capacity for the whole resource.")));
	}
	args[0] = Int64GetDatum(resource_id);
	ret = SPI_execute_plan(pair_plan(pair, PLAN_PEEK), args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the resource failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("resource %lld does not exist", (long long) resource_id)));
	capacity = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n));
	reserved = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &n));
	SPI_finish();

	PG_RETURN_INT32(Max(capacity - reserved, 0));
}

/*
 * The pair's verify statement (every parent whose counter differs from its rows or exceeds its
 * capacity), rows in SPI_tuptable; read-only for verify(), not for repair(), which then locks
 * what it found.  The caller is connected to SPI.
 */
static void
run_verify_plan(BookingPair *pair, bool read_only)
{
	int			ret = SPI_execute_plan(pair_plan(pair, PLAN_VERIFY), NULL, NULL, read_only, 0);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "verifying pair %d failed: %s", pair->id, SPI_result_code_string(ret));
}

/* verify() (and manage()) and repair() rows: the resource's key is the last column of each */
#define VERIFY_COLUMNS 7
#define REPAIR_COLUMNS 5

/*
 * Puts a resource in a verify() or repair() row: an integer key in resource_id (column idcol),
 * any other key as text in resource_key (column keycol), the other NULL.
 */
static void
put_resource(BookingPair *pair, int64 resource_id, bool resource_null, Datum *values,
			 bool *nulls, int idcol, int keycol)
{
	bool		integer = pair_key_is_integer(pair->parent_key_type);

	nulls[idcol] = resource_null || !integer;
	nulls[keycol] = resource_null || integer;
	if (resource_null)
		return;
	if (integer)
		values[idcol] = Int64GetDatum(resource_id);
	else
		values[keycol] = CStringGetTextDatum(pair_resource_text(pair, resource_id));
}

/*
 * A verify() row for a problem that is no counter's: the pair, the resource (NULL when the row
 * names none), how many entries differ when counted is given, and the problem; capacity and
 * spots_reserved NULL.
 */
static void
put_problem(Tuplestorestate *store, TupleDesc desc, BookingPair *pair, int64 resource_id,
			bool resource_null, Datum counted, bool counted_null, const char *problem)
{
	Datum		values[VERIFY_COLUMNS];
	bool		nulls[VERIFY_COLUMNS] = {false, false, true, true, false, false, true};

	values[0] = Int32GetDatum(pair->id);
	put_resource(pair, resource_id, resource_null, values, nulls, 1, VERIFY_COLUMNS - 1);
	values[4] = counted;
	nulls[4] = counted_null;
	values[5] = CStringGetTextDatum(problem);
	tuplestore_putvalues(store, desc, values, nulls);
}

/* A repair() row for a resource set right beyond its counter: old and new reserved NULL. */
static void
put_repaired(Tuplestorestate *store, TupleDesc desc, BookingPair *pair, int64 resource_id)
{
	Datum		values[REPAIR_COLUMNS];
	bool		nulls[REPAIR_COLUMNS] = {false, false, true, true, true};

	values[0] = Int32GetDatum(pair->id);
	put_resource(pair, resource_id, false, values, nulls, 1, REPAIR_COLUMNS - 1);
	tuplestore_putvalues(store, desc, values, nulls);
}

/*
 * Adds a verify() row for every timeline resource of the pair whose consuming rows and blocks,
 * widened by its buffers, exceed its capacity at some instant: counted is the peak load, the
 * problem names the first instant.  The caller is connected to SPI.
 */
static void
verify_timelines(BookingPair *pair, Tuplestorestate *store, TupleDesc desc)
{
	int			ret;
	uint64		r;
	uint64		n;
	int64	   *ids;
	TimelineRule *rules;
	int32	   *counters;
	Span		all;

	ret = SPI_execute_plan(pair_plan(pair, PLAN_TIMELINE_LIST), NULL, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "listing timeline resources failed: %s", SPI_result_code_string(ret));
	n = SPI_processed;
	ids = palloc(sizeof(int64) * Max(n, 1));
	rules = palloc(sizeof(TimelineRule) * Max(n, 1));
	counters = palloc(sizeof(int32) * Max(n, 1));
	for (r = 0; r < n; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;

		ids[r] = pair_selected_key(SPI_getbinval(tup, td, 1, &isnull), pair->parent_key_type);
		d = SPI_getbinval(tup, td, 2, &isnull);
		rules[r].capacity = isnull ? 0 : DatumGetInt32(d);
		d = SPI_getbinval(tup, td, 3, &isnull);
		rules[r].before = isnull ? 0 : Max(buffer_usecs(d), 0);
		d = SPI_getbinval(tup, td, 4, &isnull);
		rules[r].after = isnull ? 0 : Max(buffer_usecs(d), 0);
		d = SPI_getbinval(tup, td, 5, &isnull);
		counters[r] = isnull ? 0 : DatumGetInt32(d);
		/* every row, whatever the bounds say (they are checked apart) */
		rules[r].longest_booking = TIMELINE_NO_BOUND;
		rules[r].longest_block = TIMELINE_NO_BOUND;
	}

	all.lo = MIN_TIMESTAMP + USECS_PER_DAY * 366;
	all.hi = END_TIMESTAMP - USECS_PER_DAY * 366;
	for (r = 0; r < n; r++)
	{
		TimelinePeak peak;

		timeline_peak(pair, ids[r], &rules[r], all, 0, false, &peak);
		if (peak.load > rules[r].capacity)
		{
			Datum		values[VERIFY_COLUMNS];
			bool		nulls[VERIFY_COLUMNS] = {false, false, false, false, false, false, false};

			values[0] = Int32GetDatum(pair->id);
			put_resource(pair, ids[r], false, values, nulls, 1, VERIFY_COLUMNS - 1);
			values[2] = Int32GetDatum(rules[r].capacity);
			values[3] = Int32GetDatum(counters[r]);
			values[4] = Int32GetDatum(peak.load);
			values[5] = CStringGetTextDatum(psprintf("over capacity at %s",
													 timestamptz_to_str(peak.at)));
			tuplestore_putvalues(store, desc, values, nulls);
		}
	}
}

/*
 * Adds to store a verify() row for every problem of one pair (see verify() below).  The caller
 * is connected to SPI.
 */
void
verify_pair(BookingPair *pair, Tuplestorestate *store, TupleDesc desc)
{
	uint64		r;
	uint64		nqueue;
	int			ret;

	run_verify_plan(pair, true);
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	td = SPI_tuptable->tupdesc;
		Datum		values[VERIFY_COLUMNS];
		bool		nulls[VERIFY_COLUMNS] = {false, false, false, false, false, false, false};
		bool		counter_null;
		bool		n;
		int32		counter;
		int32		counted;
		Datum		key = SPI_getbinval(tup, td, 1, &n);

		values[0] = Int32GetDatum(pair->id);
		put_resource(pair, pair_selected_key(key, pair->parent_key_type), false, values, nulls, 1,
					 VERIFY_COLUMNS - 1);
		values[2] = SPI_getbinval(tup, td, 2, &nulls[2]);
		values[3] = SPI_getbinval(tup, td, 3, &counter_null);
		nulls[3] = counter_null;
		values[4] = SPI_getbinval(tup, td, 4, &n);
		counter = counter_null ? -1 : DatumGetInt32(values[3]);
		counted = DatumGetInt32(values[4]);
		values[5] = CStringGetTextDatum(counter_null || counter != counted
										? "counter differs from rows"
										: "reserved exceeds capacity");
		tuplestore_putvalues(store, desc, values, nulls);
	}

	/* timeline resources: capacity at every instant, from the rows alone */
	if (pair->timeline_sql != NULL && pair->during_sql != NULL)
		verify_timelines(pair, store, desc);

	/* the bounds the overlap search trusts (timeline.c) */
	if (OidIsValid(pair->slot_index))
	{
		ret = SPI_execute_plan(pair_plan(pair, PLAN_LONGEST), NULL, NULL, true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "verifying range bounds failed: %s", SPI_result_code_string(ret));
		for (r = 0; r < SPI_processed; r++)
		{
			bool		n;
			Datum		resource = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
												 1, &n);

			put_problem(store, desc, pair, DatumGetInt64(resource), n, (Datum) 0, true,
						"range longer than its bound");
		}
	}

	/* the held and waiting rows as booking.queue lists them */
	nqueue = queue_verify(pair);
	for (r = 0; r < nqueue; r++)
	{
		bool		n1;
		bool		n4;
		Datum		resource = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &n1);
		Datum		differ = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &n4);

		put_problem(store, desc, pair, n1 ? 0 : DatumGetInt64(resource), n1, differ, n4,
					"queue differs from rows");
	}
}

/*
 * verify() returns table (pair, resource_id, capacity, spots_reserved, counted, problem)
 *
 * One row per resource, of every pair, whose counter differs from the spots its rows consume or
 * whose reservations exceed its capacity.  Empty when every invariant holds.  Reads one snapshot,
 * in which counters and rows are always consistent with each other, so it may run at any time
 * beside any load.
 */
Datum
booking_verify(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Tuplestorestate *store = begin_materialize(fcinfo, &desc);
	int			npairs = pair_count();
	int			i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (i = 0; i < npairs; i++)
		verify_pair(pair_at(i), store, desc);
	SPI_finish();
	return (Datum) 0;
}

/*
 * repair() returns table (pair, resource_id, old_reserved, new_reserved)
 *
 * Rewrites every counter that differs from its rows.  Each suspect found by the verify query is
 * locked (advisory lock, in ascending id order, then its row) and recounted with a snapshot taken
 * after the locks, so run it at READ COMMITTED; only then is its counter set.
 */
Datum
booking_repair(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Tuplestorestate *store = begin_materialize(fcinfo, &desc);
	int			npairs = pair_count();
	int			i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (i = 0; i < npairs; i++)
	{
		BookingPair *pair = pair_at(i);
		int64	   *suspects;
		uint64		nsuspects;
		uint64		r;
		int			ret;

		run_verify_plan(pair, false);
		nsuspects = SPI_processed;
		suspects = palloc(sizeof(int64) * Max(nsuspects, 1));
		for (r = 0; r < nsuspects; r++)
		{
			bool		n;

			suspects[r] = pair_selected_key(SPI_getbinval(SPI_tuptable->vals[r],
														  SPI_tuptable->tupdesc, 1, &n),
											pair->parent_key_type);
		}
		lock_resources(pair, suspects, (int) nsuspects);

		for (r = 0; r < nsuspects; r++)
		{
			Datum		args[1] = {pair_resource_datum(pair, suspects[r])};
			bool		n;
			bool		old_null;
			int32		old_counter;
			int32		counted;
			bool		is_timeline;

			if (r > 0 && suspects[r] == suspects[r - 1])
				continue;
			/*
			 * The row lock waits out any release in flight (releases take it without the
			 * advisory lock's help); the count that follows gets a snapshot taken after it.
			 */
			ret = SPI_execute_plan(pair_plan(pair, PLAN_PEEK_LOCK), args, NULL, false, 1);
			if (ret != SPI_OK_SELECT || SPI_processed != 1)
				continue;		/* deleted meanwhile */
			old_counter = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 2, &old_null));
			is_timeline = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc, 3, &n)) && !n;
			/* a timeline resource has no counter: it stays at zero */
			counted = 0;
			if (!is_timeline)
			{
				ret = SPI_execute_plan(pair_plan(pair, PLAN_COUNT_ONE), args, NULL, false, 1);
				if (ret != SPI_OK_SELECT || SPI_processed != 1)
					elog(ERROR, "counting rows failed: %s", SPI_result_code_string(ret));
				counted = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 1, &n));
			}
			if (!old_null && old_counter == counted)
				continue;
			engine_set_counter(pair, suspects[r], counted);
			{
				Datum		values[REPAIR_COLUMNS];
				bool		nulls[REPAIR_COLUMNS] = {false, false, old_null, false, false};

				values[0] = Int32GetDatum(pair->id);
				put_resource(pair, suspects[r], false, values, nulls, 1, REPAIR_COLUMNS - 1);
				values[2] = Int32GetDatum(old_counter);
				values[3] = Int32GetDatum(counted);
				tuplestore_putvalues(store, desc, values, nulls);
			}
		}

		/* booking.queue: each resource whose entries differ, rebuilt under its lock */
		if (queue_verify(pair) > 0)
		{
			suspects = spi_int64_column(1, &nsuspects);
			lock_resources(pair, suspects, (int) nsuspects);
			for (r = 0; r < nsuspects; r++)
			{
				queue_rebuild(pair, suspects[r]);
				put_repaired(store, desc, pair, suspects[r]);
			}
		}

		/* range bounds below a row's range: raised under the resource's locks */
		if (OidIsValid(pair->slot_index))
		{
			ret = SPI_execute_plan(pair_plan(pair, PLAN_LONGEST), NULL, NULL, false, 0);
			if (ret != SPI_OK_SELECT)
				elog(ERROR, "verifying range bounds failed: %s", SPI_result_code_string(ret));
			suspects = spi_int64_column(1, &nsuspects);
			lock_resources(pair, suspects, (int) nsuspects);
			/* again, with the locks held: what the rows say now */
			ret = SPI_execute_plan(pair_plan(pair, PLAN_LONGEST), NULL, NULL, false, 0);
			if (ret != SPI_OK_SELECT)
				elog(ERROR, "verifying range bounds failed: %s", SPI_result_code_string(ret));
			nsuspects = SPI_processed;
			{
				SPITupleTable *found = SPI_tuptable;

				for (r = 0; r < nsuspects; r++)
				{
					bool		n;
					int64		id;
					Datum		d;

					id = DatumGetInt64(SPI_getbinval(found->vals[r], found->tupdesc, 1, &n));
					d = SPI_getbinval(found->vals[r], found->tupdesc, 2, &n);
					if (!n)
						engine_raise_bound(pair, id, false, buffer_usecs(d));
					d = SPI_getbinval(found->vals[r], found->tupdesc, 3, &n);
					if (!n)
						engine_raise_bound(pair, id, true, buffer_usecs(d));
					put_repaired(store, desc, pair, id);
				}
			}
		}
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * reset(resource_id) returns bigint
 *
 * Deletes the bookings of one resource, or of every resource when NULL, through the engine's
 * DELETE trigger, and returns how many rows went.  The way to empty booking.booking that
 * TRUNCATE refuses.
 */
Datum
booking_reset(PG_FUNCTION_ARGS)
{
	int			ret;
	uint64		deleted;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (PG_ARGISNULL(0))
	{
		BookingPair *pair = pair_by_id(BOOKING_OWN_PAIR);
		int64	   *ids;
		uint64		r;

		/*
		 * The DELETE visits rows in heap order; take the resources' locks first, in ascending
		 * id order, so that it cannot deadlock with a caller that follows the protocol.
		 */
		ret = SPI_execute("SELECT DISTINCT resource_id FROM " BOOKING_SCHEMA ".booking ORDER BY 1",
						  false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "listing resources failed: %s", SPI_result_code_string(ret));
		ids = spi_int64_column(1, &r);
		lock_resources(pair, ids, (int) r);
		ret = SPI_execute("DELETE FROM " BOOKING_SCHEMA ".booking", false, 0);
	}
	else
	{
		Oid			types[1] = {INT8OID};
		Datum		args[1] = {PG_GETARG_DATUM(0)};

		ret = SPI_execute_with_args("DELETE FROM " BOOKING_SCHEMA ".booking WHERE resource_id = $1",
									1, types, args, NULL, false, 0);
	}
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "deleting bookings failed: %s", SPI_result_code_string(ret));
	deleted = SPI_processed;
	SPI_finish();
	PG_RETURN_INT64((int64) deleted);
}

/*
 * free_slots(resource_id, within, duration, spots, step, max) returns setof tstzrange
 *
 * Free ranges of the given duration for the given spots inside within, starting on a grid of
 * step from its start (default: the duration, back to back), honouring buffers, blocks, notice
 * and horizon, in order, up to max.  Advice for a booking page: no lock is taken, book_slot()
 * decides.
 */
Datum
booking_free_slots(PG_FUNCTION_ARGS)
{
	BookingPair *pair;
	int64		resource_id;
	Span		within;
	int64		length;
	int32		spots;
	int64		step;
	int32		max;
	const char *why;
	TimelineRule rule;
	bool		is_timeline;
	Span	   *found;
	int			n;
	int			i;
	TupleDesc	desc;
	Tuplestorestate *store;

	require_arg(fcinfo, 0, "resource_id");
	require_arg(fcinfo, 1, "within");
	require_arg(fcinfo, 2, "duration");
	resource_id = PG_GETARG_INT64(0);
	if (!span_from_range(PG_GETARG_DATUM(1), &within, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("within must be a bounded, non-empty range"),
				 errdetail("The range given cannot be searched: %s.", why)));
	length = buffer_usecs(PG_GETARG_DATUM(2));
	spots = PG_ARGISNULL(3) ? 1 : PG_GETARG_INT32(3);
	step = PG_ARGISNULL(4) ? length : buffer_usecs(PG_GETARG_DATUM(4));
	max = PG_ARGISNULL(5) ? 100 : PG_GETARG_INT32(5);
	if (length <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("duration must be positive")));
	if (step <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("step must be positive")));
	if (spots <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("spots must be greater than zero"),
				 errdetail("spots is %d.", spots)));
	if (max < 0 || max > 10000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max must be between 0 and 10000"),
				 errdetail("max is %d.", max)));

	store = begin_materialize(fcinfo, &desc);
	pair = pair_by_id(BOOKING_OWN_PAIR);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!timeline_read_resource(pair, resource_id, &is_timeline, &rule))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("resource %lld does not exist", (long long) resource_id)));
	if (!is_timeline)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("free slots are searched on timeline resources only"),
				 errdetail("Resource %lld is a pool resource; see availability().",
						   (long long) resource_id)));
	found = palloc(sizeof(Span) * Max(max, 1));
	n = timeline_free_slots(pair, resource_id, &rule, within, length, spots, step, max, found);
	SPI_finish();

	{
		TypeCacheEntry *typcache = lookup_type_cache(TSTZRANGEOID, TYPECACHE_RANGE_INFO);

		for (i = 0; i < n; i++)
		{
			Datum		value = span_datum(typcache, found[i]);
			bool		null = false;

			tuplestore_putvalues(store, desc, &value, &null);
		}
	}
	return (Datum) 0;
}
