/*
 * rowhint.c
 *		Where a row of a unique integer key was last seen in this backend, tried before the
 *		index.
 *
 * The engine finds the same rows again and again, each time through a unique index: a seat's
 * resource row when its counter goes up at the hold and down at the cancel, a booking by its id
 * when it is locked and then updated, or confirmed and later cancelled.  Each of those descents
 * costs more than reading the row itself.  So every lookup through the index and every write of
 * such a row leaves the row's addresses here, and the next lookup reads them first.
 *
 * Two addresses are kept for a row.  One is the newest version this backend saw or wrote: the
 * cheapest to read while nobody else has updated the row.  The other is the address the index
 * holds, where the row's chain of HOT updates starts on its page.  Another backend's HOT update
 * (the counter's, a booking's status) makes the first stale but leaves the second in place, and a
 * fetch there follows the chain to the version the snapshot sees, as an index scan does.  Only an
 * update that makes new index entries gives the row a new start, and its writer notes it.
 *
 * An address is never trusted.  It is used only when its block is inside the table, the version
 * there (or the chain that starts there) holds a version the caller's MVCC snapshot sees, and
 * that version carries the key.  Under an MVCC snapshot at most one version of a row of a unique
 * key is visible, so such a version is the very one the index would have led to.  Anything else
 * (the row moved by another backend's update, pruned, deleted; the table rewritten; the address
 * reused by another row) sends the lookup through the index as before, and the index's address
 * becomes the new hint.  The hints live as long as the backend, in fixed arrays: one per table,
 * for the first few tables this backend notes rows of, one entry per slot, the newest wins.  A
 * table's own array keeps the rows of one table from pushing out another's: a booking table's
 * ever new ids would otherwise take, one by one, the slots of the resources that are looked up
 * again and again (on a 2,000-seat map, about one resource row per script went back through the
 * index after a few thousand scripts).  Within its array a row's slot is its key modulo the
 * array's size, so that keys from a sequence, the usual case, never collide while they are
 * fewer than the slots: the newest bookings, all of a few thousand resources.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/itup.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "rowhint.h"

#define ROWHINT_BITS 12
#define ROWHINT_SLOTS (1 << ROWHINT_BITS)
/* Tables with an array of their own; any further table shares one, chosen by its OID. */
#define ROWHINT_TABLES 4

typedef struct RowHint
{
	Oid			relid;			/* InvalidOid: an empty slot */
	ItemPointerData start;		/* where the index has the row */
	ItemPointerData newest;		/* the newest version seen here: start, or later in its chain */
	int64		key;
} RowHint;

static RowHint hints[ROWHINT_TABLES][ROWHINT_SLOTS];
static Oid	hints_owner[ROWHINT_TABLES];	/* the table each array was given to */

/*
 * Whether the table has block blk.  The size this backend last learned (smgr's cached count)
 * answers when the block is below it: a table only shrinks under an ACCESS EXCLUSIVE lock, which
 * the caller's lock on the table excludes, and taking that lock read the invalidation such a
 * truncation sends, which drops the cached count.  Otherwise the size is asked of the file
 * system (a system call), which refreshes the count.
 */
static bool
block_in_table(Relation rel, BlockNumber blk)
{
	BlockNumber known = RelationGetSmgr(rel)->smgr_cached_nblocks[MAIN_FORKNUM];

	if (known != InvalidBlockNumber && blk < known)
		return true;
	return blk < RelationGetNumberOfBlocks(rel);
}

/*
 * The slot of a key of relid: in relid's own array (given to it at its first note, while one is
 * free), else in the array its OID falls on, shared with that array's table (entries name their
 * table, so sharing only costs hints).  Arrays stay given to their tables for the backend's
 * life; they are only memory that the hints of a dropped table occupy.
 */
static RowHint *
slot_of(Oid relid, int64 key)
{
	int			t;

	for (t = 0; t < ROWHINT_TABLES; t++)
	{
		if (hints_owner[t] == relid)
			break;
		if (!OidIsValid(hints_owner[t]))
		{
			hints_owner[t] = relid;
			break;
		}
	}
	if (t == ROWHINT_TABLES)
		t = relid % ROWHINT_TABLES;
	return &hints[t][(uint64) key & (ROWHINT_SLOTS - 1)];
}

void
rowhint_note(Relation rel, int64 key, ItemPointer tid)
{
	RowHint    *h;

	if (!ItemPointerIsValid(tid))
		return;
	h = slot_of(RelationGetRelid(rel), key);
	h->relid = RelationGetRelid(rel);
	h->key = key;
	h->start = *tid;
	h->newest = *tid;
}

void
rowhint_note_version(Relation rel, int64 key, ItemPointer tid)
{
	RowHint    *h = slot_of(RelationGetRelid(rel), key);

	/* without the start of its chain the version alone is not kept */
	if (ItemPointerIsValid(tid) && h->relid == RelationGetRelid(rel) && h->key == key)
		h->newest = *tid;
}

void
rowhint_note_update(Relation rel, int64 key, ItemPointer tid, booking_update_indexes_t update)
{
	if (booking_update_needs_indexes(update) && !booking_update_only_summarizing(update))
		rowhint_note(rel, key, tid);	/* new index entries: the row starts anew there */
	else
		rowhint_note_version(rel, key, tid);	/* a HOT update: same start, newer version */
}

/* Whether the tuple's key column holds key. */
static bool
carries_key(Relation rel, HeapTuple tuple, AttrNumber key_att, Oid key_type, int64 key)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, key_att, RelationGetDescr(rel), &isnull);

	return !isnull && (key_type == INT8OID ? DatumGetInt64(d) : (int64) DatumGetInt32(d)) == key;
}

/* A copy of the version at tid, when the snapshot sees it and it carries the key; else NULL. */
static HeapTuple
fetch_version(Relation rel, ItemPointer tid, AttrNumber key_att, Oid key_type, int64 key,
			  Snapshot snapshot)
{
	HeapTupleData tuple;
	Buffer		buffer;
	HeapTuple	found = NULL;

	tuple.t_self = *tid;
	if (booking_heap_fetch(rel, snapshot, &tuple, &buffer))
	{
		if (carries_key(rel, &tuple, key_att, key_type, key))
			found = heap_copytuple(&tuple);
		ReleaseBuffer(buffer);
	}
	return found;
}

/*
 * The same for the version the snapshot sees in the chain of HOT updates that starts at start,
 * read as an index scan reads it (tidying the page first when it has room to gain).
 */
static HeapTuple
fetch_in_chain(Relation rel, ItemPointer start, AttrNumber key_att, Oid key_type, int64 key,
			   Snapshot snapshot)
{
	Buffer		buffer = ReadBuffer(rel, ItemPointerGetBlockNumber(start));
	ItemPointerData tid = *start;	/* the search moves it to the version it finds */
	HeapTupleData tuple;
	bool		all_dead;
	HeapTuple	found = NULL;

	heap_page_prune_opt(rel, buffer);
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	if (heap_hot_search_buffer(&tid, rel, buffer, snapshot, &tuple, &all_dead, true) &&
		carries_key(rel, &tuple, key_att, key_type, key))
		found = heap_copytuple(&tuple);
	LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
	ReleaseBuffer(buffer);
	return found;
}

HeapTuple
rowhint_fetch(Relation rel, AttrNumber key_att, Oid key_type, int64 key, Snapshot snapshot)
{
	RowHint    *h = slot_of(RelationGetRelid(rel), key);
	HeapTuple	found = NULL;

	if (h->relid != RelationGetRelid(rel) || h->key != key)
		return NULL;
	/*
	 * The addresses are read as the heap lays rows out; other snapshots may see several versions
	 * of one row.  Anything else is left to the index scan.
	 */
	if (rel->rd_tableam != GetHeapamTableAmRoutine() || !IsMVCCSnapshot(snapshot))
		return NULL;
	/* a table shortened since (VACUUM, TRUNCATE) has no such block to read */
	if (block_in_table(rel, ItemPointerGetBlockNumber(&h->newest)))
		found = fetch_version(rel, &h->newest, key_att, key_type, key, snapshot);
	if (found == NULL && block_in_table(rel, ItemPointerGetBlockNumber(&h->start)))
		found = fetch_in_chain(rel, &h->start, key_att, key_type, key, snapshot);
	if (found != NULL)
		h->newest = found->t_self;
	return found;
}

/*
 * A backend's first look-ups of a small table's rows would each go through the index (a seat map's
 * 2,000 seats: 2,000 descents per backend before its hints help).  So the first look-up that
 * misses reads the whole key index once, when it has at most ROWHINT_WARM_BLOCKS blocks (a few
 * thousand keys, fewer than the table of hints holds), and notes every entry's key and address:
 * the index's own tuples, no row read.  An entry may name a version since replaced or removed;
 * like any hint it is checked when used.  Each table is read so once per backend.
 */
#define ROWHINT_WARM_BLOCKS 12
#define ROWHINT_WARM_TABLES 8

static Oid	warm_tried[ROWHINT_WARM_TABLES];	/* read whole, or found too big */
static int	nwarm_tried = 0;

/* Whether rel's index is still to be tried; it counts as tried from now on. */
static bool
warm_first_try(Relation rel)
{
	int			i;

	if (nwarm_tried == ROWHINT_WARM_TABLES)
		return false;
	for (i = 0; i < nwarm_tried; i++)
		if (warm_tried[i] == RelationGetRelid(rel))
			return false;
	warm_tried[nwarm_tried++] = RelationGetRelid(rel);
	return true;
}

static void
warm_from_index(Relation rel, Relation irel, Oid key_type)
{
	IndexScanDesc scan;
	ItemPointer tid;

	if (RelationGetNumberOfBlocks(irel) > ROWHINT_WARM_BLOCKS)
		return;
	/* no snapshot: the entries are all wanted, and a serializable reader takes no lock on them */
	scan = booking_index_beginscan(rel, irel, SnapshotAny, 0, 0);
	scan->xs_want_itup = true;
	index_rescan(scan, NULL, 0, NULL, 0);
	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		d;

		if (scan->xs_itup == NULL)
			break;				/* an index that cannot return its tuples: nothing to learn */
		d = index_getattr(scan->xs_itup, 1, scan->xs_itupdesc, &isnull);
		if (!isnull)
			rowhint_note(rel, key_type == INT8OID ? DatumGetInt64(d) : (int64) DatumGetInt32(d),
						 tid);
	}
	index_endscan(scan);
}

HeapTuple
rowhint_lookup(Relation rel, Oid index, AttrNumber key_att, Oid key_type, int64 key,
			   Snapshot snapshot)
{
	HeapTuple	found = rowhint_fetch(rel, key_att, key_type, key, snapshot);
	ScanKeyData skey;
	Relation	irel;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ItemPointerData root;

	if (found != NULL)
		return found;
	if (rel->rd_tableam == GetHeapamTableAmRoutine() && IsMVCCSnapshot(snapshot) &&
		warm_first_try(rel))
	{
		irel = index_open(index, AccessShareLock);
		warm_from_index(rel, irel, key_type);
		index_close(irel, AccessShareLock);
		found = rowhint_fetch(rel, key_att, key_type, key, snapshot);
		if (found != NULL)
			return found;
	}
	/* the index's only column is the key */
	if (key_type == INT8OID)
		ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key));
	else
	{
		if (key < PG_INT32_MIN || key > PG_INT32_MAX)
			return NULL;
		ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum((int32) key));
	}
	irel = index_open(index, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	scan = booking_index_beginscan(rel, irel, snapshot, 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	ItemPointerSetInvalid(&root);
	for (;;)
	{
		/* the address as the index has it, before the fetch moves it along the chain */
		if (!scan->xs_heap_continue)
		{
			ItemPointer tid = index_getnext_tid(scan, ForwardScanDirection);

			if (tid == NULL)
				break;
			root = *tid;
		}
		if (index_fetch_heap(scan, slot))
		{
			found = ExecCopySlotHeapTuple(slot);
			rowhint_note(rel, key, &root);
			rowhint_note_version(rel, key, &found->t_self);
			break;
		}
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(irel, AccessShareLock);
	return found;
}
