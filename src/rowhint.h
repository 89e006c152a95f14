/*
 * rowhint.h
 *		Where a row of a unique integer key was last seen: an address tried before the index
 *		(rowhint.c).
 */
#ifndef BOOKING_ROWHINT_H
#define BOOKING_ROWHINT_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tableam.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

#include "compat.h"

/*
 * Remembers that the index has the row of rel whose key is key at tid: an INSERT's new row, or
 * the address an index scan gave.
 */
extern void rowhint_note(Relation rel, int64 key, ItemPointer tid);

/*
 * Remembers that a newer version of that row is at tid (one this backend locked, say), where the
 * row's start is remembered.
 */
extern void rowhint_note_version(Relation rel, int64 key, ItemPointer tid);

/*
 * After an update of that row whose new version is at tid: remembers tid where the update made
 * new index entries, and keeps the address the index already had where it did not (a HOT update).
 */
extern void rowhint_note_update(Relation rel, int64 key, ItemPointer tid,
								booking_update_indexes_t update);

/*
 * The version of the row of rel with this key (in column key_att, of type key_type: int4 or
 * int8) that the snapshot sees, as a copy, when the remembered address holds it; NULL when
 * there is no address or it holds anything else: the caller then asks the index.
 */
extern HeapTuple rowhint_fetch(Relation rel, AttrNumber key_att, Oid key_type, int64 key,
							   Snapshot snapshot);

/*
 * The same, and else through index (a unique btree index on that column alone), noting where the
 * index has the row; NULL when the snapshot sees no such row.
 */
extern HeapTuple rowhint_lookup(Relation rel, Oid index, AttrNumber key_att, Oid key_type,
								int64 key, Snapshot snapshot);

#endif							/* BOOKING_ROWHINT_H */
