/*
 * direct.c
 *		book_slot()'s new row written straight through the table access method.
 *
 * The INSERT statement that book_slot() would run costs more in the executor's start-up than in
 * the work itself: a Result node projecting all sixteen columns of booking.booking, a
 * ModifyTable node, their tuple descriptors, then their shutdown (in callgrind about 60,000 of
 * a timeline admission's 248,000 instructions).  Where nothing on the table needs the
 * executor, the row is written here instead, doing what the statement would do and nothing
 * else: the caller's INSERT privilege, the identity and the shipped defaults, NOT NULL, the
 * engine's guard (the same function its BEFORE INSERT trigger runs), the heap insert and every
 * index entry with its uniqueness check, then a new command id.
 *
 * The direct way is only taken where it cannot skip anything: the extension's own pair, the
 * table with its columns as shipped (their names, order and defaults), no row-level security,
 * no CHECK constraint, no trigger that fires on INSERT but the engine's own guard (enabled, as
 * shipped), and the session's replication role the default one (under which the guard fires).
 * Anything else, and a caller without INSERT on the table, takes the statement, which then
 * behaves (or fails) as it always did.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "direct.h"
#include "engine.h"

/* booking.booking's columns as the install script creates them, in order. */
static const char *const booking_columns[] = {
	"id", "resource_id", "holder", "spots", "during", "status", "expires_at",
	"hold_token_digest", "group_id", "idempotency_key", "kind", "source", "external_id",
	"created_at", "updated_at", "meta"
};
#define BOOKING_NATTS (sizeof(booking_columns) / sizeof(booking_columns[0]))

/* the columns with a default, as shipped (id is an identity column) */
static const char *const booking_defaults[] = {
	"spots", "status", "kind", "created_at", "updated_at"
};

enum
{
	COL_ID, COL_RESOURCE, COL_HOLDER, COL_SPOTS, COL_DURING, COL_STATUS, COL_EXPIRES,
	COL_DIGEST, COL_GROUP, COL_KEY, COL_KIND, COL_SOURCE, COL_EXTERNAL, COL_CREATED,
	COL_UPDATED, COL_META
};

static bool
has_shipped_default(const char *name)
{
	int			i;

	for (i = 0; i < (int) lengthof(booking_defaults); i++)
		if (strcmp(booking_defaults[i], name) == 0)
			return true;
	return false;
}

/*
 * Whether an INSERT of this table would do nothing the direct way skips.  Checked on the open
 * relation at each call, so a trigger, policy or column added later is seen at once.
 */
static bool
child_is_plain(BookingPair *pair, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	bool		guarded = false;
	int			i;

	if (pair->id != BOOKING_OWN_PAIR || !OidIsValid(pair->key_sequence) ||
		!OidIsValid(pair->guard_func) || !OidIsValid(pair->kind_booking) ||
		!OidIsValid(pair->state_enum[STATE_CONFIRMED]) ||
		rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relrowsecurity ||
		SessionReplicationRole != SESSION_REPLICATION_ROLE_ORIGIN ||
		desc->natts != (int) BOOKING_NATTS ||
		(desc->constr != NULL && (desc->constr->num_check > 0 || desc->constr->has_generated_stored)))
		return false;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || strcmp(NameStr(att->attname), booking_columns[i]) != 0)
			return false;
		if (i == COL_ID ? att->attidentity != ATTRIBUTE_IDENTITY_BY_DEFAULT :
			(att->attidentity != '\0' || att->atthasdef != has_shipped_default(booking_columns[i])))
			return false;
	}
	if (rel->trigdesc == NULL)
		return false;
	for (i = 0; i < rel->trigdesc->numtriggers; i++)
	{
		Trigger    *trig = &rel->trigdesc->triggers[i];

		if (!TRIGGER_FOR_INSERT(trig->tgtype) || trig->tgenabled == TRIGGER_DISABLED ||
			trig->tgenabled == TRIGGER_FIRES_ON_REPLICA)
			continue;			/* does not fire on an INSERT in this session */
		if (trig->tgfoid == pair->guard_func && TRIGGER_FOR_ROW(trig->tgtype) &&
			TRIGGER_FOR_BEFORE(trig->tgtype) && trig->tgnargs == 1 &&
			atoi(trig->tgargs[0]) == pair->id)
			guarded = true;
		else
			return false;		/* a trigger the statement would fire */
	}
	return guarded;
}

bool
direct_insert_booking(BookingPair *pair, const DirectBooking *row, bool *inserted,
					  int64 *booking_id, Datum *status)
{
	Relation	rel = table_open(pair->child_relid, RowExclusiveLock);
	TupleDesc	desc = RelationGetDescr(rel);
	Datum		values[BOOKING_NATTS];
	bool		nulls[BOOKING_NATTS];
	HeapTuple	tuple;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	int			i;

	if (!child_is_plain(pair, rel) ||
		pg_class_aclcheck(pair->child_relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
	{
		table_close(rel, NoLock);
		return false;
	}

	memset(nulls, true, sizeof(nulls));
	values[COL_ID] = Int64GetDatum(nextval_internal(pair->key_sequence, false));
	values[COL_RESOURCE] = Int64GetDatum(row->resource_id);
	values[COL_HOLDER] = CStringGetTextDatum(row->holder);
	values[COL_SPOTS] = Int32GetDatum(row->spots);
	values[COL_DURING] = row->during;
	nulls[COL_DURING] = row->during_null;
	values[COL_STATUS] = ObjectIdGetDatum(pair->state_enum[row->state]);
	if (row->state == STATE_HELD)
	{
		values[COL_EXPIRES] = row->expires_at;
		nulls[COL_EXPIRES] = false;
		values[COL_DIGEST] = row->token_digest;
		nulls[COL_DIGEST] = false;
	}
	values[COL_KEY] = row->idempotency_key;
	nulls[COL_KEY] = row->idempotency_key_null;
	values[COL_KIND] = ObjectIdGetDatum(pair->kind_booking);
	values[COL_CREATED] = TimestampTzGetDatum(now);
	values[COL_UPDATED] = TimestampTzGetDatum(now);
	values[COL_META] = row->meta;
	nulls[COL_META] = row->meta_null;
	for (i = 0; i < (int) BOOKING_NATTS; i++)
	{
		if (i != COL_DURING && i != COL_EXPIRES && i != COL_DIGEST && i != COL_GROUP &&
			i != COL_KEY && i != COL_SOURCE && i != COL_EXTERNAL && i != COL_META)
			nulls[i] = false;
		if (nulls[i] && TupleDescAttr(desc, i)->attnotnull)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
							booking_columns[i], RelationGetRelationName(rel)),
					 errtablecol(rel, i + 1)));
	}
	tuple = heap_form_tuple(desc, values, nulls);

	*inserted = guard_insert(pair, rel, tuple);
	if (*inserted)
	{
		EState	   *estate = CreateExecutorState();
		ResultRelInfo *rri = makeNode(ResultRelInfo);
		TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);

		ExecStoreHeapTuple(tuple, slot, false);
		table_tuple_insert(rel, slot, GetCurrentCommandId(true), 0, NULL);
		InitResultRelInfo(rri, rel, 1, NULL, 0);
		ExecOpenIndices(rri, false);
		(void) booking_insert_index_tuples(rri, slot, estate, false);
		ExecCloseIndices(rri);
		ExecDropSingleTupleTableSlot(slot);
		FreeExecutorState(estate);
		*booking_id = DatumGetInt64(values[COL_ID]);
		*status = values[COL_STATUS];
	}
	/* what a statement ends with: its writes visible to what follows */
	CommandCounterIncrement();
	table_close(rel, NoLock);
	return true;
}
