/*
 * counter.c
 *		Changing a resource's reserved-spots counter: the one write every booking makes.
 *
 * Taking spots is a conditional change (only where counter + spots <= capacity), giving them
 * back an unconditional one; both run under the resource's row lock, which is what keeps the
 * counter right under any concurrency.  There are two ways to make the change, with the same
 * semantics as an UPDATE statement:
 *
 *	- direct: find the row through the key's unique index, lock its newest version
 *	  (READ COMMITTED) or fail with 40001 if it changed after the transaction's snapshot
 *	  (REPEATABLE READ and SERIALIZABLE, as UPDATE does), check, and write the new version through
 *	  the table access method, inserting index entries when the update is not HOT.  This costs a
 *	  fraction of an UPDATE statement run through SPI (executor start-up and shutdown dominate
 *	  that: about 88,000 of a booking's 294,000 instructions in callgrind, against about 20,000
 *	  this way).
 *	- statement: the pair's kept UPDATE plan, run as the table's owner.
 *
 * The direct way is only taken where it cannot skip anything an UPDATE statement would do: the
 * parent is a plain table with no trigger on UPDATE but the engine's own guard and those of
 * foreign keys that reference it (they act only on key changes), no row-level
 * security, no CHECK constraint, no generated column, a unique single-column btree index on an
 * integer key and integer capacity and counter columns.  Anything else, such as an application
 * table with its own triggers, takes the statement.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "api.h"
#include "counter.h"
#include "engine.h"
#include "holder_limits.h"
#include "indexes.h"
#include "rowhint.h"

/*
 * Whether the direct way skips nothing an UPDATE of this parent would do.  Checked on the open
 * relation at each call, so a trigger or constraint added later is seen at once.
 */
static bool
parent_is_plain(BookingPair *pair, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	if (!OidIsValid(pair->parent_key_index) ||
		pair->capacity_att == InvalidAttrNumber || pair->counter_att == InvalidAttrNumber ||
		pair->timeline_const ||
		rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_rel->relrowsecurity ||
		(desc->constr != NULL && (desc->constr->num_check > 0 || desc->constr->has_generated_stored)))
		return false;
	if (TupleDescAttr(desc, pair->capacity_att - 1)->atttypid != INT4OID ||
		TupleDescAttr(desc, pair->counter_att - 1)->atttypid != INT4OID)
		return false;
	if (rel->trigdesc != NULL)
	{
		for (i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *trig = &rel->trigdesc->triggers[i];

			/*
			 * The engine's own guard lets the engine by, and its promote trigger acts only when
			 * capacity rises; a foreign key's triggers on the referenced side only act when the
			 * key changes.  A counter write does neither.  Any other trigger on UPDATE must see
			 * the write.
			 */
			if (TRIGGER_FOR_UPDATE(trig->tgtype) && trig->tgenabled != TRIGGER_DISABLED &&
				trig->tgfoid != pair->parent_guard_func &&
				trig->tgfoid != pair->promote_func &&
				RI_FKey_trigger_type(trig->tgfoid) != RI_TRIGGER_PK)
				return false;
		}
	}
	return true;
}

/*
 * The direct way.  Returns the outcome; *capacity and *reserved are the figures after a change,
 * or as they stand when refused.
 */
/* The resource's timeline flag in a row of the parent (false when the pair has none). */
static bool
row_is_timeline(BookingPair *pair, RowReader *row)
{
	bool		isnull;
	Datum		d;

	if (pair->timeline_att == InvalidAttrNumber)
		return false;
	d = row_read(row, pair->timeline_att, &isnull);
	return !isnull && DatumGetBool(d);
}

/*
 * Locks the row at tid in mode as a locking statement does: at READ COMMITTED its newest version
 * (*traversed says whether that is another version than tid's); under a transaction snapshot a
 * newer version is a serialization failure (40001).  Returns TM_Ok with the locked version in
 * slot, TM_Deleted when the row is gone, or TM_SelfModified when a later command of this
 * transaction changed it.  Shared by the counter's lock and direct.c's row locks.
 */
TM_Result
booking_lock_row(Relation rel, ItemPointer tid, Snapshot snapshot, LockTupleMode mode,
				 TupleTableSlot *slot, bool *traversed)
{
	TM_FailureData tmfd;
	TM_Result	res;

	*traversed = false;
	res = table_tuple_lock(rel, tid, snapshot, slot, GetCurrentCommandId(true), mode,
						   LockWaitBlock,
						   IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
						   &tmfd);
	switch (res)
	{
		case TM_Ok:
			*traversed = tmfd.traversed;
			return TM_Ok;
		case TM_Updated:
		case TM_Deleted:
			if (IsolationUsesXactSnapshot())
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent %s",
								res == TM_Updated ? "update" : "delete")));
			/* at READ COMMITTED an update is followed: what is left is a deletion */
			return TM_Deleted;
		case TM_SelfModified:
			return TM_SelfModified;
		default:
			elog(ERROR, "unexpected result %d locking a row of %s", (int) res,
				 RelationGetRelationName(rel));
	}
	pg_unreachable();
}

/*
 * Locks the row at *tid FOR NO KEY UPDATE, as UPDATE does (booking_lock_row()).  Returns a slot
 * holding the locked version (its tid in *tid), or NULL when the resource is gone (deleted, or
 * its newest version has another key).
 */
static TupleTableSlot *
lock_newest(BookingPair *pair, Relation rel, ItemPointer tid, Snapshot snapshot,
			int64 resource_id)
{
	TupleTableSlot *locked = table_slot_create(rel, NULL);
	Datum		keyval;
	bool		isnull;
	int64		current_key;
	bool		traversed;

	switch (booking_lock_row(rel, tid, snapshot, LockTupleNoKeyExclusive, locked, &traversed))
	{
		case TM_Ok:
			break;
		case TM_SelfModified:
			ereport(ERROR,
					(errcode(ERRCODE_TRIGGERED_DATA_CHANGE_VIOLATION),
					 errmsg("resource row was already modified by an operation triggered by the current command")));
			break;
		default:
			/* deleted at READ COMMITTED: the resource is gone */
			ExecDropSingleTupleTableSlot(locked);
			return NULL;
	}
	*tid = locked->tts_tid;

	/* The newest version may have moved to another key; then this resource is gone. */
	keyval = slot_getattr(locked, pair->parent_key_att, &isnull);
	current_key = pair->parent_key_type == INT8OID ? DatumGetInt64(keyval)
		: (int64) DatumGetInt32(keyval);
	if (isnull || current_key != resource_id)
	{
		ExecDropSingleTupleTableSlot(locked);
		return NULL;
	}
	return locked;
}

/*
 * Resources whose row this transaction last wrote with a count of waitlisted rows of 0, under
 * their advisory lock (which counter_apply()'s callers hold).  Until the transaction ends, only
 * this transaction can change that count, and only through engine_shift_waiting(), which forgets
 * them all, as does the end of the transaction or of a subtransaction that fails (its advisory
 * locks go with it).  So a cancel that has just lowered a counter knows, without reading the row
 * again, that nobody waits there (counter_anyone_waiting()).  A few entries: a group's seats.
 */
#define NOBODY_WAITS_SLOTS 16

typedef struct NobodyWaits
{
	Oid			relid;
	int64		resource_id;
} NobodyWaits;

static NobodyWaits nobody_waits[NOBODY_WAITS_SLOTS];
static int	nobody_waits_n = 0;
static int	nobody_waits_next = 0;

void
counter_forget_waiting(void)
{
	nobody_waits_n = 0;
	nobody_waits_next = 0;
}

static int
nobody_waits_find(Oid relid, int64 resource_id)
{
	int			i;

	for (i = 0; i < nobody_waits_n; i++)
		if (nobody_waits[i].relid == relid && nobody_waits[i].resource_id == resource_id)
			return i;
	return -1;
}

/* Remembers what the version of a resource's row just written says of its waiting rows. */
static void
nobody_waits_note(Oid relid, int64 resource_id, bool nobody)
{
	int			i = nobody_waits_find(relid, resource_id);

	if (i >= 0)
	{
		if (!nobody)
		{
			/* the last entry takes its place */
			nobody_waits[i] = nobody_waits[nobody_waits_n - 1];
			nobody_waits_n--;
			if (nobody_waits_next > nobody_waits_n)
				nobody_waits_next = nobody_waits_n;
		}
		return;
	}
	if (!nobody)
		return;
	if (nobody_waits_n < NOBODY_WAITS_SLOTS)
		i = nobody_waits_n++;
	else
	{
		i = nobody_waits_next;
		nobody_waits_next = (nobody_waits_next + 1) % NOBODY_WAITS_SLOTS;
	}
	nobody_waits[i].relid = relid;
	nobody_waits[i].resource_id = resource_id;
}

/*
 * Whether a resource's count of waitlisted rows, as a version of its row holds it (value, isnull),
 * lets rows wait there: above zero, or unknown (the pair keeps no count, or it is NULL).
 */
static bool
count_lets_wait(BookingPair *pair, Datum value, bool isnull)
{
	return pair->waiting_att == InvalidAttrNumber || isnull || DatumGetInt32(value) != 0;
}

static bool
row_may_have_waiting(BookingPair *pair, RowReader *row)
{
	bool		isnull = true;
	Datum		d = (Datum) 0;

	if (pair->waiting_att != InvalidAttrNumber)
		d = row_read(row, pair->waiting_att, &isnull);
	return count_lets_wait(pair, d, isnull);
}

/*
 * Finds the version of a resource's row that the snapshot sees: at the address where it was
 * last seen, or else through the key's unique index.  Returns false when there is none.  With
 * tuple, *tuple is a copy of it.
 */
static bool
find_visible(BookingPair *pair, Relation rel, int64 resource_id, Snapshot snapshot,
			 ItemPointer tid, HeapTuple *tuple)
{
	HeapTuple	found = rowhint_lookup(rel, pair->parent_key_index, pair->parent_key_att,
									   pair->parent_key_type, resource_id, snapshot);

	if (found == NULL)
		return false;
	*tid = found->t_self;
	if (tuple != NULL)
		*tuple = found;
	else
		heap_freetuple(found);
	return true;
}

/*
 * The new version of a resource row, from the values set in the slot, kept there and owned by
 * the slot: the update takes it as it is, where a virtual slot's values would be copied once
 * into the slot and then again into the row the update writes.  Only the counter and the hold
 * slot change: where old (the version read) is given and their nulls stay as they were, the
 * new version is old's bytes with theirs written over (row_patched_copy()); else it is formed.
 */
static void
store_new_version(BookingPair *pair, TupleTableSlot *slot, HeapTuple old)
{
	TupleDesc	desc = slot->tts_tupleDescriptor;
	HeapTuple	tuple = NULL;
	MemoryContext oldcxt = MemoryContextSwitchTo(slot->tts_mcxt);	/* the slot's own row */

	if (old != NULL)
	{
		int			cols[3];
		Datum		values[3];
		bool		nulls[3];
		int			n = 0;
		int			i;

		cols[n++] = pair->counter_att;
		if (pair->hold_id_att != InvalidAttrNumber)
		{
			cols[n++] = pair->hold_id_att;
			cols[n++] = pair->hold_due_att;
		}
		for (i = 0; i < n; i++)
		{
			values[i] = slot->tts_values[cols[i] - 1];
			nulls[i] = slot->tts_isnull[cols[i] - 1];
		}
		tuple = row_patched_copy(old, desc, n, cols, values, nulls);
	}
	if (tuple == NULL)
		tuple = heap_form_tuple(desc, slot->tts_values, slot->tts_isnull);
	ExecStoreHeapTuple(tuple, slot, true);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * The hold slot of the resource's new version (values, isnull: its columns, the counter already
 * changed by delta from before).  A hold that starts to take spots goes in where the slot is
 * empty, names this row already, or names a row that cannot be a hold here any more because
 * nothing was taken (a held row takes at least one spot); any other take that finds nothing
 * taken empties such a slot.  A row that gives spots back empties the slot naming it, unless
 * nothing stays taken: then the slot is left as it is, naming a row that is no longer a hold
 * there, which the next take overwrites or empties, and the row's new version keeps the old
 * one's layout (row_patched_copy()).
 */
static void
slot_write(BookingPair *pair, HoldSlot *slot, int64 resource_id, int32 delta, int32 before,
		   Datum *values, bool *isnull)
{
	int			id = pair->hold_id_att - 1;
	int			due = pair->hold_due_att - 1;

	if (pair->hold_id_att == InvalidAttrNumber)
		return;
	if (delta > 0 && slot != NULL && slot->put != 0 && slot->put_resource == resource_id &&
		(isnull[id] || before == 0 || DatumGetInt64(values[id]) == slot->put))
	{
		values[id] = Int64GetDatum(slot->put);
		isnull[id] = false;
		values[due] = TimestampTzGetDatum(slot->put_due);
		isnull[due] = false;
		slot->taken = true;
	}
	else if (delta > 0 && before == 0 && !isnull[id])
	{
		isnull[id] = true;
		isnull[due] = true;
	}
	else if (delta < 0 && slot != NULL && slot->clear != 0 &&
			 slot->clear_resource == resource_id && (int64) before + delta > 0 &&
			 !isnull[id] && DatumGetInt64(values[id]) == slot->clear)
	{
		isnull[id] = true;
		isnull[due] = true;
	}
}

static CounterOutcome
apply_direct(BookingPair *pair, Relation rel, int64 resource_id, int32 delta, bool conditional,
			 int32 *capacity, int32 *reserved, bool *is_timeline, const HolderCheck *hc,
			 bool stop_if_waiting, Datum hold, bool *hold_judged, HoldSlot *slot)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Snapshot	snapshot;
	HeapTuple	found;
	ItemPointerData tid;
	TupleTableSlot *locked;
	TupleTableSlot *fresh;
	int32		cap;
	int32		cnt;
	booking_update_indexes_t update_indexes;
	CounterOutcome outcome = COUNTER_DONE;
	RowReader	row;

	/* See our own earlier writes in this transaction, as a new statement would. */
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());

	if (!find_visible(pair, rel, resource_id, snapshot, &tid, &found))
	{
		UnregisterSnapshot(snapshot);
		return COUNTER_NO_ROW;
	}
	row_reader_init(&row, found, desc);
	*is_timeline = row_is_timeline(pair, &row);

	/*
	 * A hold asked for through the API is no longer than the resource's max_hold (holds.c),
	 * judged here where the row is read anyway, before anything else: an error, not a refusal.
	 */
	if (hold != (Datum) 0 && pair->max_hold_att != InvalidAttrNumber)
	{
		bool		no_max;
		Datum		max_hold = row_read(&row, pair->max_hold_att, &no_max);

		if (!no_max)
			hold_judge_length(resource_id, hold, max_hold);
		*hold_judged = true;
	}

	/*
	 * Rows waiting there go first (the caller asks the waitlist, then calls again).  A row put
	 * on the waitlist after this snapshot raised the count in a newer version of this row, and
	 * the write below then finds that version (or fails with 40001 under a transaction
	 * snapshot), where the count is judged again.
	 */
	if (stop_if_waiting && row_may_have_waiting(pair, &row))
	{
		heap_freetuple(found);
		UnregisterSnapshot(snapshot);
		return COUNTER_WAITING;
	}

	/* the holder's limit on this resource, before any change (holder_limits.c) */
	if (hc != NULL && pair->max_per_holder_att != InvalidAttrNumber)
	{
		bool		maxnull;
		Datum		maxd = row_read(&row, pair->max_per_holder_att, &maxnull);
		int32		count;

		if (!maxnull && limits_holder_full(pair, resource_id, hc, DatumGetInt32(maxd), &count))
		{
			*capacity = DatumGetInt32(maxd);
			*reserved = count;
			UnregisterSnapshot(snapshot);
			return COUNTER_HOLDER_LIMIT;
		}
	}

	/*
	 * Like UPDATE, judge the version the snapshot sees first: one that does not fit is refused
	 * without a lock (and, at REPEATABLE READ, without a serialization failure).
	 */
	if (conditional)
	{
		bool		capnull;
		bool		cntnull;
		Datum		capd = row_read(&row, pair->capacity_att, &capnull);
		Datum		cntd = row_read(&row, pair->counter_att, &cntnull);

		if (capnull || cntnull ||
			(int64) DatumGetInt32(cntd) + delta > (int64) DatumGetInt32(capd))
		{
			*capacity = capnull ? 0 : DatumGetInt32(capd);
			*reserved = cntnull ? 0 : DatumGetInt32(cntd);
			UnregisterSnapshot(snapshot);
			return COUNTER_REFUSED;
		}
	}

	/*
	 * Write the new version over the visible one, as UPDATE does first.  That succeeds unless
	 * the visible version is no longer the newest, and then needs no separate row lock (nor its
	 * WAL record).  Otherwise: a serialization failure under a transaction snapshot, or at READ
	 * COMMITTED the newest version, locked and judged again below, as UPDATE's recheck does.
	 */
	{
		bool		capnull;
		bool		cntnull;
		Datum		capd = row_read(&row, pair->capacity_att, &capnull);
		Datum		cntd = row_read(&row, pair->counter_att, &cntnull);

		if (!capnull && !cntnull)
		{
			int64		updated = (int64) DatumGetInt32(cntd) + delta;
			TM_FailureData tmfd;
			LockTupleMode lockmode;
			TM_Result	res;

			if (updated > PG_INT32_MAX || updated < PG_INT32_MIN)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("integer out of range")));
			fresh = pair_version_slot(rel);
			/* the row as read above (row_read() took it apart), with the new count */
			memcpy(fresh->tts_values, row.values, sizeof(Datum) * desc->natts);
			memcpy(fresh->tts_isnull, row.isnull, sizeof(bool) * desc->natts);
			fresh->tts_values[pair->counter_att - 1] = Int32GetDatum((int32) updated);
			slot_write(pair, slot, resource_id, delta, DatumGetInt32(cntd), fresh->tts_values,
					   fresh->tts_isnull);
			store_new_version(pair, fresh, found);
			res = table_tuple_update(rel, &tid, fresh, GetCurrentCommandId(true), snapshot,
									 InvalidSnapshot, true, &tmfd, &lockmode, &update_indexes);
			if (res == TM_Ok)
			{
				rowhint_note_update(rel, resource_id, &fresh->tts_tid, update_indexes);
				nobody_waits_note(RelationGetRelid(rel), resource_id,
								  !row_may_have_waiting(pair, &row));
				if (booking_update_needs_indexes(update_indexes))
					indexes_insert_entries(rel, fresh,
										 booking_update_only_summarizing(update_indexes));
				pair_version_slot_done(fresh);
				*capacity = DatumGetInt32(capd);
				*reserved = (int32) updated;
				UnregisterSnapshot(snapshot);
				return COUNTER_DONE;
			}
			pair_version_slot_done(fresh);
			if (slot != NULL)
				slot->taken = false;	/* not written */
			if (res == TM_SelfModified)
				ereport(ERROR,
						(errcode(ERRCODE_TRIGGERED_DATA_CHANGE_VIOLATION),
						 errmsg("resource row was already modified by an operation triggered by the current command")));
			if (res != TM_Updated && res != TM_Deleted)
				elog(ERROR, "unexpected result %d updating a resource row", (int) res);
			if (IsolationUsesXactSnapshot())
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent update")));
		}
	}

	locked = lock_newest(pair, rel, &tid, snapshot, resource_id);
	if (locked == NULL)
	{
		UnregisterSnapshot(snapshot);
		return COUNTER_NO_ROW;
	}

	slot_getallattrs(locked);
	if (pair->timeline_att != InvalidAttrNumber)
		*is_timeline = !locked->tts_isnull[pair->timeline_att - 1] &&
			DatumGetBool(locked->tts_values[pair->timeline_att - 1]);
	cap = DatumGetInt32(locked->tts_values[pair->capacity_att - 1]);
	cnt = DatumGetInt32(locked->tts_values[pair->counter_att - 1]);
	if (locked->tts_isnull[pair->capacity_att - 1] || locked->tts_isnull[pair->counter_att - 1])
	{
		/* an UPDATE's "counter + n <= capacity" is not true on NULLs either */
		if (conditional)
			outcome = COUNTER_REFUSED;
		else
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("resource %lld has no capacity or counter", (long long) resource_id)));
	}
	else if (stop_if_waiting &&
			 (pair->waiting_att == InvalidAttrNumber ||
			  count_lets_wait(pair, locked->tts_values[pair->waiting_att - 1],
							  locked->tts_isnull[pair->waiting_att - 1])))
		outcome = COUNTER_WAITING;
	else if (conditional && (int64) cnt + delta > (int64) cap)
		outcome = COUNTER_REFUSED;

	if (outcome == COUNTER_DONE)
	{
		int64		updated = (int64) cnt + delta;

		if (updated > PG_INT32_MAX || updated < PG_INT32_MIN)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("integer out of range")));
		fresh = pair_version_slot(rel);
		memcpy(fresh->tts_values, locked->tts_values, sizeof(Datum) * desc->natts);
		memcpy(fresh->tts_isnull, locked->tts_isnull, sizeof(bool) * desc->natts);
		fresh->tts_values[pair->counter_att - 1] = Int32GetDatum((int32) updated);
		slot_write(pair, slot, resource_id, delta, cnt, fresh->tts_values, fresh->tts_isnull);
		store_new_version(pair, fresh, NULL);

		simple_table_tuple_update(rel, &tid, fresh, snapshot, &update_indexes);
		rowhint_note_update(rel, resource_id, &fresh->tts_tid, update_indexes);
		nobody_waits_note(RelationGetRelid(rel), resource_id,
						  pair->waiting_att != InvalidAttrNumber &&
						  !count_lets_wait(pair, locked->tts_values[pair->waiting_att - 1],
										   locked->tts_isnull[pair->waiting_att - 1]));
		if (booking_update_needs_indexes(update_indexes))
			indexes_insert_entries(rel, fresh, booking_update_only_summarizing(update_indexes));
		pair_version_slot_done(fresh);
		cnt = (int32) updated;
	}

	*capacity = cap;
	*reserved = cnt;
	ExecDropSingleTupleTableSlot(locked);
	UnregisterSnapshot(snapshot);
	return outcome;
}

/*
 * Changes one resource's counter by delta; with conditional, only where the result stays within
 * capacity.  The caller holds the resource's advisory lock and is connected to SPI (the
 * statement way needs it).  Returns the outcome, with the figures after the change or as they
 * stand when refused, and whether the resource is a timeline resource (whose capacity the
 * counter does not measure: the caller must not have asked for a conditional change then).
 * With a hold (an interval, or 0), the length of a hold asked for through the API is judged
 * against the resource's max_hold where the row is read (22023 beyond it; *hold_judged then
 * says it was; the statement way leaves that to the caller).
 */
CounterOutcome
counter_apply(BookingPair *pair, int64 resource_id, int32 delta, bool conditional,
			  int32 *capacity, int32 *reserved, bool *is_timeline, const HolderCheck *hc,
			  bool stop_if_waiting, Datum hold, bool *hold_judged, HoldSlot *slot)
{
	Relation	rel = table_open(pair->parent_relid, RowExclusiveLock);
	CounterOutcome outcome;

	*capacity = 0;
	*reserved = 0;
	*is_timeline = false;
	if (parent_is_plain(pair, rel))
		outcome = apply_direct(pair, rel, resource_id, delta, conditional, capacity, reserved,
							   is_timeline, hc, stop_if_waiting, hold, hold_judged, slot);
	else if (stop_if_waiting)
		outcome = COUNTER_WAITING;	/* the statement does not read the count: ask the waitlist */
	else
		outcome = engine_counter_statement(pair, resource_id, delta, conditional,
										   capacity, reserved, is_timeline, hc);
	table_close(rel, NoLock);
	return outcome;
}

/*
 * Locks a resource's row as SELECT ... FOR NO KEY UPDATE would, straight through the table AM
 * when the parent is plain (as for the counter), and returns a slot with the newest version for
 * the caller to read and drop.  ROW_NOT_PLAIN tells the caller to use its statement instead.
 * The caller holds the resource's advisory lock.
 */
/*
 * A resource's row for a read straight through the table AM: the parent opened in lockmode and
 * the version that a snapshot seeing this transaction's earlier writes (as a new statement's
 * would) finds, its tid in *tid and, with found, a copy in *found.  ROW_LOCKED: there, the
 * caller ends with parent_close_direct(); ROW_MISSING: not there, likewise; ROW_NOT_PLAIN: the
 * statement must run instead, nothing left open.
 */
static RowLockOutcome
parent_find_direct(BookingPair *pair, int64 resource_id, LOCKMODE lockmode, Relation *rel,
				   Snapshot *snapshot, ItemPointer tid, HeapTuple *found)
{
	*rel = table_open(pair->parent_relid, lockmode);
	if (!parent_is_plain(pair, *rel))
	{
		table_close(*rel, NoLock);
		return ROW_NOT_PLAIN;
	}
	CommandCounterIncrement();
	*snapshot = RegisterSnapshot(GetTransactionSnapshot());
	return find_visible(pair, *rel, resource_id, *snapshot, tid, found) ? ROW_LOCKED : ROW_MISSING;
}

static void
parent_close_direct(Relation rel, Snapshot snapshot)
{
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
}

RowLockOutcome
counter_read_values(BookingPair *pair, const int64 *resource_ids, int n, AttrNumber att,
					Datum *values, bool *isnull, int *missing)
{
	Relation	rel;
	Snapshot	snapshot;
	ItemPointerData tid;
	HeapTuple	found;
	RowLockOutcome outcome;
	Form_pg_attribute attr;
	int			i;

	*missing = -1;
	if (n == 0)
		return ROW_LOCKED;
	/* one open, one snapshot for them all: the rows as one new statement would see them */
	outcome = parent_find_direct(pair, resource_ids[0], AccessShareLock, &rel, &snapshot, &tid,
								 &found);
	if (outcome == ROW_NOT_PLAIN)
		return outcome;
	attr = TupleDescAttr(RelationGetDescr(rel), att - 1);
	for (i = 0; i < n; i++)
	{
		if (i > 0 &&
			!find_visible(pair, rel, resource_ids[i], snapshot, &tid, &found))
			outcome = ROW_MISSING;
		if (outcome == ROW_MISSING)
		{
			*missing = i;
			break;
		}
		values[i] = heap_getattr(found, att, RelationGetDescr(rel), &isnull[i]);
		if (!isnull[i])
			values[i] = datumCopy(values[i], attr->attbyval, attr->attlen);
		heap_freetuple(found);
	}
	parent_close_direct(rel, snapshot);
	return outcome;
}

bool
counter_anyone_waiting(BookingPair *pair, int64 resource_id)
{
	Relation	rel;
	Snapshot	snapshot;
	ItemPointerData tid;
	HeapTuple	found;
	bool		may;

	if (pair->waiting_att == InvalidAttrNumber)
		return true;
	/* the count as this transaction last wrote it, where nobody can have changed it since */
	if (nobody_waits_find(pair->parent_relid, resource_id) >= 0)
		return false;
	rel = table_open(pair->parent_relid, AccessShareLock);
	/* as of now, as the waitlist itself is read (queue.c): a row that waits since counts */
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	if (!find_visible(pair, rel, resource_id, snapshot, &tid, &found))
		may = true;
	else
	{
		RowReader	row;

		row_reader_init(&row, found, RelationGetDescr(rel));
		may = row_may_have_waiting(pair, &row);
		row_reader_done(&row);
	}
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
	return may;
}

RowLockOutcome
counter_lock_row(BookingPair *pair, int64 resource_id, TupleTableSlot **slot)
{
	Relation	rel;
	Snapshot	snapshot;
	ItemPointerData tid;
	RowLockOutcome outcome = parent_find_direct(pair, resource_id, RowExclusiveLock, &rel,
												&snapshot, &tid, NULL);

	*slot = NULL;
	if (outcome == ROW_NOT_PLAIN)
		return outcome;
	if (outcome == ROW_LOCKED)
	{
		*slot = lock_newest(pair, rel, &tid, snapshot, resource_id);
		if (*slot == NULL)
			outcome = ROW_MISSING;
		else
			slot_getallattrs(*slot);
	}
	parent_close_direct(rel, snapshot);
	return outcome;
}
