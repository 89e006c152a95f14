/*
 * direct.h
 *		book_slot()'s new row written straight through the table access method (direct.c).
 */
#ifndef BOOKING_DIRECT_H
#define BOOKING_DIRECT_H

#include "postgres.h"

#include "nodes/lockoptions.h"
#include "pair.h"
#include "utils/tuplestore.h"

/*
 * Attribute numbers of booking.booking's columns as shipped, valid wherever a direct way was
 * taken (direct.c checks the table's columns first).
 */
#define BOOKING_COL_ID			1
#define BOOKING_COL_RESOURCE	2
#define BOOKING_COL_DURING		5
#define BOOKING_COL_STATUS		6
#define BOOKING_COL_EXPIRES		7
#define BOOKING_COL_DIGEST		8
#define BOOKING_COL_GROUP		9
#define BOOKING_COL_CREATED		14

/* The values of one new booking row that book_slot() gives; the rest are the table's defaults. */
typedef struct DirectBooking
{
	int64		resource_id;
	const char *holder;
	int32		spots;
	Datum		during;
	bool		during_null;
	BookingState state;			/* STATE_CONFIRMED, STATE_HELD or STATE_WAITLISTED */
	Datum		expires_at;		/* a hold's */
	Datum		token_digest;	/* a hold's */
	Datum		idempotency_key;
	bool		idempotency_key_null;
	Datum		meta;
	bool		meta_null;
	int64		group_id;		/* book_many()'s group, or 0 */
	Datum		hold;			/* a hold's length as asked, for the admission to judge, or 0 */
} DirectBooking;

/*
 * The same in steps, for several rows through one open table and its indexes (book_many()):
 * begin returns NULL, having done nothing, where the statement must run instead.
 */
typedef struct DirectInserter DirectInserter;
/* Registers the relcache callback that keeps child_is_plain_shape()'s verdict; from _PG_init. */
extern void direct_init(void);
extern DirectInserter *direct_insert_begin(BookingPair *pair);
extern void direct_insert_row(DirectInserter *di, const DirectBooking *row, bool *inserted,
							  int64 *booking_id, Datum *status);
extern void direct_insert_end(DirectInserter *di);

/*
 * Writes the row as book_slot()'s INSERT would, through the engine's guard (an armed hand-over
 * sees it as from the statement).  Returns false, having done nothing, where the statement must
 * run instead; otherwise true, with *inserted false when the guard refused the row softly.
 */
extern bool direct_insert_booking(BookingPair *pair, const DirectBooking *row, bool *inserted,
								  int64 *booking_id, Datum *status);

/*
 * A change of status that confirm(), release() and cancel() make to rows they have locked:
 * status, updated_at = now(), and with the flags expires_at and hold_token_digest set NULL.
 * only_from, if set, leaves out the rows whose status it rejects (the statement's WHERE).
 */
typedef struct DirectChange
{
	BookingState state;
	bool		clear_expiry;
	bool		clear_digest;
	bool		(*only_from) (BookingPair *pair, Datum status, bool isnull);

	/*
	 * With unlocked, the caller holds no lock on the rows: each is written under the lock its
	 * update takes, then its guard runs, and one that another transaction changed first is
	 * locked at its newest version and judged again (40001 under a transaction snapshot), as
	 * UPDATE's recheck does.  Only for pool rows, in ascending resource order: each row's
	 * admission then takes at most its own resource's advisory lock, after the row's.  A
	 * locker of the same rows the locked way takes them in the same order, before any advisory
	 * lock, and then only the locks of resources where it holds rows, so the two cannot wait on
	 * each other in a circle.  A row found with a range is 40001.  judge, if set, runs on each
	 * version of the row must_id that is read, before only_from, and raises what the caller
	 * reports for it.  seen, if set, holds the version of each row (or NULL) that the caller
	 * read unlocked, with the transaction's snapshot, to be written instead of reading it again.
	 */
	bool		unlocked;
	int64		must_id;
	void		(*judge) (BookingPair *pair, HeapTuple tuple, TupleDesc desc, void *arg);
	void	   *judge_arg;
	HeapTuple  *seen;
} DirectChange;

/*
 * Writes the change to each of the rows (by id; the caller holds their row locks, but see
 * unlocked above) as the
 * UPDATE statement would, through the engine's guard, then promotes what the rows freed (the
 * AFTER trigger's work), and puts the new rows in store.  Returns false, having done nothing,
 * where the statement must run instead; otherwise true, with *updated the rows written.
 */
extern bool direct_update_bookings(BookingPair *pair, const int64 *ids, int n,
								   const DirectChange *change, Tuplestorestate *store,
								   int *updated);

/*
 * SELECT ... WHERE id = $1 FOR UPDATE (mode LockTupleExclusive) or FOR NO KEY UPDATE (the lock an
 * UPDATE of no key column takes) of booking.booking through the table AM: returns a copy of the
 * locked row, or NULL when there is none; *done false, having done nothing, where the statement
 * must run instead (not as shipped, row-level security, no SELECT or UPDATE).
 */
extern HeapTuple direct_lock_booking(BookingPair *pair, int64 id, LockTupleMode mode, bool *done);

/*
 * The rows of a group (*group_id, or when 0 the group of member_id, set on return) whose status
 * keep accepts, locked FOR UPDATE in ascending resource order, as lock_group_rows()'s statement
 * does.  Returns how many, with their ids and resource ids; *done as above.
 */
extern int	direct_lock_group(BookingPair *pair, int64 *group_id, int64 member_id,
							  bool (*keep) (BookingPair *, Datum, bool), int64 **ids,
							  int64 **resource_ids, bool *done);

/*
 * The row member_id and, where it is of a group, the same rows of its group as one snapshot
 * sees them, locking none (for DirectChange.unlocked): *member a copy of the row (NULL when
 * there is none), a copy of each group row seen in *tuples, *ranged whether one of those has
 * a range.  Returns how many group rows (0 for a row of no group); *done as above.
 */
extern int	direct_member_group_rows(BookingPair *pair, int64 member_id,
									 bool (*keep) (BookingPair *, Datum, bool),
									 HeapTuple *member, int64 **ids, int64 **resource_ids,
									 HeapTuple **tuples, bool *ranged, bool *done);

/*
 * The row with this id as the transaction's snapshot sees it, a copy, locking nothing; NULL
 * when there is none; *done as above.
 */
extern HeapTuple direct_read_booking(BookingPair *pair, int64 id, bool *done);

extern const char *direct_state_name(BookingPair *pair, Datum status, bool isnull);

#endif							/* BOOKING_DIRECT_H */
