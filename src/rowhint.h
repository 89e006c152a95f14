/*
 * rowhint.h
 *		Where a row of a unique integer key was last seen: an address tried before the index
 *		(rowhint.c).
 */
#ifndef BOOKING_ROWHINT_H
#define BOOKING_ROWHINT_H

#include "postgres.h"

#include "access/htup.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

/* Remembers that the row of rel whose key is key was at tid. */
extern void rowhint_note(Relation rel, int64 key, ItemPointer tid);

/*
 * The version of the row of rel with this key (in column key_att, of type key_type: int4 or
 * int8) that the snapshot sees, as a copy, when the remembered address holds it; NULL when
 * there is no address or it holds anything else: the caller then asks the index.
 */
extern HeapTuple rowhint_fetch(Relation rel, AttrNumber key_att, Oid key_type, int64 key,
							   Snapshot snapshot);

#endif							/* BOOKING_ROWHINT_H */
