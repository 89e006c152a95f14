/*
 * locks.c
 *		Advisory locks on resources, in the extension's own key space.
 *
 * Every admission takes the resource's advisory lock, in ExclusiveLock mode and for the rest of
 * the transaction, before it touches the resource row; the row lock taken by the counter update
 * is what makes the counter right, the advisory lock orders the work (and, on timeline
 * resources, the overlap search, which a row lock alone cannot serialise).  Several resources
 * are always locked in ascending id order, so two callers never wait on each other in a circle.
 * Waits honour lock_timeout and statement_timeout: the lock manager raises 55P03 or 57014 and
 * the error reaches the caller unchanged.
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "locks.h"

/*
 * The locks this transaction took last (a ring of the newest), each with the time it was taken
 * (the clock its judgements on that resource go by: lock_judgement_time()) and the
 * subtransaction that took it.  A lock found here is held and is not asked for again: an
 * admission takes the lock of a resource that book_many(), confirm() or cancel() took a moment
 * before, and the lock manager's look-up each time costs more than this one.  A subtransaction
 * that aborts lets go of the locks it took, and leaves the ring with them.
 */
#define HELD_RING 64

typedef struct HeldLock
{
	int32		pair_id;
	int64		resource_id;
	TimestampTz taken_at;
	SubTransactionId subid;
} HeldLock;

static HeldLock held[HELD_RING];
static int	nheld = 0;			/* how many were taken in this transaction, in all */
static int	first_kept = 0;		/* entries before this one were written over, or forgotten */

static void
locks_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
	{
		nheld = 0;
		first_kept = 0;
	}
}

/*
 * A subtransaction that aborts releases the locks taken in it and in the subtransactions it
 * started (every subid from its own up, since it is still open): the ring forgets them, the
 * newest first, down to the first one taken before it.  (One taken before it, still held, may
 * sit behind one it took; the ring then forgets that too, which only costs a look-up later.)
 */
static void
locks_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	int			i;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	/* the older entries' places hold newer ones now, which are being forgotten: never read them */
	first_kept = Max(first_kept, nheld - HELD_RING);
	for (i = first_kept; i < nheld; i++)
		if (held[i % HELD_RING].subid >= mySubid)
		{
			nheld = i;
			break;
		}
}

void
locks_init(void)
{
	RegisterXactCallback(locks_xact_callback, NULL);
	RegisterSubXactCallback(locks_subxact_callback, NULL);
}

/* The ring's entry for a resource's lock, taken in this transaction and still held; or NULL. */
static HeldLock *
held_lock(BookingPair *pair, int64 resource_id)
{
	int			i;

	for (i = nheld - 1; i >= first_kept && i >= nheld - HELD_RING; i--)
	{
		HeldLock   *h = &held[i % HELD_RING];

		if (h->resource_id == resource_id && h->pair_id == pair->id)
			return h;
	}
	return NULL;
}

/*
 * Takes the advisory lock of one resource for the rest of the transaction.  Taking it again in
 * the same transaction never waits; where the ring remembers it, it is not asked for at all.
 */
void
lock_resource(BookingPair *pair, int64 resource_id)
{
	LOCKTAG		tag;

	if (held_lock(pair, resource_id) != NULL)
		return;
	SET_LOCKTAG_BOOKING(tag, pair->id, resource_id);
	if (LockAcquire(&tag, ExclusiveLock, false, false) == LOCKACQUIRE_OK)
	{
		HeldLock   *h = &held[nheld++ % HELD_RING];

		h->pair_id = pair->id;
		h->resource_id = resource_id;
		h->taken_at = GetCurrentTimestamp();
		h->subid = GetCurrentSubTransactionId();
	}
}

/*
 * The clock by which this transaction judges the holds of a resource it reads (are they past
 * due?): the time it took the resource's lock, when it holds it, else the clock now.  Every
 * write a snapshot taken since shows on that resource was judged under the lock, before it was
 * let go, so by an earlier clock: a hold any of them found past due is past due here too.  And
 * the time stays the same while the lock is held, so that one pass over the waiting line judges
 * every row by the same clock.  (The ring remembers the newest locks; for an older one the clock
 * now is right as well, only not the same from one read to the next.)
 */
TimestampTz
lock_judgement_time(BookingPair *pair, int64 resource_id)
{
	HeldLock   *h = held_lock(pair, resource_id);

	return h != NULL ? h->taken_at : GetCurrentTimestamp();
}

/*
 * Takes the lock of one (holder, idempotency key) for the rest of the transaction, before any
 * resource's lock: two retries of one request run one after the other.
 */
void
lock_idempotency_key(const char *holder, const char *key)
{
	LOCKTAG		tag;
	size_t		hl = strlen(holder);
	size_t		kl = strlen(key);
	char	   *buf = palloc(hl + kl + 1);
	uint64		h;

	memcpy(buf, holder, hl);
	buf[hl] = '\0';			/* ("ab", "c") and ("a", "bc") are different keys */
	memcpy(buf + hl + 1, key, kl);
	h = hash_bytes_extended((const unsigned char *) buf, (int) (hl + kl + 1), 0);
	pfree(buf);
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) (h >> 32), (uint32) (h & 0xFFFFFFFF),
						 BOOKING_KEY_LOCK_SPACE);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * Locks several resources in ascending id order.  Sorts the caller's array in place; duplicates
 * are locked once.
 */
void
lock_resources(BookingPair *pair, int64 *resource_ids, int n)
{
	int			i;

	qsort(resource_ids, n, sizeof(int64), cmp_int64);
	for (i = 0; i < n; i++)
	{
		if (i > 0 && resource_ids[i] == resource_ids[i - 1])
			continue;
		lock_resource(pair, resource_ids[i]);
	}
}
