/*
 * queue.c
 *		booking.queue: the held and the waitlisted rows of each resource.
 *
 * The admission needs two lists by resource: the holds, to expire those past due before it
 * refuses anyone, and the waiting rows, in order.  Partial indexes on booking.booking (WHERE
 * status = 'held') would give them, but PostgreSQL counts every column an index names, in its
 * key or in its predicate, against HOT: then every change of status, the commonest write there
 * is, would add an entry to every index of the table.  So the lists live in a table of their
 * own, which the child's trigger keeps on every write (queue_sync), under the booking row's
 * lock: each entry changes only with its row, in the same (sub)transaction.
 *
 * Readers never take an entry on trust: they join it to its booking row and check the status
 * there, so an entry left behind (by a write with the triggers off) costs a look and nothing
 * else.  verify() reports entries that differ from the rows; repair() rebuilds them.
 *
 * A hold may instead be recorded on its resource's own row, in the hold slot (hold_id,
 * hold_due): the admission that takes its spots writes that row anyway, so the slot costs
 * nothing, where an entry costs a heap row and an index entry to write and a deletion at the
 * confirm.  A seat is held by one row at a time, so a seat's holds all go there.  The engine
 * fills the slot (counter.c) when it is empty, names the same row, or names a row that can no
 * longer be a hold there (the counter stood at zero); every other hold gets an entry.  A row
 * that gives its spots back empties the slot that names it where other rows still take spots;
 * where none do, it leaves the slot as it is (the row's new version then keeps its layout and is
 * written over in place, counter.c), and the next take overwrites it or, recording no hold,
 * empties it.  A confirm leaves it too (the resource's row is not written then).  A slot left so
 * names a row that is no longer held, which readers pass over.  So a held row with an expiry is
 * listed in its resource's slot (with that expiry) or in the queue, and the admission's expiry
 * and expire_holds() read both.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "api.h"
#include "engine.h"
#include "pair.h"
#include "queue.h"
#include "rowhint.h"

/* booking.queue's columns as the install script creates them */
#define QUEUE_COL_RESOURCE	1
#define QUEUE_COL_WAITING	2
#define QUEUE_COL_BOOKING	3

/*
 * The versions of held rows this backend wrote with their hold in the slot, by booking id: such
 * a version has no entry, so the write that resolves it has none to delete, and no probe of the
 * queue's index is needed to find that out.  An entry belongs to a version of the row: only a
 * write of the row adds one (queue_sync(), in the writer's backend), and any other
 * transaction's write makes a version with another xmin.  So (booking id, xmin) is enough; this
 * backend's own later writes of the row overwrite or drop the note.  repair() adds entries only
 * for holds their slot does not record, which only writes around the triggers bring about; a
 * note made before such a repair may leave an entry behind at the confirm, which readers pass
 * over and verify() reports.  A direct-mapped table: a collision loses a note, which costs a
 * probe.
 */
#define SLOT_NOTES 256

typedef struct SlotNote
{
	int64		booking_id;
	TransactionId xmin;
} SlotNote;

static SlotNote slot_notes[SLOT_NOTES];

static void
slot_note(int64 booking_id, TransactionId xmin)
{
	SlotNote   *n = &slot_notes[(uint64) booking_id % SLOT_NOTES];

	n->booking_id = booking_id;
	n->xmin = xmin;
}

static void
slot_note_drop(int64 booking_id)
{
	SlotNote   *n = &slot_notes[(uint64) booking_id % SLOT_NOTES];

	if (n->booking_id == booking_id)
		n->xmin = InvalidTransactionId;
}

/* Whether this version of the row (a held one) was written with its hold in the slot. */
static bool
slot_noted(int64 booking_id, HeapTuple tuple)
{
	SlotNote   *n = &slot_notes[(uint64) booking_id % SLOT_NOTES];

	return n->booking_id == booking_id && TransactionIdIsNormal(n->xmin) &&
		tuple->t_data != NULL && TransactionIdEquals(HeapTupleHeaderGetXmin(tuple->t_data), n->xmin);
}

static SPIPlanPtr first_plan = NULL;
static SPIPlanPtr verify_plan = NULL;
static SPIPlanPtr rebuild_plan[2];

/* What booking.queue holds for one booking row, if anything. */
typedef struct QueueEntry
{
	bool		present;
	int64		resource_id;
	bool		waiting;
	int64		booking_id;
	bool		has_due;
	TimestampTz due;
} QueueEntry;

static void
entry_of(BookingPair *pair, TupleDesc desc, RowReader *row, QueueEntry *e)
{
	BookingState state;
	bool		isnull;
	Datum		d;

	e->present = false;
	if (row == NULL)
		return;
	/* most rows neither hold nor wait: their status alone, without taking the whole row apart */
	d = row_peek(row, pair->status_att, &isnull);
	state = pair_state(pair, d, isnull);
	if (state != STATE_HELD && state != STATE_WAITLISTED)
		return;
	d = row_read(row, pair->child_parent_att, &isnull);
	if (isnull)
		return;
	e->resource_id = pair_integer(d, TupleDescAttr(desc, pair->child_parent_att - 1)->atttypid);
	d = row_read(row, pair->child_key_att, &isnull);
	if (isnull)
		return;
	e->booking_id = pair_integer(d, TupleDescAttr(desc, pair->child_key_att - 1)->atttypid);
	e->waiting = state == STATE_WAITLISTED;
	e->has_due = false;
	e->due = 0;
	if (!e->waiting && pair->expires_att != InvalidAttrNumber)
	{
		d = row_read(row, pair->expires_att, &isnull);
		e->has_due = !isnull;
		if (!isnull)
			e->due = DatumGetTimestampTz(d);
	}
	e->present = true;
}

/*
 * Deletes the entry with e's key, as of now: where queue_put() wrote it, when it is still there
 * (rowhint.c), or else every entry the index finds with that key.  (A row has one entry while
 * the trigger keeps them; only writes with the triggers off leave others behind, which readers
 * pass over and repair() removes.)
 */
static void
queue_drop(Relation qrel, Oid index, const QueueEntry *e)
{
	ScanKeyData keys[3];
	SysScanDesc scan;
	Snapshot	snapshot;
	HeapTuple	tuple;

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	tuple = rowhint_fetch(qrel, QUEUE_COL_BOOKING, INT8OID, e->booking_id, snapshot);
	if (tuple != NULL)
	{
		TupleDesc	desc = RelationGetDescr(qrel);
		bool		isnull;
		Datum		resource = heap_getattr(tuple, QUEUE_COL_RESOURCE, desc, &isnull);
		Datum		waiting = heap_getattr(tuple, QUEUE_COL_WAITING, desc, &isnull);

		if (DatumGetInt64(resource) == e->resource_id && DatumGetBool(waiting) == e->waiting)
		{
			simple_heap_delete(qrel, &tuple->t_self);
			UnregisterSnapshot(snapshot);
			return;
		}
	}

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(e->resource_id));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_BOOLEQ, BoolGetDatum(e->waiting));
	ScanKeyInit(&keys[2], 3, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(e->booking_id));
	scan = systable_beginscan(qrel, index, true, snapshot, 3, keys);
	while ((tuple = systable_getnext(scan)) != NULL)
		simple_heap_delete(qrel, &tuple->t_self);
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
}

/* Adds the entry e, with its index entry. */
static void
queue_put(Relation qrel, Oid index, const QueueEntry *e)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, !e->has_due};
	HeapTuple	tuple;
	Relation	irel;

	values[0] = Int64GetDatum(e->resource_id);
	values[1] = BoolGetDatum(e->waiting);
	values[2] = Int64GetDatum(e->booking_id);
	values[3] = TimestampTzGetDatum(e->due);
	slot_note_drop(e->booking_id);
	tuple = heap_form_tuple(RelationGetDescr(qrel), values, nulls);
	simple_heap_insert(qrel, tuple);
	rowhint_note(qrel, e->booking_id, &tuple->t_self);
	irel = index_open(index, RowExclusiveLock);
	(void) index_insert(irel, values, nulls, &tuple->t_self, qrel, UNIQUE_CHECK_NO, false,
						BuildIndexInfo(irel));
	index_close(irel, NoLock);
	heap_freetuple(tuple);
}

/*
 * Brings booking.queue in line with a write of one booking row: old_row reads the row before
 * (NULL for an INSERT), new_row the row after (NULL for a DELETE).  Called by the child's trigger once
 * the write is admitted, under the booking row's lock, so no one else changes this row's
 * entries meanwhile.  Written through the table access method (a statement per write would
 * cost more than the HOT updates save) and read as of now, so that it finds the entry as the
 * last writer of the row left it.  in_slot: the admission recorded new's hold in its
 * resource's hold slot, so it gets no entry.
 */
void
queue_sync(BookingPair *pair, Relation rel, RowReader *old_row, RowReader *new_row, bool in_slot)
{
	TupleDesc	desc = RelationGetDescr(rel);
	QueueEntry	before;
	QueueEntry	after;
	bool		same_key;
	Relation	qrel;

	if (!OidIsValid(pair->queue_relid))
		return;
	entry_of(pair, desc, old_row, &before);
	entry_of(pair, desc, new_row, &after);
	if (!before.present && !after.present)
		return;
	same_key = before.present && after.present &&
		before.resource_id == after.resource_id && before.waiting == after.waiting &&
		before.booking_id == after.booking_id;
	if (!in_slot && same_key && before.has_due == after.has_due && before.due == after.due)
	{
		/* listed where it was; a version written from one in the slot is too */
		if (!before.waiting && slot_noted(before.booking_id, old_row->tuple))
			slot_note(after.booking_id, GetCurrentTransactionId());
		return;
	}

	/* the resources' counts of waitlisted rows, where a row starts or stops waiting there */
	if (pair->waiting_att != InvalidAttrNumber && !same_key)
	{
		bool		was = before.present && before.waiting;
		bool		is = after.present && after.waiting;

		if (was && is && before.resource_id > after.resource_id)
		{
			/* two resources' locks, in ascending order (engine_shift_waiting() takes each) */
			engine_shift_waiting(pair, after.resource_id, 1, false);
			is = false;
		}
		if (was)
			engine_shift_waiting(pair, before.resource_id, -1, false);
		if (is)
			engine_shift_waiting(pair, after.resource_id, 1, false);
	}

	/* a hold in the slot: no entry to delete for the old version, none to add for the new */
	if (before.present && !before.waiting && slot_noted(before.booking_id, old_row->tuple))
		before.present = false;
	if (in_slot && after.present && !after.waiting)
	{
		after.present = false;
		slot_note(after.booking_id, GetCurrentTransactionId());
	}
	if (!before.present && !after.present)
		return;

	/* this transaction's own earlier entries too, as a new statement would see them */
	CommandCounterIncrement();
	qrel = table_open(pair->queue_relid, RowExclusiveLock);
	if (before.present)
		queue_drop(qrel, pair->queue_index, &before);
	if (after.present)
		queue_put(qrel, pair->queue_index, &after);
	table_close(qrel, NoLock);	/* its lock kept until the end, as a statement's */
}

/*
 * Whether a resource has waiting rows, and the first of them, as of now.  Every admission on a
 * resource that promotes on its own asks, so the common answer (nobody waits) is one probe of
 * the queue's key; only when entries are there are they checked against their rows.
 */
bool
queue_first_waiting(BookingPair *pair, int64 resource_id, int64 *first_id)
{
	ChildScan	cs;
	ScanKeyData keys[2];
	bool		any;
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(resource_id)};
	bool		isnull;
	bool		found;
	int			ret;

	if (!OidIsValid(pair->queue_index))
		return false;
	relation_scan_open(&cs, pair->queue_relid, pair->queue_index, true);
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(resource_id));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_BOOLEQ, BoolGetDatum(true));
	pair_scan_start(&cs, keys, 2);
	any = pair_scan_next(&cs);
	pair_scan_close(&cs);
	if (!any)
		return false;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	kept_plan(&first_plan,
			  "SELECT b.id FROM " BOOKING_SCHEMA ".queue q"
			  " JOIN " BOOKING_SCHEMA ".booking b ON b.id = q.booking_id"
			  " WHERE q.resource_id = $1 AND q.waiting AND b.resource_id = $1"
			  " AND b.status = 'waitlisted' ORDER BY q.booking_id LIMIT 1",
			  1, types);
	ret = spi_execute_as(pair->child_owner, first_plan, args, NULL, true, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the waitlist failed: %s", SPI_result_code_string(ret));
	found = SPI_processed == 1;
	if (found)
		*first_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
												&isnull));
	SPI_finish();
	return found;
}

/*
 * The entries of booking.queue that differ from the rows, by resource: (resource_id, how many
 * entries are missing, wrong or left over), ascending.  The caller is connected to SPI; the
 * result is in SPI_tuptable.  Reads as the caller's snapshot, so verify() sees one moment.
 */
uint64
queue_verify(BookingPair *pair)
{
	int			ret;

	if (!OidIsValid(pair->queue_relid))
		return 0;
	/*
	 * Entries missing (a hold in its resource's slot needs none), left over or with another due,
	 * and (where the resource keeps one) a count of waitlisted rows that is not theirs, each
	 * counted once.
	 */
	kept_plan(&verify_plan,
			  "SELECT k, pg_catalog.sum(n)::pg_catalog.int4 FROM ("
			  " SELECT COALESCE(b.resource_id, q.resource_id) AS k, 1 AS n"
			  " FROM (SELECT x.resource_id, x.status = 'waitlisted' AS waiting, x.id,"
			  "              CASE WHEN x.status = 'held' THEN x.expires_at END AS due,"
			  "              r.id IS NOT NULL AS in_slot"
			  "         FROM " BOOKING_SCHEMA ".booking x"
			  "         LEFT JOIN " BOOKING_SCHEMA ".resource r ON r.id = x.resource_id"
			  "          AND r.hold_id = x.id AND r.hold_due = x.expires_at AND x.status = 'held'"
			  "        WHERE x.status IN ('held', 'waitlisted')) b"
			  " FULL JOIN " BOOKING_SCHEMA ".queue q"
			  "   ON q.resource_id = b.resource_id AND q.waiting = b.waiting AND q.booking_id = b.id"
			  " WHERE b.id IS NULL OR (q.booking_id IS NULL AND NOT b.in_slot)"
			  "    OR (q.booking_id IS NOT NULL AND q.due IS DISTINCT FROM b.due)"
			  " UNION ALL"
			  " SELECT r.id, 1 FROM " BOOKING_SCHEMA ".resource r"
			  " LEFT JOIN (SELECT resource_id, pg_catalog.count(*)::pg_catalog.int4 AS c"
			  "              FROM " BOOKING_SCHEMA ".booking WHERE status = 'waitlisted'"
			  "             GROUP BY 1) w ON w.resource_id = r.id"
			  " WHERE r.waiting IS DISTINCT FROM COALESCE(w.c, 0)"
			  ") d GROUP BY 1 ORDER BY 1",
			  0, NULL);
	ret = spi_execute_as(pair->child_owner, verify_plan, NULL, NULL, false, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "verifying booking.queue failed: %s", SPI_result_code_string(ret));
	return SPI_processed;
}

/*
 * Rewrites one resource's entries from its rows, but for the hold its slot lists.  The caller
 * holds the resource's advisory lock, so no admission adds a hold or a waiting row meanwhile,
 * and is connected to SPI.
 */
void
queue_rebuild(BookingPair *pair, int64 resource_id)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(resource_id)};
	int			ret;

	kept_plan(&rebuild_plan[0],
			  "DELETE FROM " BOOKING_SCHEMA ".queue WHERE resource_id = $1", 1, types);
	kept_plan(&rebuild_plan[1],
			  "INSERT INTO " BOOKING_SCHEMA ".queue (resource_id, waiting, booking_id, due)"
			  " SELECT resource_id, status = 'waitlisted', id,"
			  "        CASE WHEN status = 'held' THEN expires_at END"
			  "   FROM " BOOKING_SCHEMA ".booking x"
			  "  WHERE resource_id = $1 AND status IN ('held', 'waitlisted')"
			  "    AND NOT EXISTS (SELECT FROM " BOOKING_SCHEMA ".resource r WHERE r.id = $1"
			  "                    AND r.hold_id = x.id AND r.hold_due = x.expires_at"
			  "                    AND x.status = 'held')",
			  1, types);
	ret = spi_execute_as(pair->child_owner, rebuild_plan[0], args, NULL, true, false, 0);
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "rebuilding booking.queue failed: %s", SPI_result_code_string(ret));
	ret = spi_execute_as(pair->child_owner, rebuild_plan[1], args, NULL, true, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "rebuilding booking.queue failed: %s", SPI_result_code_string(ret));
	/* and the resource's count of waitlisted rows */
	engine_shift_waiting(pair, resource_id, 0, true);
}
