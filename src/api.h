/*
 * api.h
 *		What the SQL-callable functions share: kept plans, argument checks, set results.
 */
#ifndef BOOKING_API_H
#define BOOKING_API_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/tuplestore.h"

extern int	spi_execute_as(Oid role, SPIPlanPtr plan, Datum *args, const char *nulls, bool latest,
						   bool read_only, long count);
extern SPIPlanPtr kept_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes);
extern void require_arg(FunctionCallInfo fcinfo, int argno, const char *name);
extern Tuplestorestate *begin_materialize(FunctionCallInfo fcinfo, TupleDesc *desc);

/* holds.c */
extern Datum hold_token_new(Datum *digest);
extern void hold_check_length(int64 resource_id, Datum hold, Datum *expires_at);

#endif							/* BOOKING_API_H */
