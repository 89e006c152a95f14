/*
 * direct.c
 *		The engine's own writes and row locks of booking.booking, straight through the table AM.
 *
 * The statements that book_slot(), book_many(), confirm(), release(), extend() and cancel() would
 * run cost more in the executor's start-up than in the work itself: for an INSERT, a Result node
 * projecting all sixteen columns of booking.booking, a ModifyTable node, their tuple descriptors,
 * then their shutdown (in callgrind about 36,000 of a timeline admission's 248,000 instructions).
 * Where nothing on the table needs the executor, the work is done here instead, doing what the
 * statement would do and nothing else:
 *
 *	- a new row (direct_insert_*): the caller's INSERT privilege, the identity and the shipped
 *	  defaults, NOT NULL, the engine's guard (the same function its BEFORE INSERT trigger runs),
 *	  the heap insert and every index entry with its uniqueness check, then a new command id;
 *	- a change of status of rows the caller has locked (direct_update_bookings): UPDATE and
 *	  SELECT privileges, the row as it stands, the guard of the BEFORE UPDATE trigger, the heap
 *	  update and the index entries of a version that is not HOT, then what the AFTER trigger
 *	  does, row by row, as at the statement's end; or, unlocked (a pool hold's confirm), rows
 *	  not locked first: each written under its update's lock, then the guard, and one that
 *	  another transaction changed first locked at its newest version and judged again;
 *	- row locks (direct_lock_*): as SELECT ... FOR UPDATE, the rows the snapshot sees, their
 *	  newest versions judged again at READ COMMITTED, 40001 under a transaction snapshot.
 *
 * The direct way is only taken where it cannot skip anything: the extension's own pair, the
 * table with its columns as shipped (their names, order and defaults), no row-level security,
 * no CHECK constraint, no trigger that fires on the write but the engine's own (enabled, as
 * shipped, without a WHEN clause), and the session's replication role the default one (under
 * which those fire).  Anything else, and a caller without the privilege, takes the statement,
 * which then behaves (or fails) as it always did.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "audit.h"
#include "direct.h"
#include "engine.h"
#include "indexes.h"
#include "rowhint.h"
#include "waitlist.h"

/* booking.booking's columns as the install script creates them, in order. */
static const char *const booking_columns[] = {
	"id", "resource_id", "holder", "spots", "during", "status", "expires_at",
	"hold_token_digest", "group_id", "idempotency_key", "kind", "source", "external_id",
	"created_at", "updated_at", "meta"
};
#define BOOKING_NATTS (sizeof(booking_columns) / sizeof(booking_columns[0]))

/* the columns with a default, as shipped (id is an identity column) */
static const char *const booking_defaults[] = {
	"spots", "status", "kind", "created_at", "updated_at"
};

/* their indexes in a values array (attribute number - 1; see direct.h for the numbers) */
enum
{
	COL_ID, COL_RESOURCE, COL_HOLDER, COL_SPOTS, COL_DURING, COL_STATUS, COL_EXPIRES,
	COL_DIGEST, COL_GROUP, COL_KEY, COL_KIND, COL_SOURCE, COL_EXTERNAL, COL_CREATED,
	COL_UPDATED, COL_META
};

static bool
has_shipped_default(const char *name)
{
	int			i;

	for (i = 0; i < (int) lengthof(booking_defaults); i++)
		if (strcmp(booking_defaults[i], name) == 0)
			return true;
	return false;
}

/*
 * The table whose columns child_is_plain_shape() last found as shipped, until its relcache entry
 * is invalidated: any change to its columns, defaults or constraints invalidates it, and the
 * invalidation is read when the table is opened with a lock, before the check.
 */
static Oid	shape_checked_relid = InvalidOid;

static void
shape_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == shape_checked_relid)
		shape_checked_relid = InvalidOid;
}

/* Registers the invalidation callback; called once from _PG_init. */
void
direct_init(void)
{
	CacheRegisterRelcacheCallback(shape_relcache_callback, (Datum) 0);
}

/*
 * Whether the table is as shipped: the extension's own pair, its columns (names, order,
 * defaults), no row-level security, CHECK or generated column, and the session's replication
 * role the default one.  The columns are compared once per version of the table's relcache
 * entry, the rest at every call.
 */
static bool
child_is_plain_shape(BookingPair *pair, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	if (pair->id != BOOKING_OWN_PAIR || !OidIsValid(pair->key_sequence) ||
		!OidIsValid(pair->child_key_index) ||
		!OidIsValid(pair->guard_func) || !OidIsValid(pair->kind_booking) ||
		!OidIsValid(pair->state_enum[STATE_CONFIRMED]) ||
		rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relrowsecurity ||
		SessionReplicationRole != SESSION_REPLICATION_ROLE_ORIGIN ||
		desc->natts != (int) BOOKING_NATTS ||
		(desc->constr != NULL && (desc->constr->num_check > 0 || desc->constr->has_generated_stored)))
		return false;
	if (RelationGetRelid(rel) != shape_checked_relid)
	{
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (att->attisdropped || strcmp(NameStr(att->attname), booking_columns[i]) != 0)
				return false;
			if (i == COL_ID ? att->attidentity != ATTRIBUTE_IDENTITY_BY_DEFAULT :
				(att->attidentity != '\0' || att->atthasdef != has_shipped_default(booking_columns[i])))
				return false;
		}
		shape_checked_relid = RelationGetRelid(rel);
	}
	return rel->trigdesc != NULL;
}

/*
 * Whether an INSERT of this table would do nothing the direct way skips.  Checked on the open
 * relation at each call, so a trigger, policy or column added later is seen at once.
 */
static bool
child_is_plain(BookingPair *pair, Relation rel)
{
	bool		guarded = false;
	int			i;

	if (!child_is_plain_shape(pair, rel))
		return false;
	for (i = 0; i < rel->trigdesc->numtriggers; i++)
	{
		Trigger    *trig = &rel->trigdesc->triggers[i];

		if (!TRIGGER_FOR_INSERT(trig->tgtype) || trig->tgenabled == TRIGGER_DISABLED ||
			trig->tgenabled == TRIGGER_FIRES_ON_REPLICA)
			continue;			/* does not fire on an INSERT in this session */
		if (trig->tgfoid == pair->guard_func && TRIGGER_FOR_ROW(trig->tgtype) &&
			TRIGGER_FOR_BEFORE(trig->tgtype) && trig->tgqual == NULL && trig->tgnargs == 1 &&
			atoi(trig->tgargs[0]) == pair->id)
			guarded = true;
		else
			return false;		/* a trigger the statement would fire */
	}
	return guarded;
}

/* An open run of direct inserts (book_slot()'s row, or the rows of a book_many() group). */
struct DirectInserter
{
	BookingPair *pair;
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
};

DirectInserter *
direct_insert_begin(BookingPair *pair)
{
	Relation	rel = table_open(pair->child_relid, RowExclusiveLock);
	DirectInserter *di;

	if (!child_is_plain(pair, rel) ||
		pg_class_aclcheck(pair->child_relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
	{
		table_close(rel, NoLock);
		return NULL;
	}
	di = palloc(sizeof(DirectInserter));
	di->pair = pair;
	di->rel = rel;
	di->estate = CreateExecutorState();
	di->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(di->rri, rel, 1, NULL, 0);
	indexes_open(di->rri);
	di->slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsHeapTuple);
	return di;
}

void
direct_insert_row(DirectInserter *di, const DirectBooking *row, bool *inserted,
				  int64 *booking_id, Datum *status)
{
	BookingPair *pair = di->pair;
	Relation	rel = di->rel;
	TupleDesc	desc = RelationGetDescr(rel);
	Datum		values[BOOKING_NATTS];
	bool		nulls[BOOKING_NATTS];
	HeapTuple	tuple;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	int			i;

	memset(nulls, true, sizeof(nulls));
	values[COL_ID] = Int64GetDatum(nextval_internal(pair->key_sequence, false));
	values[COL_RESOURCE] = Int64GetDatum(row->resource_id);
	values[COL_HOLDER] = CStringGetTextDatum(row->holder);
	values[COL_SPOTS] = Int32GetDatum(row->spots);
	values[COL_DURING] = row->during;
	nulls[COL_DURING] = row->during_null;
	values[COL_STATUS] = ObjectIdGetDatum(pair->state_enum[row->state]);
	if (row->state == STATE_HELD)
	{
		values[COL_EXPIRES] = row->expires_at;
		nulls[COL_EXPIRES] = false;
		values[COL_DIGEST] = row->token_digest;
		nulls[COL_DIGEST] = false;
	}
	values[COL_GROUP] = Int64GetDatum(row->group_id);
	nulls[COL_GROUP] = row->group_id == 0;
	values[COL_KEY] = row->idempotency_key;
	nulls[COL_KEY] = row->idempotency_key_null;
	values[COL_KIND] = ObjectIdGetDatum(pair->kind_booking);
	values[COL_CREATED] = TimestampTzGetDatum(now);
	values[COL_UPDATED] = TimestampTzGetDatum(now);
	values[COL_META] = row->meta;
	nulls[COL_META] = row->meta_null;
	for (i = 0; i < (int) BOOKING_NATTS; i++)
	{
		if (i != COL_DURING && i != COL_EXPIRES && i != COL_DIGEST && i != COL_GROUP &&
			i != COL_KEY && i != COL_SOURCE && i != COL_EXTERNAL && i != COL_META)
			nulls[i] = false;	/* the values set above */
		if (nulls[i] && TupleDescAttr(desc, i)->attnotnull)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
							booking_columns[i], RelationGetRelationName(rel)),
					 errtablecol(rel, i + 1)));
	}
	tuple = heap_form_tuple(desc, values, nulls);

	*inserted = guard_insert(pair, rel, tuple);
	if (*inserted)
	{
		ExecStoreHeapTuple(tuple, di->slot, false);
		table_tuple_insert(rel, di->slot, GetCurrentCommandId(true), 0, NULL);
		(void) booking_insert_index_tuples(di->rri, di->slot, di->estate, false);
		rowhint_note(rel, DatumGetInt64(values[COL_ID]), &di->slot->tts_tid);
		ExecClearTuple(di->slot);
		*booking_id = DatumGetInt64(values[COL_ID]);
		*status = values[COL_STATUS];
	}
	/* what a statement ends with: its writes visible to what follows */
	CommandCounterIncrement();
}

void
direct_insert_end(DirectInserter *di)
{
	ExecDropSingleTupleTableSlot(di->slot);
	indexes_close(di->rri);
	FreeExecutorState(di->estate);
	table_close(di->rel, NoLock);
	pfree(di);
}

bool
direct_insert_booking(BookingPair *pair, const DirectBooking *row, bool *inserted,
					  int64 *booking_id, Datum *status)
{
	DirectInserter *di = direct_insert_begin(pair);

	if (di == NULL)
		return false;
	direct_insert_row(di, row, inserted, booking_id, status);
	direct_insert_end(di);
	return true;
}

/*
 * The row with this id as the snapshot sees it, at the address where it was last seen or else by
 * the primary key; NULL when there is none.
 */
static HeapTuple
visible_by_id(BookingPair *pair, Relation rel, int64 id, Snapshot snapshot)
{
	return rowhint_lookup(rel, pair->child_key_index, BOOKING_COL_ID, INT8OID, id, snapshot);
}

/*
 * Whether an UPDATE of this table would do nothing the direct way skips: as for an INSERT, with
 * the engine's two row triggers that fire on UPDATE (the guard before, the promotion after), as
 * shipped and without a WHEN clause, and no other.
 */
static bool
child_is_plain_for_update(BookingPair *pair, Relation rel)
{
	bool		guarded = false;
	bool		promoted = false;
	int			i;

	if (!child_is_plain_shape(pair, rel) || !OidIsValid(pair->promote_func) ||
		!OidIsValid(pair->queue_relid))
		return false;
	for (i = 0; i < rel->trigdesc->numtriggers; i++)
	{
		Trigger    *trig = &rel->trigdesc->triggers[i];

		if (!TRIGGER_FOR_UPDATE(trig->tgtype) || trig->tgenabled == TRIGGER_DISABLED ||
			trig->tgenabled == TRIGGER_FIRES_ON_REPLICA)
			continue;
		if (!TRIGGER_FOR_ROW(trig->tgtype) || trig->tgqual != NULL || trig->tgnargs != 1 ||
			trig->tgnattr != 0 || atoi(trig->tgargs[0]) != pair->id)
			return false;
		if (trig->tgfoid == pair->guard_func && TRIGGER_FOR_BEFORE(trig->tgtype))
			guarded = true;
		else if (trig->tgfoid == pair->promote_func && TRIGGER_FOR_AFTER(trig->tgtype))
			promoted = true;
		else
			return false;
	}
	return guarded && promoted;
}

static HeapTuple lock_for_update(Relation rel, ItemPointer tid, Snapshot snapshot,
								 LockTupleMode mode, TupleTableSlot *slot, bool *changed);

/*
 * Takes the version of a row apart into *reader and says whether the change applies to it: the
 * caller's judge (for must_id) first, then only_from.  Unlocked, a row with a range is 40001
 * (see DirectChange).
 */
static bool
row_accepted(BookingPair *pair, const DirectChange *change, TupleDesc desc, int64 id,
			 HeapTuple tuple, RowReader *reader)
{
	bool		isnull;
	Datum		status;

	/* the readers live in place (their values may point into themselves) */
	row_reader_init(reader, tuple, desc);
	if (change->unlocked)
	{
		(void) row_peek(reader, COL_DURING + 1, &isnull);
		if (!isnull)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent update"),
					 errdetail("Booking %lld was given a range while it was being changed.",
							   (long long) id)));
	}
	if (change->judge != NULL && id == change->must_id)
		change->judge(pair, tuple, desc, change->judge_arg);
	status = row_peek(reader, COL_STATUS + 1, &isnull);
	return change->only_from == NULL || change->only_from(pair, status, isnull);
}

bool
direct_update_bookings(BookingPair *pair, const int64 *ids, int n, const DirectChange *change,
					   Tuplestorestate *store, int *updated)
{
	Relation	rel = table_open(pair->child_relid, RowExclusiveLock);
	TupleDesc	desc = RelationGetDescr(rel);
	RowReader  *olds;			/* each row changed, before and after, taken apart once */
	RowReader  *news;
	TupleTableSlot *lock_slot = NULL;	/* for a row found changed (unlocked) */
	int			done = 0;
	int			i;
	int			cols[4];
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int			ncols = 0;

	if (!child_is_plain_for_update(pair, rel) ||
		pg_class_aclcheck(pair->child_relid, GetUserId(), ACL_UPDATE) != ACLCHECK_OK ||
		pg_class_aclcheck(pair->child_relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
	{
		table_close(rel, NoLock);
		return false;
	}

	cols[ncols] = COL_STATUS + 1;
	values[ncols++] = ObjectIdGetDatum(pair->state_enum[change->state]);
	cols[ncols] = COL_UPDATED + 1;
	values[ncols++] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	if (change->clear_expiry)
	{
		cols[ncols] = COL_EXPIRES + 1;
		nulls[ncols++] = true;
	}
	if (change->clear_digest)
	{
		cols[ncols] = COL_DIGEST + 1;
		nulls[ncols++] = true;
	}

	olds = palloc(sizeof(RowReader) * Max(n, 1));
	news = palloc(sizeof(RowReader) * Max(n, 1));
	audit_defer(true);			/* the rows' transitions audited in one insert, below */
	for (i = 0; i < n; i++)
	{
		HeapTuple	found;
		Snapshot	snapshot;
		TupleTableSlot *slot;
		booking_update_indexes_t update_indexes;

		/*
		 * The row as it stands now: where the caller holds its lock, no other transaction can
		 * have changed it, and what this one did before is seen.  Unlocked, the row as the
		 * transaction's snapshot sees it, which the update then finds changed or not.
		 */
		CommandCounterIncrement();
		snapshot = RegisterSnapshot(change->unlocked ? GetTransactionSnapshot() :
									GetLatestSnapshot());
		found = change->seen != NULL && change->seen[i] != NULL ? change->seen[i] :
			visible_by_id(pair, rel, ids[i], snapshot);
		if (found == NULL || !row_accepted(pair, change, desc, ids[i], found, &olds[done]))
		{
			UnregisterSnapshot(snapshot);
			continue;			/* as the statement's WHERE on status would leave it */
		}
		slot = pair_version_slot(rel);
		ExecStoreHeapTuple(row_reader_changed(&news[done], &olds[done], ncols, cols, values,
											  nulls),
						   slot, false);
		if (change->unlocked)
		{
			TM_FailureData tmfd;
			LockTupleMode lockmode;
			TM_Result	res = table_tuple_update(rel, &found->t_self, slot,
												 GetCurrentCommandId(true), snapshot,
												 InvalidSnapshot, true, &tmfd, &lockmode,
												 &update_indexes);

			if (res == TM_SelfModified)
				ereport(ERROR,
						(errcode(ERRCODE_TRIGGERED_DATA_CHANGE_VIOLATION),
						 errmsg("booking row was already modified by an operation triggered by the current command")));
			if (res != TM_Ok && res != TM_Updated && res != TM_Deleted)
				elog(ERROR, "unexpected result %d updating a booking row", (int) res);
			if (res == TM_Ok)
			{
				/* written as found: the guard judges the change (a refusal undoes it) */
				guard_update(pair, rel, &olds[done], &news[done]);
			}
			else
			{
				/* changed first by another: its newest version locked and judged again */
				HeapTuple	newest;
				bool		changed;

				if (lock_slot == NULL)
					lock_slot = table_slot_create(rel, NULL);
				newest = lock_for_update(rel, &found->t_self, snapshot, LockTupleExclusive,
										 lock_slot, &changed);
				if (newest == NULL ||
					!row_accepted(pair, change, desc, ids[i], newest, &olds[done]))
				{
					pair_version_slot_done(slot);
					UnregisterSnapshot(snapshot);
					continue;
				}
				ExecStoreHeapTuple(row_reader_changed(&news[done], &olds[done], ncols, cols,
													  values, nulls),
								   slot, false);
				guard_update(pair, rel, &olds[done], &news[done]);
				simple_table_tuple_update(rel, &newest->t_self, slot, snapshot, &update_indexes);
			}
		}
		else
		{
			guard_update(pair, rel, &olds[done], &news[done]);
			simple_table_tuple_update(rel, &found->t_self, slot, snapshot, &update_indexes);
		}
		rowhint_note_update(rel, ids[i], &slot->tts_tid, update_indexes);
		if (booking_update_needs_indexes(update_indexes))
			indexes_insert_entries(rel, slot, booking_update_only_summarizing(update_indexes));
		pair_version_slot_done(slot);
		UnregisterSnapshot(snapshot);
		done++;
	}
	if (lock_slot != NULL)
		ExecDropSingleTupleTableSlot(lock_slot);
	audit_defer(false);
	CommandCounterIncrement();

	/* then what the AFTER trigger does for each row, in order, as at the statement's end */
	for (i = 0; i < done; i++)
		waitlist_after_row(pair, rel, &olds[i], &news[i]);
	for (i = 0; i < done; i++)
	{
		tuplestore_puttuple(store, news[i].tuple);
		row_reader_done(&olds[i]);
		row_reader_done(&news[i]);
	}
	*updated = done;
	table_close(rel, NoLock);
	return true;
}

/*
 * Whether SELECT ... FOR UPDATE of this table would do nothing the direct way skips: the table
 * as shipped (no row-level security), and the caller's SELECT and UPDATE privileges on it.
 */
static bool
child_is_plain_for_lock(BookingPair *pair, Relation rel)
{
	return child_is_plain_shape(pair, rel) && OidIsValid(pair->group_index) &&
		pg_class_aclcheck(pair->child_relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK &&
		pg_class_aclcheck(pair->child_relid, GetUserId(), ACL_UPDATE) == ACLCHECK_OK;
}

/*
 * Locks the row at *tid in mode as a SELECT ... FOR UPDATE does: at READ COMMITTED its
 * newest version (*changed says whether that is another version than the snapshot's, whose
 * conditions the caller then judges again); under a transaction snapshot a newer version is a
 * serialization failure.  Returns a copy of the locked version, or NULL when the row is gone.
 * slot is one of rel's for the work (a group's rows share one), left empty.
 */
static HeapTuple
lock_for_update(Relation rel, ItemPointer tid, Snapshot snapshot, LockTupleMode mode,
				TupleTableSlot *slot, bool *changed)
{
	HeapTuple	locked = NULL;
	bool		should_free;

	/* a row changed by a later command of this transaction is left out, as the statement does */
	if (booking_lock_row(rel, tid, snapshot, mode, slot, changed) == TM_Ok)
	{
		bool		isnull;

		locked = heap_copytuple(ExecFetchSlotHeapTuple(slot, false, &should_free));
		rowhint_note_version(rel, DatumGetInt64(heap_getattr(locked, BOOKING_COL_ID,
															 RelationGetDescr(rel), &isnull)),
							 &slot->tts_tid);
	}
	ExecClearTuple(slot);
	return locked;
}


HeapTuple
direct_lock_booking(BookingPair *pair, int64 id, LockTupleMode mode, bool *done)
{
	Relation	rel = table_open(pair->child_relid, RowShareLock);
	Snapshot	snapshot;
	HeapTuple	seen;
	HeapTuple	locked = NULL;
	bool		changed;

	*done = child_is_plain_for_lock(pair, rel);
	if (!*done)
	{
		table_close(rel, NoLock);
		return NULL;
	}
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	seen = visible_by_id(pair, rel, id, snapshot);
	if (seen != NULL)
	{
		TupleTableSlot *slot = table_slot_create(rel, NULL);

		locked = lock_for_update(rel, &seen->t_self, snapshot, mode, slot, &changed);
		ExecDropSingleTupleTableSlot(slot);
	}
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
	return locked;
}

/* One row of a group found for locking. */
typedef struct GroupRow
{
	int64		resource_id;
	int64		id;
	ItemPointerData tid;
	HeapTuple	tuple;			/* a copy of the version seen, where not locked */
} GroupRow;

static int
cmp_group_row(const void *a, const void *b)
{
	const GroupRow *x = a;
	const GroupRow *y = b;

	if (x->resource_id != y->resource_id)
		return x->resource_id < y->resource_id ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Whether a row of the group is one the caller asked for: of the group, its status kept. */
static bool
group_row_kept(BookingPair *pair, TupleDesc desc, HeapTuple tuple, int64 group_id,
			   bool (*keep) (BookingPair *, Datum, bool))
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, BOOKING_COL_GROUP, desc, &isnull);

	if (isnull || DatumGetInt64(d) != group_id)
		return false;
	d = heap_getattr(tuple, BOOKING_COL_STATUS, desc, &isnull);
	return keep(pair, d, isnull);
}

/*
 * direct_lock_group() and direct_member_group_rows(): the group's rows the snapshot sees that
 * keep accepts, in ascending resource order, each locked (lock) or not; *ranged, if given, says
 * whether one of them has a range, and *member_seen, if given, is the member read (or NULL).
 */
static int
group_rows(BookingPair *pair, int64 *group_id, int64 member_id,
		   bool (*keep) (BookingPair *, Datum, bool), bool lock, int64 **ids,
		   int64 **resource_ids, HeapTuple **tuples, bool *ranged, HeapTuple *member_seen,
		   bool *done)
{
	Relation	rel = table_open(pair->child_relid, RowShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	Snapshot	snapshot;
	GroupRow   *rows;
	int			size = 8;
	int			n = 0;
	int			kept = 0;
	int			i;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	TupleTableSlot *slot;

	*done = child_is_plain_for_lock(pair, rel);
	if (!*done)
	{
		table_close(rel, NoLock);
		return 0;
	}
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	*ids = NULL;
	*resource_ids = NULL;
	if (*group_id == 0)
	{
		/* the group of a member, as the snapshot sees the member */
		HeapTuple	member = visible_by_id(pair, rel, member_id, snapshot);
		bool		isnull = true;
		Datum		d = member != NULL ? heap_getattr(member, BOOKING_COL_GROUP, desc, &isnull) : 0;

		if (member_seen != NULL)
			*member_seen = member;
		if (isnull)
		{
			UnregisterSnapshot(snapshot);
			table_close(rel, NoLock);
			return 0;
		}
		*group_id = DatumGetInt64(d);
	}

	/* the group's rows the snapshot sees, as the statement's WHERE picks them */
	rows = palloc(sizeof(GroupRow) * size);
	ScanKeyInit(&key, BOOKING_COL_GROUP, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(*group_id));
	scan = systable_beginscan(rel, pair->group_index, true, snapshot, 1, &key);
	while ((tuple = systable_getnext(scan)) != NULL)
	{
		bool		isnull;

		if (!group_row_kept(pair, desc, tuple, *group_id, keep))
			continue;
		if (n == size)
		{
			size *= 2;
			rows = repalloc(rows, sizeof(GroupRow) * size);
		}
		if (ranged != NULL)
		{
			(void) heap_getattr(tuple, COL_DURING + 1, desc, &isnull);
			*ranged |= !isnull;
		}
		rows[n].resource_id = DatumGetInt64(heap_getattr(tuple, BOOKING_COL_RESOURCE, desc, &isnull));
		rows[n].id = DatumGetInt64(heap_getattr(tuple, BOOKING_COL_ID, desc, &isnull));
		rows[n].tuple = lock ? NULL : heap_copytuple(tuple);
		rows[n++].tid = tuple->t_self;
	}
	systable_endscan(scan);

	/* locked in ascending resource order, as the statement's ORDER BY ... FOR UPDATE does */
	qsort(rows, n, sizeof(GroupRow), cmp_group_row);
	*ids = palloc(sizeof(int64) * Max(n, 1));
	*resource_ids = palloc(sizeof(int64) * Max(n, 1));
	if (!lock)
	{
		*tuples = palloc(sizeof(HeapTuple) * Max(n, 1));
		for (i = 0; i < n; i++)
		{
			(*ids)[i] = rows[i].id;
			(*resource_ids)[i] = rows[i].resource_id;
			(*tuples)[i] = rows[i].tuple;
		}
		UnregisterSnapshot(snapshot);
		table_close(rel, NoLock);
		return n;
	}
	slot = table_slot_create(rel, NULL);
	for (i = 0; i < n; i++)
	{
		bool		changed = false;
		HeapTuple	locked = lock_for_update(rel, &rows[i].tid, snapshot, LockTupleExclusive,
												 slot, &changed);

		/* a newer version is judged again, as the statement's recheck does */
		if (locked == NULL || (changed && !group_row_kept(pair, desc, locked, *group_id, keep)))
			continue;
		(*ids)[kept] = rows[i].id;
		(*resource_ids)[kept++] = rows[i].resource_id;
	}
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
	return kept;
}

int
direct_lock_group(BookingPair *pair, int64 *group_id, int64 member_id,
				  bool (*keep) (BookingPair *, Datum, bool), int64 **ids,
				  int64 **resource_ids, bool *done)
{
	return group_rows(pair, group_id, member_id, keep, true, ids, resource_ids, NULL, NULL, NULL,
					  done);
}

int
direct_member_group_rows(BookingPair *pair, int64 member_id,
						 bool (*keep) (BookingPair *, Datum, bool), HeapTuple *member,
						 int64 **ids, int64 **resource_ids, HeapTuple **tuples, bool *ranged,
						 bool *done)
{
	int64		group_id = 0;

	*ranged = false;
	*member = NULL;
	*ids = NULL;
	*resource_ids = NULL;
	*tuples = NULL;
	return group_rows(pair, &group_id, member_id, keep, false, ids, resource_ids, tuples, ranged,
					  member, done);
}

HeapTuple
direct_read_booking(BookingPair *pair, int64 id, bool *done)
{
	Relation	rel = table_open(pair->child_relid, AccessShareLock);
	Snapshot	snapshot;
	HeapTuple	seen = NULL;

	*done = child_is_plain_for_lock(pair, rel);
	if (*done)
	{
		CommandCounterIncrement();
		snapshot = RegisterSnapshot(GetTransactionSnapshot());
		seen = visible_by_id(pair, rel, id, snapshot);
		UnregisterSnapshot(snapshot);
	}
	table_close(rel, NoLock);
	return seen;
}

/* A status of booking.booking as its label (the shipped enum has only the engine's states). */
const char *
direct_state_name(BookingPair *pair, Datum status, bool isnull)
{
	BookingState state = pair_state(pair, status, isnull);

	return state < NUM_STATES ? state_names[state] : "unknown";
}
