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

/* Columns of booking.result, in order. */
enum
{
	RESULT_OK,
	RESULT_BOOKING_ID,
	RESULT_STATUS,
	RESULT_RESOURCE_ID,
	RESULT_SPOTS,
	RESULT_DURING,
	RESULT_EXPIRES_AT,
	RESULT_HOLD_TOKEN,
	RESULT_WAITLIST_POSITION,
	RESULT_AVAILABLE,
	RESULT_REASON,
	RESULT_ALTERNATIVES,
	RESULT_NATTS
};

extern int	spi_execute_as(Oid role, SPIPlanPtr plan, Datum *args, const char *nulls, bool latest,
						   bool read_only, long count);
extern SPIPlanPtr kept_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes);
extern SPIPlanPtr kept_plan_with(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes,
								 int options);
extern int64 *spi_int64_column(int column, uint64 *n);
extern HeapTuple booking_row(SPIPlanPtr plan, int64 booking_id);
extern void require_arg(FunctionCallInfo fcinfo, int argno, const char *name);
extern int32 spots_arg(FunctionCallInfo fcinfo, int argno);
extern char *holder_arg(FunctionCallInfo fcinfo, int argno);
extern int64 booking_call_begin(FunctionCallInfo fcinfo, Tuplestorestate **store);
extern Tuplestorestate *begin_materialize(FunctionCallInfo fcinfo, TupleDesc *desc);

/* api.c, shared with book_many() and manage() */
struct BookingPair;
extern void verify_pair(struct BookingPair *pair, Tuplestorestate *store, TupleDesc desc);

/* manage.c: book_slot() on a managed pair */
extern Datum book_slot_managed(FunctionCallInfo fcinfo, TupleDesc tupdesc);
struct SoftAdmission;
struct AdmitResult;
struct RowClaim;
extern int	insert_softly(struct BookingPair *pair, struct SoftAdmission *soft, SPIPlanPtr plan,
						  Datum *args, char *nulls);
extern int	insert_group_softly(struct BookingPair *pair, struct SoftAdmission *soft, int64 group_id,
								int nrows, SPIPlanPtr plan, Datum *args, char *nulls);
extern Datum alternatives_for(struct BookingPair *pair, const struct AdmitResult *refusal,
							  int32 spots);
extern const char *refusal_reason(const struct AdmitResult *result);
extern void result_outcome(FunctionCallInfo fcinfo, struct BookingPair *pair,
						   const struct SoftAdmission *soft, bool inserted, bool waiting,
						   bool has_resource_id, int64 resource_id, int32 spots, Datum *values,
						   bool *isnull);

/* holds.c */
extern Datum hold_token_new(Datum *digest);
extern Datum hold_expiry(Datum hold);
extern void hold_judge_length(int64 resource_id, Datum hold, Datum max_hold);
extern void hold_check_length(const int64 *ids, int n, Datum hold);
extern void hold_check_direct(struct BookingPair *pair, Relation rel,
							  const struct RowClaim *old_claim, const struct RowClaim *new_claim,
							  HeapTuple newtup);
extern int	lock_group_rows(int64 *group_id, int64 member_id, bool live, int64 **resource_ids,
							int64 **booking_ids);

#endif							/* BOOKING_API_H */
