/*
 * audit.c
 *		Writes booking.attempt: who asked for what, when, and what came of it.
 *
 * The row is written in the caller's transaction, refusals included: book_slot() returns a
 * refusal instead of raising it, so the refusal's audit row commits with whatever else the
 * caller commits.  booking.audit = off (superuser only) skips the write.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "compat.h"
#include "audit.h"
#include "pair.h"

bool		booking_audit_enabled = true;

static SPIPlanPtr attempt_plan = NULL;

/*
 * Appends one attempt row.  Connects to SPI itself; the plan is prepared once per backend.
 */
void
audit_attempt(const AttemptRecord *rec)
{
	Datum		values[10];
	char		nulls[10];
	int			ret;

	if (!booking_audit_enabled)
		return;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (attempt_plan == NULL || !SPI_plan_is_valid(attempt_plan))
	{
		Oid			types[10] = {TEXTOID, TEXTOID, INT8OID, INT4OID, TSTZRANGEOID, BOOLOID,
		TEXTOID, INT8OID, InvalidOid, TEXTOID};
		SPIPlanPtr	plan;

		types[8] = pair_by_id(BOOKING_OWN_PAIR)->status_type;
		plan = SPI_prepare("INSERT INTO " BOOKING_SCHEMA ".attempt"
						   " (action, holder, resource_id, spots, during, ok, reason, booking_id,"
						   "  status, idempotency_key)"
						   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
						   10, types);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		if (attempt_plan != NULL)
			SPI_freeplan(attempt_plan);
		attempt_plan = plan;
	}

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(rec->action);
	if (rec->holder != NULL)
		values[1] = CStringGetTextDatum(rec->holder);
	else
		nulls[1] = 'n';
	values[2] = Int64GetDatum(rec->resource_id);
	values[3] = Int32GetDatum(rec->spots);
	if (!rec->during_null)
		values[4] = rec->during;
	else
		nulls[4] = 'n';
	values[5] = BoolGetDatum(rec->ok);
	if (rec->reason != NULL)
		values[6] = CStringGetTextDatum(rec->reason);
	else
		nulls[6] = 'n';
	if (rec->booking_id != 0)
		values[7] = Int64GetDatum(rec->booking_id);
	else
		nulls[7] = 'n';
	if (!rec->status_null)
		values[8] = rec->status;
	else
		nulls[8] = 'n';
	if (rec->idempotency_key != NULL)
		values[9] = CStringGetTextDatum(rec->idempotency_key);
	else
		nulls[9] = 'n';

	ret = SPI_execute_plan(attempt_plan, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "writing booking.attempt failed: %s", SPI_result_code_string(ret));
	SPI_finish();
}
