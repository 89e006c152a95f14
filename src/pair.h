/*
 * pair.h
 *		The table pairs the engine protects: where capacity, counter, spots, status and range
 *		live, read from booking.pair and kept per backend with the SPI plans built from them.
 */
#ifndef BOOKING_PAIR_H
#define BOOKING_PAIR_H

#include "postgres.h"

#include "access/attnum.h"
#include "access/htup.h"
#include "access/tupdesc.h"
#include "access/skey.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

/*
 * The states of a booking the engine gives meaning to (see states.c), by their labels in
 * booking.status; an application's status column may hold other values too (STATE_OTHER).
 */
typedef enum BookingState
{
	STATE_HELD,
	STATE_PENDING,
	STATE_CONFIRMED,
	STATE_COMPLETED,
	STATE_WAITLISTED,
	STATE_CANCELLED,
	STATE_EXPIRED,
	STATE_OTHER
} BookingState;

#define NUM_STATES STATE_OTHER

extern const char *const state_names[NUM_STATES];

/* The extension is not relocatable: its objects always live in this schema. */
#define BOOKING_SCHEMA "booking"

/* The extension's own pair: booking.resource and booking.booking. */
#define BOOKING_OWN_PAIR 1

/* The SPI plans kept for one pair; each is prepared on first use. */
typedef enum PairPlan
{
	PLAN_ADMIT,					/* counter += $2 where it fits; RETURNING capacity, counter */
	PLAN_FORCE,					/* counter += $2 unconditionally (releases) */
	PLAN_SET,					/* counter = $2 (repair) */
	PLAN_PEEK,					/* capacity, counter, timeline of one parent row */
	PLAN_PEEK_LOCK,				/* the same, locking the row (repair) */
	PLAN_KEY_SHARE,				/* the parent row exists; FOR KEY SHARE (foreign key) */
	PLAN_TIMELINE_LOCK,			/* capacity, timeline, buffers of one parent row, locked */
	PLAN_CANDIDATES,			/* consuming rows and blocks of one resource near a span */
	PLAN_TIMELINE_READ,			/* capacity, timeline, buffers of one parent row, no lock */
	PLAN_TIMELINE_LIST,			/* key, capacity, buffers of every timeline resource */
	PLAN_COUNT_ONE,				/* consuming spots of one parent, from the child rows */
	PLAN_VERIFY,				/* every parent whose counter differs from its rows */
	PLAN_EXPIRE,				/* mark one parent's holds past due expired (as the child's owner) */
	PLAN_WAITING,				/* one parent's waiting rows, first come first (key, spots, range) */
	PLAN_HOLDER_MAX,			/* one parent's max_per_holder (the extension's own pair) */
	PLAN_PROMOTE,				/* one waiting row to confirmed (as the child's owner) */
	PLAN_GROW,					/* raise one parent's longest_booking ($3 false) or longest_block */
	PLAN_LONGEST,				/* every timeline parent with a range longer than its bound */
	PLAN_WAIT_SHIFT,			/* waiting += $2 (a pair with a waiting column) */
	PLAN_WAIT_SET,				/* waiting = how many of its rows are waitlisted (repair) */
	NUM_PAIR_PLANS
} PairPlan;

typedef struct BookingPair
{
	int32		id;
	Oid			parent_relid;
	Oid			child_relid;
	Oid			parent_owner;	/* the engine writes the counter as this role */
	Oid			child_owner;	/* and expires holds as this one */
	Oid			parent_key_type;	/* type of the parent's key column */
	Oid			child_key_type;	/* type of the child's key column */
	Oid			parent_key_index;	/* unique btree index on the key alone, or InvalidOid */
	Oid			child_key_index;	/* the same on the child's bigint key, or InvalidOid */
	Oid			parent_guard_func;	/* booking.resource_guard(), the engine's own trigger */
	Oid			guard_func;		/* booking.booking_guard(), the child's trigger */
	Oid			promote_func;	/* booking.promote_trigger(), the engine's AFTER trigger */
	Oid			queue_relid;	/* booking.queue (own pair), or InvalidOid: no holds or lines kept */
	Oid			queue_index;	/* its btree (resource_id, waiting, booking_id) */
	Oid			group_index;	/* the child's btree on group_id (own pair), or InvalidOid */
	AttrNumber	holder_att;		/* the child's holder column (own pair), or InvalidAttrNumber */
	AttrNumber	group_att;		/* the child's group_id, bigint (own pair), or InvalidAttrNumber */
	Oid			key_sequence;	/* the identity sequence of the child's id (own pair), or InvalidOid */
	Oid			holder_index;	/* btree (parent, holder) for the per-holder limit, or InvalidOid */
	AttrNumber	max_per_holder_att;	/* the parent's max_per_holder, or InvalidAttrNumber */
	AttrNumber	max_hold_att;	/* the parent's max_hold (own pair), or InvalidAttrNumber */
	AttrNumber	waiting_att;	/* the parent's count of waitlisted rows (own pair), or
								 * InvalidAttrNumber: then the waitlist is asked at every admission */
	AttrNumber	hold_id_att;	/* the parent's hold slot, bigint and timestamptz (own pair; see */
	AttrNumber	hold_due_att;	/* queue.c), or InvalidAttrNumber: every hold is in booking.queue */
	const char *touch_sql;		/* ", updated_at = now()" where the child has one (own pair), or "" */

	/* child columns, as attribute numbers in the child's tuple descriptor */
	AttrNumber	child_key_att;
	AttrNumber	child_parent_att;
	AttrNumber	spots_att;		/* InvalidAttrNumber: every row takes one spot */
	AttrNumber	status_att;
	AttrNumber	during_att;		/* a tstzrange column, or InvalidAttrNumber */
	AttrNumber	start_att;		/* or the range is start to end, or start plus duration */
	AttrNumber	end_att;
	Oid			start_type;		/* TIMESTAMPTZOID, or TIMESTAMPOID (read as UTC) */
	int64		duration;		/* microseconds, where there is no end column */
	AttrNumber	kind_att;		/* InvalidAttrNumber: no blocks */
	Oid			status_type;

	/* parent columns */
	AttrNumber	parent_key_att;
	AttrNumber	capacity_att;
	AttrNumber	counter_att;
	AttrNumber	timeline_att;	/* InvalidAttrNumber: timeline_const says it for every parent */
	bool		timeline_const;
	AttrNumber	buffer_before_att;	/* InvalidAttrNumber: no buffer */
	AttrNumber	buffer_after_att;
	AttrNumber	min_notice_att;	/* InvalidAttrNumber: no notice */
	AttrNumber	max_horizon_att;	/* InvalidAttrNumber: no horizon */
	Oid			kind_block;		/* the enum value 'block' of an enum kind column */

	/*
	 * The overlap search through a btree (resource, kind, lower(during)) (own pair): the index,
	 * the kind 'booking', and the parent's columns bounding the length of each kind's ranges.
	 * slot_index is InvalidOid where any is missing; the search then runs a statement.
	 */
	Oid			slot_index;
	Oid			kind_booking;
	AttrNumber	longest_booking_att;
	AttrNumber	longest_block_att;
	AttrNumber	expires_att;	/* InvalidAttrNumber: holds never expire */
	char	   *expires_sql;	/* NULL: no such column */
	Oid			state_enum[NUM_STATES];	/* enum status: the OID of each state's label */
	bool		has_states;		/* the engine's states and their rules apply (own pair only) */

	/* consuming status values: labels, and for enum status columns their OIDs */
	int			nconsuming;
	char	  **consuming;
	Oid		   *consuming_enum;	/* NULL unless status_type is an enum */

	/* names quoted for SQL, as built once at load */
	char	   *parent_sql;
	char	   *child_sql;
	char	   *parent_key_sql;
	char	   *capacity_sql;	/* the column, or the pair's constant */
	char	   *counter_sql;	/* the column, or 0 where the pair keeps no counter */
	char	   *timeline_sql;	/* the column, or the constant true or false */
	char	   *buffer_before_sql;	/* an SQL expression: the column, or a zero interval */
	char	   *buffer_after_sql;
	char	   *min_notice_sql;	/* an SQL expression: the column, or a NULL interval */
	char	   *max_horizon_sql;
	char	   *during_sql;		/* the range as an expression on the child, NULL: pool only */
	char	   *overlap_sql;	/* a predicate on the child: the range meets [$2, $3) */
	char	   *is_block_sql;	/* an SQL predicate on the child: the row is a block */
	char	   *child_key_sql;
	char	   *child_parent_sql;
	char	   *spots_sql;		/* an SQL expression: the column, or 1 */
	char	   *status_sql;
	char	   *consuming_sql;	/* an SQL predicate on the child: status consumes */

	SPIPlanPtr	plans[NUM_PAIR_PLANS];
} BookingPair;

/*
 * A row's columns read by number, the tuple taken apart once, at the first read: several reads
 * of one row then cost one pass over it, where each heap_getattr() past a NULL or a variable-width
 * column walks the row from its start again.  The values point into the tuple, as heap_getattr()'s
 * do.
 */
#define ROW_READER_INLINE 32

typedef struct RowReader
{
	HeapTuple	tuple;
	TupleDesc	desc;
	Datum	   *values;			/* NULL until the first read */
	bool	   *isnull;
	/* where a row of up to ROW_READER_INLINE columns is taken apart; a wider one is palloc'd */
	Datum		inline_values[ROW_READER_INLINE];
	bool		inline_isnull[ROW_READER_INLINE];
} RowReader;

/*
 * An empty slot for new versions of rel's rows, kept from call to call (a few tables at a time)
 * where making and dropping one each time would cost more than the row: with its own copy of
 * the row type, made again after a change of the table.  The caller gives it back with
 * pair_version_slot_done(), which empties it (a call further down the stack meanwhile gets a
 * slot of its own).  A row the caller stores as the slot's own must live in the slot's memory
 * (slot->tts_mcxt): an error leaves it there until the transaction ends, when the slot is
 * emptied and given back.  A row the slot does not own may live anywhere.
 */
extern TupleTableSlot *pair_version_slot(Relation rel);
extern void pair_version_slot_done(TupleTableSlot *slot);
extern void row_reader_init(RowReader *r, HeapTuple tuple, TupleDesc desc);
extern Datum row_read(RowReader *r, AttrNumber att, bool *isnull);
/* One column: from the values once the row is taken apart, else by heap_getattr() without that. */
extern Datum row_peek(RowReader *r, AttrNumber att, bool *isnull);
/*
 * Where each of the first upto columns of a formed row starts in its data (offsets[i] for
 * attribute i + 1; -1: null, or beyond the row's own width), walking them as the row lays them
 * out: each aligned for its type, then as long as it is.
 */
extern void row_data_offsets(TupleDesc desc, HeapTuple tuple, int upto, int *offsets);
/*
 * A copy of tuple with the ncols columns cols (attribute numbers, up to ROW_PATCH_MAX_ATT) set
 * to values and nulls, written over the copy's bytes, where that leaves the row's layout as it
 * is: every column changed fixed-width and passed by value, null in both versions or in
 * neither, and the row as wide as desc.  NULL where it would not: the caller forms the row.
 * Forming walks and copies every column; this copies the row's bytes and writes a few.
 */
#define ROW_PATCH_MAX_ATT 64
extern HeapTuple row_patched_copy(HeapTuple tuple, TupleDesc desc, int ncols, const int *cols,
								  const Datum *values, const bool *nulls);
/*
 * A new version of old's row with the ncols columns cols (attribute numbers) set to values and
 * nulls, patched (row_patched_copy()) or else formed as heap_modify_tuple_by_cols() forms it,
 * and r made its reader: r's values are old's with the changes, so reading the new version
 * takes nothing apart.  They point into old's
 * row where they are not changed, so old's row must live as long as r is read.
 */
extern HeapTuple row_reader_changed(RowReader *r, RowReader *old, int ncols, const int *cols,
									const Datum *values, const bool *nulls);
/* Frees what a wide row took (nothing for the rest); the reader may not be read after. */
extern void row_reader_done(RowReader *r);

extern BookingPair *pair_by_id(int32 id);
extern BookingPair *pair_by_child(Oid relid);
extern BookingPair *pair_by_parent(Oid relid);
extern int	pair_count(void);
extern BookingPair *pair_at(int index);

extern int64 pair_integer(Datum value, Oid type);
extern bool pair_key_is_integer(Oid type);
extern int64 pair_key_handle(Datum value, Oid type);
extern Datum pair_handle_datum(int64 handle, Oid type);
extern int64 pair_selected_key(Datum value, Oid type);
extern char *pair_handle_text(int64 handle, Oid type);
extern char *pair_resource_text(BookingPair *pair, int64 resource_id);
extern char *pair_row_text(BookingPair *pair, int64 row_id);
extern Datum pair_resource_datum(BookingPair *pair, int64 resource_id);
extern int	pair_label_index(Datum value, bool isnull, Oid type, const Oid *enum_oids,
							 const char *const *labels, int n);
extern bool pair_status_consumes(BookingPair *pair, Datum status, bool isnull);
extern BookingState pair_state(BookingPair *pair, Datum status, bool isnull);
extern void pair_invalidate(void);
extern bool pair_kind_is_block(BookingPair *pair, Datum kind, bool isnull, Oid kind_type);
extern SPIPlanPtr pair_plan(BookingPair *pair, PairPlan which);
extern int	pair_execute_as_owner(BookingPair *pair, PairPlan which, Datum *args,
								  const char *nulls, long count, bool latest);

/*
 * A scan of the child's rows through one of its indexes, straight through the access methods
 * (the overlap search, the waiting rows, a holder's rows): pair_scan_open(), set the keys
 * (cs.index is open for their collations), pair_scan_start(), pair_scan_next() until false,
 * pair_scan_close().  With latest, rows are read as of now, this transaction's earlier writes
 * included; otherwise with the transaction's snapshot.
 */
typedef struct ChildScan
{
	Relation	rel;
	Relation	index;
	Snapshot	snapshot;
	struct IndexScanDescData *scan;
	struct TupleTableSlot *slot;
} ChildScan;

extern void pair_scan_open(ChildScan *cs, BookingPair *pair, Oid index, bool latest);
extern void relation_scan_open(ChildScan *cs, Oid relid, Oid index, bool latest);
extern void pair_scan_start(ChildScan *cs, ScanKey keys, int nkeys);
extern bool pair_scan_next(ChildScan *cs);
extern void pair_scan_close(ChildScan *cs);

extern void pair_init(void);
extern void pair_xact_end(void);

#endif							/* BOOKING_PAIR_H */
