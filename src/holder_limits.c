/*
 * holder_limits.c
 *		Limits per holder.
 *
 * A resource's max_per_holder caps the active bookings (those whose status consumes capacity)
 * one holder may have on it: a booking that would be one too many is refused, reason
 * 'holder_limit' from book_slot() and book_many(), 23514 on constraint booking_holder_limit for
 * a direct write.  The admission counts the holder's active rows under the resource's locks,
 * through the index on (resource_id, holder), so the count costs the holder's rows on that
 * resource, and only where a limit is set.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "holder_limits.h"

/*
 * Whether holder already has max (or more) active rows on the resource, leaving out the row
 * being written; *count is how many were found (it stops counting at max).  Rows are read as of
 * now, under the resource's locks, as every admission reads them.
 */
bool
limits_holder_full(BookingPair *pair, int64 resource_id, const HolderCheck *hc, int32 max,
				   int32 *count)
{
	Relation	rel;
	Relation	index;
	Snapshot	snapshot;
	IndexScanDesc scan;
	ScanKeyData keys[2];
	TupleTableSlot *slot;
	int32		n = 0;

	*count = 0;
	if (!OidIsValid(pair->holder_index) || hc == NULL || hc->holder == NULL)
		return false;
	if (max <= 0)
		return true;
	rel = table_open(pair->child_relid, AccessShareLock);
	index = index_open(pair->holder_index, AccessShareLock);
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(resource_id));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(hc->holder));
	keys[1].sk_collation = index->rd_indcollation[1];
	scan = booking_index_beginscan(rel, index, snapshot, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	slot = table_slot_create(rel, NULL);
	while (n < max && index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, pair->status_att, &isnull);

		if (!pair_status_consumes(pair, d, isnull))
			continue;
		d = slot_getattr(slot, pair->child_key_att, &isnull);
		if (!isnull && DatumGetInt64(d) == hc->exclude_row)
			continue;
		d = slot_getattr(slot, pair->holder_att, &isnull);
		if (isnull || strcmp(TextDatumGetCString(d), hc->holder) != 0)
			continue;
		n++;
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snapshot);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
	*count = n;
	return n >= max;
}
