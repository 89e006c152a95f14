/*
 * timeline.c
 *		Capacity at every instant, for resources booked over time ranges.
 *
 * A timeline resource holds its capacity at every instant: the spots of the consuming bookings
 * whose range, widened by the resource's buffers, covers an instant, plus the whole capacity at
 * every instant a block covers, may not exceed it.  Capacity 1 is slot uniqueness; capacity k
 * lets k overlap.  Buffers stack: each booking is widened by buffer_before and buffer_after, so
 * two neighbours need before + after between them.
 *
 * The engine reasons in half-open spans of microseconds.  Buffers are absolute durations (a day
 * counts 24 hours) so that no decision depends on the session's time zone.  The rows that can
 * matter are found through the child's btree on (resource, kind, lower(during)), from the span's
 * start less the longest range of each kind the resource has had (near_rows_scan); the peak load
 * inside a span is then a sweep over just those rows, so the cost grows with the bookings near
 * the span, never with all the bookings of the resource.
 */
#include "postgres.h"

#include "access/htup_details.h"

#include <float.h>

#include "catalog/pg_type.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/geo_decls.h"
#include "utils/rangetypes.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "compat.h"
#include "counter.h"
#include "locks.h"
#include "timeline.h"


/*
 * Turns a tstzrange into a half-open span.  Returns false, with *why set, for an empty or
 * unbounded range, which no booking may have.
 */
bool
span_from_range(Datum range, Span *span, const char **why)
{
	RangeType  *r = DatumGetRangeTypeP(range);
	TypeCacheEntry *typcache = lookup_type_cache(RangeTypeGetOid(r), TYPECACHE_RANGE_INFO);
	RangeBound	lower;
	RangeBound	upper;
	bool		empty;

	range_deserialize(typcache, r, &lower, &upper, &empty);
	if (empty)
	{
		*why = "it is empty";
		return false;
	}
	if (lower.infinite || upper.infinite ||
		TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(lower.val)) ||
		TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(upper.val)))
	{
		*why = "it is unbounded";
		return false;
	}
	span->lo = DatumGetTimestampTz(lower.val) + (lower.inclusive ? 0 : 1);
	span->hi = DatumGetTimestampTz(upper.val) + (upper.inclusive ? 1 : 0);
	if (span->lo >= span->hi)
	{
		*why = "it is empty";
		return false;
	}
	return true;
}

/*
 * A child row's time range, from its range column or from its start and end (or start plus the
 * pair's duration) columns; a timestamp without time zone counts as UTC.  *present says whether
 * the row has a range at all (its range or start column is not NULL); the return value, whether
 * it is one the rule can judge (bounded, not empty), with *why saying what is wrong otherwise.
 */
bool
timeline_row_span(BookingPair *pair, RowReader *row, bool *present, Span *span, const char **why)
{
	bool		isnull;
	Datum		d;

	*present = false;
	if (pair->during_att != InvalidAttrNumber)
	{
		d = row_read(row, pair->during_att, &isnull);
		if (isnull)
			return false;
		*present = true;
		return span_from_range(d, span, why);
	}
	if (pair->start_att == InvalidAttrNumber)
		return false;
	d = row_read(row, pair->start_att, &isnull);
	if (isnull)
		return false;
	*present = true;
	span->lo = DatumGetTimestampTz(d);
	if (pair->end_att != InvalidAttrNumber)
	{
		d = row_read(row, pair->end_att, &isnull);
		if (isnull)
		{
			*why = "it has no end";
			return false;
		}
		span->hi = DatumGetTimestampTz(d);
	}
	else
		span->hi = span->lo + pair->duration;
	if (TIMESTAMP_NOT_FINITE(span->lo) || TIMESTAMP_NOT_FINITE(span->hi))
	{
		*why = "it is unbounded";
		return false;
	}
	if (span->lo >= span->hi)
	{
		*why = "it is empty";
		return false;
	}
	return true;
}

/* A buffer interval as microseconds, days and months taken as 24 hours and 30 days. */
int64
buffer_usecs(Datum interval)
{
	Interval   *iv = DatumGetIntervalP(interval);

	return iv->time + (int64) iv->day * USECS_PER_DAY + (int64) iv->month * 30 * USECS_PER_DAY;
}

/* A booking's span as it occupies the resource: widened by the buffers. */
Span
widen(Span span, const TimelineRule *rule)
{
	Span		w;

	w.lo = span.lo - rule->before;
	w.hi = span.hi + rule->after;
	return w;
}

/* "[lo, hi)" in the session's time zone and date style, for messages. */
char *
span_to_cstring(Span span)
{
	/* timestamptz_to_str() returns a static buffer: keep the first before the second */
	char	   *lo = pstrdup(timestamptz_to_str(span.lo));

	return psprintf("[\"%s\",\"%s\")", lo, timestamptz_to_str(span.hi));
}

/*
 * Locks a resource's row (FOR NO KEY UPDATE, as the counter update would) and reads its rule.
 * The caller holds the resource's advisory lock and is connected to SPI.  Returns false when
 * there is no such resource.
 */
static bool
read_rule(BookingPair *pair, PairPlan which, int64 resource_id, bool *is_timeline,
		  TimelineRule *rule)
{
	Datum		args[1] = {pair_resource_datum(pair, resource_id)};
	int			ret;
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;
	Datum		d;

	ret = pair_execute_as_owner(pair, which, args, NULL, 1, false);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "locking the resource failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	d = SPI_getbinval(tup, desc, 1, &isnull);
	rule->capacity = isnull ? 0 : DatumGetInt32(d);
	d = SPI_getbinval(tup, desc, 2, &isnull);
	*is_timeline = !isnull && DatumGetBool(d);
	d = SPI_getbinval(tup, desc, 3, &isnull);
	rule->before = isnull ? 0 : Max(buffer_usecs(d), 0);
	d = SPI_getbinval(tup, desc, 4, &isnull);
	rule->after = isnull ? 0 : Max(buffer_usecs(d), 0);
	d = SPI_getbinval(tup, desc, 5, &isnull);
	rule->has_notice = !isnull;
	rule->notice = isnull ? 0 : buffer_usecs(d);
	d = SPI_getbinval(tup, desc, 6, &isnull);
	rule->has_horizon = !isnull;
	rule->horizon = isnull ? 0 : buffer_usecs(d);
	d = SPI_getbinval(tup, desc, 7, &isnull);
	rule->has_holder_max = !isnull;
	rule->holder_max = isnull ? 0 : DatumGetInt32(d);
	d = SPI_getbinval(tup, desc, 8, &isnull);
	rule->longest_booking = isnull ? TIMELINE_NO_BOUND : buffer_usecs(d);
	d = SPI_getbinval(tup, desc, 9, &isnull);
	rule->longest_block = isnull ? TIMELINE_NO_BOUND : buffer_usecs(d);
	return true;
}

/* An interval column of a locked row as microseconds, or absent. */
static int64
slot_interval(TupleTableSlot *slot, AttrNumber att, bool *present)
{
	*present = att != InvalidAttrNumber && !slot->tts_isnull[att - 1];
	return *present ? buffer_usecs(slot->tts_values[att - 1]) : 0;
}

bool
timeline_lock_resource(BookingPair *pair, int64 resource_id, bool *is_timeline,
					   TimelineRule *rule)
{
	TupleTableSlot *slot;
	bool		present;

	/* straight through the table AM where the counter is written that way too (counter.c) */
	switch (counter_lock_row(pair, resource_id, &slot))
	{
		case ROW_NOT_PLAIN:
			return read_rule(pair, PLAN_TIMELINE_LOCK, resource_id, is_timeline, rule);
		case ROW_MISSING:
			return false;
		case ROW_LOCKED:
			break;
	}
	rule->capacity = slot->tts_isnull[pair->capacity_att - 1] ? 0 :
		DatumGetInt32(slot->tts_values[pair->capacity_att - 1]);
	*is_timeline = pair->timeline_att != InvalidAttrNumber &&
		!slot->tts_isnull[pair->timeline_att - 1] &&
		DatumGetBool(slot->tts_values[pair->timeline_att - 1]);
	rule->before = Max(slot_interval(slot, pair->buffer_before_att, &present), 0);
	rule->after = Max(slot_interval(slot, pair->buffer_after_att, &present), 0);
	rule->notice = slot_interval(slot, pair->min_notice_att, &rule->has_notice);
	rule->horizon = slot_interval(slot, pair->max_horizon_att, &rule->has_horizon);
	rule->has_holder_max = pair->max_per_holder_att != InvalidAttrNumber &&
		!slot->tts_isnull[pair->max_per_holder_att - 1];
	rule->holder_max = rule->has_holder_max ?
		DatumGetInt32(slot->tts_values[pair->max_per_holder_att - 1]) : 0;
	rule->longest_booking = slot_interval(slot, pair->longest_booking_att, &present);
	if (!present)
		rule->longest_booking = TIMELINE_NO_BOUND;
	rule->longest_block = slot_interval(slot, pair->longest_block_att, &present);
	if (!present)
		rule->longest_block = TIMELINE_NO_BOUND;
	ExecDropSingleTupleTableSlot(slot);
	return true;
}

/* The same without a lock, for advice (availability()): the caller is connected to SPI. */
bool
timeline_read_resource(BookingPair *pair, int64 resource_id, bool *is_timeline,
					   TimelineRule *rule)
{
	return read_rule(pair, PLAN_TIMELINE_READ, resource_id, is_timeline, rule);
}

/* One change of load at one instant, for the sweep; and the load from one instant on. */
typedef struct LoadEvent
{
	TimestampTz at;
	int32		delta;
} LoadEvent;

static int
cmp_event(const void *a, const void *b)
{
	const LoadEvent *x = a;
	const LoadEvent *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	/* spans are half-open: what ends at an instant frees it before what starts there takes it */
	return (x->delta > y->delta) - (x->delta < y->delta);
}

/* A row near a span that takes capacity: a consuming booking, or a block. */
typedef struct NearRow
{
	int64		id;
	Span		span;			/* its own range */
	int32		spots;
	bool		is_block;
} NearRow;

/*
 * The consuming rows and blocks of a resource whose ranges meet search, leaving out
 * exclude_row, through the pair's statement (when the child has no slot index of ours).
 */
static int
near_rows_query(BookingPair *pair, int64 resource_id, Span search, int64 exclude_row,
				bool decide, NearRow **out)
{
	Datum		args[5];
	int			ret;
	uint64		i;
	int			n = 0;
	NearRow    *rows;
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	args[0] = pair_resource_datum(pair, resource_id);
	args[1] = TimestampTzGetDatum(search.lo);
	args[2] = TimestampTzGetDatum(search.hi);
	/* the row itself (a reschedule is one step), or none: NULL */
	if (exclude_row != 0)
		args[3] = pair_handle_datum(exclude_row, pair->child_key_type);
	else
		nulls[3] = 'n';
	/* the clock the holds are judged by (see near_rows_scan()) */
	args[4] = TimestampTzGetDatum(lock_judgement_time(pair, resource_id));
	ret = pair_execute_as_owner(pair, PLAN_CANDIDATES, args, nulls, 0, decide);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "looking up overlapping bookings failed: %s", SPI_result_code_string(ret));
	rows = palloc(sizeof(NearRow) * (SPI_processed + 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;
		const char *why;

		d = SPI_getbinval(tup, desc, 2, &isnull);
		if (isnull || !span_from_range(d, &rows[n].span, &why))
			continue;
		rows[n].id = pair_selected_key(SPI_getbinval(tup, desc, 1, &isnull), pair->child_key_type);
		d = SPI_getbinval(tup, desc, 3, &isnull);
		rows[n].spots = isnull ? 1 : DatumGetInt32(d);
		d = SPI_getbinval(tup, desc, 4, &isnull);
		rows[n].is_block = !isnull && DatumGetBool(d);
		n++;
	}
	*out = rows;
	return n;
}

/*
 * The same straight through the child's btree on (resource, kind, lower(during)), one run of
 * starts per kind: a row of that kind that meets search starts before search.hi and, being no
 * longer than the rule's bound for its kind (which the engine raised before writing it), at or
 * after search.lo minus that bound.  Then the exact checks on each row.  Without the executor
 * this costs a fraction of the statement.  With decide, rows are read as of now (see
 * pair_execute_as_owner); otherwise with the transaction's snapshot.
 */
static int
near_rows_scan(BookingPair *pair, int64 resource_id, const TimelineRule *rule, Span search,
			   int64 exclude_row, bool decide, NearRow **out, TimelinePeak *waiting)
{
	ChildScan	cs;
	TupleDesc	desc;
	TupleTableSlot *slot;
	int			n = 0;
	int			size = 16;
	NearRow    *rows = palloc(sizeof(NearRow) * size);
	int			pass;
	TimestampTz judged_at;

	pair_scan_open(&cs, pair, pair->slot_index, decide);
	/*
	 * Holds are judged by the time this transaction took the resource's lock, or by the clock
	 * now (after the scan's snapshot) where it holds none (locks.c), not by the transaction's
	 * start: every write the snapshot shows judged the holds it met by an earlier clock, and a
	 * hold one of them found past due (and whose room it gave away) is past due here too.  By
	 * the transaction's start, a transaction begun before that hold fell due would count it
	 * again: a full range where there is room, a live hold refused at its confirm, verify()
	 * reporting a load that never was.
	 */
	judged_at = lock_judgement_time(pair, resource_id);
	desc = RelationGetDescr(cs.rel);
	for (pass = 0; pass < 2; pass++)
	{
		bool		blocks = pass == 1;
		int64		bound = blocks ? rule->longest_block : rule->longest_booking;
		ScanKeyData keys[4];
		int			nkeys = 0;

		if (bound == 0)
			continue;			/* no row of this kind has ever had a range here */
		ScanKeyInit(&keys[nkeys++], 1, BTEqualStrategyNumber, F_INT8EQ,
					Int64GetDatum(resource_id));
		ScanKeyInit(&keys[nkeys++], 2, BTEqualStrategyNumber, F_ENUM_EQ,
					ObjectIdGetDatum(blocks ? pair->kind_block : pair->kind_booking));
		/*
		 * The bound is on the span (timeline.h); a range with an open lower bound starts a
		 * microsecond before its span.  From -infinity where the bound reaches past the first
		 * timestamp there is.
		 */
		ScanKeyInit(&keys[nkeys++], 3, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE,
					TimestampTzGetDatum(bound < search.lo - MIN_TIMESTAMP - 1
										? search.lo - bound - 1 : DT_NOBEGIN));
		ScanKeyInit(&keys[nkeys++], 3, BTLessStrategyNumber, F_TIMESTAMPTZ_LT,
					TimestampTzGetDatum(search.hi));
		pair_scan_start(&cs, keys, nkeys);
		slot = cs.slot;
		while (pair_scan_next(&cs))
		{
			bool		isnull;
			Datum		d;
			const char *why;
			Span		sp;
			int64		id;

			d = slot_getattr(slot, pair->child_key_att, &isnull);
			if (isnull)
				continue;
			id = pair_integer(d, TupleDescAttr(desc, pair->child_key_att - 1)->atttypid);
			if (id == exclude_row)
				continue;
			d = slot_getattr(slot, pair->during_att, &isnull);
			if (isnull || !span_from_range(d, &sp, &why) || sp.hi <= search.lo ||
				sp.lo >= search.hi)
				continue;
			d = slot_getattr(slot, pair->status_att, &isnull);
			if (!pair_status_consumes(pair, d, isnull))
			{
				/* a waiting row over the span: the first of them, for the admission */
				if (waiting != NULL && pair_state(pair, d, isnull) == STATE_WAITLISTED &&
					(waiting->waiting_id == 0 || id < waiting->waiting_id))
				{
					waiting->waiting_id = id;
					waiting->waiting_span = sp;
				}
				continue;
			}
			if (pair->expires_att != InvalidAttrNumber && pair_state(pair, d, isnull) == STATE_HELD)
			{
				/* a hold counts for nothing once its time has passed */
				d = slot_getattr(slot, pair->expires_att, &isnull);
				if (!isnull && DatumGetTimestampTz(d) <= judged_at)
					continue;
			}
			if (n == size)
			{
				size *= 2;
				rows = repalloc(rows, sizeof(NearRow) * size);
			}
			rows[n].id = id;
			rows[n].span = sp;
			rows[n].spots = 1;
			if (pair->spots_att != InvalidAttrNumber)
			{
				d = slot_getattr(slot, pair->spots_att, &isnull);
				rows[n].spots = isnull ? 1 :
					(int32) pair_integer(d, TupleDescAttr(desc, pair->spots_att - 1)->atttypid);
			}
			rows[n].is_block = blocks;
			n++;
		}
	}
	pair_scan_close(&cs);
	*out = rows;
	return n;
}

/*
 * The load profile inside window from the resource's consuming rows and blocks, leaving out
 * exclude_row (the row being rewritten, so that a reschedule is judged as one step): the steps
 * at which the load changes, each holding from its instant to the next (the last to the window's
 * end), starting at window.lo.  Also fills, when peak is given, where the load peaks and a row
 * that takes part in it.  With decide, the caller holds the resource's locks and the rows are
 * read as of now (see pair_execute_as_owner); without, it wants advice and reads its own
 * snapshot.  The caller is connected to SPI.  Returns the number of steps.
 */
static int
load_profile(BookingPair *pair, int64 resource_id, const TimelineRule *rule, Span window,
			 int64 exclude_row, bool decide, LoadStep **steps_out, TimelinePeak *peak)
{
	NearRow    *rows;
	Span		search;
	int			n;
	int			i;
	LoadEvent  *events;
	int			nevents = 0;
	Span	   *spans;
	LoadStep   *steps;
	int			nsteps = 0;
	int32		load = 0;

	if (peak != NULL)
		memset(peak, 0, sizeof(TimelinePeak));

	/* A booking near the window reaches into it through its own buffers. */
	search.lo = window.lo - rule->after;
	search.hi = window.hi + rule->before;
	n = OidIsValid(pair->slot_index)
		? near_rows_scan(pair, resource_id, rule, search, exclude_row, decide, &rows, peak)
		: near_rows_query(pair, resource_id, search, exclude_row, decide, &rows);

	events = palloc(sizeof(LoadEvent) * (n * 2 + 1));
	spans = palloc(sizeof(Span) * (n + 1));
	for (i = 0; i < n; i++)
	{
		Span		sp = rows[i].span;
		int32		spots = rows[i].spots;

		if (rows[i].is_block)
			spots = rule->capacity > 0 ? rule->capacity : 1;
		else
			sp = widen(sp, rule);
		/* only the part inside the window counts */
		sp.lo = Max(sp.lo, window.lo);
		sp.hi = Min(sp.hi, window.hi);
		spans[i] = sp;
		if (sp.lo >= sp.hi)
			continue;
		events[nevents].at = sp.lo;
		events[nevents++].delta = spots;
		events[nevents].at = sp.hi;
		events[nevents++].delta = -spots;
	}

	qsort(events, nevents, sizeof(LoadEvent), cmp_event);
	steps = palloc(sizeof(LoadStep) * (nevents + 1));
	steps[nsteps].at = window.lo;
	steps[nsteps++].load = 0;
	for (i = 0; i < nevents; i++)
	{
		load += events[i].delta;
		if (steps[nsteps - 1].at == events[i].at)
			steps[nsteps - 1].load = load;
		else
		{
			steps[nsteps].at = events[i].at;
			steps[nsteps++].load = load;
		}
		if (peak != NULL && load > peak->load)
		{
			peak->load = load;
			peak->at = events[i].at;
		}
	}

	/* name a row that covers the peak: the one that starts first */
	if (peak != NULL && peak->load > 0)
	{
		for (i = 0; i < n; i++)
		{
			if (spans[i].lo <= peak->at && peak->at < spans[i].hi &&
				(peak->row_id == 0 || spans[i].lo < peak->row_span.lo))
			{
				peak->row_id = rows[i].id;
				peak->row_span = rows[i].span;
				peak->row_is_block = rows[i].is_block;
			}
		}
	}
	*steps_out = steps;
	return nsteps;
}

/*
 * The peak load inside window (a booking's widened span), and a row that takes part in it.
 */
void
timeline_peak(BookingPair *pair, int64 resource_id, const TimelineRule *rule, Span window,
			  int64 exclude_row, bool decide, TimelinePeak *peak)
{
	LoadStep   *steps;

	(void) load_profile(pair, resource_id, rule, window, exclude_row, decide, &steps, peak);
}

/*
 * Whether a booking may start at start: not sooner than the notice, not later than the horizon,
 * both counted from the transaction's start.
 */
TimelineTiming
timeline_timing(const TimelineRule *rule, TimestampTz start)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	if (rule->has_notice && start < now + rule->notice)
		return TIMING_TOO_SOON;
	if (rule->has_horizon && start > now + rule->horizon)
		return TIMING_TOO_FAR;
	return TIMING_OK;
}

/*
 * The free stretches of a load profile for `spots` more: maximal spans in which the load leaves
 * room for them.  Returns how many; *out is palloc'd.
 */
static int
free_stretches(LoadStep *steps, int nsteps, Span window, int32 capacity, int32 spots, Span **out)
{
	Span	   *free = palloc(sizeof(Span) * (nsteps + 1));
	int			nfree = 0;
	int			i;

	for (i = 0; i < nsteps; i++)
	{
		TimestampTz lo = steps[i].at;
		TimestampTz hi = i + 1 < nsteps ? steps[i + 1].at : window.hi;

		if (lo >= hi || (int64) steps[i].load + spots > capacity)
			continue;
		if (nfree > 0 && free[nfree - 1].hi == lo)
			free[nfree - 1].hi = hi;
		else
		{
			free[nfree].lo = lo;
			free[nfree++].hi = hi;
		}
	}
	*out = free;
	return nfree;
}

/*
 * The candidates for alternatives within `reach` of wanted: in each free stretch of the load
 * profile, the start nearest to the wanted one that fits the booking widened by its buffers, and
 * honours notice and horizon.  Fills found and their distances from wanted; returns how many.
 * Every candidate nearer than reach is found: a stretch cut by the window's edge that is left out
 * could only give one at reach or farther.
 */
static int
alternatives_within(BookingPair *pair, int64 resource_id, const TimelineRule *rule, Span wanted,
					int32 spots, int64 exclude_row, int64 reach, Span **found_out,
					int64 **distance_out)
{
	int64		length = wanted.hi - wanted.lo;
	int64		need = length + rule->before + rule->after;
	Span		window;
	LoadStep   *steps;
	int			nsteps;
	Span	   *free;
	int			nfree;
	int			i;
	Span	   *found;
	int64	   *distance;
	int			nfound = 0;

	window.lo = wanted.lo - reach - rule->before;
	window.hi = wanted.hi + reach + rule->after;
	nsteps = load_profile(pair, resource_id, rule, window, exclude_row, true, &steps, NULL);
	nfree = free_stretches(steps, nsteps, window, rule->capacity, spots, &free);

	found = palloc(sizeof(Span) * (nfree + 1));
	distance = palloc(sizeof(int64) * (nfree + 1));
	for (i = 0; i < nfree; i++)
	{
		/* starts s with [s - before, s + length + after) inside the stretch */
		TimestampTz first = free[i].lo + rule->before;
		TimestampTz last = free[i].hi - rule->after - length;
		TimestampTz s;

		/* the stretches at the window's edges may go on beyond it: leave those ends out */
		if (free[i].lo == window.lo)
			first = Max(first, wanted.lo - reach);
		if (free[i].hi == window.hi)
			last = Min(last, wanted.lo + reach);
		if (free[i].hi - free[i].lo < need || first > last)
			continue;
		if (rule->has_notice)
			first = Max(first, GetCurrentTransactionStartTimestamp() + rule->notice);
		if (rule->has_horizon)
			last = Min(last, GetCurrentTransactionStartTimestamp() + rule->horizon);
		if (first > last)
			continue;
		s = wanted.lo < first ? first : wanted.lo > last ? last : wanted.lo;
		if (s == wanted.lo)
			continue;			/* that is the range refused */
		found[nfound].lo = s;
		found[nfound].hi = s + length;
		distance[nfound++] = s > wanted.lo ? s - wanted.lo : wanted.lo - s;
	}
	*found_out = found;
	*distance_out = distance;
	return nfound;
}

/*
 * Ranges of the same length as wanted where `spots` would fit, nearest first, before and after
 * wanted, within `reach` of it (see alternatives_within()).  Up to max of them, sorted by start.
 * The search looks near wanted first (half a day, or four times the booking with its buffers)
 * and goes out to reach only when that gives fewer than max nearer than its own edge, so that a
 * refusal on a busy calendar does not read a fortnight of bookings when the next free hour is
 * close.  The caller holds the resource's locks, so that what is offered is what the same
 * transaction could book.  Returns how many.
 */
int
timeline_alternatives(BookingPair *pair, int64 resource_id, const TimelineRule *rule,
					  Span wanted, int32 spots, int64 exclude_row, int64 reach, int max,
					  Span *out)
{
	int64		need = (wanted.hi - wanted.lo) + rule->before + rule->after;
	int64		near = Min(reach, Max(4 * need, USECS_PER_DAY / 2));
	Span	   *found;
	int64	   *distance;
	int			nfound;
	int			kept = 0;
	int			k;

	nfound = alternatives_within(pair, resource_id, rule, wanted, spots, exclude_row, near,
								 &found, &distance);
	if (near < reach)
	{
		int			closer = 0;

		for (k = 0; k < nfound; k++)
			if (distance[k] < near)
				closer++;
		if (closer < max)
			nfound = alternatives_within(pair, resource_id, rule, wanted, spots, exclude_row,
										 reach, &found, &distance);
	}

	/* keep the nearest max, then order them by start */
	for (k = 0; k < max && nfound > 0; k++)
	{
		int			best = 0;
		int			j;

		for (j = 1; j < nfound; j++)
			if (distance[j] < distance[best])
				best = j;
		out[kept++] = found[best];
		found[best] = found[nfound - 1];
		distance[best] = distance[nfound - 1];
		nfound--;
	}
	for (k = 1; k < kept; k++)
	{
		Span		v = out[k];
		int			j = k - 1;

		while (j >= 0 && out[j].lo > v.lo)
		{
			out[j + 1] = out[j];
			j--;
		}
		out[j + 1] = v;
	}
	return kept;
}

/*
 * Free ranges of `length` for `spots` inside within, starting on a grid of `step` from its
 * start, in order, up to max: what a booking page would offer.  No lock is taken; the answer is
 * advice, book_slot() decides.  Returns how many.
 */
int
timeline_free_slots(BookingPair *pair, int64 resource_id, const TimelineRule *rule, Span within,
					int64 length, int32 spots, int64 step, int max, Span *out)
{
	Span		window;
	LoadStep   *steps;
	int			nsteps;
	Span	   *free;
	int			nfree;
	int			i;
	int			n = 0;
	TimestampTz s = within.lo;

	window.lo = within.lo - rule->before;
	window.hi = within.hi + rule->after;
	nsteps = load_profile(pair, resource_id, rule, window, 0, false, &steps, NULL);
	nfree = free_stretches(steps, nsteps, window, rule->capacity, spots, &free);

	i = 0;
	while (n < max && s + length <= within.hi && i < nfree)
	{
		TimestampTz lo = s - rule->before;
		TimestampTz hi = s + length + rule->after;

		CHECK_FOR_INTERRUPTS();
		while (i < nfree && free[i].hi < hi)
			i++;
		if (i >= nfree)
			break;
		if (free[i].lo <= lo && timeline_timing(rule, s) == TIMING_OK)
		{
			out[n].lo = s;
			out[n++].hi = s + length;
			s += Max(step, 1);
			continue;
		}
		/* jump to the first grid start that could fit in this stretch */
		if (free[i].lo > lo)
		{
			int64		gap = free[i].lo + rule->before - s;

			s += ((gap + step - 1) / step) * step;
		}
		else
			s += step;
	}
	return n;
}
