/*
 * pair.c
 *		The one place where the engine learns which tables and columns it protects.
 *
 * Every table and column the engine reads or writes comes from a row of booking.pair: the
 * extension's own booking.resource/booking.booking is pair 1, and an application's tables put
 * under protection later are further rows, handled by exactly the same code.  The rows are read
 * once per backend, resolved to attribute numbers and quoted SQL names, and kept in
 * CacheMemoryContext together with the SPI plans built from them.  A relcache invalidation of
 * booking.pair or of a protected table marks them stale; the next lookup reads them again.  The
 * old copies stay alive until the end of the transaction, because a caller further up the stack
 * (book_slot() around the trigger it fires) may still hold a pointer into them.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_index.h"
#include "nodes/makefuncs.h"
#include "nodes/primnodes.h"
#include "parser/parse_func.h"
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/typcache.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "miscadmin.h"

#include "compat.h"
#include "pair.h"

/* The pairs in force, in a context of their own under CacheMemoryContext. */
static MemoryContext pairs_cxt = NULL;
static BookingPair *pairs = NULL;
static int	npairs = 0;
static bool pairs_valid = false;
static Oid	pair_table_relid = InvalidOid;

/*
 * Pairs replaced during this transaction, with their plans: freed when it ends, since a caller
 * further up the stack may still be executing one of those plans.
 */
static List *retired_cxts = NIL;

/* The keys that are not integers seen in this transaction (see pair_key_handle()). */
static MemoryContext keys_cxt = NULL;
static HTAB *keys_map = NULL;
static List *retired_plans = NIL;

/*
 * Slots for new versions of a table's rows, kept from call to call (pair_version_slot()): each
 * with its own copy of the row type, made again after the table changes.
 */
typedef struct KeptSlot
{
	Oid			relid;
	TupleTableSlot *slot;
	bool		stale;
	bool		in_use;			/* given out, not yet given back (pair_version_slot_done()) */
} KeptSlot;

#define KEPT_SLOTS 4
static KeptSlot kept_slots[KEPT_SLOTS];
static int	nkept_slots = 0;
static int	next_evicted = 0;

static void load_pairs(void);
static void fill_pairs(MemoryContext cxt);
static void retire_pairs(void);
static void pair_relcache_callback(Datum arg, Oid relid);

/*
 * Registers the invalidation callback; called once from _PG_init.
 */
void
pair_init(void)
{
	CacheRegisterRelcacheCallback(pair_relcache_callback, (Datum) 0);
}

/*
 * Any change to booking.pair, or to a table a pair names, may move a column: read them again at
 * the next lookup.  InvalidOid means "everything".
 */
static void
pair_relcache_callback(Datum arg, Oid relid)
{
	int			i;

	for (i = 0; i < nkept_slots; i++)
		if (relid == InvalidOid || kept_slots[i].relid == relid)
			kept_slots[i].stale = true;
	if (!pairs_valid)
		return;
	if (relid == InvalidOid)
	{
		pairs_valid = false;
		return;
	}
	if (relid == pair_table_relid)
	{
		pairs_valid = false;
		return;
	}
	for (i = 0; i < npairs; i++)
	{
		if (pairs[i].parent_relid == relid || pairs[i].child_relid == relid)
		{
			pairs_valid = false;
			return;
		}
	}
}

/*
 * Frees the pairs replaced during the transaction now ending, with their plans.
 */
void
pair_xact_end(void)
{
	ListCell   *lc;
	int			i;

	/* slots an error left given out (their rows, if their own, are in the slot's memory) */
	for (i = 0; i < nkept_slots; i++)
		if (kept_slots[i].in_use)
		{
			ExecClearTuple(kept_slots[i].slot);
			kept_slots[i].in_use = false;
		}

	/* the keys seen in the transaction */
	if (keys_cxt != NULL)
		MemoryContextReset(keys_cxt);
	keys_map = NULL;

	foreach(lc, retired_plans)
		SPI_freeplan((SPIPlanPtr) lfirst(lc));
	foreach(lc, retired_cxts)
		MemoryContextDelete((MemoryContext) lfirst(lc));
	list_free(retired_plans);
	list_free(retired_cxts);
	retired_plans = NIL;
	retired_cxts = NIL;
}

/*
 * Moves the current pairs aside, to be freed with their plans when the transaction ends.
 */
static void
retire_pairs(void)
{
	int			i;
	MemoryContext old;

	if (pairs_cxt == NULL)
		return;
	old = MemoryContextSwitchTo(TopMemoryContext);
	for (i = 0; i < npairs; i++)
	{
		int			p;

		for (p = 0; p < NUM_PAIR_PLANS; p++)
			if (pairs[i].plans[p] != NULL)
				retired_plans = lappend(retired_plans, pairs[i].plans[p]);
	}
	retired_cxts = lappend(retired_cxts, pairs_cxt);
	MemoryContextSwitchTo(old);
	pairs_cxt = NULL;
	pairs = NULL;
	npairs = 0;
}

static char *
qualified_name(Oid relid)
{
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));
	char	   *rel = get_rel_name(relid);

	if (nsp == NULL || rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table with OID %u named by booking.pair does not exist", relid)));
	return quote_qualified_identifier(nsp, rel);
}

static Oid
owner_of(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * The parent's unique btree index on its key column alone, if it has one: the engine's direct
 * counter update finds rows through it.
 */
static Oid
key_index_of(Oid relid, AttrNumber keyatt)
{
	Relation	rel = table_open(relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Oid			result = InvalidOid;

	foreach(lc, indexes)
	{
		Oid			indexoid = lfirst_oid(lc);
		HeapTuple	itup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
		HeapTuple	ctup;
		Form_pg_index index;
		bool		btree;

		if (!HeapTupleIsValid(itup))
			continue;
		index = (Form_pg_index) GETSTRUCT(itup);
		ctup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexoid));
		btree = HeapTupleIsValid(ctup) && ((Form_pg_class) GETSTRUCT(ctup))->relam == BTREE_AM_OID;
		if (HeapTupleIsValid(ctup))
			ReleaseSysCache(ctup);
		if (btree && index->indisunique && index->indisvalid && index->indnatts == 1 &&
			index->indkey.values[0] == keyatt &&
			heap_attisnull(itup, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(itup, Anum_pg_index_indexprs, NULL))
			result = indexoid;
		ReleaseSysCache(itup);
		if (OidIsValid(result))
			break;
	}
	list_free(indexes);
	table_close(rel, AccessShareLock);
	return result;
}

static AttrNumber column_of(int32 pairid, Oid relid, const char *column);

/* A parent column as SQL, or a NULL interval when the pair names none. */
static const char *
column_or_null(BookingPair *p, const char *column)
{
	if (column == NULL)
		return "NULL::pg_catalog.interval";
	column_of(p->id, p->parent_relid, column);
	return quote_identifier(column);
}

static AttrNumber
column_of(int32 pairid, Oid relid, const char *column)
{
	AttrNumber	att = get_attnum(relid, column);

	if (att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" named by booking pair %d does not exist in table %s",
						column, pairid, qualified_name(relid)),
				 errhint("A column of a protected table was renamed or dropped; describe the pair again.")));
	return att;
}

/* An interval as an SQL constant (NULL: none, a zero interval). */
static char *
interval_constant(const char *text)
{
	return psprintf("%s::pg_catalog.interval", quote_literal_cstr(text != NULL ? text : "0"));
}

/*
 * A child whose range is two columns, start and end, or a start and the pair's fixed duration:
 * the range as an SQL expression (NULL where the end is not after the start, a row no rule can
 * judge), and the overlap predicate in terms of the columns themselves, so that a btree on
 * (parent, start) or (parent, end) serves it.  A timestamp without time zone counts as UTC.
 */
static void
range_of_columns(BookingPair *p, const char *start, const char *end, Datum duration,
				 bool no_duration)
{
	const char *s;
	const char *e;
	const char *lo = "$2";
	const char *hi = "$3";
	char	   *dur = NULL;

	p->start_att = column_of(p->id, p->child_relid, start);
	p->start_type = get_atttype(p->child_relid, p->start_att);
	s = quote_identifier(start);
	if (!no_duration)
	{
		Interval   *iv = DatumGetIntervalP(duration);

		p->duration = iv->time + (int64) iv->day * USECS_PER_DAY +
			(int64) iv->month * 30 * USECS_PER_DAY;
		dur = psprintf("'%lld microseconds'::pg_catalog.interval", (long long) p->duration);
	}
	if (p->start_type == TIMESTAMPOID)
	{
		lo = "pg_catalog.timezone('UTC'::pg_catalog.text, $2)";
		hi = "pg_catalog.timezone('UTC'::pg_catalog.text, $3)";
	}
	if (end != NULL)
	{
		p->end_att = column_of(p->id, p->child_relid, end);
		e = quote_identifier(end);
		p->overlap_sql = psprintf("%s < %s AND %s > %s", s, hi, e, lo);
	}
	else
	{
		e = psprintf("(%s + %s)", s, dur);
		p->overlap_sql = psprintf("%s < %s AND %s > %s - %s", s, hi, s, lo, dur);
	}
	if (p->start_type == TIMESTAMPOID)
		p->during_sql = psprintf("CASE WHEN %s < %s THEN pg_catalog.tstzrange("
								 "pg_catalog.timezone('UTC'::pg_catalog.text, %s),"
								 " pg_catalog.timezone('UTC'::pg_catalog.text, %s)) END",
								 s, e, s, e);
	else
		p->during_sql = psprintf("CASE WHEN %s < %s THEN pg_catalog.tstzrange(%s, %s) END",
								 s, e, s, e);
}

/* The rows of booking.pair, in SPI_tuptable; returns the SPI code. */
static int
read_pair_rows(void)
{
	return SPI_execute("SELECT id, parent::pg_catalog.oid, parent_key, capacity_column, counter_column,"
					   " timeline_column, child::pg_catalog.oid, child_key, child_parent, spots_column,"
					   " status_column, consuming, during_column, buffer_before_column,"
					   " buffer_after_column, kind_column, min_notice_column, max_horizon_column,"
					   " expires_column, capacity, timeline, start_column, end_column, duration,"
					   " buffer_before, buffer_after"
					   " FROM " BOOKING_SCHEMA ".pair ORDER BY id",
					   true, 0);
}

/*
 * Reads booking.pair and fills one BookingPair per row.  Runs in its own SPI connection, so it
 * may be called from inside another SPI user (a trigger fired by book_slot()'s INSERT).
 */
static void
load_pairs(void)
{
	MemoryContext cxt;
	Oid			save_userid;
	int			save_sec;

	retire_pairs();

	cxt = AllocSetContextCreate(CacheMemoryContext, "booking pairs", ALLOCSET_SMALL_SIZES);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/*
	 * Read as the table's owner, names looked up in schema booking included: whoever writes a
	 * protected table needs no privilege on the engine's configuration (a managed table's
	 * writers know nothing of schema booking).
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner_of(get_relname_relid("pair",
													  get_namespace_oid(BOOKING_SCHEMA, false))),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		fill_pairs(cxt);
	}
	PG_CATCH();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
		PG_RE_THROW();
	}
	PG_END_TRY();
	SetUserIdAndSecContext(save_userid, save_sec);

	SPI_finish();

	pair_table_relid = get_relname_relid("pair", get_namespace_oid(BOOKING_SCHEMA, false));
	pairs_cxt = cxt;
	pairs_valid = true;
}

/* load_pairs()' work: the rows of booking.pair as BookingPairs in cxt. */
static void
fill_pairs(MemoryContext cxt)
{
	MemoryContext old;
	uint64		i;
	int			ret = read_pair_rows();

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading booking.pair failed: %s", SPI_result_code_string(ret));

	old = MemoryContextSwitchTo(cxt);
	pairs = palloc0(sizeof(BookingPair) * Max(SPI_processed, 1));
	npairs = (int) SPI_processed;

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		BookingPair *p = &pairs[i];
		bool		isnull;
		char	   *spots;
		char	   *timeline;
		char	   *during;
		Datum		arr;
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		int			k;
		StringInfoData buf;

		p->id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		p->parent_relid = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
		p->child_relid = DatumGetObjectId(SPI_getbinval(tup, desc, 7, &isnull));

		p->parent_sql = qualified_name(p->parent_relid);
		p->parent_owner = owner_of(p->parent_relid);
		p->child_owner = owner_of(p->child_relid);
		p->child_sql = qualified_name(p->child_relid);

		p->parent_key_att = column_of(p->id, p->parent_relid, SPI_getvalue(tup, desc, 3));
		p->parent_key_type = get_atttype(p->parent_relid, p->parent_key_att);
		if (p->parent_key_type == INT8OID || p->parent_key_type == INT4OID)
			p->parent_key_index = key_index_of(p->parent_relid, p->parent_key_att);
		p->parent_guard_func =
			LookupFuncName(list_make2(makeString(BOOKING_SCHEMA), makeString("resource_guard")),
						   0, NULL, true);
		p->guard_func =
			LookupFuncName(list_make2(makeString(BOOKING_SCHEMA), makeString("booking_guard")),
						   0, NULL, true);
		p->promote_func =
			LookupFuncName(list_make2(makeString(BOOKING_SCHEMA), makeString("promote_trigger")),
						   0, NULL, true);
		/*
		 * Waitlists and per-holder limits: the extension's own pair, whose tables carry the
		 * holder, the limit and the indexes they need.
		 */
		if (p->id == BOOKING_OWN_PAIR)
		{
			Oid			ns = get_namespace_oid(BOOKING_SCHEMA, false);

			p->queue_relid = get_relname_relid("queue", ns);
			p->queue_index = get_relname_relid("queue_key", ns);
			p->group_index = get_relname_relid("booking_group_idx", ns);
			p->holder_index = get_relname_relid("booking_resource_idx", ns);
			p->holder_att = get_attnum(p->child_relid, "holder");
			p->group_att = get_attnum(p->child_relid, "group_id");
			{
				Relation	child = table_open(p->child_relid, AccessShareLock);

				p->key_sequence = booking_identity_sequence(child, get_attnum(p->child_relid, "id"));
				table_close(child, AccessShareLock);
			}
			p->max_per_holder_att = get_attnum(p->parent_relid, "max_per_holder");
			p->max_hold_att = get_attnum(p->parent_relid, "max_hold");
			p->waiting_att = get_attnum(p->parent_relid, "waiting");
			p->hold_id_att = get_attnum(p->parent_relid, "hold_id");
			p->hold_due_att = get_attnum(p->parent_relid, "hold_due");
			if (p->hold_id_att == InvalidAttrNumber || p->hold_due_att == InvalidAttrNumber)
				p->hold_id_att = p->hold_due_att = InvalidAttrNumber;
			if (get_attnum(p->child_relid, "updated_at") != InvalidAttrNumber)
				p->touch_sql = ", updated_at = pg_catalog.now()";
			p->slot_index = get_relname_relid("booking_slot_idx", ns);
			p->longest_booking_att = get_attnum(p->parent_relid, "longest_booking");
			p->longest_block_att = get_attnum(p->parent_relid, "longest_block");
		}
		p->parent_key_sql = pstrdup(quote_identifier(SPI_getvalue(tup, desc, 3)));
		p->has_states = p->id == BOOKING_OWN_PAIR;
		/* capacity and counter: columns, or a constant capacity and no counter (timelines) */
		if (SPI_getvalue(tup, desc, 4) != NULL)
		{
			p->capacity_att = column_of(p->id, p->parent_relid, SPI_getvalue(tup, desc, 4));
			p->capacity_sql = pstrdup(quote_identifier(SPI_getvalue(tup, desc, 4)));
		}
		else
			p->capacity_sql = psprintf("%d",
									   DatumGetInt32(SPI_getbinval(tup, desc, 20, &isnull)));
		if (SPI_getvalue(tup, desc, 5) != NULL)
		{
			p->counter_att = column_of(p->id, p->parent_relid, SPI_getvalue(tup, desc, 5));
			p->counter_sql = pstrdup(quote_identifier(SPI_getvalue(tup, desc, 5)));
		}
		else
			p->counter_sql = pstrdup("0");
		timeline = SPI_getvalue(tup, desc, 6);
		if (timeline != NULL)
		{
			p->timeline_att = column_of(p->id, p->parent_relid, timeline);
			p->timeline_sql = pstrdup(quote_identifier(timeline));
		}
		else
		{
			p->timeline_const = DatumGetBool(SPI_getbinval(tup, desc, 21, &isnull));
			p->timeline_sql = pstrdup(p->timeline_const ? "true" : "false");
		}

		p->child_key_att = column_of(p->id, p->child_relid, SPI_getvalue(tup, desc, 8));
		p->child_key_type = get_atttype(p->child_relid, p->child_key_att);
		if (get_atttype(p->child_relid, p->child_key_att) == INT8OID)
			p->child_key_index = key_index_of(p->child_relid, p->child_key_att);
		p->child_parent_att = column_of(p->id, p->child_relid, SPI_getvalue(tup, desc, 9));
		p->child_key_sql = pstrdup(quote_identifier(SPI_getvalue(tup, desc, 8)));
		p->child_parent_sql = pstrdup(quote_identifier(SPI_getvalue(tup, desc, 9)));
		spots = SPI_getvalue(tup, desc, 10);
		if (spots != NULL)
		{
			p->spots_att = column_of(p->id, p->child_relid, spots);
			/* read back as integer, whatever integer type the column has */
			p->spots_sql = get_atttype(p->child_relid, p->spots_att) == INT4OID
				? pstrdup(quote_identifier(spots))
				: psprintf("%s::pg_catalog.int4", quote_identifier(spots));
		}
		else
			p->spots_sql = pstrdup("1");
		if (SPI_getvalue(tup, desc, 11) != NULL)
		{
			p->status_att = column_of(p->id, p->child_relid, SPI_getvalue(tup, desc, 11));
			p->status_sql = pstrdup(quote_identifier(SPI_getvalue(tup, desc, 11)));
			p->status_type = get_atttype(p->child_relid, p->status_att);
		}
		during = SPI_getvalue(tup, desc, 13);
		if (during != NULL)
		{
			p->during_att = column_of(p->id, p->child_relid, during);
			p->during_sql = pstrdup(quote_identifier(during));
			p->overlap_sql = psprintf("%s OPERATOR(pg_catalog.&&) pg_catalog.tstzrange($2, $3)",
									  p->during_sql);
		}
		else if (SPI_getvalue(tup, desc, 22) != NULL)
		{
			bool		no_duration;
			Datum		duration = SPI_getbinval(tup, desc, 24, &no_duration);

			range_of_columns(p, SPI_getvalue(tup, desc, 22), SPI_getvalue(tup, desc, 23),
							 duration, no_duration);
		}
		{
			char	   *before = SPI_getvalue(tup, desc, 14);
			char	   *after = SPI_getvalue(tup, desc, 15);
			char	   *kind = SPI_getvalue(tup, desc, 16);

			if (before != NULL)
				p->buffer_before_att = column_of(p->id, p->parent_relid, before);
			if (after != NULL)
				p->buffer_after_att = column_of(p->id, p->parent_relid, after);
			p->buffer_before_sql = before != NULL ? pstrdup(quote_identifier(before))
				: interval_constant(SPI_getvalue(tup, desc, 25));
			p->buffer_after_sql = after != NULL ? pstrdup(quote_identifier(after))
				: interval_constant(SPI_getvalue(tup, desc, 26));
			{
				char	   *notice = SPI_getvalue(tup, desc, 17);
				char	   *horizon = SPI_getvalue(tup, desc, 18);

				p->min_notice_sql = pstrdup(column_or_null(p, notice));
				p->max_horizon_sql = pstrdup(column_or_null(p, horizon));
				if (notice != NULL)
					p->min_notice_att = column_of(p->id, p->parent_relid, notice);
				if (horizon != NULL)
					p->max_horizon_att = column_of(p->id, p->parent_relid, horizon);
			}
			if (kind != NULL)
			{
				Oid			kind_type;

				p->kind_att = column_of(p->id, p->child_relid, kind);
				kind_type = get_atttype(p->child_relid, p->kind_att);
				if (type_is_enum(kind_type))
				{
					p->kind_block =
						DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum("block"),
															 ObjectIdGetDatum(kind_type)));
					p->kind_booking =
						DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum("booking"),
															 ObjectIdGetDatum(kind_type)));
				}
				p->is_block_sql = psprintf("%s::pg_catalog.text = 'block'", quote_identifier(kind));
			}
			else
				p->is_block_sql = pstrdup("false");
		}

		if (p->during_att == InvalidAttrNumber || !OidIsValid(p->kind_booking) ||
			p->longest_booking_att == InvalidAttrNumber ||
			p->longest_block_att == InvalidAttrNumber)
			p->slot_index = InvalidOid;
		{
			char	   *expires = SPI_getvalue(tup, desc, 19);

			if (expires != NULL)
			{
				p->expires_att = column_of(p->id, p->child_relid, expires);
				p->expires_sql = pstrdup(quote_identifier(expires));
			}
		}
		if (p->status_att == InvalidAttrNumber)
		{
			/* no status column: every row takes its spots */
			p->consuming = palloc(sizeof(char *));
			p->consuming_sql = pstrdup("true");
			continue;
		}
		/* the engine's states, as values of the status column's enum (InvalidOid: absent) */
		if (type_is_enum(p->status_type))
			for (k = 0; k < NUM_STATES; k++)
				p->state_enum[k] = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
												   ObjectIdGetDatum(p->status_type),
												   CStringGetDatum(state_names[k]));

		arr = SPI_getbinval(tup, desc, 12, &isnull);
		deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &nulls, &n);
		p->nconsuming = n;
		p->consuming = palloc(sizeof(char *) * Max(n, 1));
		if (type_is_enum(p->status_type))
			p->consuming_enum = palloc(sizeof(Oid) * Max(n, 1));
		initStringInfo(&buf);
		appendStringInfo(&buf, "%s::pg_catalog.text IN (", p->status_sql);
		for (k = 0; k < n; k++)
		{
			p->consuming[k] = TextDatumGetCString(elems[k]);
			if (p->consuming_enum != NULL)
				p->consuming_enum[k] =
					DatumGetObjectId(DirectFunctionCall2(enum_in,
														 CStringGetDatum(p->consuming[k]),
														 ObjectIdGetDatum(p->status_type)));
			appendStringInfo(&buf, "%s%s", k > 0 ? ", " : "", quote_literal_cstr(p->consuming[k]));
		}
		appendStringInfoString(&buf, n > 0 ? ")" : "NULL)");
		p->consuming_sql = buf.data;
	}
	MemoryContextSwitchTo(old);
}

static void
ensure_pairs(void)
{
	if (!pairs_valid)
		load_pairs();
}

/*
 * Forgets the pairs in force: the next lookup reads booking.pair again.  Writers of booking.pair
 * (manage(), unmanage(), a renamed column) also send an invalidation of its relcache entry, so
 * that every other backend reads it again too.
 */
void
pair_invalidate(void)
{
	Oid			ns = get_namespace_oid(BOOKING_SCHEMA, true);
	Oid			relid = OidIsValid(ns) ? get_relname_relid("pair", ns) : InvalidOid;

	pairs_valid = false;
	if (OidIsValid(relid))
		CacheInvalidateRelcacheByRelid(relid);
}

BookingPair *
pair_by_id(int32 id)
{
	int			i;
	int			attempt;

	/* a pair added since the pairs were read (a trigger names it): read them again, once */
	for (attempt = 0; attempt < 2; attempt++)
	{
		if (attempt > 0)
			pairs_valid = false;
		ensure_pairs();
		for (i = 0; i < npairs; i++)
			if (pairs[i].id == id)
				return &pairs[i];
	}
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("booking pair %d does not exist", id)));
	return NULL;				/* keep compiler quiet */
}

BookingPair *
pair_by_child(Oid relid)
{
	int			i;

	ensure_pairs();
	for (i = 0; i < npairs; i++)
		if (pairs[i].child_relid == relid)
			return &pairs[i];
	return NULL;
}

BookingPair *
pair_by_parent(Oid relid)
{
	int			i;

	ensure_pairs();
	for (i = 0; i < npairs; i++)
		if (pairs[i].parent_relid == relid)
			return &pairs[i];
	return NULL;
}

int
pair_count(void)
{
	ensure_pairs();
	return npairs;
}

BookingPair *
pair_at(int index)
{
	ensure_pairs();
	Assert(index >= 0 && index < npairs);
	return &pairs[index];
}

/*
 * Which of n labels a value of a status or kind column is (-1: none of them, or NULL).  Enum
 * columns compare OIDs (enum_oids[k], InvalidOid for a label the enum lacks); any other type
 * compares its text form.
 */
int
pair_label_index(Datum value, bool isnull, Oid type, const Oid *enum_oids,
				 const char *const *labels, int n)
{
	int			k;

	if (isnull)
		return -1;
	if (enum_oids != NULL)
	{
		Oid			v = DatumGetObjectId(value);

		for (k = 0; k < n; k++)
			if (OidIsValid(enum_oids[k]) && enum_oids[k] == v)
				return k;
	}
	else
	{
		Oid			typoutput;
		bool		varlena;
		char	   *s;

		getTypeOutputInfo(type, &typoutput, &varlena);
		s = OidOutputFunctionCall(typoutput, value);
		for (k = 0; k < n; k++)
			if (strcmp(labels[k], s) == 0)
				return k;
	}
	return -1;
}

/* Whether a kind value says "block". */
bool
pair_kind_is_block(BookingPair *pair, Datum kind, bool isnull, Oid kind_type)
{
	static const char *const block[] = {"block"};

	return pair_label_index(kind, isnull, kind_type,
							OidIsValid(pair->kind_block) ? &pair->kind_block : NULL, block, 1) == 0;
}

/* Whether a status value consumes capacity (the pair's consuming labels). */
bool
pair_status_consumes(BookingPair *pair, Datum status, bool isnull)
{
	return pair_label_index(status, isnull, pair->status_type, pair->consuming_enum,
							(const char *const *) pair->consuming, pair->nconsuming) >= 0;
}

/*
 * Returns the kept plan for one of the pair's statements, preparing it on first use.  The caller
 * is connected to SPI.  Query text is built from the quoted names of the pair; values are always
 * bound as $n.
 */
SPIPlanPtr
pair_plan(BookingPair *pair, PairPlan which)
{
	StringInfoData sql;
	Oid			argtypes[5] = {INT8OID, INT4OID, InvalidOid, InvalidOid, InvalidOid};
	int			nargs = 0;
	SPIPlanPtr	plan;
	/* keys as the engine reads them back: an integer as int8, any other key as it is */
	const char *key_cast = pair_key_is_integer(pair->parent_key_type) ? "::pg_catalog.int8" : "";
	const char *row_cast = pair_key_is_integer(pair->child_key_type) ? "::pg_catalog.int8" : "";

	if (pair->plans[which] != NULL)
		return pair->plans[which];
	/* $1 is a parent's key: an integer key bound as int8, any other as its own type */
	if (!pair_key_is_integer(pair->parent_key_type))
		argtypes[0] = pair->parent_key_type;

	initStringInfo(&sql);
	switch (which)
	{
		case PLAN_ADMIT:
			appendStringInfo(&sql,
							 "UPDATE %s SET %s = %s + $2 WHERE %s = $1 AND %s + $2 <= %s"
							 " RETURNING %s, %s, %s",
							 pair->parent_sql, pair->counter_sql, pair->counter_sql,
							 pair->parent_key_sql, pair->counter_sql, pair->capacity_sql,
							 pair->capacity_sql, pair->counter_sql,
							 pair->timeline_sql ? pair->timeline_sql : "false");
			nargs = 2;
			break;
		case PLAN_FORCE:
			appendStringInfo(&sql,
							 "UPDATE %s SET %s = %s + $2 WHERE %s = $1 RETURNING %s, %s, %s",
							 pair->parent_sql, pair->counter_sql, pair->counter_sql,
							 pair->parent_key_sql, pair->capacity_sql, pair->counter_sql,
							 pair->timeline_sql ? pair->timeline_sql : "false");
			nargs = 2;
			break;
		case PLAN_SET:
			appendStringInfo(&sql, "UPDATE %s SET %s = $2 WHERE %s = $1",
							 pair->parent_sql, pair->counter_sql, pair->parent_key_sql);
			nargs = 2;
			break;
		case PLAN_PEEK:
			appendStringInfo(&sql,
							 "SELECT %s, %s, %s FROM %s WHERE %s = $1",
							 pair->capacity_sql, pair->counter_sql,
							 pair->timeline_sql,
							 pair->parent_sql, pair->parent_key_sql);
			nargs = 1;
			break;
		case PLAN_PEEK_LOCK:
			appendStringInfo(&sql,
							 "SELECT %s, %s, %s FROM %s WHERE %s = $1 FOR NO KEY UPDATE",
							 pair->capacity_sql, pair->counter_sql,
							 pair->timeline_sql,
							 pair->parent_sql, pair->parent_key_sql);
			nargs = 1;
			break;
		case PLAN_KEY_SHARE:
			appendStringInfo(&sql, "SELECT 1 FROM ONLY %s WHERE %s = $1 FOR KEY SHARE",
							 pair->parent_sql, pair->parent_key_sql);
			nargs = 1;
			break;
		case PLAN_TIMELINE_LOCK:
		case PLAN_TIMELINE_READ:
			/* the rule's columns, in the order timeline.c reads them */
			appendStringInfo(&sql,
							 "SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s FROM %s WHERE %s = $1%s",
							 pair->capacity_sql,
							 pair->timeline_sql,
							 pair->buffer_before_sql, pair->buffer_after_sql,
							 pair->min_notice_sql, pair->max_horizon_sql,
							 pair->max_per_holder_att != InvalidAttrNumber ? "max_per_holder"
							 : "NULL::pg_catalog.int4",
							 pair->longest_booking_att != InvalidAttrNumber ? "longest_booking"
							 : "NULL::pg_catalog.interval",
							 pair->longest_block_att != InvalidAttrNumber ? "longest_block"
							 : "NULL::pg_catalog.interval",
							 pair->parent_sql, pair->parent_key_sql,
							 which == PLAN_TIMELINE_LOCK ? " FOR NO KEY UPDATE" : "");
			nargs = 1;
			break;
		case PLAN_TIMELINE_LIST:
			appendStringInfo(&sql,
							 "SELECT %s%s, %s, %s, %s, %s FROM %s WHERE %s ORDER BY 1",
							 pair->parent_key_sql, key_cast, pair->capacity_sql, pair->buffer_before_sql,
							 pair->buffer_after_sql, pair->counter_sql, pair->parent_sql,
							 pair->timeline_sql ? pair->timeline_sql : "false");
			nargs = 0;
			break;
		case PLAN_CANDIDATES:
			if (pair->during_sql == NULL)
				elog(ERROR, "booking pair %d has no range column", pair->id);
			/* $4: the row itself, left out (NULL: none; see near_rows_query()) */
			appendStringInfo(&sql,
							 "SELECT %s%s, %s, %s, %s FROM %s"
							 " WHERE %s"
							 "   AND %s = $1 AND %s AND %s IS DISTINCT FROM $4",
							 pair->child_key_sql, row_cast, pair->during_sql, pair->spots_sql,
							 pair->is_block_sql, pair->child_sql,
							 pair->overlap_sql, pair->child_parent_sql, pair->consuming_sql,
							 pair->child_key_sql);
			/*
			 * a hold counts for nothing once its time has passed, by the clock $5 (the time the
			 * resource's lock was taken; see timeline.c's near_rows_scan())
			 */
			if (pair->expires_sql != NULL)
				appendStringInfo(&sql,
								 " AND NOT (%s::pg_catalog.text = 'held' AND %s <= $5)",
								 pair->status_sql, pair->expires_sql);
			argtypes[1] = TIMESTAMPTZOID;
			argtypes[2] = TIMESTAMPTZOID;
			argtypes[3] = pair_key_is_integer(pair->child_key_type) ? INT8OID : pair->child_key_type;
			argtypes[4] = TIMESTAMPTZOID;
			nargs = 5;
			break;
		case PLAN_GROW:
			/* $2 is a length, $3 says blocks; only ever raised (engine_raise_bound()) */
			appendStringInfo(&sql,
							 "UPDATE %s SET longest_booking = CASE WHEN $3 THEN longest_booking"
							 " ELSE $2 END, longest_block = CASE WHEN $3 THEN $2 ELSE longest_block END"
							 " WHERE %s = $1"
							 "   AND CASE WHEN $3 THEN longest_block ELSE longest_booking END < $2",
							 pair->parent_sql, pair->parent_key_sql);
			argtypes[1] = INTERVALOID;
			argtypes[2] = BOOLOID;
			nargs = 3;
			break;
		case PLAN_WAIT_SHIFT:
		case PLAN_WAIT_SET:
			if (pair->waiting_att == InvalidAttrNumber)
				elog(ERROR, "booking pair %d has no waiting column", pair->id);
			if (which == PLAN_WAIT_SHIFT)
				appendStringInfo(&sql, "UPDATE %s SET waiting = waiting + $2 WHERE %s = $1",
								 pair->parent_sql, pair->parent_key_sql);
			else
				appendStringInfo(&sql,
								 "UPDATE %s p SET waiting = c.n FROM"
								 " (SELECT pg_catalog.count(*)::pg_catalog.int4 AS n FROM %s"
								 "   WHERE %s = $1 AND %s::pg_catalog.text = 'waitlisted') c"
								 " WHERE p.%s = $1 AND p.waiting IS DISTINCT FROM c.n",
								 pair->parent_sql, pair->child_sql, pair->child_parent_sql,
								 pair->status_sql, pair->parent_key_sql);
			nargs = which == PLAN_WAIT_SHIFT ? 2 : 1;
			break;
		case PLAN_LONGEST:
			/*
			 * Every timeline parent with a consuming, waiting or blocking range longer than its
			 * bound (verify(), repair()): key, the longest booking and block ranges there are.
			 */
			if (pair->during_sql == NULL || pair->timeline_sql == NULL)
				elog(ERROR, "booking pair %d has no range column", pair->id);
			appendStringInfo(&sql,
							 "SELECT p.%s::pg_catalog.int8, c.bk, c.bl FROM %s p JOIN"
							 " (SELECT %s AS k,"
							 "   pg_catalog.max(pg_catalog.upper(%s) - pg_catalog.lower(%s))"
							 "     FILTER (WHERE NOT (%s)) AS bk,"
							 "   pg_catalog.max(pg_catalog.upper(%s) - pg_catalog.lower(%s))"
							 "     FILTER (WHERE %s) AS bl"
							 "  FROM %s"
							 "  WHERE pg_catalog.isfinite(pg_catalog.lower(%s))"
							 "    AND pg_catalog.isfinite(pg_catalog.upper(%s))"
							 "    AND (%s OR %s::pg_catalog.text = 'waitlisted')"
							 "  GROUP BY 1) c ON c.k = p.%s"
							 " WHERE p.%s AND (c.bk > p.longest_booking + '1 microsecond'"
							 "                 OR c.bl > p.longest_block + '1 microsecond')"
							 " ORDER BY 1",
							 pair->parent_key_sql, pair->parent_sql,
							 pair->child_parent_sql,
							 pair->during_sql, pair->during_sql, pair->is_block_sql,
							 pair->during_sql, pair->during_sql, pair->is_block_sql,
							 pair->child_sql, pair->during_sql, pair->during_sql,
							 pair->consuming_sql, pair->status_sql,
							 pair->parent_key_sql, pair->timeline_sql);
			nargs = 0;
			break;
		case PLAN_COUNT_ONE:
			appendStringInfo(&sql,
							 "SELECT COALESCE(pg_catalog.sum(%s), 0)::pg_catalog.int4"
							 " FROM %s WHERE %s = $1 AND %s",
							 pair->spots_sql, pair->child_sql, pair->child_parent_sql,
							 pair->consuming_sql);
			nargs = 1;
			break;
		case PLAN_VERIFY:
			/* the parent's figures in a derived table: the pair's constants need no alias */
			appendStringInfo(&sql,
							 "SELECT p.k%s, p.cap, p.ctr,"
							 " COALESCE(c.n, 0)::pg_catalog.int4, p.tl"
							 " FROM (SELECT %s AS k, %s AS cap, %s AS ctr, %s AS tl FROM %s) p"
							 " LEFT JOIN"
							 " (SELECT %s AS k, pg_catalog.sum(%s) AS n FROM %s WHERE %s GROUP BY 1) c"
							 " ON c.k = p.k AND NOT p.tl"
							 " WHERE p.ctr IS DISTINCT FROM COALESCE(c.n, 0)"
							 " OR (NOT p.tl AND p.ctr > p.cap)"
							 " ORDER BY 1",
							 key_cast,
							 pair->parent_key_sql, pair->capacity_sql, pair->counter_sql,
							 pair->timeline_sql, pair->parent_sql,
							 pair->child_parent_sql, pair->spots_sql, pair->child_sql,
							 pair->consuming_sql);
			nargs = 0;
			break;
		case PLAN_EXPIRE:
			if (pair->expires_sql == NULL)
				elog(ERROR, "booking pair %d has no expiry column", pair->id);
			/*
			 * Rows another transaction has locked are being changed by it (a confirm, say):
			 * skipped, never waited for, so that expiring cannot deadlock with that one.  The
			 * own pair finds its holds through booking.queue and the resource's hold slot.
			 */
			appendStringInfo(&sql,
							 "UPDATE %s SET %s = 'expired'%s WHERE %s IN"
							 " (SELECT b.%s FROM %s b%s WHERE b.%s = $1 AND b.%s = 'held'"
							 "  AND b.%s <= pg_catalog.now() ORDER BY b.%s LIMIT $2"
							 "  FOR UPDATE OF b SKIP LOCKED)",
							 pair->child_sql, pair->status_sql,
							 pair->touch_sql ? pair->touch_sql : "", pair->child_key_sql,
							 pair->child_key_sql, pair->child_sql,
							 OidIsValid(pair->queue_relid) ?
							 psprintf(" JOIN (SELECT q.booking_id FROM " BOOKING_SCHEMA ".queue q"
									  " WHERE q.resource_id = $1 AND NOT q.waiting"
									  " AND q.due <= pg_catalog.now()%s) q"
									  " ON q.booking_id = b.%s",
									  pair->hold_id_att != InvalidAttrNumber ?
									  psprintf(" UNION SELECT r.hold_id FROM %s r WHERE r.%s = $1"
											   " AND r.hold_due <= pg_catalog.now()",
											   pair->parent_sql, pair->parent_key_sql) : "",
									  pair->child_key_sql) : "",
							 pair->child_parent_sql,
							 pair->status_sql, pair->expires_sql, pair->expires_sql);
			nargs = 2;
			break;
		case PLAN_HOLDER_MAX:
			appendStringInfo(&sql, "SELECT max_per_holder FROM %s WHERE %s = $1",
							 pair->parent_sql, pair->parent_key_sql);
			nargs = 1;
			break;
		case PLAN_WAITING:
			if (!OidIsValid(pair->queue_relid))
				elog(ERROR, "booking pair %d keeps no waiting lines", pair->id);
			appendStringInfo(&sql,
							 "SELECT b.%s::pg_catalog.int8, b.%s, %s, %s FROM " BOOKING_SCHEMA ".queue q"
							 " JOIN %s b ON b.%s = q.booking_id"
							 " WHERE q.resource_id = $1 AND q.waiting AND b.%s = $1"
							 " AND b.%s = 'waitlisted' ORDER BY q.booking_id",
							 pair->child_key_sql, pair->spots_sql,
							 pair->during_sql ? psprintf("b.%s", pair->during_sql) : "NULL::pg_catalog.tstzrange",
							 pair->holder_att != InvalidAttrNumber ? "b.holder" : "NULL::pg_catalog.text",
							 pair->child_sql, pair->child_key_sql, pair->child_parent_sql,
							 pair->status_sql);
			nargs = 1;
			break;
		case PLAN_PROMOTE:
			/* a row another transaction has locked is being changed by it: not waited for */
			appendStringInfo(&sql,
							 "UPDATE %s SET %s = 'confirmed'%s WHERE %s IN"
							 " (SELECT %s FROM %s WHERE %s = $1 AND %s = 'waitlisted'"
							 "  FOR UPDATE SKIP LOCKED)",
							 pair->child_sql, pair->status_sql,
							 pair->touch_sql ? pair->touch_sql : "", pair->child_key_sql,
							 pair->child_key_sql, pair->child_sql, pair->child_key_sql,
							 pair->status_sql);
			nargs = 1;
			break;
		default:
			elog(ERROR, "unknown booking plan %d", (int) which);
	}

	plan = SPI_prepare(sql.data, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	pair->plans[which] = plan;
	pfree(sql.data);
	return plan;
}

/*
 * Runs one of the pair's statements as the parent table's owner, as the engine's own writes do
 * (see engine.c).  With latest, it reads with a snapshot taken now rather than the
 * transaction's, as PostgreSQL's foreign-key checks do: an admission must see every booking
 * committed before it, even from a REPEATABLE READ or SERIALIZABLE caller whose snapshot is
 * older (the locks it holds guarantee nothing else is in flight).  The caller is connected to
 * SPI.  Returns the SPI code.
 */
int
pair_execute_as_owner(BookingPair *pair, PairPlan which, Datum *args, const char *nulls,
					  long count, bool latest)
{
	Oid			save_userid;
	int			save_sec;
	volatile int ret = 0;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(which == PLAN_EXPIRE || which == PLAN_PROMOTE || which == PLAN_WAITING
						   ? pair->child_owner : pair->parent_owner,
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	PG_TRY();
	{
		if (latest)
			ret = SPI_execute_snapshot(pair_plan(pair, which), args, nulls, GetLatestSnapshot(),
									   InvalidSnapshot, false, false, count);
		else
			ret = SPI_execute_plan(pair_plan(pair, which), args, nulls, false, count);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
	return ret;
}

/*
 * Keys that are not integers (a uuid, or text such as Prisma's String ids).  The engine knows
 * every resource and row by an int64: for such a key, its 64-bit hash, the same in every backend
 * (so advisory lock keys and the order of locks agree everywhere).  This map, kept for the
 * transaction, gives the key itself back for statements and messages; two different keys with
 * one hash in one transaction raise an error rather than be taken for one another.
 */
typedef struct KeyEntry
{
	int64		handle;			/* hash key: must be first */
	Oid			type;
	Datum		value;
} KeyEntry;

/* Whether a key column of this type is an integer the engine uses as it is. */
bool
pair_key_is_integer(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID;
}

/* The engine's int64 for a key value of the given type (a registered hash unless an integer). */
int64
pair_key_handle(Datum value, Oid type)
{
	TypeCacheEntry *tc;
	int64		handle;
	KeyEntry   *e;
	bool		found;
	int16		typlen;
	bool		typbyval;

	if (pair_key_is_integer(type))
		return pair_integer(value, type);
	tc = lookup_type_cache(type, TYPECACHE_HASH_EXTENDED_PROC_FINFO);
	if (!OidIsValid(tc->hash_extended_proc))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("booking keys of type %s are not supported", format_type_be(type)),
				 errdetail("A key must be an integer or a type with a hash function.")));
	handle = DatumGetInt64(FunctionCall2Coll(&tc->hash_extended_proc_finfo, C_COLLATION_OID,
											 value, Int64GetDatum(0x626f6f6b696e67)));
	if (handle == 0)
		handle = 1;				/* 0 means "none" to the engine */
	if (keys_map == NULL)
	{
		HASHCTL		ctl;

		if (keys_cxt == NULL)
			keys_cxt = AllocSetContextCreate(TopMemoryContext, "booking keys",
											 ALLOCSET_SMALL_SIZES);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(KeyEntry);
		ctl.hcxt = keys_cxt;
		keys_map = hash_create("booking keys", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	get_typlenbyval(type, &typlen, &typbyval);
	e = hash_search(keys_map, &handle, HASH_ENTER, &found);
	if (!found)
	{
		MemoryContext old = MemoryContextSwitchTo(keys_cxt);

		e->type = type;
		e->value = datumCopy(value, typbyval, typlen);
		MemoryContextSwitchTo(old);
	}
	else if (e->type != type || !datumIsEqual(e->value, value, typbyval, typlen))
	{
		Oid			typoutput;
		bool		varlena;

		getTypeOutputInfo(type, &typoutput, &varlena);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("two booking keys have the same 64-bit hash"),
				 errdetail("Keys %s and %s of type %s; a transaction cannot use both.",
						   OidOutputFunctionCall(typoutput, value),
						   pair_handle_text(handle, type), format_type_be(type))));
	}
	return handle;
}

/* A key as a pair's statement returned it (an integer cast to int8, any other as it is). */
int64
pair_selected_key(Datum value, Oid type)
{
	return pair_key_is_integer(type) ? DatumGetInt64(value) : pair_key_handle(value, type);
}

/* The key an int64 of the engine stands for, as a value of the column's type. */
Datum
pair_handle_datum(int64 handle, Oid type)
{
	KeyEntry   *e;

	if (pair_key_is_integer(type))
		return Int64GetDatum(handle);
	e = keys_map != NULL ? hash_search(keys_map, &handle, HASH_FIND, NULL) : NULL;
	if (e == NULL)
		elog(ERROR, "booking key %lld of type %s is not known in this transaction",
			 (long long) handle, format_type_be(type));
	return e->value;
}

/* The key an int64 of the engine stands for, as text for a message. */
char *
pair_handle_text(int64 handle, Oid type)
{
	Oid			typoutput;
	bool		varlena;

	if (pair_key_is_integer(type))
		return psprintf("%lld", (long long) handle);
	getTypeOutputInfo(type, &typoutput, &varlena);
	return OidOutputFunctionCall(typoutput, pair_handle_datum(handle, type));
}

/* The parent key named by one of the engine's int64s, for a message. */
char *
pair_resource_text(BookingPair *pair, int64 resource_id)
{
	return pair_handle_text(resource_id, pair->parent_key_type);
}

/* The child row named by one of the engine's int64s, for a message. */
char *
pair_row_text(BookingPair *pair, int64 row_id)
{
	return pair_handle_text(row_id, pair->child_key_type);
}

/* The parent key named by one of the engine's int64s, as a statement's $1 (see pair_plan). */
Datum
pair_resource_datum(BookingPair *pair, int64 resource_id)
{
	return pair_handle_datum(resource_id, pair->parent_key_type);
}

/*
 * An integer column of a protected table as int64: keys and spots may be smallint, integer or
 * bigint.  Any other type is refused (42804).
 */
int64
pair_integer(Datum value, Oid type)
{
	switch (type)
	{
		case INT2OID:
			return DatumGetInt16(value);
		case INT4OID:
			return DatumGetInt32(value);
		case INT8OID:
			return DatumGetInt64(value);
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("booking keys and spots must be smallint, integer or bigint, not %s",
							format_type_be(type))));
	}
	return 0;					/* keep compiler quiet */
}

void
pair_scan_open(ChildScan *cs, BookingPair *pair, Oid index, bool latest)
{
	relation_scan_open(cs, pair->child_relid, index, latest);
}

/* The same scan over any table and one of its indexes (booking.queue). */
void
relation_scan_open(ChildScan *cs, Oid relid, Oid index, bool latest)
{
	cs->rel = table_open(relid, AccessShareLock);
	cs->index = index_open(index, AccessShareLock);
	if (latest)
	{
		/* this transaction's own earlier writes too, as a new statement would see them */
		CommandCounterIncrement();
		cs->snapshot = RegisterSnapshot(GetLatestSnapshot());
	}
	else
		cs->snapshot = RegisterSnapshot(GetTransactionSnapshot());
	cs->scan = NULL;
	cs->slot = NULL;
}

/* Starts the scan with keys, or starts it again with new ones (as many as the first time). */
void
pair_scan_start(ChildScan *cs, ScanKey keys, int nkeys)
{
	if (cs->scan == NULL)
	{
		cs->scan = booking_index_beginscan(cs->rel, cs->index, cs->snapshot, nkeys, 0);
		cs->slot = table_slot_create(cs->rel, NULL);
	}
	index_rescan(cs->scan, keys, nkeys, NULL, 0);
}

bool
pair_scan_next(ChildScan *cs)
{
	return index_getnext_slot(cs->scan, ForwardScanDirection, cs->slot);
}

void
pair_scan_close(ChildScan *cs)
{
	if (cs->slot != NULL)
		ExecDropSingleTupleTableSlot(cs->slot);
	if (cs->scan != NULL)
		index_endscan(cs->scan);
	UnregisterSnapshot(cs->snapshot);
	/* the locks stay until the transaction ends, as a statement's do */
	index_close(cs->index, NoLock);
	table_close(cs->rel, NoLock);
}

static void
kept_slot_drop(KeptSlot *k)
{
	TupleDesc	desc = k->slot->tts_tupleDescriptor;

	ExecDropSingleTupleTableSlot(k->slot);
	FreeTupleDesc(desc);
	k->slot = NULL;
}

TupleTableSlot *
pair_version_slot(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	KeptSlot   *k = NULL;
	MemoryContext old;
	int			i;

	for (i = 0; i < nkept_slots; i++)
		if (kept_slots[i].relid == relid)
		{
			k = &kept_slots[i];
			break;
		}
	/* a caller further up the stack still using it: one for this call alone */
	if (k != NULL && k->in_use)
		return MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsHeapTuple);
	if (k == NULL)
	{
		if (nkept_slots < KEPT_SLOTS)
			k = &kept_slots[nkept_slots++];
		else
		{
			for (i = 0; i < KEPT_SLOTS && kept_slots[next_evicted].in_use; i++)
				next_evicted = (next_evicted + 1) % KEPT_SLOTS;
			if (kept_slots[next_evicted].in_use)
				return MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsHeapTuple);
			k = &kept_slots[next_evicted];
			next_evicted = (next_evicted + 1) % KEPT_SLOTS;
		}
	}
	else if (!k->stale && k->slot->tts_tupleDescriptor->natts == RelationGetDescr(rel)->natts)
	{
		k->in_use = true;
		return k->slot;
	}
	if (k->slot != NULL)
		kept_slot_drop(k);
	old = MemoryContextSwitchTo(TopMemoryContext);
	k->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(RelationGetDescr(rel)),
									   &TTSOpsHeapTuple);
	MemoryContextSwitchTo(old);
	k->relid = relid;
	k->stale = false;
	k->in_use = true;
	return k->slot;
}

void
pair_version_slot_done(TupleTableSlot *slot)
{
	int			i;

	for (i = 0; i < nkept_slots; i++)
		if (kept_slots[i].slot == slot)
		{
			ExecClearTuple(slot);
			kept_slots[i].in_use = false;
			return;
		}
	ExecDropSingleTupleTableSlot(slot);
}

void
row_reader_init(RowReader *r, HeapTuple tuple, TupleDesc desc)
{
	r->tuple = tuple;
	r->desc = desc;
	r->values = NULL;
	r->isnull = NULL;
}

/* Where r's values go: its own arrays for a row of up to ROW_READER_INLINE columns. */
static void
row_reader_arrays(RowReader *r)
{
	if (r->desc->natts <= ROW_READER_INLINE)
	{
		r->values = r->inline_values;
		r->isnull = r->inline_isnull;
	}
	else
	{
		r->values = palloc(sizeof(Datum) * r->desc->natts);
		r->isnull = palloc(sizeof(bool) * r->desc->natts);
	}
}

Datum
row_read(RowReader *r, AttrNumber att, bool *isnull)
{
	Assert(att > 0 && att <= r->desc->natts);
	if (r->values == NULL)
	{
		row_reader_arrays(r);
		heap_deform_tuple(r->tuple, r->desc, r->values, r->isnull);
	}
	*isnull = r->isnull[att - 1];
	return r->values[att - 1];
}

void
row_data_offsets(TupleDesc desc, HeapTuple tuple, int upto, int *offsets)
{
	HeapTupleHeader td = tuple->t_data;
	char	   *data = (char *) td + td->t_hoff;
	bits8	   *bits = HeapTupleHasNulls(tuple) ? td->t_bits : NULL;
	int			natts = Min(upto, (int) HeapTupleHeaderGetNatts(td));
	uint32		off = 0;
	int			i;

	for (i = 0; i < upto; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (i >= natts || (bits != NULL && att_isnull(i, bits)))
		{
			offsets[i] = -1;
			continue;
		}
		off = att_align_pointer(off, att->attalign, att->attlen, data + off);
		offsets[i] = (int) off;
		off = att_addlength_pointer(off, att->attlen, data + off);
	}
}

HeapTuple
row_patched_copy(HeapTuple tuple, TupleDesc desc, int ncols, const int *cols,
				 const Datum *values, const bool *nulls)
{
	HeapTupleHeader td = tuple->t_data;
	bits8	   *bits = HeapTupleHasNulls(tuple) ? td->t_bits : NULL;
	int			offsets[ROW_PATCH_MAX_ATT];
	int			upto = 0;
	HeapTuple	copy;
	char	   *data;
	int			i;

	if (HeapTupleHeaderGetNatts(td) != desc->natts)
		return NULL;			/* columns added since: formed with their defaults */
	for (i = 0; i < ncols; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, cols[i] - 1);
		bool		was_null = bits != NULL && att_isnull(cols[i] - 1, bits);

		if (was_null != nulls[i] || !att->attbyval || att->attlen <= 0 ||
			cols[i] > ROW_PATCH_MAX_ATT)
			return NULL;
		upto = Max(upto, cols[i]);
	}
	row_data_offsets(desc, tuple, upto, offsets);
	copy = heap_copytuple(tuple);
	data = (char *) copy->t_data + copy->t_data->t_hoff;
	for (i = 0; i < ncols; i++)
	{
		if (nulls[i])
			continue;
		store_att_byval(data + offsets[cols[i] - 1], values[i],
						TupleDescAttr(desc, cols[i] - 1)->attlen);
	}
	return copy;
}

HeapTuple
row_reader_changed(RowReader *r, RowReader *old, int ncols, const int *cols,
				   const Datum *values, const bool *nulls)
{
	HeapTuple	tuple;
	bool		isnull;
	int			i;

	(void) row_read(old, 1, &isnull);	/* old's row taken apart, if it was not yet */
	r->desc = old->desc;
	row_reader_arrays(r);
	memcpy(r->values, old->values, sizeof(Datum) * r->desc->natts);
	memcpy(r->isnull, old->isnull, sizeof(bool) * r->desc->natts);
	for (i = 0; i < ncols; i++)
	{
		Assert(cols[i] > 0 && cols[i] <= r->desc->natts);
		r->values[cols[i] - 1] = values[i];
		r->isnull[cols[i] - 1] = nulls[i];
	}
	/* the old version's bytes with the changed columns written over, where the layout allows */
	tuple = row_patched_copy(old->tuple, r->desc, ncols, cols, values, nulls);
	if (tuple == NULL)
		tuple = heap_form_tuple(r->desc, r->values, r->isnull);
	/* the old version's identity, as heap_modify_tuple_by_cols() gives it */
	tuple->t_data->t_ctid = old->tuple->t_data->t_ctid;
	tuple->t_self = old->tuple->t_self;
	tuple->t_tableOid = old->tuple->t_tableOid;
	r->tuple = tuple;
	return tuple;
}

Datum
row_peek(RowReader *r, AttrNumber att, bool *isnull)
{
	if (r->values != NULL)
	{
		*isnull = r->isnull[att - 1];
		return r->values[att - 1];
	}
	return heap_getattr(r->tuple, att, r->desc, isnull);
}

void
row_reader_done(RowReader *r)
{
	if (r->values != NULL && r->values != r->inline_values)
	{
		pfree(r->values);
		pfree(r->isnull);
		r->values = NULL;
		r->isnull = NULL;
	}
}
