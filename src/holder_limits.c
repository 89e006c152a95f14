/*
 * holder_limits.c
 *		Limits per holder.
 *
 * A resource's max_per_holder caps the active bookings (those whose status consumes capacity)
 * one holder may have on it: a booking that would be one too many is refused, reason
 * 'holder_limit' from book_slot() and book_many(), 23514 on constraint booking_holder_limit for
 * a direct write.  The admission counts the holder's active rows under the resource's locks,
 * through the index on (resource_id, holder), so the count costs the holder's rows on that
 * resource, and only where a limit is set.
 *
 * booking.holder_rate_limit caps the new booking rows one holder may ask for within
 * booking.holder_rate_window, over all resources: a fixed window per holder, kept in
 * booking.holder_rate and counted before the decision, refused attempts included (a refusal
 * that book_slot() returns commits with the caller's transaction; a direct write's error rolls
 * its count back with it).  Beyond it the attempt is refused: reason 'rate_limited', or 23514 on
 * constraint booking_rate_limit.  The count is taken under the resource's advisory lock, so that
 * the rate's row is always locked after the resources, by book_slot() and book_many() alike.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"

#include "compat.h"
#include "api.h"
#include "holder_limits.h"

int			booking_holder_rate_limit = 0;
int			booking_holder_rate_window = 60;

static SPIPlanPtr rate_plan = NULL;

/*
 * Counts n more attempts of holder in its window; returns the count.  The caller checked that
 * a limit is set and is connected to SPI.
 */
int32
limits_rate_add(BookingPair *pair, const char *holder, int32 n)
{
	Oid			types[3] = {TEXTOID, INT4OID, INT4OID};
	Datum		args[3];
	bool		isnull;
	int			ret;

	kept_plan(&rate_plan,
			  "INSERT INTO " BOOKING_SCHEMA ".holder_rate AS r (holder, window_start, attempts)"
			  " VALUES ($1, pg_catalog.now(), $3)"
			  " ON CONFLICT (holder) DO UPDATE SET"
			  "  attempts = CASE WHEN r.window_start <= pg_catalog.now() - pg_catalog.make_interval(secs => $2)"
			  "             THEN $3 ELSE r.attempts + $3 END,"
			  "  window_start = CASE WHEN r.window_start <= pg_catalog.now() - pg_catalog.make_interval(secs => $2)"
			  "             THEN pg_catalog.now() ELSE r.window_start END"
			  " RETURNING attempts",
			  3, types);
	args[0] = CStringGetTextDatum(holder);
	args[1] = Int32GetDatum(booking_holder_rate_window);
	args[2] = Int32GetDatum(n);
	ret = spi_execute_as(pair->child_owner, rate_plan, args, NULL, false, false, 1);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "counting the holder's attempts failed: %s", SPI_result_code_string(ret));
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Counts one more attempt of holder and returns whether it goes beyond the limit (with the
 * count in *attempts).  The caller checked that a limit is set and is connected to SPI.
 */
bool
limits_rate_exceeded(BookingPair *pair, const char *holder, int32 *attempts)
{
	*attempts = limits_rate_add(pair, holder, 1);
	return *attempts > booking_holder_rate_limit;
}

/*
 * Whether holder already has max (or more) active rows on the resource, leaving out the row
 * being written; *count is how many were found (it stops counting at max).  Rows are read as of
 * now, under the resource's locks, as every admission reads them.
 */
bool
limits_holder_full(BookingPair *pair, int64 resource_id, const HolderCheck *hc, int32 max,
				   int32 *count)
{
	ChildScan	cs;
	ScanKeyData keys[2];
	int32		n = 0;

	*count = 0;
	if (!OidIsValid(pair->holder_index) || hc == NULL || hc->holder == NULL)
		return false;
	if (max <= 0)
		return true;
	pair_scan_open(&cs, pair, pair->holder_index, true);
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(resource_id));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(hc->holder));
	keys[1].sk_collation = cs.index->rd_indcollation[1];
	pair_scan_start(&cs, keys, 2);
	while (n < max && pair_scan_next(&cs))
	{
		bool		isnull;
		Datum		d = slot_getattr(cs.slot, pair->status_att, &isnull);

		if (!pair_status_consumes(pair, d, isnull))
			continue;
		d = slot_getattr(cs.slot, pair->child_key_att, &isnull);
		if (!isnull && DatumGetInt64(d) == hc->exclude_row)
			continue;
		d = slot_getattr(cs.slot, pair->holder_att, &isnull);
		if (isnull || strcmp(TextDatumGetCString(d), hc->holder) != 0)
			continue;
		n++;
	}
	pair_scan_close(&cs);
	*count = n;
	return n >= max;
}
