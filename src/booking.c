/*
 * booking.c
 *		Module initialisation: the GUCs and the transaction callbacks that reset per-call state.
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "utils/guc.h"

#include "compat.h"
#include "audit.h"
#include "counter.h"
#include "direct.h"
#include "engine.h"
#include "holder_limits.h"
#include "locks.h"
#include "pair.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * At the end of a transaction: free pair copies replaced during it and, after a failure, make
 * sure no per-call state of the engine outlives it.
 */
static void
booking_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			engine_xact_reset();
			pair_xact_end();
			counter_forget_waiting();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			pair_xact_end();
			counter_forget_waiting();
			break;
		default:
			break;
	}
}

/* A subtransaction that fails takes its advisory locks with it: what the counter knew goes too. */
static void
booking_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		counter_forget_waiting();
}

void
_PG_init(void)
{
	DefineCustomBoolVariable("booking.audit",
							 "Writes a booking.attempt row for every book_slot() and cancel() call.",
							 "Refusals are audited too; turning this off skips the audit entirely.",
							 &booking_audit_enabled,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("booking.holder_rate_limit",
							"Most new bookings one holder may ask for within booking.holder_rate_window (0: no limit).",
							"Counts every new booking row a holder asks for, through book_slot(), book_many() or a direct INSERT, refused ones included; beyond it the attempt is refused as rate_limited.",
							&booking_holder_rate_limit,
							0, 0, INT_MAX,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("booking.holder_rate_window",
							"The window over which booking.holder_rate_limit counts a holder's attempts.",
							NULL,
							&booking_holder_rate_window,
							60, 1, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	booking_reserve_guc_prefix("booking");

	pair_init();
	direct_init();
	audit_init();
	locks_init();
	RegisterXactCallback(booking_xact_callback, NULL);
	RegisterSubXactCallback(booking_subxact_callback, NULL);
}
