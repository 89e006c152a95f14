/*
 * holds.c
 *		The life of a hold: a booking that keeps its spots for a while, until it is confirmed,
 *		released, or its time runs out.
 *
 * book_slot(..., hold => interval) writes a row with status 'held', an expires_at and the
 * digest of a hold token: a random UUID handed out once, in book_slot()'s result, and never
 * stored, so that whoever can read the table still cannot confirm or release another's hold.
 * confirm(), release() and extend() lock the row, check the token (42501 when it does not
 * match) and the state (55000 naming it), and write the change with an UPDATE, which the
 * child's trigger admits, checks against the state table (states.c) and records in the audit.
 *
 * A hold stops counting when its time passes with no job running: on a timeline resource the
 * overlap search leaves out holds past due; on a pool resource the admission that would refuse
 * for want of room first marks its resource's holds past due expired (engine.c), which gives
 * their spots back.  expire_holds() tidies the rest, for pg_cron.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "compat.h"
#include "api.h"
#include "audit.h"
#include "counter.h"
#include "digest.h"
#include "direct.h"
#include "engine.h"
#include "locks.h"
#include "pair.h"

PG_FUNCTION_INFO_V1(booking_confirm);
PG_FUNCTION_INFO_V1(booking_release);
PG_FUNCTION_INFO_V1(booking_extend);
PG_FUNCTION_INFO_V1(booking_expire_holds);

static SPIPlanPtr lock_plan = NULL;
/* each UPDATE twice: [0] for one row (by id), [1] for a group's held rows (by group_id) */
static SPIPlanPtr confirm_plan[2];
static SPIPlanPtr release_plan[2];
static SPIPlanPtr extend_plan[2];
static SPIPlanPtr rule_plan = NULL;
static SPIPlanPtr rules_plan = NULL;
static SPIPlanPtr due_plan = NULL;

/* The digest booking.booking keeps of a hold token: sha256 of its 16 bytes. */
static Datum
token_digest(const pg_uuid_t *token)
{
	bytea	   *b = palloc(VARHDRSZ + DIGEST_SHA256_LEN);

	SET_VARSIZE(b, VARHDRSZ + DIGEST_SHA256_LEN);
	digest_sha256_short(token->data, UUID_LEN, (uint8 *) VARDATA(b));
	return PointerGetDatum(b);
}

/*
 * Strong random bytes drawn ahead of need.  Each call of the strong source costs as much as
 * drawing a few hundred bytes (OpenSSL checks its generator's state every time), so tokens take
 * their bytes from a block drawn in one call, and each part is wiped as it is handed out.  The
 * block belongs to the backend: it starts empty in every backend, so no two processes share it.
 */
#define RANDOM_BLOCK 1024

static uint8 random_block[RANDOM_BLOCK];
static int	random_left = 0;

static bool
random_bytes(uint8 *dst, int len)
{
	uint8	   *from;

	Assert(len <= RANDOM_BLOCK);
	if (random_left < len)
	{
		if (!pg_strong_random(random_block, RANDOM_BLOCK))
		{
			random_left = 0;
			return false;
		}
		random_left = RANDOM_BLOCK;
	}
	from = random_block + (RANDOM_BLOCK - random_left);
	memcpy(dst, from, len);
	memset(from, 0, len);
	random_left -= len;
	return true;
}

/*
 * A new hold token, a random (version 4) UUID from the strong random source, and in *digest
 * what the table keeps of it.
 */
Datum
hold_token_new(Datum *digest)
{
	pg_uuid_t  *token = palloc(sizeof(pg_uuid_t));

	if (!random_bytes(token->data, UUID_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random hold token")));
	token->data[6] = (token->data[6] & 0x0f) | 0x40;
	token->data[8] = (token->data[8] & 0x3f) | 0x80;
	*digest = token_digest(token);
	return UUIDPGetDatum(token);
}

static bool
interval_positive(Datum iv)
{
	Interval	zero;

	memset(&zero, 0, sizeof(zero));
	return DatumGetBool(DirectFunctionCall2(interval_gt, iv, IntervalPGetDatum(&zero)));
}

/* P0002 for a resource that is not there. */
static void
report_missing(int64 resource_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("resource %lld does not exist", (long long) resource_id)));
}

/*
 * The resource's hold settings: max_hold (NULL: no limit) and hold_ttl.  P0002 when there is
 * no such resource.  The caller is connected to SPI.
 */
static void
read_hold_rule(int64 resource_id, Datum *max_hold, bool *no_max, Datum *ttl)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(resource_id)};
	bool		isnull;
	int			ret;

	kept_plan(&rule_plan,
			  "SELECT max_hold, hold_ttl FROM " BOOKING_SCHEMA ".resource WHERE id = $1",
			  1, types);
	ret = spi_execute_as(pair_by_id(BOOKING_OWN_PAIR)->parent_owner, rule_plan, args, NULL, false,
						 true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the resource failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		report_missing(resource_id);
	*max_hold = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, no_max);
	*ttl = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (isnull)
		*ttl = (Datum) 0;
}

static void
report_too_long(int64 resource_id, Datum life, Datum max_hold)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("hold would last longer than the max_hold of resource %lld",
					(long long) resource_id),
			 errdetail("The hold would last %s in all; max_hold is %s.",
					   DatumGetCString(DirectFunctionCall1(interval_out, life)),
					   DatumGetCString(DirectFunctionCall1(interval_out, max_hold)))));
}

/* A hold's expiry, now() + hold, once hold is known to be positive (22023). */
Datum
hold_expiry(Datum hold)
{
	if (!interval_positive(hold))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hold must be a positive interval"),
				 errdetail("hold is %s.", DatumGetCString(DirectFunctionCall1(interval_out, hold)))));
	return DirectFunctionCall2(timestamptz_pl_interval,
							   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
							   hold);
}

/*
 * The rule on the length of book_slot()'s and book_many()'s holds: 22023 where hold is longer
 * than max_hold, the max_hold of resource_id.  The admission applies it where it reads the
 * resource's row (counter.c), hold_check_length() where it could not.
 */
void
hold_judge_length(int64 resource_id, Datum hold, Datum max_hold)
{
	if (DatumGetBool(DirectFunctionCall2(interval_gt, hold, max_hold)))
		report_too_long(resource_id, hold, max_hold);
}

/*
 * book_slot()'s and book_many()'s check of a hold's length against the max_hold of every
 * resource in ids: 22023 naming the first, in the order given, that it exceeds; P0002 for the
 * first that does not exist.  One look-up for all of them.  The calls run it after their rows
 * where the admission did not judge every one of them (a refusal, a timeline resource, a
 * resource table a statement must write): so a hold too long is an error before any refusal,
 * as if judged first.  The caller is connected to SPI.
 */
void
hold_check_length(const int64 *ids, int n, Datum hold)
{
	BookingPair *pair = pair_by_id(BOOKING_OWN_PAIR);
	Oid			types[1] = {INT8ARRAYOID};
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	Datum		args[1];
	int64	   *found_ids;
	Datum	   *max_holds;
	bool	   *no_max;
	uint64		nfound;
	uint64		j;
	int			i;
	int			ret;

	/* the rows read straight through the table AM, as the engine reads them (counter.c) */
	if (pair->max_hold_att != InvalidAttrNumber)
	{
		Datum	   *max_hold = palloc(sizeof(Datum) * Max(n, 1));
		bool	   *no_max = palloc(sizeof(bool) * Max(n, 1));
		int			missing;
		RowLockOutcome found = counter_read_values(pair, ids, n, pair->max_hold_att, max_hold,
												   no_max, &missing);

		if (found != ROW_NOT_PLAIN)
		{
			/* judged in order, as the statement below judges them */
			for (i = 0; i < n; i++)
			{
				if (i == missing)
					report_missing(ids[i]);
				if (!no_max[i])
					hold_judge_length(ids[i], hold, max_hold[i]);
			}
			return;
		}
	}

	for (i = 0; i < n; i++)
		elems[i] = Int64GetDatum(ids[i]);
	args[0] = PointerGetDatum(construct_array(elems, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
											  TYPALIGN_DOUBLE));
	kept_plan_with(&rules_plan,
				   "SELECT id, max_hold FROM " BOOKING_SCHEMA ".resource WHERE id = ANY ($1)",
				   1, types, CURSOR_OPT_GENERIC_PLAN);
	ret = spi_execute_as(pair->parent_owner, rules_plan, args, NULL, false, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the resources failed: %s", SPI_result_code_string(ret));
	found_ids = spi_int64_column(1, &nfound);
	max_holds = palloc(sizeof(Datum) * Max(nfound, 1));
	no_max = palloc(sizeof(bool) * Max(nfound, 1));
	for (j = 0; j < nfound; j++)
		max_holds[j] = SPI_getbinval(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, 2, &no_max[j]);
	for (i = 0; i < n; i++)
	{
		for (j = 0; j < nfound && found_ids[j] != ids[i]; j++)
			;
		if (j == nfound)
			report_missing(ids[i]);
		if (!no_max[j])
			hold_judge_length(ids[i], hold, max_holds[j]);
	}
}

/*
 * A hold written directly (an INSERT, or an UPDATE that makes a row held, moves it to another
 * resource or gives it a later expires_at) is held to its resource's max_hold as book_slot() and
 * extend() are: where the resource has one, the hold must have an expiry, and its whole life must
 * stay within it (22023).  The life runs from created_at, as extend() counts it; for a row that
 * becomes held by this UPDATE (a waiting row promoted into a hold), from now.  Nothing is checked
 * for book_slot()'s and book_many()'s own rows (judged on their hold as asked, by the admission or
 * hold_check_length()), for the rows of
 * a COPY (a bulk load, such as a restore: the limit is a policy on new requests, like min_notice),
 * or for an UPDATE that leaves a hold's resource and keeps or shortens its expiry.
 */
void
hold_check_direct(BookingPair *pair, Relation rel, const RowClaim *old_claim,
				  const RowClaim *new_claim, HeapTuple newtup)
{
	TimestampTz start;
	Datum		max_hold;
	bool		no_max;
	int			missing;
	RowLockOutcome found;

	if (pair->max_hold_att == InvalidAttrNumber || !new_claim->held || !new_claim->has_resource ||
		new_claim->by_api || engine_bulk_load())
		return;
	if (old_claim != NULL && old_claim->held && old_claim->has_resource &&
		old_claim->resource_id == new_claim->resource_id && old_claim->has_expiry &&
		new_claim->has_expiry && new_claim->expires <= old_claim->expires)
		return;

	found = counter_read_values(pair, &new_claim->resource_id, 1, pair->max_hold_att, &max_hold,
								&no_max, &missing);
	if (found == ROW_NOT_PLAIN)
	{
		Datum		ttl;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		read_hold_rule(new_claim->resource_id, &max_hold, &no_max, &ttl);
		if (!no_max)
			max_hold = datumCopy(max_hold, false, sizeof(Interval));
		SPI_finish();
	}
	else if (found == ROW_MISSING)
		return;					/* the engine reports a resource that does not exist */
	if (no_max)
		return;
	if (!new_claim->has_expiry)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a hold on resource %lld needs an expires_at", (long long) new_claim->resource_id),
				 errdetail("The resource's max_hold is %s.",
						   DatumGetCString(DirectFunctionCall1(interval_out, max_hold))),
				 errtable(rel)));
	if (old_claim != NULL && !old_claim->held)
		start = GetCurrentTransactionStartTimestamp();
	else
	{
		AttrNumber	created_att = get_attnum(RelationGetRelid(rel), "created_at");
		bool		isnull = true;
		Datum		created = (Datum) 0;

		if (created_att != InvalidAttrNumber)
			created = heap_getattr(newtup, created_att, RelationGetDescr(rel), &isnull);
		start = isnull ? GetCurrentTransactionStartTimestamp() : DatumGetTimestampTz(created);
	}
	if (new_claim->expires > DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
																	 TimestampTzGetDatum(start),
																	 max_hold)))
		report_too_long(new_claim->resource_id,
						DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(new_claim->expires),
											TimestampTzGetDatum(start)),
						max_hold);
}

/* The row a hold function works on, locked. */
typedef struct HoldRow
{
	int64		id;
	char	   *status;
	bool		has_digest;
	Datum		digest;
	bool		has_expiry;
	TimestampTz expires_at;
	int64		resource_id;
	TimestampTz created_at;
	bool		has_group;
	int64		group_id;		/* rows booked together by book_many(): one hold */
} HoldRow;

/* The statuses lock_group_rows() takes: live ones, or held ones only. */
static bool
status_is_live_row(BookingPair *pair, Datum status, bool isnull)
{
	BookingState state = pair_state(pair, status, isnull);

	return state == STATE_HELD || state == STATE_PENDING || state == STATE_CONFIRMED ||
		state == STATE_WAITLISTED;
}

static bool
status_is_held_row(BookingPair *pair, Datum status, bool isnull)
{
	return pair_state(pair, status, isnull) == STATE_HELD;
}

/* A version of a row of booking.booking as shipped, read into *row (SPI connected). */
static void
hold_row_of(BookingPair *pair, HeapTuple tuple, TupleDesc desc, HoldRow *row)
{
	bool		isnull;
	Datum		d;

	row->id = DatumGetInt64(heap_getattr(tuple, BOOKING_COL_ID, desc, &isnull));
	d = heap_getattr(tuple, BOOKING_COL_STATUS, desc, &isnull);
	row->status = pstrdup(direct_state_name(pair, d, isnull));
	row->digest = heap_getattr(tuple, BOOKING_COL_DIGEST, desc, &isnull);
	row->has_digest = !isnull;
	if (row->has_digest)
		row->digest = PointerGetDatum(SPI_datumTransfer(row->digest, false, -1));
	d = heap_getattr(tuple, BOOKING_COL_EXPIRES, desc, &isnull);
	row->has_expiry = !isnull;
	row->expires_at = isnull ? 0 : DatumGetTimestampTz(d);
	row->resource_id = DatumGetInt64(heap_getattr(tuple, BOOKING_COL_RESOURCE, desc, &isnull));
	row->created_at = DatumGetTimestampTz(heap_getattr(tuple, BOOKING_COL_CREATED, desc, &isnull));
	d = heap_getattr(tuple, BOOKING_COL_GROUP, desc, &isnull);
	row->has_group = !isnull;
	row->group_id = isnull ? 0 : DatumGetInt64(d);
}

/* Locks booking_id FOR UPDATE and reads it; P0002 when there is none.  SPI connected. */
static void
lock_hold(int64 booking_id, HoldRow *row)
{
	Oid			types[1] = {INT8OID};
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;

	BookingPair *pair = pair_by_id(BOOKING_OWN_PAIR);
	bool		done;
	HeapTuple	locked = direct_lock_booking(pair, booking_id, LockTupleExclusive, &done);

	if (done)
	{
		/* straight through the table AM (direct.c); the columns are as shipped */
		Relation	rel = table_open(pair->child_relid, NoLock);

		if (locked == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("booking %lld does not exist", (long long) booking_id)));
		hold_row_of(pair, locked, RelationGetDescr(rel), row);
		table_close(rel, NoLock);
		return;
	}
	kept_plan(&lock_plan,
			  "SELECT status::pg_catalog.text, hold_token_digest, expires_at, resource_id, created_at,"
			  " group_id FROM " BOOKING_SCHEMA ".booking WHERE id = $1 FOR UPDATE",
			  1, types);
	tup = booking_row(lock_plan, booking_id);
	desc = SPI_tuptable->tupdesc;
	row->id = booking_id;
	row->status = SPI_getvalue(tup, desc, 1);
	row->digest = SPI_getbinval(tup, desc, 2, &isnull);
	row->has_digest = !isnull;
	if (row->has_digest)
		row->digest = PointerGetDatum(SPI_datumTransfer(row->digest, false, -1));
	d = SPI_getbinval(tup, desc, 3, &isnull);
	row->has_expiry = !isnull;
	row->expires_at = isnull ? 0 : DatumGetTimestampTz(d);
	row->resource_id = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
	row->created_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 5, &isnull));
	d = SPI_getbinval(tup, desc, 6, &isnull);
	row->has_group = !isnull;
	row->group_id = isnull ? 0 : DatumGetInt64(d);
}

/*
 * A group is changed as one: locks the rows of a group that are held (or, with live, every
 * row still held, pending, confirmed or waiting) in the order of their resources.  The group is
 * group_id or, when that is 0, the group of the booking member_id (*group_id is set to it).
 * Returns how many rows, with their resources (ascending) in *resource_ids and the rows in the
 * same order in *booking_ids.  The resources' advisory locks are the caller's to take, and only
 * where a statement changes the rows next (lock_resources(), ascending as book_many() took
 * them: the statement changes them in any order, and two groups must not wait on each other in
 * a circle).  Changed straight through the table AM (direct.c), the rows go in this order, and
 * each change takes what its admission needs as any write does: a pool hold confirmed takes
 * nothing, a give-back its resource's lock, ascending.  SPI connected.
 */
static SPIPlanPtr group_lock_plan[3];

int
lock_group_rows(int64 *group_id, int64 member_id, bool live, int64 **resource_ids,
				int64 **booking_ids)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1];
	int			which = *group_id == 0 ? 2 : live ? 1 : 0;
	int64	   *ids;
	uint64		n;
	int			ret;

	if (which == 2 && !live)
		elog(ERROR, "a group found by a member is locked whole");
	{
		/* straight through the table AM where nothing needs the statement (direct.c) */
		BookingPair *pair = pair_by_id(BOOKING_OWN_PAIR);
		bool		done;
		int64	   *rows;
		int			nrows = direct_lock_group(pair, group_id, member_id,
											  live ? status_is_live_row : status_is_held_row,
											  &rows, &ids, &done);

		if (done)
		{
			*resource_ids = ids;
			if (booking_ids != NULL)
				*booking_ids = rows;
			return nrows;
		}
	}
	args[0] = Int64GetDatum(which == 2 ? member_id : *group_id);
	kept_plan_with(&group_lock_plan[which],
				   which == 2 ?
				   "SELECT resource_id, group_id, id FROM " BOOKING_SCHEMA ".booking"
				   " WHERE group_id = (SELECT group_id FROM " BOOKING_SCHEMA ".booking WHERE id = $1)"
				   " AND status IN ('held', 'pending', 'confirmed', 'waitlisted')"
				   " ORDER BY resource_id FOR UPDATE" :
				   which == 1 ?
				   "SELECT resource_id, group_id, id FROM " BOOKING_SCHEMA ".booking WHERE group_id = $1"
				   " AND status IN ('held', 'pending', 'confirmed', 'waitlisted')"
				   " ORDER BY resource_id FOR UPDATE" :
				   "SELECT resource_id, group_id, id FROM " BOOKING_SCHEMA ".booking"
				   " WHERE group_id = $1 AND status = 'held' ORDER BY resource_id FOR UPDATE",
				   1, types, CURSOR_OPT_GENERIC_PLAN);
	ret = SPI_execute_plan(group_lock_plan[which], args, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "locking the group failed: %s", SPI_result_code_string(ret));
	if (SPI_processed > 0)
	{
		bool		isnull;

		*group_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
												&isnull));
	}
	if (booking_ids != NULL)
		*booking_ids = spi_int64_column(3, &n);
	ids = spi_int64_column(1, &n);
	*resource_ids = ids;
	return (int) n;
}

/* A hold's group, locked (see lock_group_rows); 0 rows for a hold of no group. */
static int
lock_group(const HoldRow *row, int64 **resource_ids, int64 **booking_ids)
{
	int64		group_id = row->group_id;

	*resource_ids = NULL;
	if (booking_ids != NULL)
		*booking_ids = NULL;
	if (!row->has_group)
		return 0;
	return lock_group_rows(&group_id, 0, false, resource_ids, booking_ids);
}

/*
 * lock_hold() with the hold's group locked first: where the row, as the snapshot sees it, is a
 * held row of a group, the group's held rows are locked (lock_group_rows(), ascending) before
 * the row named is, which is then among them and locked already.  So two calls that name
 * different rows of one group lock its rows in one order, as every other writer of them does,
 * and cannot wait on each other in a circle.  Returns how many rows of the group it locked
 * (*group_locked true), or 0 with *group_locked false where the caller locks the group itself
 * after its checks (lock_group()).
 */
static int
lock_hold_grouped(int64 booking_id, HoldRow *row, int64 **resource_ids, int64 **booking_ids,
				  bool *group_locked)
{
	BookingPair *pair = pair_by_id(BOOKING_OWN_PAIR);
	bool		done;
	HeapTuple	seen = direct_read_booking(pair, booking_id, &done);
	int			n = 0;

	*group_locked = false;
	if (seen != NULL)
	{
		Relation	rel = table_open(pair->child_relid, NoLock);
		bool		no_group;
		bool		isnull;
		Datum		group = heap_getattr(seen, BOOKING_COL_GROUP, RelationGetDescr(rel), &no_group);
		Datum		status = heap_getattr(seen, BOOKING_COL_STATUS, RelationGetDescr(rel), &isnull);

		table_close(rel, NoLock);
		if (!no_group && pair_state(pair, status, isnull) == STATE_HELD)
		{
			int64		group_id = DatumGetInt64(group);

			n = lock_group_rows(&group_id, 0, false, resource_ids, booking_ids);
			*group_locked = true;
		}
	}
	lock_hold(booking_id, row);
	return n;
}

/* Whether a status is held (the rows a group's confirm or release changes). */
static bool
status_is_held(BookingPair *pair, Datum status, bool isnull)
{
	return pair_state(pair, status, isnull) == STATE_HELD;
}

/*
 * The kept UPDATE of a hold: SET set_clause on the one row (by id) or, for a group, on its held
 * rows (by group_id), each through an index.  $1 is the id or the group; extra ($2, if any) a
 * timestamptz.  Sets args[0] and nulls.
 */
static SPIPlanPtr
hold_update_plan(SPIPlanPtr *slots, const char *set_clause, bool extra, const HoldRow *row,
				 Datum *args, char *nulls)
{
	Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
	int			which = row->has_group ? 1 : 0;
	char	   *sql = psprintf("UPDATE " BOOKING_SCHEMA ".booking SET %s, updated_at = pg_catalog.now()"
							   " WHERE %s RETURNING *", set_clause,
							   which ? "group_id = $1 AND status = 'held'" : "id = $1");

	args[0] = Int64GetDatum(which ? row->group_id : row->id);
	nulls[0] = ' ';
	nulls[1] = ' ';
	return kept_plan(&slots[which], sql, extra ? 2 : 1, types);
}

/*
 * Checks that row is a live hold and that the token (its digest; has_token false when the call
 * gave none) opens it: 55000 naming the status when it is not held (or its time has passed),
 * 42501 when the token is missing or wrong.
 */
static void
check_hold_digest(const HoldRow *row, bool has_token, Datum digest, const char *verb)
{
	if (strcmp(row->status, "held") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("booking %lld cannot be %s", (long long) row->id, verb),
				 errdetail("Its status is %s.", row->status)));
	if (!has_token || !row->has_digest ||
		VARSIZE_ANY_EXHDR(DatumGetPointer(digest)) != VARSIZE_ANY_EXHDR(DatumGetPointer(row->digest)) ||
		memcmp(VARDATA_ANY(DatumGetPointer(digest)), VARDATA_ANY(DatumGetPointer(row->digest)),
			   VARSIZE_ANY_EXHDR(DatumGetPointer(digest))) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("hold token does not match booking %lld", (long long) row->id),
				 errdetail("A held booking is %s only with the hold token that book_slot() returned.", verb)));
	if (row->has_expiry && row->expires_at <= GetCurrentTransactionStartTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("hold %lld has expired", (long long) row->id),
				 errdetail("Its status is held; it expired at %s.",
						   timestamptz_to_str(row->expires_at))));
}

/* The same with the call's token (argument token_arg). */
static void
check_hold(const HoldRow *row, FunctionCallInfo fcinfo, int token_arg, const char *verb)
{
	bool		has_token = !PG_ARGISNULL(token_arg);

	check_hold_digest(row, has_token,
					  has_token ? token_digest(PG_GETARG_UUID_P(token_arg)) : (Datum) 0, verb);
}

/* Runs an UPDATE ... RETURNING * of one booking and puts the row in the result set. */
static void
update_and_return(SPIPlanPtr plan, Datum *args, char *nulls, Tuplestorestate *store)
{
	int			ret = SPI_execute_plan(plan, args, nulls, false, 0);
	uint64		i;

	if (ret != SPI_OK_UPDATE_RETURNING || SPI_processed < 1)
		elog(ERROR, "updating the booking failed: %s", SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(store, SPI_tuptable->vals[i]);
}

/* What the judge of a confirm's hold needs: the token's digest, taken once, and the verb. */
typedef struct HoldJudge
{
	bool		has_token;
	bool		digested;
	Datum		digest;
	pg_uuid_t  *token;
	const char *verb;
} HoldJudge;

/* DirectChange.judge of an unlocked confirm: the hold checked at each version of it read. */
static void
judge_hold(BookingPair *pair, HeapTuple tuple, TupleDesc desc, void *arg)
{
	HoldJudge  *judge = arg;
	HoldRow		row;

	hold_row_of(pair, tuple, desc, &row);
	if (judge->has_token && !judge->digested && strcmp(row.status, "held") == 0)
	{
		judge->digest = token_digest(judge->token);
		judge->digested = true;
	}
	check_hold_digest(&row, judge->has_token, judge->digest, judge->verb);
}

/*
 * confirm() and release() of a pool hold without locking its rows first (DirectChange.unlocked):
 * the rows (the hold's, or its group's held ones in ascending resource order, the hold among
 * them) are changed each under its update's lock, the hold checked (token, live, 55000 naming a
 * status that is over) at every version of it read.  A confirm changes no count and takes no
 * advisory lock; a release gives each row back under its resource's lock, taken after the row's.
 * Returns false, having changed nothing, where the locked way must run: the snapshot sees no
 * held pool hold (or a group with a range), or the statement is needed.
 */
static bool
resolve_unlocked(FunctionCallInfo fcinfo, int64 booking_id, const DirectChange *change,
				 const char *verb, Tuplestorestate *store)
{
	BookingPair *pair = pair_by_id(BOOKING_OWN_PAIR);
	bool		done;
	HeapTuple	seen;
	Relation	rel;
	HoldRow		row;
	bool		isnull;
	int64	   *ids;
	int64	   *resources;
	HeapTuple  *tuples;
	int			n;
	int			i;
	bool		ranged;
	DirectChange how = *change;
	HoldJudge	judge;
	int			updated;

	/* the hold and its group's held rows, as one snapshot sees them */
	n = direct_member_group_rows(pair, booking_id, status_is_held, &seen, &ids, &resources,
								 &tuples, &ranged, &done);
	if (!done || seen == NULL)
		return false;
	rel = table_open(pair->child_relid, NoLock);
	hold_row_of(pair, seen, RelationGetDescr(rel), &row);
	(void) heap_getattr(seen, BOOKING_COL_DURING, RelationGetDescr(rel), &isnull);
	table_close(rel, NoLock);
	if (strcmp(row.status, "held") != 0 || !isnull)
		return false;
	if (!row.has_group)
	{
		ids = &booking_id;
		tuples = &seen;
		n = 1;
	}
	else
	{
		if (ranged)
			return false;
		for (i = 0; i < n && ids[i] != booking_id; i++)
			;
		if (i == n)
		{
			/* not among them (changed since): read again first, and reported */
			int64	   *with = palloc(sizeof(int64) * (n + 1));
			HeapTuple  *with_tuples = palloc(sizeof(HeapTuple) * (n + 1));

			with[0] = booking_id;
			memcpy(with + 1, ids, sizeof(int64) * n);
			with_tuples[0] = NULL;
			memcpy(with_tuples + 1, tuples, sizeof(HeapTuple) * n);
			ids = with;
			tuples = with_tuples;
			n++;
		}
	}
	judge.has_token = !PG_ARGISNULL(1);
	judge.token = judge.has_token ? PG_GETARG_UUID_P(1) : NULL;
	judge.digested = false;
	judge.digest = (Datum) 0;
	judge.verb = verb;
	how.unlocked = true;
	how.only_from = status_is_held;
	how.must_id = booking_id;
	how.judge = judge_hold;
	how.judge_arg = &judge;
	how.seen = tuples;
	if (!direct_update_bookings(pair, ids, n, &how, store, &updated))
		return false;
	if (updated < 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("booking %lld does not exist", (long long) booking_id)));
	return true;
}

/*
 * confirm() and release(): the hold locked and checked (token, live, 55000 naming a status
 * that is over), its group locked with it, and one UPDATE setting set_clause on the row or the
 * group.  With approves, a pending booking is approved, one row, no token needed.
 */
static Datum
resolve_hold(FunctionCallInfo fcinfo, const char *verb, SPIPlanPtr *plans, const char *set_clause,
			 bool approves, const DirectChange *change)
{
	Tuplestorestate *store;
	HoldRow		row;
	Datum		args[2];
	char		nulls[2];
	int64	   *group_resources;
	int64	   *group_rows = NULL;
	int			ngroup = 0;
	bool		group_locked;
	int64		booking_id = booking_call_begin(fcinfo, &store);
	DirectChange how = *change;
	int			updated;

	if (resolve_unlocked(fcinfo, booking_id, change, verb, store))
	{
		SPI_finish();
		return (Datum) 0;
	}
	ngroup = lock_hold_grouped(booking_id, &row, &group_resources, &group_rows, &group_locked);
	if (approves && strcmp(row.status, "pending") == 0)
	{
		row.has_group = false;	/* an approval is of one row */
		ngroup = 0;
	}
	else
	{
		check_hold(&row, fcinfo, 1, verb);
		if (!group_locked)
			ngroup = lock_group(&row, &group_resources, &group_rows);
	}
	/* the rows are locked: straight through the table AM where nothing needs the statement */
	how.only_from = row.has_group ? status_is_held : NULL;
	if (!direct_update_bookings(pair_by_id(BOOKING_OWN_PAIR),
								row.has_group ? group_rows : &booking_id,
								row.has_group ? ngroup : 1, &how, store, &updated))
	{
		/* the statement changes a group's rows in any order: their locks first, ascending */
		if (ngroup > 0)
			lock_resources(pair_by_id(BOOKING_OWN_PAIR), group_resources, ngroup);
		update_and_return(hold_update_plan(plans, set_clause, false, &row, args, nulls), args,
						  nulls, store);
	}
	else if (updated < 1)
		elog(ERROR, "updating the booking failed: no row");
	SPI_finish();
	return (Datum) 0;
}

/*
 * confirm(booking_id, hold_token) returns setof booking.booking
 *
 * A held booking becomes confirmed with its hold token; a pending one (awaiting approval) is
 * approved, no token needed.  Anything else: 55000 naming its status.
 */
Datum
booking_confirm(PG_FUNCTION_ARGS)
{
	DirectChange change = {.state = STATE_CONFIRMED, .clear_expiry = true, .clear_digest = true};

	return resolve_hold(fcinfo, "confirmed", confirm_plan,
						"status = 'confirmed', expires_at = NULL, hold_token_digest = NULL", true,
						&change);
}

/*
 * release(booking_id, hold_token) returns setof booking.booking
 *
 * Gives a hold up before its time: the row becomes cancelled and its spots are free at once.
 */
Datum
booking_release(PG_FUNCTION_ARGS)
{
	DirectChange change = {.state = STATE_CANCELLED, .clear_digest = true};

	return resolve_hold(fcinfo, "released", release_plan,
						"status = 'cancelled', hold_token_digest = NULL", false, &change);
}

/*
 * extend(booking_id, hold_token, by) returns setof booking.booking
 *
 * Moves a live hold's expires_at later by `by` (NULL: the resource's hold_ttl), as long as the
 * hold's whole life, from its creation, stays within the resource's max_hold (22023 beyond).
 */
Datum
booking_extend(PG_FUNCTION_ARGS)
{
	int64		booking_id;
	Tuplestorestate *store;
	HoldRow		row;
	Datum		by;
	Datum		max_hold;
	bool		no_max;
	Datum		ttl;
	Datum		new_expiry;
	Datum		args[2];
	char		nulls[2];
	SPIPlanPtr	plan;
	AttemptRecord rec;
	int64	   *group_resources;
	int			ngroup;
	bool		group_locked;
	int			i;

	booking_id = booking_call_begin(fcinfo, &store);
	ngroup = lock_hold_grouped(booking_id, &row, &group_resources, NULL, &group_locked);
	check_hold(&row, fcinfo, 1, "extended");
	read_hold_rule(row.resource_id, &max_hold, &no_max, &ttl);
	by = PG_ARGISNULL(2) ? ttl : PG_GETARG_DATUM(2);
	if (by == (Datum) 0 || !interval_positive(by))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a hold is extended by a positive interval"),
				 errdetail("by is %s.", by == (Datum) 0 ? "NULL"
						   : DatumGetCString(DirectFunctionCall1(interval_out, by)))));
	new_expiry = DirectFunctionCall2(timestamptz_pl_interval,
									 TimestampTzGetDatum(row.expires_at), by);
	/* the hold's whole life within the max_hold of its resource, of every one for a group */
	if (!group_locked)
		ngroup = lock_group(&row, &group_resources, NULL);
	if (ngroup > 0)
		lock_resources(pair_by_id(BOOKING_OWN_PAIR), group_resources, ngroup);
	for (i = -1; i < ngroup; i++)
	{
		int64		rid = i < 0 ? row.resource_id : group_resources[i];

		if (i >= 0)
			read_hold_rule(rid, &max_hold, &no_max, &ttl);
		if (!no_max)
		{
			Datum		limit = DirectFunctionCall2(timestamptz_pl_interval,
													TimestampTzGetDatum(row.created_at), max_hold);

			if (DatumGetTimestampTz(new_expiry) > DatumGetTimestampTz(limit))
				report_too_long(rid,
								DirectFunctionCall2(timestamp_mi, new_expiry,
													TimestampTzGetDatum(row.created_at)),
								max_hold);
		}
	}
	plan = hold_update_plan(extend_plan, "expires_at = $2", true, &row, args, nulls);
	args[1] = new_expiry;
	update_and_return(plan, args, nulls, store);

	memset(&rec, 0, sizeof(rec));
	rec.action = "extend";
	rec.holder = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							  SPI_fnumber(SPI_tuptable->tupdesc, "holder"));
	rec.resource_id = row.resource_id;
	rec.spots = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											SPI_fnumber(SPI_tuptable->tupdesc, "spots"), &no_max));
	rec.during = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							   SPI_fnumber(SPI_tuptable->tupdesc, "during"), &rec.during_null);
	rec.ok = true;
	rec.booking_id = booking_id;
	rec.status = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							   SPI_fnumber(SPI_tuptable->tupdesc, "status"), &rec.status_null);
	audit_attempt(&rec);

	SPI_finish();
	return (Datum) 0;
}

/*
 * expire_holds(max) returns integer
 *
 * Marks expired up to max holds whose time has passed, resource by resource in ascending id
 * order, each under the resource's advisory lock as an admission would take it; holds that
 * another transaction has locked (a confirm in flight) are left to it.  Returns how many
 * expired.  For pg_cron: nothing depends on it running.
 */
Datum
booking_expire_holds(PG_FUNCTION_ARGS)
{
	BookingPair *pair = pair_by_id(BOOKING_OWN_PAIR);
	int32		max;
	int64		done = 0;
	int64	   *ids;
	uint64		n;
	uint64		i;
	int			ret;

	require_arg(fcinfo, 0, "max");
	max = PG_GETARG_INT32(0);
	if (max < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max must not be negative"),
				 errdetail("max is %d.", max)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	kept_plan(&due_plan,
			  "SELECT resource_id FROM " BOOKING_SCHEMA ".queue"
			  " WHERE NOT waiting AND due <= pg_catalog.now()"
			  " UNION SELECT r.id FROM " BOOKING_SCHEMA ".resource r"
			  " JOIN " BOOKING_SCHEMA ".booking b ON b.id = r.hold_id AND b.resource_id = r.id"
			  " AND b.status = 'held'"
			  " WHERE r.hold_due <= pg_catalog.now() ORDER BY 1",
			  0, NULL);
	ret = spi_execute_as(pair->child_owner, due_plan, NULL, NULL, false, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "listing holds failed: %s", SPI_result_code_string(ret));
	ids = spi_int64_column(1, &n);
	for (i = 0; i < n && done < max; i++)
	{
		CHECK_FOR_INTERRUPTS();
		lock_resource(pair, ids[i]);
		done += (int64) engine_expire_holds(pair, ids[i], (int32) (max - done));
	}
	SPI_finish();
	PG_RETURN_INT32((int32) done);
}
