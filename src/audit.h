/*
 * audit.h
 *		The audit of attempts: one booking.attempt row per book_slot() call and per cancel().
 */
#ifndef BOOKING_AUDIT_H
#define BOOKING_AUDIT_H

#include "postgres.h"

extern bool booking_audit_enabled;

typedef struct AttemptRecord
{
	const char *action;			/* "book" or "cancel" */
	const char *holder;			/* NULL: unknown */
	int64		resource_id;
	int32		spots;
	Datum		during;
	bool		during_null;
	bool		ok;
	const char *reason;			/* NULL when ok */
	int64		booking_id;		/* 0: none */
	Datum		status;			/* booking.status enum value */
	bool		status_null;
	const char *idempotency_key;	/* NULL: none */
} AttemptRecord;

extern void audit_attempt(const AttemptRecord *rec);
extern void audit_attempts(const AttemptRecord *recs, int n);
extern void audit_defer(bool on);
extern void audit_init(void);

#endif							/* BOOKING_AUDIT_H */
