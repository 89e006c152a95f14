/*
 * timeline.h
 *		Range arithmetic for timeline resources: capacity at every instant, buffers, blocks.
 */
#ifndef BOOKING_TIMELINE_H
#define BOOKING_TIMELINE_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "pair.h"

/* A half-open span of time [lo, hi) in PostgreSQL's microseconds, as the engine reasons in. */
typedef struct Span
{
	TimestampTz lo;
	TimestampTz hi;
} Span;

/* A timeline resource's rule, read under its row lock. */
typedef struct TimelineRule
{
	int32		capacity;
	int64		before;			/* buffer before each booking, microseconds */
	int64		after;			/* buffer after each booking, microseconds */
} TimelineRule;

/* Where the load peaks inside a span, and one row that takes part in that peak. */
typedef struct TimelinePeak
{
	int32		load;			/* most spots taken at one instant */
	TimestampTz at;				/* the first instant with that load */
	int64		row_id;			/* a booking or block covering it (0: none) */
	Span		row_span;		/* that row's own range */
	bool		row_is_block;
} TimelinePeak;

extern bool span_from_range(Datum range, Span *span, const char **why);
extern int64 buffer_usecs(Datum interval);
extern Span widen(Span span, const TimelineRule *rule);
extern char *span_to_cstring(Span span);

extern bool timeline_lock_resource(BookingPair *pair, int64 resource_id, bool *is_timeline,
								   TimelineRule *rule);
extern bool timeline_read_resource(BookingPair *pair, int64 resource_id, bool *is_timeline,
								   TimelineRule *rule);
extern void timeline_peak(BookingPair *pair, int64 resource_id, const TimelineRule *rule,
						  Span window, int64 exclude_row, TimelinePeak *peak);

#endif							/* BOOKING_TIMELINE_H */
