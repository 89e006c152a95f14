/*
 * audit.c
 *		Writes booking.attempt: who asked for what, when, and what came of it.
 *
 * The row is written in the caller's transaction, refusals included: book_slot() returns a
 * refusal instead of raising it, so the refusal's audit row commits with whatever else the
 * caller commits.  booking.audit = off (superuser only) skips the write.
 *
 * The audit is written by the engine, not by the caller: callers need no privilege on
 * booking.attempt, and so cannot forge or erase its rows.  As shipped the table is append-only
 * with no index, trigger or CHECK, and the row goes straight into it through the table access
 * method, which costs a small fraction of an INSERT statement (executor start-up, projection of
 * defaults, shutdown) on the hot path of every booking.  Should a DBA add an index, a trigger, a
 * constraint or a column, the engine notices and writes the row with an INSERT statement as
 * the table's owner instead, so that whatever was added is honoured.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "audit.h"
#include "pair.h"

bool		booking_audit_enabled = true;

/* booking.attempt's columns, in order, as the install script creates them. */
static const char *const attempt_columns[] = {
	"id", "at", "role", "action", "holder", "resource_id", "spots", "during", "ok", "reason",
	"booking_id", "status", "idempotency_key"
};
#define ATTEMPT_NATTS lengthof(attempt_columns)

static SPIPlanPtr attempt_plan = NULL;

/* booking.attempt and its identity sequence, looked up once; forgotten when the table changes. */
static Oid	attempt_relid = InvalidOid;
static Oid	attempt_seqid = InvalidOid;
static int	attempt_plain = -1;	/* attempt_is_plain() of it, -1: not yet asked */

/*
 * The slots the rows go into the table from on the direct way, kept between calls: a copy of the
 * table's row type (not the relcache's, which a slot kept past the transaction must not pin) and
 * as many slots as the largest call needed, in TopMemoryContext.  Each row is formed in its
 * slot's memory and owned by the slot, so that the insert takes it as it is (a virtual slot's
 * values would be copied into the slot and then formed into a row again), and a row left in a
 * slot by a failed call is freed by the slot's next use.  Marked stale when the table changes
 * and made again by the next call, never freed from inside a callback (a call may be using
 * them).
 */
static TupleDesc attempt_desc = NULL;
static TupleTableSlot **attempt_slots = NULL;
static int	nattempt_slots = 0;
static bool attempt_slots_stale = false;

/* The current user's name, as the rows' role; forgotten when a role changes. */
static Oid	role_oid = InvalidOid;
static Datum role_name = (Datum) 0;
static bool role_stale = false;

static void
attempt_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == attempt_relid)
	{
		attempt_relid = InvalidOid;
		attempt_seqid = InvalidOid;
		attempt_plain = -1;
		attempt_slots_stale = true;
	}
}

static void
role_syscache_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	role_stale = true;
}

static void audit_xact_callback(XactEvent event, void *arg);
static void audit_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								   SubTransactionId parentSubid, void *arg);

void
audit_init(void)
{
	CacheRegisterRelcacheCallback(attempt_relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, role_syscache_callback, (Datum) 0);
	RegisterXactCallback(audit_xact_callback, NULL);
	RegisterSubXactCallback(audit_subxact_callback, NULL);
}

/*
 * Whether the row may go straight into the table: nothing on it that an INSERT statement would
 * run (index, trigger, constraint, default of an added column) and the columns as shipped.
 */
static bool
attempt_is_plain(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	if (RelationGetForm(rel)->relhasindex || rel->trigdesc != NULL ||
		RelationGetForm(rel)->relrowsecurity ||
		(desc->constr != NULL && desc->constr->num_check > 0) ||
		desc->natts != (int) ATTEMPT_NATTS)
		return false;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || strcmp(NameStr(att->attname), attempt_columns[i]) != 0)
			return false;
	}
	return true;
}

/*
 * The ids of one call's rows.  The identity sequence steps by a block (64 as shipped): one
 * nextval() reserves that many ids, and the call numbers its rows within the block, so that a
 * call's rows get consecutive ids for one draw from the sequence instead of one draw each.  The
 * ids still follow the order rows were written in: a block is drawn while the call holds the
 * locks that order its rows, as a single id was.  A sequence that steps by less than 2 (a DBA's
 * ALTER SEQUENCE) makes every row draw its own id, as a plain identity column does.
 */
typedef struct AttemptIds
{
	Oid			seqid;
	int64		step;			/* ids a draw reserves; 1 when the sequence is not ascending */
	int64		next;			/* the next id of the block drawn */
	int64		left;			/* ids left in it */
} AttemptIds;

static void
attempt_ids_start(AttemptIds *ids, Oid seqid)
{
	HeapTuple	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(seqid));

	ids->seqid = seqid;
	ids->step = 1;
	if (HeapTupleIsValid(tup))
	{
		Form_pg_sequence seq = (Form_pg_sequence) GETSTRUCT(tup);

		if (seq->seqincrement > 1)
			ids->step = seq->seqincrement;
		ReleaseSysCache(tup);
	}
	ids->left = 0;
}

static int64
attempt_next_id(AttemptIds *ids)
{
	if (ids->left == 0)
	{
		ids->next = nextval_internal(ids->seqid, false);
		ids->left = ids->step;
	}
	ids->left--;
	return ids->next++;
}

/* The values of one attempt row, in the table's column order; role is the current user's name. */
static void
attempt_values(const AttemptRecord *rec, AttemptIds *ids, Datum role, Datum *values, bool *nulls)
{
	memset(nulls, false, sizeof(bool) * ATTEMPT_NATTS);
	values[0] = Int64GetDatum(attempt_next_id(ids));
	values[1] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[2] = role;
	values[3] = CStringGetTextDatum(rec->action);
	if (rec->holder != NULL)
		values[4] = CStringGetTextDatum(rec->holder);
	else
		nulls[4] = true;
	values[5] = Int64GetDatum(rec->resource_id);
	values[6] = Int32GetDatum(rec->spots);
	values[7] = rec->during;
	nulls[7] = rec->during_null;
	values[8] = BoolGetDatum(rec->ok);
	if (rec->reason != NULL)
		values[9] = CStringGetTextDatum(rec->reason);
	else
		nulls[9] = true;
	values[10] = Int64GetDatum(rec->booking_id);
	nulls[10] = rec->booking_id == 0;
	values[11] = rec->status;
	nulls[11] = rec->status_null;
	if (rec->idempotency_key != NULL)
		values[12] = CStringGetTextDatum(rec->idempotency_key);
	else
		nulls[12] = true;
}

/*
 * Rows of one call differ, as a rule, only in fixed-width columns: the id, the time, the
 * resource, the spots, ok, the booking and its status.  Such a row is the first row's copy with
 * those columns written over (forming each one from its values would walk every column again).
 * Two records "share a shape" when every column is null in both or in neither and their text
 * and range columns are equal byte for byte: the copy then has the first row's null bitmap and
 * layout, and the fixed-width columns sit at the same offsets.
 */
static const int attempt_patched[] = {0, 1, 5, 6, 8, 10, 11};	/* id, at, resource_id, spots,
																 * ok, booking_id, status */

static bool
same_text(const char *a, const char *b)
{
	return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

static bool
same_shape(const AttemptRecord *a, const bool *a_nulls, const AttemptRecord *b,
		   const bool *b_nulls)
{
	if (memcmp(a_nulls, b_nulls, sizeof(bool) * ATTEMPT_NATTS) != 0 ||
		!same_text(a->action, b->action) || !same_text(a->holder, b->holder) ||
		!same_text(a->reason, b->reason) || !same_text(a->idempotency_key, b->idempotency_key))
		return false;
	return a->during_null || a->during == b->during ||
		datumIsEqual(a->during, b->during, false, -1);
}

/*
 * Whether the columns written over are passed by value here (int8 and timestamptz are not on a
 * 32-bit build, whose rows are then formed each on its own).
 */
static bool
attempt_patchable(TupleDesc desc)
{
	int			k;

	for (k = 0; k < (int) lengthof(attempt_patched); k++)
		if (!TupleDescAttr(desc, attempt_patched[k])->attbyval)
			return false;
	return true;
}

/* A copy of the first row with the patched columns of values written over it. */
static HeapTuple
attempt_patch(TupleDesc desc, HeapTuple first, const int *offsets, const Datum *values,
			  const bool *nulls)
{
	HeapTuple	copy = heap_copytuple(first);
	char	   *data = (char *) copy->t_data + copy->t_data->t_hoff;
	int			k;

	for (k = 0; k < (int) lengthof(attempt_patched); k++)
	{
		int			i = attempt_patched[k];
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (nulls[i])
			continue;
		Assert(att->attbyval && offsets[i] >= 0);
		store_att_byval(data + offsets[i], values[i], att->attlen);
	}
	return copy;
}

/*
 * The general path: an INSERT statement run as the table's owner.  The plan binds every column,
 * so that the row reads the same whichever path wrote it.
 */
static void
insert_with_statement(Relation rel, Datum *values, bool *nulls)
{
	char		spi_nulls[ATTEMPT_NATTS];
	Oid			save_userid;
	int			save_sec;
	int			ret;
	int			i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (attempt_plan == NULL || !SPI_plan_is_valid(attempt_plan))
	{
		Oid			types[ATTEMPT_NATTS] = {INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID,
			INT8OID, INT4OID, TSTZRANGEOID, BOOLOID, TEXTOID, INT8OID, InvalidOid, TEXTOID};
		SPIPlanPtr	plan;

		types[11] = TupleDescAttr(RelationGetDescr(rel), 11)->atttypid;
		plan = SPI_prepare("INSERT INTO " BOOKING_SCHEMA ".attempt"
						   " (id, at, role, action, holder, resource_id, spots, during, ok, reason,"
						   "  booking_id, status, idempotency_key)"
						   " OVERRIDING SYSTEM VALUE"
						   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
						   ATTEMPT_NATTS, types);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		if (attempt_plan != NULL)
			SPI_freeplan(attempt_plan);
		attempt_plan = plan;
	}
	for (i = 0; i < (int) ATTEMPT_NATTS; i++)
		spi_nulls[i] = nulls[i] ? 'n' : ' ';

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(RelationGetForm(rel)->relowner,
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	ret = SPI_execute_plan(attempt_plan, values, spi_nulls, false, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "writing booking.attempt failed: %s", SPI_result_code_string(ret));
	SPI_finish();
}

/* The current user's name as a text datum, looked up again only when it or a role changed. */
static Datum
current_role_name(void)
{
	Oid			user = GetUserId();

	if (role_stale || user != role_oid)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		if (role_name != (Datum) 0)
			pfree(DatumGetPointer(role_name));
		role_name = (Datum) 0;
		role_oid = InvalidOid;
		role_stale = false;
		role_name = CStringGetTextDatum(GetUserNameFromId(user, false));
		role_oid = user;
		MemoryContextSwitchTo(old);
	}
	return role_name;
}

/* At least n slots for rows of rel (plain, as attempt_is_plain() found it). */
static TupleTableSlot **
attempt_slots_for(Relation rel, int n)
{
	MemoryContext old;

	if (attempt_slots_stale)
	{
		int			i;

		for (i = 0; i < nattempt_slots; i++)
			ExecDropSingleTupleTableSlot(attempt_slots[i]);
		if (attempt_slots != NULL)
			pfree(attempt_slots);
		if (attempt_desc != NULL)
			FreeTupleDesc(attempt_desc);
		attempt_slots = NULL;
		nattempt_slots = 0;
		attempt_desc = NULL;
		attempt_slots_stale = false;
	}
	if (nattempt_slots >= n)
		return attempt_slots;
	old = MemoryContextSwitchTo(TopMemoryContext);
	if (attempt_desc == NULL)
		attempt_desc = CreateTupleDescCopy(RelationGetDescr(rel));
	attempt_slots = attempt_slots == NULL ? palloc(sizeof(TupleTableSlot *) * n) :
		repalloc(attempt_slots, sizeof(TupleTableSlot *) * n);
	while (nattempt_slots < n)
		attempt_slots[nattempt_slots++] = MakeSingleTupleTableSlot(attempt_desc, &TTSOpsHeapTuple);
	MemoryContextSwitchTo(old);
	return attempt_slots;
}

/*
 * Rows given while the caller defers them (audit_defer()), kept until it ends: the records
 * point into the caller's memory, which lives that long.
 */
static int	defer_depth = 0;
static SubTransactionId defer_subid;	/* the (sub)transaction of the outermost audit_defer(true) */
static AttemptRecord *deferred = NULL;
static SubTransactionId *deferred_subid = NULL;	/* the (sub)transaction of each kept row */
static int	ndeferred = 0;
static int	deferred_size = 0;

/*
 * Appends the n attempt rows: as one multi-row insert where the table is plain (one WAL record
 * for the rows of a page, one buffer lock), else with a statement each.
 */
static void
write_attempts(const AttemptRecord *recs, int n)
{
	Oid			relid;
	Oid			seqid;
	Relation	rel;
	Datum		values[ATTEMPT_NATTS];
	bool		nulls[ATTEMPT_NATTS];
	Datum		role;
	AttemptIds	ids;
	int			i;

	relid = attempt_relid;
	if (!OidIsValid(relid))
		relid = get_relname_relid("attempt", get_namespace_oid(BOOKING_SCHEMA, false));
	if (!OidIsValid(relid))
		elog(ERROR, "table booking.attempt is missing");
	rel = table_open(relid, RowExclusiveLock);
	seqid = attempt_seqid;
	if (!OidIsValid(seqid))
	{
		seqid = booking_identity_sequence(rel, 1);
		if (!OidIsValid(seqid))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column \"id\" of table booking.attempt is no longer an identity column")));
		attempt_relid = relid;
		attempt_seqid = seqid;
	}

	attempt_ids_start(&ids, seqid);
	/* the rows share their role, the current user's name */
	role = current_role_name();
	if (attempt_plain < 0)
		attempt_plain = attempt_is_plain(rel) ? 1 : 0;
	if (attempt_plain == 1)
	{
		TupleTableSlot **slots = attempt_slots_for(rel, n);
		bool		first_nulls[ATTEMPT_NATTS];
		int			offsets[ATTEMPT_NATTS];
		HeapTuple	first = NULL;

		for (i = 0; i < n; i++)
		{
			MemoryContext old;
			HeapTuple	tuple;
			TupleDesc	desc = slots[i]->tts_tupleDescriptor;

			ExecClearTuple(slots[i]);
			attempt_values(&recs[i], &ids, role, values, nulls);
			old = MemoryContextSwitchTo(slots[i]->tts_mcxt);
			if (first != NULL && same_shape(&recs[0], first_nulls, &recs[i], nulls))
				tuple = attempt_patch(desc, first, offsets, values, nulls);
			else
				tuple = heap_form_tuple(desc, values, nulls);
			MemoryContextSwitchTo(old);
			if (i == 0 && n > 1 && attempt_patchable(desc))
			{
				first = tuple;
				memcpy(first_nulls, nulls, sizeof(first_nulls));
				row_data_offsets(desc, first, desc->natts, offsets);
			}
			ExecStoreHeapTuple(tuple, slots[i], true);
		}
		if (n == 1)
			simple_table_tuple_insert(rel, slots[0]);
		else
			table_multi_insert(rel, slots, n, GetCurrentCommandId(true), 0, NULL);
		/* the rows are freed now */
		for (i = 0; i < n; i++)
			ExecClearTuple(slots[i]);
	}
	else
	{
		for (i = 0; i < n; i++)
		{
			attempt_values(&recs[i], &ids, role, values, nulls);
			insert_with_statement(rel, values, nulls);
		}
	}

	table_close(rel, NoLock);
}

/*
 * A copy of a record whose strings and range live as long as the (sub)transaction, for a row
 * kept until audit_defer(false): a trigger's record may point into memory its statement frees
 * row by row.  (A subtransaction that fails takes its copies with it, and its rows too.)
 */
static AttemptRecord
copy_record(const AttemptRecord *rec)
{
	MemoryContext old = MemoryContextSwitchTo(CurTransactionContext);
	AttemptRecord copy = *rec;

	copy.action = pstrdup(rec->action);
	copy.holder = rec->holder != NULL ? pstrdup(rec->holder) : NULL;
	copy.reason = rec->reason != NULL ? pstrdup(rec->reason) : NULL;
	copy.idempotency_key = rec->idempotency_key != NULL ? pstrdup(rec->idempotency_key) : NULL;
	if (!rec->during_null)
		copy.during = datumCopy(rec->during, false, -1);
	MemoryContextSwitchTo(old);
	return copy;
}

/*
 * Appends one attempt row, unless booking.audit is off; while the caller defers them, keeps it
 * for audit_defer(false).
 */
void
audit_attempt(const AttemptRecord *rec)
{
	if (!booking_audit_enabled)
		return;
	if (defer_depth > 0)
	{
		if (ndeferred == deferred_size)
		{
			deferred_size = Max(8, deferred_size * 2);
			deferred = deferred == NULL ?
				MemoryContextAlloc(TopMemoryContext, sizeof(AttemptRecord) * deferred_size) :
				repalloc(deferred, sizeof(AttemptRecord) * deferred_size);
			deferred_subid = deferred_subid == NULL ?
				MemoryContextAlloc(TopMemoryContext, sizeof(SubTransactionId) * deferred_size) :
				repalloc(deferred_subid, sizeof(SubTransactionId) * deferred_size);
		}
		deferred_subid[ndeferred] = GetCurrentSubTransactionId();
		deferred[ndeferred++] = copy_record(rec);
		return;
	}
	write_attempts(rec, 1);
}

/*
 * Several rows at once, in the order given (book_many()'s group): one multi-row insert.
 */
void
audit_attempts(const AttemptRecord *recs, int n)
{
	if (!booking_audit_enabled || n == 0)
		return;
	write_attempts(recs, n);
}

/*
 * With on, the rows of audit_attempt() are kept instead of written; with off, the kept ones are
 * written together, in the order they came (calls nest: the outermost off writes them).  Rows
 * kept when the (sub)transaction fails are forgotten with it, as their insert would have been
 * (audit_xact_callback).
 */
void
audit_defer(bool on)
{
	if (on)
	{
		if (defer_depth++ == 0)
			defer_subid = GetCurrentSubTransactionId();
		return;
	}
	Assert(defer_depth > 0);
	if (--defer_depth > 0)
		return;
	if (ndeferred > 0)
	{
		int			n = ndeferred;

		ndeferred = 0;
		write_attempts(deferred, n);
	}
}

static void
audit_forget_deferred(void)
{
	defer_depth = 0;
	ndeferred = 0;
}

static void
audit_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		audit_forget_deferred();
}

static void
audit_subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid,
					   void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB || defer_depth == 0)
		return;
	if (mySubid <= defer_subid)
		audit_forget_deferred();		/* the deferring call failed with it */
	else
	{
		/* a subtransaction inside the call: its rows (and its children's) go with it */
		int			kept = 0;
		int			i;

		for (i = 0; i < ndeferred; i++)
		{
			if (deferred_subid[i] < mySubid)
			{
				deferred_subid[kept] = deferred_subid[i];
				deferred[kept++] = deferred[i];
			}
		}
		ndeferred = kept;
	}
}
