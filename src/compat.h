/*
 * compat.h
 *		Every PostgreSQL version test of the booking extension, keyed to the release that
 *		brought the API.  Sources include this file and never test PG_VERSION_NUM themselves.
 *
 * Supported: PostgreSQL 14 to 18.
 */
#ifndef BOOKING_COMPAT_H
#define BOOKING_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 140000
#error "booking requires PostgreSQL 14 or later"
#endif

/*
 * PostgreSQL 16 moved the varlena helpers into varatt.h; 15 and older have them in postgres.h.
 */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * PostgreSQL 18 made MarkGUCPrefixReserved the only name; 15 brought it, 14 has
 * EmitWarningsOnPlaceholders.
 */
#if PG_VERSION_NUM >= 150000
#define booking_reserve_guc_prefix(prefix) MarkGUCPrefixReserved(prefix)
#else
#define booking_reserve_guc_prefix(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/*
 * PostgreSQL 17 made getIdentitySequence() take the relation instead of its OID.
 */
#if PG_VERSION_NUM >= 170000
#define booking_identity_sequence(rel, attnum) \
	getIdentitySequence((rel), (attnum), true)
#else
#define booking_identity_sequence(rel, attnum) \
	getIdentitySequence(RelationGetRelid(rel), (attnum), true)
#endif

/*
 * PostgreSQL 16 made the table AM's update report which indexes need new entries (all, or only
 * summarizing ones) instead of a bool, and ExecInsertIndexTuples take onlySummarizing.
 * (Its "update" argument only feeds a hint to the index AM, computed from the executor's range
 * table, which the engine's direct counter update has none of: it passes false.)
 */
#if PG_VERSION_NUM >= 160000
typedef TU_UpdateIndexes booking_update_indexes_t;
#define booking_update_needs_indexes(u) ((u) != TU_None)
#define booking_update_only_summarizing(u) ((u) == TU_Summarizing)
#define booking_insert_index_tuples(rri, slot, estate, only_summarizing) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL, (only_summarizing))
#elif PG_VERSION_NUM >= 150000
typedef bool booking_update_indexes_t;
#define booking_update_needs_indexes(u) (u)
#define booking_update_only_summarizing(u) false
#define booking_insert_index_tuples(rri, slot, estate, only_summarizing) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL)
#else
/* PostgreSQL 14's ExecInsertIndexTuples() has no "update" argument yet */
typedef bool booking_update_indexes_t;
#define booking_update_needs_indexes(u) (u)
#define booking_update_only_summarizing(u) false
#define booking_insert_index_tuples(rri, slot, estate, only_summarizing) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, NULL, NIL)
#endif

/*
 * PostgreSQL 17 lets an index AM tidy up after a run of inserts (index_insert_cleanup(), which
 * ExecCloseIndices() calls); before it there is nothing to tidy.
 */
#if PG_VERSION_NUM >= 170000
#define booking_index_insert_cleanup(irel, info) index_insert_cleanup((irel), (info))
#else
#define booking_index_insert_cleanup(irel, info) ((void) 0)
#endif

/*
 * PostgreSQL 15 gave heap_fetch() a keep_buf argument (whether to keep the pin on a version the
 * snapshot does not see); the engine never keeps it.
 */
#if PG_VERSION_NUM >= 150000
#define booking_heap_fetch(rel, snapshot, tuple, buffer) \
	heap_fetch((rel), (snapshot), (tuple), (buffer), false)
#else
#define booking_heap_fetch(rel, snapshot, tuple, buffer) \
	heap_fetch((rel), (snapshot), (tuple), (buffer))
#endif

/*
 * PostgreSQL 16 gave make_range() an error-context argument for soft errors.
 */
#if PG_VERSION_NUM >= 160000
#define booking_make_range(typcache, lower, upper) \
	make_range((typcache), (lower), (upper), false, NULL)
#else
#define booking_make_range(typcache, lower, upper) \
	make_range((typcache), (lower), (upper), false)
#endif

/*
 * PostgreSQL 18 gave index_beginscan() an instrumentation argument.
 */
#if PG_VERSION_NUM >= 180000
#define booking_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan((heap), (index), (snapshot), NULL, (nkeys), (norderbys))
#else
#define booking_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan((heap), (index), (snapshot), (nkeys), (norderbys))
#endif

/*
 * PostgreSQL 16 replaced the (unused here) SPI plan flags but kept SPI_keepplan; nothing to map.
 * PostgreSQL 18 added PG_MODULE_MAGIC_EXT; the plain form still works everywhere.
 */

/* PostgreSQL 16 checks ownership of any object with one function. */
#if PG_VERSION_NUM >= 160000
#define booking_table_ownercheck(relid, role) \
	object_ownercheck(RelationRelationId, (relid), (role))
#else
#define booking_table_ownercheck(relid, role) pg_class_ownercheck((relid), (role))
#endif

#endif							/* BOOKING_COMPAT_H */
