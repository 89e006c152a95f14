/*
 * states.c
 *		The life of a booking: one table of the status changes the engine allows, checked on
 *		every UPDATE of a protected table, whoever writes it.
 *
 * A row is born in any status (an import or a pg_dump restore writes history as it was), and
 * from then on moves only forward:
 *
 *	held		-> pending, confirmed, cancelled (a release), expired
 *	pending		-> confirmed (an approval), cancelled
 *	confirmed	-> completed, cancelled
 *	waitlisted	-> held, pending, confirmed (a promotion), cancelled
 *	completed, cancelled, expired: final
 *
 * A hold whose expires_at has passed can no longer become pending or confirmed: it stopped
 * counting at that moment (timeline resources) or is about to be marked expired by the next
 * admission that needs its room (pool resources).  Values of an application's own status column
 * that are none of these states are left to the application.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "pair.h"
#include "states.h"

const char *const state_names[NUM_STATES] = {
	"held", "pending", "confirmed", "completed", "waitlisted", "cancelled", "expired"
};

/* allowed[from] is a bit set of the states `from` may change into */
#define S(x) (1 << (x))
static const int allowed[NUM_STATES] = {
	[STATE_HELD] = S(STATE_PENDING) | S(STATE_CONFIRMED) | S(STATE_CANCELLED) | S(STATE_EXPIRED),
	[STATE_PENDING] = S(STATE_CONFIRMED) | S(STATE_CANCELLED),
	[STATE_CONFIRMED] = S(STATE_COMPLETED) | S(STATE_CANCELLED),
	[STATE_COMPLETED] = 0,
	[STATE_WAITLISTED] = S(STATE_HELD) | S(STATE_PENDING) | S(STATE_CONFIRMED) | S(STATE_CANCELLED),
	[STATE_CANCELLED] = 0,
	[STATE_EXPIRED] = 0,
};

/*
 * The state a status value stands for.  Enum columns compare OIDs; any other type compares its
 * text form with the labels.
 */
BookingState
pair_state(BookingPair *pair, Datum status, bool isnull)
{
	int			k;

	if (!pair->has_states)
		return STATE_OTHER;		/* an application's statuses mean only consuming or not */
	k = pair_label_index(status, isnull, pair->status_type,
									 pair->consuming_enum != NULL ? pair->state_enum : NULL,
									 state_names, NUM_STATES);

	return k < 0 ? STATE_OTHER : (BookingState) k;
}

bool
state_change_allowed(BookingState from, BookingState to)
{
	if (from == to || from == STATE_OTHER || to == STATE_OTHER)
		return true;
	return (allowed[from] & S(to)) != 0;
}

/* The word the audit records for a change of state. */
const char *
state_transition_action(BookingState from, BookingState to)
{
	switch (to)
	{
		case STATE_CONFIRMED:
			return from == STATE_WAITLISTED ? "promote" : from == STATE_PENDING ? "approve" : "confirm";
		case STATE_HELD:
		case STATE_PENDING:
			return from == STATE_WAITLISTED ? "promote" : "update";
		case STATE_CANCELLED:
			return from == STATE_HELD ? "release" : "cancel";
		case STATE_EXPIRED:
			return "expire";
		case STATE_COMPLETED:
			return "complete";
		default:
			return "update";
	}
}

/* "held, pending, ..." : the states `from` may change into, for a message */
static char *
allowed_list(BookingState from)
{
	StringInfoData buf;
	int			k;

	initStringInfo(&buf);
	for (k = 0; k < NUM_STATES; k++)
		if (allowed[from] & S(k))
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", state_names[k]);
	return buf.len > 0 ? buf.data : pstrdup("none: it is final");
}

/*
 * Refuses (55000) an UPDATE that changes a row's status against the table above, or that
 * confirms a hold whose time has passed.
 */
void
state_check_change(BookingPair *pair, Relation rel, RowReader *old_row, RowReader *new_row)
{
	TupleDesc	desc = RelationGetDescr(rel);
	bool		old_null;
	bool		new_null;
	Datum		old_status;
	Datum		new_status;
	BookingState from;
	BookingState to;
	bool		isnull;
	Datum		key;
	int64		id;

	if (!pair->has_states)
		return;					/* an application's statuses are its own to order */
	old_status = row_read(old_row, pair->status_att, &old_null);
	new_status = row_read(new_row, pair->status_att, &new_null);
	from = pair_state(pair, old_status, old_null);
	to = pair_state(pair, new_status, new_null);
	if (from == to)
		return;
	key = row_read(old_row, pair->child_key_att, &isnull);
	id = isnull ? 0 : pair_integer(key, TupleDescAttr(desc, pair->child_key_att - 1)->atttypid);
	if (!state_change_allowed(from, to))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("booking %lld cannot go from %s to %s", (long long) id,
						state_names[from], state_names[to]),
				 errdetail("Its status is %s; from %s it may become %s.", state_names[from],
						   state_names[from], allowed_list(from)),
				 errtable(rel)));
	if (from == STATE_HELD && (to == STATE_CONFIRMED || to == STATE_PENDING) &&
		pair->expires_att != InvalidAttrNumber)
	{
		Datum		expires = row_read(old_row, pair->expires_att, &isnull);

		if (!isnull && DatumGetTimestampTz(expires) <= GetCurrentTransactionStartTimestamp())
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("hold %lld has expired", (long long) id),
					 errdetail("Its status is held; it expired at %s.",
							   timestamptz_to_str(DatumGetTimestampTz(expires))),
					 errtable(rel)));
	}
}
