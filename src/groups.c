/*
 * groups.c
 *		Several resources at once, all or nothing: book_many(), for seats side by side.
 *
 * book_many() takes the advisory locks of every resource first, in ascending id order, so that
 * two groups that share seats always meet in the same order and never deadlock.  Then, inside
 * a subtransaction, it writes one row per resource, in that order, each through the same INSERT
 * and the same trigger as book_slot() (the SoftAdmission hand-over turns a refusal into a
 * skipped row).  The first refusal rolls the subtransaction back, and with it every row and
 * counter change of the group: nothing is booked, and the result says which resource refused
 * and why.  The rows of a group share a group_id and, for a hold, one token: confirm(),
 * release() and extend() act on the whole group (holds.c).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "compat.h"
#include "api.h"
#include "direct.h"
#include "audit.h"
#include "engine.h"
#include "holder_limits.h"
#include "locks.h"
#include "pair.h"

PG_FUNCTION_INFO_V1(booking_book_many);

/*
 * The group's rows straight through the table AM (direct.c), one by one with the group's
 * hand-over armed, as the INSERT's trigger would judge them; after a refusal the rest are not
 * written.  Returns false, having done nothing, where the statement must run instead.
 */
static bool
insert_group_directly(BookingPair *pair, SoftAdmission *soft, int n, const int64 *ids,
					  DirectBooking *row, int64 *booking_ids, Datum *statuses)
{
	DirectInserter *di = direct_insert_begin(pair);

	if (di == NULL)
		return false;
	engine_soft_arm_group(soft, pair->child_relid, row->group_id, n);
	soft->hold = row->hold;
	PG_TRY();
	{
		int			i;

		for (i = 0; i < n && !soft->refused; i++)
		{
			bool		inserted;

			row->resource_id = ids[i];
			direct_insert_row(di, row, &inserted, &booking_ids[i], &statuses[i]);
			if (!inserted && !soft->refused)
				elog(ERROR, "a booking row was skipped by another trigger on %s", pair->child_sql);
		}
	}
	PG_CATCH();
	{
		engine_soft_disarm();
		PG_RE_THROW();
	}
	PG_END_TRY();
	engine_soft_disarm();
	direct_insert_end(di);
	return true;
}

static SPIPlanPtr group_insert_plan = NULL;
static SPIPlanPtr group_hold_plan = NULL;

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * book_many(resource_ids, spots, during, holder, hold, meta) returns setof booking.result
 *
 * One row per resource, in ascending id order: every one ok with its booking, or none ok, and
 * the one that refused with its reason (and, on a timeline conflict, its alternatives).
 */
Datum
booking_book_many(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *elem_nulls;
	int			n;
	int64	   *ids;
	int32		spots;
	char	   *holder;
	BookingPair *pair;
	TupleDesc	desc;
	Tuplestorestate *store;
	volatile Datum expires_at = (Datum) 0;
	volatile Datum hold_token = (Datum) 0;
	Datum		digest = (Datum) 0;
	int64		group_id;
	int64	   *booking_ids;
	Datum	   *statuses;
	volatile int refused_at = -1;
	volatile int judged = 0;
	AdmitResult refusal;
	int32	   *available;
	MemoryContext caller_cxt = CurrentMemoryContext;
	ResourceOwner caller_owner = CurrentResourceOwner;
	int			i;
	AttemptRecord *recs;
	int			nrecs;
	int			ret;

	require_arg(fcinfo, 0, "resource_ids");
	arr = PG_GETARG_ARRAYTYPE_P(0);
	spots = spots_arg(fcinfo, 1);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("resource_ids must be a one-dimensional array")));
	deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &elem_nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("resource_ids must name at least one resource")));
	ids = palloc(sizeof(int64) * n);
	for (i = 0; i < n; i++)
	{
		if (elem_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("resource_ids must not contain NULL")));
		ids[i] = DatumGetInt64(elems[i]);
	}
	qsort(ids, n, sizeof(int64), cmp_int64);
	for (i = 1; i < n; i++)
		if (ids[i] == ids[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("resource %lld appears twice in resource_ids", (long long) ids[i]),
					 errhint("Ask for more spots on one resource with spots.")));
	holder = holder_arg(fcinfo, 3);

	/* the row type of booking.result, as the caller expects it (no second look-up) */
	store = begin_materialize(fcinfo, &desc);
	pair = pair_by_id(BOOKING_OWN_PAIR);
	booking_ids = palloc0(sizeof(int64) * n);
	statuses = palloc0(sizeof(Datum) * n);
	available = palloc0(sizeof(int32) * n);
	memset(&refusal, 0, sizeof(refusal));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* every resource's lock first, in ascending id order: groups never wait in a circle */
	lock_resources(pair, ids, n);

	if (!PG_ARGISNULL(4))
	{
		/* one hold for the group: the same expiry and token on every row */
		expires_at = hold_expiry(PG_GETARG_DATUM(4));
		hold_token = hold_token_new(&digest);
	}
	/* a group id from the bookings' own id sequence, so that no booking id is ever one */
	if (!OidIsValid(pair->key_sequence))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("column \"id\" of table %s is no longer an identity column", pair->child_sql)));
	group_id = nextval_internal(pair->key_sequence, false);

	/* the rows, in one INSERT in a subtransaction that a refusal rolls back */
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller_cxt);
	PG_TRY();
	{
		Oid			types[8] = {INT8ARRAYOID, TEXTOID, INT4OID, TSTZRANGEOID, JSONBOID, INT8OID,
			TIMESTAMPTZOID, BYTEAOID};
		SPIPlanPtr	plan;
		Datum		args[8];
		char		nulls[8];
		Datum	   *elems = palloc(sizeof(Datum) * n);
		SoftAdmission soft;
		uint64		r;
		DirectBooking row;
		bool		direct;

		if (PG_ARGISNULL(4))
			plan = kept_plan(&group_insert_plan,
							 "INSERT INTO " BOOKING_SCHEMA ".booking (resource_id, holder, spots, during,"
							 " meta, group_id) SELECT r, $2, $3, $4, $5, $6"
							 " FROM pg_catalog.unnest($1) r RETURNING resource_id, id, status",
							 6, types);
		else
			plan = kept_plan(&group_hold_plan,
							 "INSERT INTO " BOOKING_SCHEMA ".booking (resource_id, holder, spots, during,"
							 " meta, group_id, status, expires_at, hold_token_digest)"
							 " SELECT r, $2, $3, $4, $5, $6, 'held', $7, $8"
							 " FROM pg_catalog.unnest($1) r RETURNING resource_id, id, status",
							 8, types);
		for (i = 0; i < n; i++)
			elems[i] = Int64GetDatum(ids[i]);
		memset(nulls, ' ', sizeof(nulls));
		args[0] = PointerGetDatum(construct_array(elems, n, INT8OID, sizeof(int64),
												  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		args[1] = CStringGetTextDatum(holder);
		args[2] = Int32GetDatum(spots);
		args[3] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
		nulls[3] = PG_ARGISNULL(2) ? 'n' : ' ';
		args[4] = PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5);
		nulls[4] = PG_ARGISNULL(5) ? 'n' : ' ';
		args[5] = Int64GetDatum(group_id);
		args[6] = expires_at;
		args[7] = digest;

		row.holder = holder;
		row.spots = spots;
		row.during = args[3];
		row.during_null = nulls[3] == 'n';
		row.state = PG_ARGISNULL(4) ? STATE_CONFIRMED : STATE_HELD;
		row.expires_at = expires_at;
		row.token_digest = digest;
		row.idempotency_key = (Datum) 0;
		row.idempotency_key_null = true;
		row.meta = args[4];
		row.meta_null = nulls[4] == 'n';
		row.group_id = group_id;
		row.hold = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
		direct = insert_group_directly(pair, &soft, n, ids, &row, booking_ids, statuses);
		if (!direct)
		{
			ret = insert_group_softly(pair, &soft, group_id, n, plan, args, nulls);
			if (ret != SPI_OK_INSERT_RETURNING)
				elog(ERROR, "inserting the bookings failed: %s", SPI_result_code_string(ret));
		}
		judged = soft.nrows;
		/* the hold's length, where the admission did not judge it: an error before a refusal */
		if (!PG_ARGISNULL(4) && (soft.refused || soft.holds_judged != n))
			hold_check_length(ids, n, PG_GETARG_DATUM(4));
		for (r = 0; r < (uint64) soft.nrows; r++)
			for (i = 0; i < n; i++)
				if (ids[i] == soft.resource_ids[r])
					available[i] = soft.available[r];
		if (soft.refused)
		{
			if (soft.result.outcome == ADMIT_NO_RESOURCE)
				ereport(ERROR,
						(errcode(ERRCODE_NO_DATA_FOUND),
						 errmsg("resource %lld does not exist", (long long) soft.result.resource_id)));
			refusal = soft.result;
			for (i = 0; i < n; i++)
				if (ids[i] == refusal.resource_id)
					refused_at = i;
			if (refused_at < 0)
				elog(ERROR, "book_many() lost track of the refusing resource %lld",
					 (long long) refusal.resource_id);
		}
		else if (direct)
			;					/* booking_ids and statuses are filled in */
		else if (SPI_processed != (uint64) n)
			elog(ERROR, "a booking row was skipped by another trigger on %s", pair->child_sql);
		else
		{
			for (r = 0; r < SPI_processed; r++)
			{
				HeapTuple	tup = SPI_tuptable->vals[r];
				bool		isnull;
				int64		rid = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull));

				for (i = 0; i < n; i++)
					if (ids[i] == rid)
					{
						booking_ids[i] = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2,
																	 &isnull));
						statuses[i] = SPI_getbinval(tup, SPI_tuptable->tupdesc, 3, &isnull);
					}
			}
		}
		if (refused_at >= 0)
			RollbackAndReleaseCurrentSubTransaction();
		else
			ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller_cxt);
		CurrentResourceOwner = caller_owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller_cxt);
		RollbackAndReleaseCurrentSubTransaction();
		CurrentResourceOwner = caller_owner;
		PG_RE_THROW();
	}
	PG_END_TRY();

	/*
	 * The rollback took the refused group's attempts off the holder's rate with its rows: they
	 * were attempts all the same, each row judged one, as book_slot() counts a refused one.
	 */
	if (refused_at >= 0 && judged > 0 && booking_holder_rate_limit > 0 && !engine_bulk_load() &&
		pair->holder_att != InvalidAttrNumber)
		(void) limits_rate_add(pair, holder, judged);

	/* the audit: a row per booking made, or the one refusal; one insert */
	recs = palloc(sizeof(AttemptRecord) * n);
	nrecs = 0;
	for (i = 0; i < n; i++)
	{
		AttemptRecord *rec = &recs[nrecs];

		if (refused_at >= 0 && i != refused_at)
			continue;
		nrecs++;
		memset(rec, 0, sizeof(*rec));
		rec->action = "book_many";
		rec->holder = holder;
		rec->resource_id = ids[i];
		rec->spots = spots;
		rec->during = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
		rec->during_null = PG_ARGISNULL(2);
		rec->ok = refused_at < 0;
		rec->reason = refused_at < 0 ? NULL : refusal_reason(&refusal);
		rec->booking_id = booking_ids[i];
		rec->status = statuses[i];
		rec->status_null = refused_at >= 0;
	}
	audit_attempts(recs, nrecs);

	for (i = 0; i < n; i++)
	{
		Datum		values[RESULT_NATTS];
		bool		isnull[RESULT_NATTS];

		memset(isnull, true, sizeof(isnull));
		values[RESULT_OK] = BoolGetDatum(refused_at < 0);
		isnull[RESULT_OK] = false;
		values[RESULT_RESOURCE_ID] = Int64GetDatum(ids[i]);
		isnull[RESULT_RESOURCE_ID] = false;
		values[RESULT_SPOTS] = Int32GetDatum(spots);
		isnull[RESULT_SPOTS] = false;
		if (!PG_ARGISNULL(2))
		{
			values[RESULT_DURING] = PG_GETARG_DATUM(2);
			isnull[RESULT_DURING] = false;
		}
		if (refused_at < 0)
		{
			values[RESULT_BOOKING_ID] = Int64GetDatum(booking_ids[i]);
			isnull[RESULT_BOOKING_ID] = false;
			values[RESULT_STATUS] = statuses[i];
			isnull[RESULT_STATUS] = false;
			values[RESULT_AVAILABLE] = Int32GetDatum(available[i]);
			isnull[RESULT_AVAILABLE] = false;
			if (hold_token != (Datum) 0)
			{
				values[RESULT_EXPIRES_AT] = expires_at;
				isnull[RESULT_EXPIRES_AT] = false;
				values[RESULT_HOLD_TOKEN] = hold_token;
				isnull[RESULT_HOLD_TOKEN] = false;
			}
		}
		else if (i == refused_at)
		{
			values[RESULT_REASON] = CStringGetTextDatum(refusal_reason(&refusal));
			isnull[RESULT_REASON] = false;
			values[RESULT_AVAILABLE] = Int32GetDatum(available[i]);
			isnull[RESULT_AVAILABLE] = false;
			if (refusal.outcome == ADMIT_CONFLICT)
			{
				values[RESULT_ALTERNATIVES] = alternatives_for(pair, &refusal, spots);
				isnull[RESULT_ALTERNATIVES] = false;
			}
		}
		tuplestore_putvalues(store, desc, values, isnull);
	}
	SPI_finish();
	return (Datum) 0;
}
