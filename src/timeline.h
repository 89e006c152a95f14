/*
 * timeline.h
 *		Range arithmetic for timeline resources: capacity at every instant, buffers, blocks.
 */
#ifndef BOOKING_TIMELINE_H
#define BOOKING_TIMELINE_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
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
	bool		has_notice;		/* min_notice is set */
	int64		notice;			/* a booking starts at least this long after now */
	bool		has_horizon;	/* max_horizon is set */
	int64		horizon;		/* a booking starts at most this long after now */
	bool		has_holder_max; /* max_per_holder is set */
	int32		holder_max;		/* active bookings one holder may have on the resource */
	int64		longest_booking;	/* no booking's range is longer (microseconds): see below */
	int64		longest_block;	/* nor any block's */
} TimelineRule;

/* Longer than any range can be: a rule that bounds no search (verify(), a capacity change). */
#define TIMELINE_NO_BOUND	PG_INT64_MAX

typedef enum TimelineTiming
{
	TIMING_OK,
	TIMING_TOO_SOON,
	TIMING_TOO_FAR
} TimelineTiming;

/* The load from one instant until the next step. */
typedef struct LoadStep
{
	TimestampTz at;
	int32		load;
} LoadStep;

/* Where the load peaks inside a span, and one row that takes part in that peak. */
typedef struct TimelinePeak
{
	int32		load;			/* most spots taken at one instant */
	TimestampTz at;				/* the first instant with that load */
	int64		row_id;			/* a booking or block covering it (0: none) */
	Span		row_span;		/* that row's own range */
	bool		row_is_block;
	int64		waiting_id;		/* the first waiting row whose range meets the span (0: none) */
	Span		waiting_span;	/* its range */
} TimelinePeak;

extern bool span_from_range(Datum range, Span *span, const char **why);
extern bool timeline_row_span(BookingPair *pair, RowReader *row, bool *present,
							  Span *span, const char **why);
extern int64 buffer_usecs(Datum interval);
extern Span widen(Span span, const TimelineRule *rule);
extern char *span_to_cstring(Span span);

extern bool timeline_lock_resource(BookingPair *pair, int64 resource_id, bool *is_timeline,
								   TimelineRule *rule);
extern bool timeline_read_resource(BookingPair *pair, int64 resource_id, bool *is_timeline,
								   TimelineRule *rule);
extern void timeline_peak(BookingPair *pair, int64 resource_id, const TimelineRule *rule,
						  Span window, int64 exclude_row, bool decide, TimelinePeak *peak);
extern TimelineTiming timeline_timing(const TimelineRule *rule, TimestampTz start);
extern int	timeline_alternatives(BookingPair *pair, int64 resource_id, const TimelineRule *rule,
								  Span wanted, int32 spots, int64 exclude_row, int64 reach,
								  int max, Span *out);
extern int	timeline_free_slots(BookingPair *pair, int64 resource_id, const TimelineRule *rule,
								Span within, int64 length, int32 spots, int64 step, int max,
								Span *out);

#endif							/* BOOKING_TIMELINE_H */
