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
 * matter are found through the child's GiST index on slot_box(); the peak load inside a span is
 * then a sweep over just those rows, so the cost grows with the bookings near the span, never
 * with all the bookings of the resource.
 */
#include "postgres.h"

#include <float.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/geo_decls.h"
#include "utils/rangetypes.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "compat.h"
#include "timeline.h"

PG_FUNCTION_INFO_V1(booking_slot_box);

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
	Datum		args[1] = {Int64GetDatum(resource_id)};
	int			ret;
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;
	Datum		d;

	ret = pair_execute_as_owner(pair, which, args, 1);
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
	return true;
}

bool
timeline_lock_resource(BookingPair *pair, int64 resource_id, bool *is_timeline,
					   TimelineRule *rule)
{
	return read_rule(pair, PLAN_TIMELINE_LOCK, resource_id, is_timeline, rule);
}

/* The same without a lock, for advice (availability()): the caller is connected to SPI. */
bool
timeline_read_resource(BookingPair *pair, int64 resource_id, bool *is_timeline,
					   TimelineRule *rule)
{
	return read_rule(pair, PLAN_TIMELINE_READ, resource_id, is_timeline, rule);
}

/* One change of load at one instant, for the sweep. */
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

/*
 * The peak load inside window (a booking's widened span) from the resource's consuming rows and
 * blocks, leaving out exclude_row (the row being rewritten, so that a reschedule is judged as
 * one step).  The caller holds the resource's locks and is connected to SPI.
 */
void
timeline_peak(BookingPair *pair, int64 resource_id, const TimelineRule *rule, Span window,
			  int64 exclude_row, TimelinePeak *peak)
{
	Datum		args[4];
	int			ret;
	uint64		n;
	uint64		i;
	LoadEvent  *events;
	int			nevents = 0;
	int64	   *ids;
	Span	   *spans;
	Span	   *own;
	bool	   *blocks;
	int32		load = 0;

	memset(peak, 0, sizeof(TimelinePeak));

	/* A booking near the window reaches into it through its own buffers. */
	args[0] = Int64GetDatum(resource_id);
	args[1] = TimestampTzGetDatum(window.lo - rule->after);
	args[2] = TimestampTzGetDatum(window.hi + rule->before);
	args[3] = Int64GetDatum(exclude_row);
	ret = pair_execute_as_owner(pair, PLAN_CANDIDATES, args, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "looking up overlapping bookings failed: %s", SPI_result_code_string(ret));

	n = SPI_processed;
	if (n == 0)
		return;
	events = palloc(sizeof(LoadEvent) * n * 2);
	ids = palloc(sizeof(int64) * n);
	spans = palloc(sizeof(Span) * n);
	own = palloc(sizeof(Span) * n);
	blocks = palloc(sizeof(bool) * n);

	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;
		const char *why;
		Span		s;
		int32		spots;

		ids[i] = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		d = SPI_getbinval(tup, desc, 2, &isnull);
		if (isnull || !span_from_range(d, &s, &why))
		{
			spans[i].lo = spans[i].hi = 0;
			continue;
		}
		own[i] = s;
		d = SPI_getbinval(tup, desc, 4, &isnull);
		blocks[i] = !isnull && DatumGetBool(d);
		if (blocks[i])
			spots = rule->capacity > 0 ? rule->capacity : 1;
		else
		{
			d = SPI_getbinval(tup, desc, 3, &isnull);
			spots = isnull ? 1 : DatumGetInt32(d);
			s = widen(s, rule);
		}
		/* only the part inside the window counts */
		s.lo = Max(s.lo, window.lo);
		s.hi = Min(s.hi, window.hi);
		spans[i] = s;
		if (s.lo >= s.hi)
			continue;
		events[nevents].at = s.lo;
		events[nevents++].delta = spots;
		events[nevents].at = s.hi;
		events[nevents++].delta = -spots;
	}

	qsort(events, nevents, sizeof(LoadEvent), cmp_event);
	for (i = 0; i < (uint64) nevents; i++)
	{
		load += events[i].delta;
		if (load > peak->load)
		{
			peak->load = load;
			peak->at = events[i].at;
		}
	}

	/* name a row that covers the peak: the one that starts first */
	if (peak->load > 0)
	{
		for (i = 0; i < n; i++)
		{
			if (spans[i].lo <= peak->at && peak->at < spans[i].hi &&
				(peak->row_id == 0 || spans[i].lo < peak->row_span.lo))
			{
				peak->row_id = ids[i];
				peak->row_span = own[i];
				peak->row_is_block = blocks[i];
			}
		}
	}
}

/*
 * slot_box(resource_id, during) returns box: the indexed shape of a row for the overlap search.
 * x is the resource id; y runs from the range's lower to its upper bound, in microseconds since
 * 2000 (unbounded sides reach the largest float8).  Boxes touching at an edge count as
 * overlapping, so the box never misses an overlap of the ranges; NULL for an empty range.
 */
Datum
booking_slot_box(PG_FUNCTION_ARGS)
{
	int64		resource_id = PG_GETARG_INT64(0);
	RangeType  *r = PG_GETARG_RANGE_P(1);
	TypeCacheEntry *typcache = lookup_type_cache(RangeTypeGetOid(r), TYPECACHE_RANGE_INFO);
	RangeBound	lower;
	RangeBound	upper;
	bool		empty;
	BOX		   *box;

	range_deserialize(typcache, r, &lower, &upper, &empty);
	if (empty)
		PG_RETURN_NULL();
	box = palloc(sizeof(BOX));
	box->low.x = box->high.x = (float8) resource_id;
	box->low.y = lower.infinite ? -DBL_MAX : (float8) DatumGetTimestampTz(lower.val);
	box->high.y = upper.infinite ? DBL_MAX : (float8) DatumGetTimestampTz(upper.val);
	PG_RETURN_BOX_P(box);
}
