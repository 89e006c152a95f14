/*
 * rowhint.c
 *		Where a row of a unique integer key was last seen in this backend, tried before the
 *		index.
 *
 * The engine finds the same rows again and again, each time through a unique index: a seat's
 * resource row when its counter goes up at the hold and down at the cancel, a booking by its id
 * when it is locked and then updated, or confirmed and later cancelled.  Each of those descents
 * costs more than reading the row itself.  So every lookup and every write of such a row leaves
 * its address here, and the next lookup reads that address first.
 *
 * An address is never trusted.  It is used only when its block is inside the table, the version
 * there is the one the caller's snapshot sees, and that version carries the key.  Under an MVCC
 * snapshot at most one version of a row of a unique key is visible, so such a version is the
 * very one the index would have led to.  Anything else (the row updated by someone else, moved
 * to another page, pruned, deleted; the table rewritten) sends the lookup through the index as
 * before, and the index's answer becomes the new address.  The table is small (a fixed array,
 * one entry per slot, the newest wins) and lives as long as the backend.
 */
#include "postgres.h"

#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/rel.h"

#include "rowhint.h"

#define ROWHINT_BITS 9
#define ROWHINT_SLOTS (1 << ROWHINT_BITS)

typedef struct RowHint
{
	Oid			relid;			/* InvalidOid: an empty slot */
	int64		key;
	ItemPointerData tid;
} RowHint;

static RowHint hints[ROWHINT_SLOTS];

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

static RowHint *
slot_of(Oid relid, int64 key)
{
	uint64		h = ((uint64) key ^ ((uint64) relid << 32)) * UINT64CONST(0x9E3779B97F4A7C15);

	return &hints[h >> (64 - ROWHINT_BITS)];
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
	h->tid = *tid;
}

HeapTuple
rowhint_fetch(Relation rel, AttrNumber key_att, Oid key_type, int64 key, Snapshot snapshot)
{
	RowHint    *h = slot_of(RelationGetRelid(rel), key);
	TupleTableSlot *slot;
	HeapTuple	found = NULL;

	if (h->relid != RelationGetRelid(rel) || h->key != key)
		return NULL;
	/* a table shortened since (VACUUM, TRUNCATE) has no such block to read */
	if (!block_in_table(rel, ItemPointerGetBlockNumber(&h->tid)))
		return NULL;

	slot = table_slot_create(rel, NULL);
	if (table_tuple_fetch_row_version(rel, &h->tid, snapshot, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, key_att, &isnull);

		if (!isnull &&
			(key_type == INT8OID ? DatumGetInt64(d) : (int64) DatumGetInt32(d)) == key)
			found = ExecCopySlotHeapTuple(slot);
	}
	ExecDropSingleTupleTableSlot(slot);
	return found;
}
