/*
 * manage.c
 *		Putting an application's own tables under the engine: booking.manage(), unmanage(), and
 *		the event triggers that keep a pair right through ALTER TABLE and DROP TABLE.
 *
 * manage() describes a pair (a parent table with capacity and a counter, a child table whose
 * rows take spots from their parent) in a new row of booking.pair, after checking every column
 * it names.  It then sets each counter from the rows, installs the engine's C triggers on both
 * tables (the same functions that guard booking.resource and booking.booking) and returns what
 * the rows already break, as verify() would.  Both tables are locked against writes for the
 * whole call, so no row slips in between the count and the triggers.
 *
 * booking.pair names columns, so that pg_dump restores a pair by name.  A column renamed with
 * ALTER TABLE is followed (booking_ddl_watch); an ALTER TABLE that drops a column a pair needs,
 * or gives it a type the engine cannot read, is refused; a table dropped takes its pair with it
 * (booking_drop_watch).
 *
 * book_slot(..., managed => ...) lands here too (book_slot_managed): it writes the child's row
 * through the pair's trigger with the same hand-over book_slot() uses on the extension's own
 * table, so that a refusal is returned instead of raised.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_coerce.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "api.h"
#include "engine.h"
#include "pair.h"
#include "timeline.h"

PG_FUNCTION_INFO_V1(booking_manage);
PG_FUNCTION_INFO_V1(booking_unmanage);
PG_FUNCTION_INFO_V1(booking_ddl_watch);
PG_FUNCTION_INFO_V1(booking_drop_watch);

/* The engine's triggers on a managed pair's tables, by name. */
#define GUARD_TRIGGER		"zz_booking_guard"
#define PARENT_TRIGGER		"zz_booking_resource_guard"
#define TRUNCATE_TRIGGER	"booking_truncate_guard"

/* What a pair names, as manage() was given it or as booking.pair holds it. */
typedef struct PairSpec
{
	Oid			parent;
	Oid			child;
	char	   *parent_key;
	char	   *capacity_column;	/* or */
	bool		has_capacity;
	int32		capacity;
	char	   *counter_column;
	char	   *child_key;
	char	   *child_parent;
	char	   *spots_column;
	char	   *status_column;
	ArrayType  *consuming;
	char	   *during_column;
	char	   *start_column;
	char	   *end_column;
	bool		has_duration;
	Interval	duration;
	bool		has_buffer_before;
	Interval	buffer_before;
	bool		has_buffer_after;
	Interval	buffer_after;
} PairSpec;

static char *
table_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

static char *
name_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	return pstrdup(NameStr(*PG_GETARG_NAME(argno)));
}

/* A column name as a name datum ((Datum) 0 for NULL). */
static Datum
name_datum(const char *str)
{
	Name		result;

	if (str == NULL)
		return (Datum) 0;
	result = palloc0(NAMEDATALEN);
	namestrcpy(result, str);
	return NameGetDatum(result);
}

/*
 * The type of a column the pair names; 42703 when the table has no such column.  A generated
 * column is refused (0A000): the engine's BEFORE triggers see a row before PostgreSQL computes
 * its generated columns.
 */
static Oid
column_type(Oid relid, const char *column, const char *role)
{
	AttrNumber	att = get_attnum(relid, column);

	if (att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of table %s does not exist", column, table_name(relid)),
				 errdetail("It was named as the %s.", role)));
	if (get_attgenerated(relid, att) != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" of table %s is a generated column", column, table_name(relid)),
				 errdetail("It was named as the %s; the engine's triggers run before PostgreSQL computes generated columns.",
						   role),
				 errhint("Use a plain column that the application writes.")));
	return get_atttype(relid, att);
}

static bool
is_integer_type(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID;
}

/* 42804 unless the column's type is one of those expected. */
static void
expect_type(Oid relid, const char *column, const char *role, bool ok, const char *expected)
{
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of table %s must be %s, not %s", column, table_name(relid),
						expected, format_type_be(column_type(relid, column, role))),
				 errdetail("It was named as the %s.", role)));
}

static void
expect_integer(Oid relid, const char *column, const char *role, bool int4_only)
{
	Oid			type = column_type(relid, column, role);

	expect_type(relid, column, role, int4_only ? type == INT4OID : is_integer_type(type),
				int4_only ? "integer" : "smallint, integer or bigint");
}

/* The one column of a table's primary key, or NULL when it has none or a longer one. */
static char *
primary_key_column(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Oid			pk = RelationGetPrimaryKeyIndex(rel);
	char	   *result = NULL;

	if (OidIsValid(pk))
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pk));

		if (HeapTupleIsValid(tup))
		{
			Form_pg_index index = (Form_pg_index) GETSTRUCT(tup);

			if (index->indnatts == 1 && index->indkey.values[0] > 0)
				result = get_attname(relid, index->indkey.values[0], false);
			ReleaseSysCache(tup);
		}
	}
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * The child's column that references the parent: the one column of the child's only
 * one-column foreign key to it.  42P10 when there is none, or more than one.
 */
static char *
foreign_key_column(Oid child, Oid parent)
{
	Relation	rel = table_open(child, AccessShareLock);
	List	   *fks = RelationGetFKeyList(rel);
	ListCell   *lc;
	char	   *result = NULL;
	int			found = 0;

	foreach(lc, fks)
	{
		ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);

		if (fk->confrelid == parent && fk->nkeys == 1)
		{
			found++;
			result = get_attname(child, fk->conkey[0], false);
		}
	}
	table_close(rel, AccessShareLock);
	if (found != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
				 errmsg("cannot tell which column of table %s references table %s",
						table_name(child), table_name(parent)),
				 errdetail(found == 0 ? "It has no one-column foreign key to that table."
						   : "It has %d one-column foreign keys to that table.", found),
				 errhint("Name the column with child_parent.")));
	return result;
}

/*
 * A key: an integer, a uuid, or text (Prisma's String ids); 42804 otherwise.  The engine knows
 * a key that is not an integer by its 64-bit hash (see pair_key_handle()).
 */
static void
check_key_type(Oid relid, const char *column, Oid type, const char *role)
{
	Oid			base = getBaseType(type);

	if (!is_integer_type(type) && base != UUIDOID && base != TEXTOID && base != VARCHAROID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of table %s must be an integer, uuid or text, not %s",
						column, table_name(relid), format_type_be(type)),
				 errdetail("It was named as the %s.", role)));
}

/*
 * A table's key column: the one named, or with fill_defaults its one-column primary key (42P10
 * when it has none: name it with argument).  Checked as a key; returns its type.
 */
static Oid
key_column(Oid relid, char **column, bool fill_defaults, const char *role, const char *argument)
{
	Oid			type;

	if (*column == NULL && fill_defaults)
		*column = primary_key_column(relid);
	if (*column == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
				 errmsg("table %s has no one-column primary key", table_name(relid)),
				 errhint("Name its key column with %s.", argument)));
	type = column_type(relid, *column, role);
	check_key_type(relid, *column, type, role);
	return type;
}

static void
check_interval(const char *what, const Interval *iv, bool positive)
{
	if (iv->month != 0 || iv->day != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be given in hours, minutes and seconds", what),
				 errdetail("A day or a month is not always as long, depending on the time zone; write '24 hours' for a day."),
				 errhint("Use an interval such as '50 minutes' or '2 hours'.")));
	if (positive ? iv->time <= 0 : iv->time < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be %s", what, positive ? "greater than zero" : "zero or more")));
}

/*
 * Checks every column a pair names and fills in the ones left to their defaults (with
 * fill_defaults: manage()'s arguments; without: a row of booking.pair after an ALTER TABLE).
 * Raises the first problem found, naming the column and what was expected.
 */
static void
check_spec(PairSpec *s, bool fill_defaults)
{
	Oid			key_type;
	Oid			fk_type;
	Oid			status_type;
	bool		timeline = s->during_column != NULL || s->start_column != NULL;

	/* keys */
	key_type = key_column(s->parent, &s->parent_key, fill_defaults, "parent's key", "parent_key");
	if (s->child_parent == NULL && fill_defaults)
		s->child_parent = foreign_key_column(s->child, s->parent);
	fk_type = column_type(s->child, s->child_parent, "child's reference to the parent");
	if (is_integer_type(key_type) ? !is_integer_type(fk_type) : fk_type != key_type)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of table %s must be %s, not %s",
						s->child_parent, table_name(s->child),
						is_integer_type(key_type) ? "smallint, integer or bigint"
						: format_type_be(key_type), format_type_be(fk_type)),
				 errdetail("It references the parent's key \"%s\", of type %s.", s->parent_key,
						   format_type_be(key_type))));
	(void) key_column(s->child, &s->child_key, fill_defaults, "child's key", "child_key");

	/* capacity and counter */
	if (s->capacity_column == NULL && !s->has_capacity && fill_defaults &&
		get_attnum(s->parent, "capacity") != InvalidAttrNumber)
		s->capacity_column = pstrdup("capacity");
	if (s->capacity_column != NULL && s->has_capacity)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a pair takes its capacity from a column or from fixed_capacity, not both")));
	if (s->capacity_column == NULL && !s->has_capacity)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table %s has no column \"capacity\"", table_name(s->parent)),
				 errhint("Name its capacity column with capacity_column, or give every parent the same capacity with fixed_capacity.")));
	if (s->capacity_column != NULL)
		expect_integer(s->parent, s->capacity_column, "capacity", true);
	if (s->has_capacity && s->capacity < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fixed_capacity must not be negative")));
	if (s->has_capacity && !timeline)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a pool pair takes its capacity from a column of the parent"),
				 errdetail("fixed_capacity is for time slots, whose parents need no counter."),
				 errhint("Name the parent's capacity column with capacity_column.")));
	if (timeline && s->counter_column != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a pair of time slots keeps no counter"),
				 errdetail("Capacity holds at every instant; no one number can say how much is taken."),
				 errhint("Leave counter_column out.")));
	if (!timeline && s->counter_column == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("counter_column must be given"),
				 errdetail("The engine keeps the spots its rows take from each parent in that column of %s.",
						   table_name(s->parent))));
	if (s->counter_column != NULL)
		expect_integer(s->parent, s->counter_column, "counter", true);

	/* spots and status */
	if (s->spots_column != NULL)
		expect_integer(s->child, s->spots_column, "spots column", false);
	if (s->status_column != NULL)
	{
		status_type = column_type(s->child, s->status_column, "status column");
		if (!type_is_enum(status_type) && TypeCategory(status_type) != TYPCATEGORY_STRING)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of table %s must be text, varchar or an enum, not %s",
							s->status_column, table_name(s->child), format_type_be(status_type)),
					 errdetail("It was named as the status column.")));
		if (s->consuming == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("consuming must be given"),
					 errdetail("It lists the values of \"%s\" whose rows take spots.", s->status_column),
					 errhint("For example consuming => '{PENDING,CONFIRMED}'.")));
		else
		{
			Datum	   *elems;
			bool	   *nulls;
			int			n;
			int			k;

			deconstruct_array(s->consuming, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
			if (n == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("consuming must list at least one status")));
			for (k = 0; k < n; k++)
			{
				if (nulls[k])
					ereport(ERROR,
							(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							 errmsg("consuming must not contain NULL")));
				if (type_is_enum(status_type) &&
					!OidIsValid(GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
												ObjectIdGetDatum(status_type),
												CStringGetDatum(TextDatumGetCString(elems[k])))))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("status \"%s\" is not a value of type %s",
									TextDatumGetCString(elems[k]), format_type_be(status_type)),
							 errdetail("Column \"%s\" of table %s is of that type.",
									   s->status_column, table_name(s->child))));
			}
		}
	}
	else if (s->consuming != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("consuming needs a status column"),
				 errdetail("Without a status column every row takes spots.")));

	/* the time range */
	if (s->during_column != NULL && (s->start_column != NULL || s->end_column != NULL ||
									 s->has_duration))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a pair's time range is during_column, or start_column with end_column or duration")));
	if ((s->end_column != NULL || s->has_duration) && s->start_column == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("start_column must be given with %s",
						s->end_column != NULL ? "end_column" : "duration")));
	if (s->start_column != NULL && (s->end_column == NULL) == !s->has_duration)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("start_column needs exactly one of end_column and duration")));
	if (s->during_column != NULL)
	{
		Oid			type = column_type(s->child, s->during_column, "range column");

		expect_type(s->child, s->during_column, "range column", type == TSTZRANGEOID,
					"tstzrange");
	}
	if (s->start_column != NULL)
	{
		Oid			type = column_type(s->child, s->start_column, "start column");

		expect_type(s->child, s->start_column, "start column",
					type == TIMESTAMPTZOID || type == TIMESTAMPOID,
					"timestamp with time zone or timestamp");
		if (s->end_column != NULL)
			expect_type(s->child, s->end_column, "end column",
						column_type(s->child, s->end_column, "end column") == type,
						format_type_be(type));
	}
	if (s->has_duration)
		check_interval("duration", &s->duration, true);
	if ((s->has_buffer_before || s->has_buffer_after) && !timeline)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("buffers need a time range"),
				 errhint("Name the child's range with during_column, or start_column and end_column or duration.")));
	if (s->has_buffer_before)
		check_interval("buffer_before", &s->buffer_before, false);
	if (s->has_buffer_after)
		check_interval("buffer_after", &s->buffer_after, false);
}

/* The caller must own the table (42501), and it must be a plain table (42809). */
static void
check_table(Oid relid)
{
	char		kind = get_rel_relkind(relid);

	if (kind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table", table_name(relid)),
				 errdetail("booking.manage() protects ordinary tables.")));
	if (!booking_table_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
}

static Oid
pair_table(void)
{
	return get_relname_relid("pair", get_namespace_oid(BOOKING_SCHEMA, false));
}

/*
 * Runs a statement on booking.pair as its owner: only the engine writes it.  The caller is
 * connected to SPI.  Returns the SPI code.
 */
static int
run_as_pair_owner(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	Oid			save_userid;
	int			save_sec;
	Oid			owner;
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(pair_table()));
	volatile int ret = 0;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for booking.pair");
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		ret = SPI_execute_with_args(sql, nargs, types, (Datum *) values, nulls, false, 0);
	}
	PG_CATCH();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
		PG_RE_THROW();
	}
	PG_END_TRY();
	SetUserIdAndSecContext(save_userid, save_sec);
	return ret;
}

/* The id of the pair a table belongs to (as parent or child), or 0. */
static int32
pair_of_table(Oid relid)
{
	Datum		arg = ObjectIdGetDatum(relid);
	Oid			type = OIDOID;
	bool		isnull;

	if (run_as_pair_owner("SELECT id FROM " BOOKING_SCHEMA ".pair"
						  " WHERE parent::pg_catalog.oid = $1 OR child::pg_catalog.oid = $1"
						  " ORDER BY id LIMIT 1",
						  1, &type, &arg, NULL) != SPI_OK_SELECT)
		elog(ERROR, "reading booking.pair failed");
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static void
run_ddl(const char *sql)
{
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "running \"%s\" failed", sql);
}

/*
 * One of the engine's BEFORE triggers on a managed table: the function booking.<function> with
 * the pair id as its argument.  As the caller, who owns the table.
 */
static void
create_trigger(const char *name, const char *events, const char *level, const char *table,
			   const char *function, int32 id)
{
	run_ddl(psprintf("CREATE TRIGGER %s BEFORE %s ON %s FOR EACH %s"
					 " EXECUTE FUNCTION " BOOKING_SCHEMA ".%s('%d')",
					 name, events, table, level, function, id));
}

/* Sets every counter of a new pool pair from the rows; returns how many changed. */
static uint64
set_counters(BookingPair *pair)
{
	StringInfoData sql;
	uint64		changed;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "UPDATE %s p SET %s = c.n FROM"
					 " (SELECT %s AS k, pg_catalog.sum(%s)::pg_catalog.int4 AS n FROM %s"
					 "  WHERE %s GROUP BY 1) c"
					 " WHERE p.%s = c.k AND p.%s IS DISTINCT FROM c.n",
					 pair->parent_sql, pair->counter_sql, pair->child_parent_sql,
					 pair->spots_sql, pair->child_sql, pair->consuming_sql,
					 pair->parent_key_sql, pair->counter_sql);
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "setting counters failed");
	changed = SPI_processed;
	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "UPDATE %s p SET %s = 0 WHERE p.%s IS DISTINCT FROM 0"
					 " AND NOT EXISTS (SELECT FROM %s c WHERE c.%s = p.%s AND %s)",
					 pair->parent_sql, pair->counter_sql, pair->counter_sql,
					 pair->child_sql, pair->child_parent_sql, pair->parent_key_sql,
					 pair->consuming_sql);
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "setting counters failed");
	return changed + SPI_processed;
}

/*
 * manage(parent, child, ...) returns table (pair, resource_id, capacity, spots_reserved,
 * counted, problem)
 *
 * Puts parent and child under the engine as a new pair and returns the problems their rows
 * already have (verify()'s rows for this pair; a WARNING says how many).
 */
Datum
booking_manage(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Tuplestorestate *store;
	PairSpec	s;
	int32		id;
	int			existing;
	bool		isnull;
	BookingPair *pair;
	uint64		nproblems;
	Oid			types[20];
	Datum		values[20];
	char		nulls[20];
	int			n = 0;

	memset(&s, 0, sizeof(s));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", PG_ARGISNULL(0) ? "parent" : "child")));
	s.parent = PG_GETARG_OID(0);
	s.child = PG_GETARG_OID(1);
	s.counter_column = name_arg(fcinfo, 2);
	s.capacity_column = name_arg(fcinfo, 3);
	s.has_capacity = !PG_ARGISNULL(4);
	s.capacity = s.has_capacity ? PG_GETARG_INT32(4) : 0;
	s.parent_key = name_arg(fcinfo, 5);
	s.child_key = name_arg(fcinfo, 6);
	s.child_parent = name_arg(fcinfo, 7);
	s.spots_column = name_arg(fcinfo, 8);
	s.status_column = name_arg(fcinfo, 9);
	s.consuming = PG_ARGISNULL(10) ? NULL : PG_GETARG_ARRAYTYPE_P(10);
	s.during_column = name_arg(fcinfo, 11);
	s.start_column = name_arg(fcinfo, 12);
	s.end_column = name_arg(fcinfo, 13);
	s.has_duration = !PG_ARGISNULL(14);
	if (s.has_duration)
		s.duration = *PG_GETARG_INTERVAL_P(14);
	s.has_buffer_before = !PG_ARGISNULL(15);
	if (s.has_buffer_before)
		s.buffer_before = *PG_GETARG_INTERVAL_P(15);
	s.has_buffer_after = !PG_ARGISNULL(16);
	if (s.has_buffer_after)
		s.buffer_after = *PG_GETARG_INTERVAL_P(16);

	if (s.parent == s.child)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parent and child must be two tables")));
	check_table(s.parent);
	check_table(s.child);

	store = begin_materialize(fcinfo, &desc);

	/* one manage() at a time; no write on either table until the triggers are there */
	LockRelationOid(pair_table(), ShareRowExclusiveLock);
	LockRelationOid(s.parent, ShareRowExclusiveLock);
	LockRelationOid(s.child, ShareRowExclusiveLock);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	existing = pair_of_table(s.parent);
	if (existing == 0)
		existing = pair_of_table(s.child);
	if (existing != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table %s is already protected by booking pair %d",
						table_name(pair_of_table(s.parent) == existing ? s.parent : s.child),
						existing),
				 errhint("Call booking.unmanage() first to describe it again.")));
	check_spec(&s, true);
	if (run_as_pair_owner("SELECT COALESCE(pg_catalog.max(id), 1) + 1 FROM " BOOKING_SCHEMA ".pair",
						  0, NULL, NULL, NULL) != SPI_OK_SELECT)
		elog(ERROR, "reading booking.pair failed");
	id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (id > 16383)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("booking cannot protect more than 16382 table pairs")));

	/* the pair's row */
	memset(nulls, ' ', sizeof(nulls));
#define ADD(type, value, isnull_) \
	do { types[n] = (type); values[n] = (value); nulls[n] = (isnull_) ? 'n' : ' '; n++; } while (0)
#define ADD_NAME(str) ADD(NAMEOID, name_datum(str), (str) == NULL)
	ADD(INT4OID, Int32GetDatum(id), false);
	ADD(OIDOID, ObjectIdGetDatum(s.parent), false);
	ADD_NAME(s.parent_key);
	ADD_NAME(s.capacity_column);
	ADD(INT4OID, Int32GetDatum(s.capacity), !s.has_capacity);
	ADD_NAME(s.counter_column);
	ADD(BOOLOID, BoolGetDatum(s.during_column != NULL || s.start_column != NULL), false);
	ADD(OIDOID, ObjectIdGetDatum(s.child), false);
	ADD_NAME(s.child_key);
	ADD_NAME(s.child_parent);
	ADD_NAME(s.spots_column);
	ADD_NAME(s.status_column);
	ADD(TEXTARRAYOID, s.consuming ? PointerGetDatum(s.consuming) : (Datum) 0, s.consuming == NULL);
	ADD_NAME(s.during_column);
	ADD_NAME(s.start_column);
	ADD_NAME(s.end_column);
	ADD(INTERVALOID, IntervalPGetDatum(&s.duration), !s.has_duration);
	ADD(INTERVALOID, IntervalPGetDatum(&s.buffer_before), !s.has_buffer_before);
	ADD(INTERVALOID, IntervalPGetDatum(&s.buffer_after), !s.has_buffer_after);
#undef ADD_NAME
#undef ADD
	if (run_as_pair_owner("INSERT INTO " BOOKING_SCHEMA ".pair (id, parent, parent_key,"
						  " capacity_column, capacity, counter_column, timeline, child, child_key,"
						  " child_parent, spots_column, status_column, consuming, during_column,"
						  " start_column, end_column, duration, buffer_before, buffer_after)"
						  " VALUES ($1, $2::pg_catalog.regclass, $3, $4, $5, $6, $7,"
						  " $8::pg_catalog.regclass, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
						  " $18, $19)",
						  n, types, values, nulls) != SPI_OK_INSERT)
		elog(ERROR, "recording the pair failed");
	pair_invalidate();
	CommandCounterIncrement();
	/* the pairs are read again with a snapshot that sees the new row */
	PushActiveSnapshot(GetTransactionSnapshot());
	pair = pair_by_id(id);

	/* counters from the rows, then the triggers; both tables are still locked against writes */
	if (pair->counter_att != InvalidAttrNumber)
	{
		uint64		changed = set_counters(pair);

		if (changed > 0)
			ereport(NOTICE,
					(errmsg("%llu counters of table %s were set from the rows",
							(unsigned long long) changed, pair->parent_sql)));
	}
	create_trigger(GUARD_TRIGGER, "INSERT OR UPDATE OR DELETE", "ROW", pair->child_sql,
				   "booking_guard", id);
	create_trigger(PARENT_TRIGGER, "INSERT OR UPDATE", "ROW", pair->parent_sql,
				   "resource_guard", id);
	create_trigger(TRUNCATE_TRIGGER, "TRUNCATE", "STATEMENT", pair->child_sql, "truncate_guard", id);
	create_trigger(TRUNCATE_TRIGGER, "TRUNCATE", "STATEMENT", pair->parent_sql, "truncate_guard", id);
	CommandCounterIncrement();

	/* what the rows break, as verify() would see it now */
	PopActiveSnapshot();
	PushActiveSnapshot(GetTransactionSnapshot());
	pair = pair_by_id(id);
	verify_pair(pair, store, desc);
	nproblems = tuplestore_tuple_count(store);
	PopActiveSnapshot();
	SPI_finish();

	ereport(NOTICE,
			(errmsg("booking pair %d protects table %s and its parent %s", id,
					table_name(s.child), table_name(s.parent))));
	if (nproblems > 0)
		ereport(WARNING,
				(errmsg("%llu resources of table %s already break the rule",
						(unsigned long long) nproblems, table_name(s.parent)),
				 errdetail("The rows returned say which; booking.verify() goes on listing them until they are resolved."),
				 errhint("Writes that would make them worse are refused from now on; cancel or move bookings to resolve them.")));
	return (Datum) 0;
}

/* Drops the engine's triggers from one table of a pair, as the table's owner. */
static void
drop_triggers(Oid relid, bool child)
{
	Oid			save_userid;
	int			save_sec;
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;
	char	   *name;

	if (!HeapTupleIsValid(tup))
		return;					/* dropped too */
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	name = table_name(relid);
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		run_ddl(psprintf("DROP TRIGGER IF EXISTS %s ON %s",
						 child ? GUARD_TRIGGER : PARENT_TRIGGER, name));
		run_ddl(psprintf("DROP TRIGGER IF EXISTS " TRUNCATE_TRIGGER " ON %s", name));
	}
	PG_CATCH();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
		PG_RE_THROW();
	}
	PG_END_TRY();
	SetUserIdAndSecContext(save_userid, save_sec);
}

/*
 * unmanage(table regclass) returns integer
 *
 * Takes a pair (named by its parent or its child) out of the engine's protection: drops the
 * triggers, forgets the pair, leaves every row and counter as it is.  Returns the pair's id.
 */
Datum
booking_unmanage(PG_FUNCTION_ARGS)
{
	Oid			relid;
	int32		id;
	Oid			parent;
	Oid			child;
	bool		isnull;
	Datum		arg;
	Oid			type = INT4OID;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null")));
	relid = PG_GETARG_OID(0);
	LockRelationOid(pair_table(), ShareRowExclusiveLock);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	id = pair_of_table(relid);
	if (id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("table %s is not protected by booking", table_name(relid))));
	if (id == BOOKING_OWN_PAIR)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the extension's own tables cannot be unmanaged"),
				 errhint("DROP EXTENSION booking removes them.")));
	arg = Int32GetDatum(id);
	if (run_as_pair_owner("SELECT parent::pg_catalog.oid, child::pg_catalog.oid"
						  " FROM " BOOKING_SCHEMA ".pair WHERE id = $1",
						  1, &type, &arg, NULL) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "reading booking pair %d failed", id);
	parent = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	child = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	check_table(parent);
	check_table(child);
	LockRelationOid(parent, ShareRowExclusiveLock);
	LockRelationOid(child, ShareRowExclusiveLock);

	drop_triggers(child, true);
	drop_triggers(parent, false);
	if (run_as_pair_owner("DELETE FROM " BOOKING_SCHEMA ".pair WHERE id = $1", 1, &type, &arg,
						  NULL) != SPI_OK_DELETE)
		elog(ERROR, "forgetting booking pair %d failed", id);
	pair_invalidate();
	SPI_finish();
	PG_RETURN_INT32(id);
}

/* The columns of booking.pair that name a parent's columns, and those that name a child's. */
static const char *const parent_columns[] = {
	"parent_key", "capacity_column", "counter_column", "timeline_column",
	"buffer_before_column", "buffer_after_column", "min_notice_column", "max_horizon_column"
};
static const char *const child_columns[] = {
	"child_key", "child_parent", "spots_column", "status_column", "during_column",
	"start_column", "end_column", "kind_column", "expires_column"
};

/* A renamed column of table relid: every pair that names it names it by its new name. */
static void
follow_rename(Oid relid, const char *old, const char *new)
{
	StringInfoData sql;
	Oid			types[3] = {OIDOID, NAMEOID, NAMEOID};
	Datum		values[3];
	int			k;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = name_datum(old);
	values[2] = name_datum(new);
	initStringInfo(&sql);
	appendStringInfoString(&sql, "UPDATE " BOOKING_SCHEMA ".pair SET ");
	for (k = 0; k < (int) lengthof(parent_columns); k++)
		appendStringInfo(&sql, "%s = CASE WHEN parent::pg_catalog.oid = $1 AND %s = $2 THEN $3"
						 " ELSE %s END, ", parent_columns[k], parent_columns[k], parent_columns[k]);
	for (k = 0; k < (int) lengthof(child_columns); k++)
		appendStringInfo(&sql, "%s%s = CASE WHEN child::pg_catalog.oid = $1 AND %s = $2 THEN $3"
						 " ELSE %s END", k > 0 ? ", " : "", child_columns[k], child_columns[k],
						 child_columns[k]);
	appendStringInfoString(&sql, " WHERE parent::pg_catalog.oid = $1 OR child::pg_catalog.oid = $1");
	if (run_as_pair_owner(sql.data, 3, types, values, NULL) != SPI_OK_UPDATE)
		elog(ERROR, "following a renamed column failed");
}

/* A pair's row of booking.pair as a PairSpec, to be checked again. */
static void
spec_of_pair(int32 id, PairSpec *s)
{
	Datum		arg = Int32GetDatum(id);
	Oid			type = INT4OID;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;

	if (run_as_pair_owner("SELECT parent::pg_catalog.oid, child::pg_catalog.oid, parent_key,"
						  " capacity_column, capacity, counter_column, child_key, child_parent,"
						  " spots_column, status_column, consuming, during_column, start_column,"
						  " end_column, duration, buffer_before, buffer_after"
						  " FROM " BOOKING_SCHEMA ".pair WHERE id = $1",
						  1, &type, &arg, NULL) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "reading booking pair %d failed", id);
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	memset(s, 0, sizeof(PairSpec));
	s->parent = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
	s->child = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
	s->parent_key = SPI_getvalue(tup, desc, 3);
	s->capacity_column = SPI_getvalue(tup, desc, 4);
	d = SPI_getbinval(tup, desc, 5, &isnull);
	s->has_capacity = !isnull;
	s->capacity = isnull ? 0 : DatumGetInt32(d);
	s->counter_column = SPI_getvalue(tup, desc, 6);
	s->child_key = SPI_getvalue(tup, desc, 7);
	s->child_parent = SPI_getvalue(tup, desc, 8);
	s->spots_column = SPI_getvalue(tup, desc, 9);
	s->status_column = SPI_getvalue(tup, desc, 10);
	d = SPI_getbinval(tup, desc, 11, &isnull);
	s->consuming = isnull ? NULL : DatumGetArrayTypePCopy(d);
	s->during_column = SPI_getvalue(tup, desc, 12);
	s->start_column = SPI_getvalue(tup, desc, 13);
	s->end_column = SPI_getvalue(tup, desc, 14);
	d = SPI_getbinval(tup, desc, 15, &isnull);
	if ((s->has_duration = !isnull))
		s->duration = *DatumGetIntervalP(d);
	d = SPI_getbinval(tup, desc, 16, &isnull);
	if ((s->has_buffer_before = !isnull))
		s->buffer_before = *DatumGetIntervalP(d);
	d = SPI_getbinval(tup, desc, 17, &isnull);
	if ((s->has_buffer_after = !isnull))
		s->buffer_after = *DatumGetIntervalP(d);
}

/*
 * Event trigger on ddl_command_end of ALTER TABLE.  A renamed column of a protected table is
 * renamed in booking.pair too; then the pair of an altered table is checked again, so that an
 * ALTER TABLE that drops a column the engine reads, or changes its type, fails with the reason.
 * The engine's own pair is left to the extension.
 */
Datum
booking_ddl_watch(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Node	   *stmt;
	RangeVar   *relation = NULL;
	Oid			relid;
	int32		id;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"booking_ddl_watch\" must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;
	stmt = trigdata->parsetree;
	if (IsA(stmt, RenameStmt) && ((RenameStmt *) stmt)->renameType == OBJECT_COLUMN)
		relation = ((RenameStmt *) stmt)->relation;
	else if (IsA(stmt, AlterTableStmt))
		relation = ((AlterTableStmt *) stmt)->relation;
	if (relation == NULL || !OidIsValid(pair_table()))
		PG_RETURN_NULL();
	relid = RangeVarGetRelid(relation, NoLock, true);
	if (!OidIsValid(relid))
		PG_RETURN_NULL();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	id = pair_of_table(relid);
	if (id > BOOKING_OWN_PAIR)
	{
		PairSpec	s;

		if (IsA(stmt, RenameStmt))
		{
			RenameStmt *rename = (RenameStmt *) stmt;

			follow_rename(relid, rename->subname, rename->newname);
			pair_invalidate();
		}
		spec_of_pair(id, &s);
		check_spec(&s, false);
	}
	SPI_finish();
	PG_RETURN_NULL();
}

/*
 * Event trigger on sql_drop: a dropped table takes its pair with it.  The engine's triggers on
 * the pair's other table go too, since they would name a pair that no longer exists.
 */
Datum
booking_drop_watch(PG_FUNCTION_ARGS)
{
	uint64		i;
	uint64		n;
	int32	   *ids;
	Oid		   *parents;
	Oid		   *children;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"booking_drop_watch\" must be called as an event trigger")));
	if (!OidIsValid(pair_table()))
		PG_RETURN_NULL();			/* the extension itself is being dropped */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (run_as_pair_owner("DELETE FROM " BOOKING_SCHEMA ".pair p WHERE p.id > 1 AND EXISTS"
						  " (SELECT FROM pg_catalog.pg_event_trigger_dropped_objects() d"
						  "  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
						  "    AND d.objsubid = 0"
						  "    AND d.objid IN (p.parent::pg_catalog.oid, p.child::pg_catalog.oid))"
						  " RETURNING p.id, p.parent::pg_catalog.oid, p.child::pg_catalog.oid",
						  0, NULL, NULL, NULL) != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "forgetting the pairs of dropped tables failed");
	n = SPI_processed;
	ids = palloc(sizeof(int32) * Max(n, 1));
	parents = palloc(sizeof(Oid) * Max(n, 1));
	children = palloc(sizeof(Oid) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		ids[i] = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		parents[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		children[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));
	}
	for (i = 0; i < n; i++)
	{
		drop_triggers(children[i], true);
		drop_triggers(parents[i], false);
		ereport(NOTICE,
				(errmsg("booking pair %d is gone with its table", ids[i])));
	}
	if (n > 0)
		pair_invalidate();
	SPI_finish();
	PG_RETURN_NULL();
}

/* One "column": value pair of the new row's JSON object. */
static void
append_field(StringInfo buf, BookingPair *pair, AttrNumber att, const char *value)
{
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, get_attname(pair->child_relid, att, false));
	appendStringInfoString(buf, ": ");
	escape_json(buf, value);
}

/*
 * The range columns of book_slot()'s row on a managed pair, from its during argument: the range
 * itself, or its bounds as start and end, or its start when the pair's bookings all last the
 * pair's duration (which the range must then last).  22023 for a range on a pool pair, or one
 * that is empty, unbounded or of another length; 22004 for none on time slots.
 */
static void
append_range(StringInfo buf, BookingPair *pair, FunctionCallInfo fcinfo)
{
	Span		span;
	const char *why;
	Oid			out = pair->start_type == TIMESTAMPOID ? F_TIMESTAMP_OUT : F_TIMESTAMPTZ_OUT;

	if (pair->during_sql == NULL)
	{
		if (!PG_ARGISNULL(2))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a booking of table %s cannot have a time range", pair->child_sql),
					 errdetail("Its pair is a pool: one capacity for the whole resource.")));
		return;
	}
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a booking of table %s needs a time range", pair->child_sql),
				 errdetail("Its pair holds capacity at every instant; \"during\" must be a bounded range.")));
	if (!span_from_range(PG_GETARG_DATUM(2), &span, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a booking's time range must be bounded and not empty"),
				 errdetail("The range given cannot be booked: %s.", why)));
	if (pair->during_att != InvalidAttrNumber)
	{
		append_field(buf, pair, pair->during_att,
					 OidOutputFunctionCall(F_RANGE_OUT, PG_GETARG_DATUM(2)));
		return;
	}
	append_field(buf, pair, pair->start_att,
				 OidOutputFunctionCall(out, TimestampTzGetDatum(span.lo)));
	if (pair->end_att != InvalidAttrNumber)
		append_field(buf, pair, pair->end_att,
					 OidOutputFunctionCall(out, TimestampTzGetDatum(span.hi)));
	else if (span.hi - span.lo != pair->duration)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("every booking of table %s lasts %s", pair->child_sql,
						OidOutputFunctionCall(F_INTERVAL_OUT,
											  IntervalPGetDatum(&(Interval) {.time = pair->duration}))),
				 errdetail("The range given lasts %s.",
						   OidOutputFunctionCall(F_INTERVAL_OUT,
												 IntervalPGetDatum(&(Interval) {.time = span.hi - span.lo})))));
}

/*
 * book_slot(..., managed => table, resource_key => key): book_slot() on a managed pair.  Writes
 * the child's row with an INSERT whose trigger decides through the same admission code, with the
 * hand-over armed, so that a refusal comes back as ok = false with its reason (and, on time
 * slots, the alternatives) instead of an error.  The row's parent is resource_key (the parent
 * key as text, any key type) or resource_id (an integer key); its spots, status (the pair's
 * first consuming value, unless meta gives one) and range are the call's; meta gives the child's
 * other columns as a JSON object.  Holds, waiting lines, idempotency keys and holders are the
 * extension's own tables' (0A000), and so is the audit.  booking_id and resource_id are the
 * keys when they are integers; status is NULL (the application's value is in its row).
 */
Datum
book_slot_managed(FunctionCallInfo fcinfo, TupleDesc tupdesc)
{
	Oid			relid = PG_GETARG_OID(8);
	BookingPair *pair = pair_by_child(relid);
	int32		spots;
	Datum		key;
	int64		resource_id;
	Datum		row;
	StringInfoData ours;
	StringInfoData cols;
	StringInfoData sql;
	SoftAdmission soft;
	Datum		values[RESULT_NATTS];
	bool		isnull[RESULT_NATTS];
	Oid			argtype = JSONBOID;
	SPIPlanPtr	plan;
	int			ret;
	bool		inserted;
	int64		booking_id = 0;
	bool		booking_id_null = true;
	static const int unsupported[] = {3, 4, 5, 6};
	static const char *const unsupported_names[] = {"holder", "hold", "waitlist", "idempotency_key"};
	int			k;
	Oid			typoutput;
	bool		varlena;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			depth = 0;

	if (pair == NULL)
		pair = pair_by_parent(relid);
	if (pair == NULL || pair->id == BOOKING_OWN_PAIR)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("table %s is not protected by booking.manage()", table_name(relid)),
				 errhint("Leave managed out to book the extension's own resources.")));
	for (k = 0; k < (int) lengthof(unsupported); k++)
		if (!PG_ARGISNULL(unsupported[k]))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s is not supported on a managed table", unsupported_names[k]),
					 errdetail("Holds, waiting lines, idempotency keys and holders are kept on the extension's own tables.")));
	spots = spots_arg(fcinfo, 1);
	if (pair->spots_att == InvalidAttrNumber && spots != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("every row of table %s takes one spot", pair->child_sql),
				 errdetail("The pair names no spots column; spots is %d.", spots)));

	/* the parent: its key as text in the key's type, or an integer key as resource_id */
	if (!PG_ARGISNULL(9))
	{
		Oid			typinput;
		Oid			typioparam;

		getTypeInputInfo(pair->parent_key_type, &typinput, &typioparam);
		key = OidInputFunctionCall(typinput, TextDatumGetCString(PG_GETARG_DATUM(9)), typioparam, -1);
		resource_id = pair_key_handle(key, pair->parent_key_type);
	}
	else if (!PG_ARGISNULL(0) && pair_key_is_integer(pair->parent_key_type))
	{
		resource_id = PG_GETARG_INT64(0);
		key = Int64GetDatum(resource_id);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("resource_key must not be null"),
				 errdetail("The key of table %s is of type %s.", pair->parent_sql,
						   format_type_be(pair->parent_key_type)),
				 errhint("Give the parent's key as resource_key; an integer key may also be given as resource_id.")));

	/* the new row as one JSON object: meta's columns, then the engine's, which win */
	row = PG_ARGISNULL(7) ? DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")) : PG_GETARG_DATUM(7);
	if (!JB_ROOT_IS_OBJECT(DatumGetJsonbP(row)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("meta must be a JSON object of the new row's other columns")));
	initStringInfo(&ours);
	appendStringInfoChar(&ours, '{');
	getTypeOutputInfo(pair_key_is_integer(pair->parent_key_type) && PG_ARGISNULL(9)
					  ? INT8OID : pair->parent_key_type, &typoutput, &varlena);
	append_field(&ours, pair, pair->child_parent_att, OidOutputFunctionCall(typoutput, key));
	if (pair->spots_att != InvalidAttrNumber)
		append_field(&ours, pair, pair->spots_att, psprintf("%d", spots));
	if (pair->status_att != InvalidAttrNumber &&
		!DatumGetBool(DirectFunctionCall2(jsonb_exists, row,
										  CStringGetTextDatum(get_attname(pair->child_relid,
																		  pair->status_att,
																		  false)))))
		append_field(&ours, pair, pair->status_att, pair->consuming[0]);
	append_range(&ours, pair, fcinfo);
	appendStringInfoChar(&ours, '}');
	row = DirectFunctionCall2(jsonb_concat, row, DirectFunctionCall1(jsonb_in, CStringGetDatum(ours.data)));

	/* INSERT INTO child (the columns the object names) SELECT them from the object */
	initStringInfo(&cols);
	it = JsonbIteratorInit(&DatumGetJsonbP(row)->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_BEGIN_OBJECT)
			depth++;
		else if (tok == WJB_END_OBJECT)
			depth--;
		else if (depth == 1 && tok == WJB_KEY)
		{
			char	   *name = pnstrdup(v.val.string.val, v.val.string.len);

			if (get_attnum(pair->child_relid, name) == InvalidAttrNumber)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" of table %s does not exist", name, pair->child_sql),
						 errdetail("meta gives the new row's other columns.")));
			appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "", quote_identifier(name));
		}
	}
	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (%s) SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, $1)"
					 " RETURNING %s",
					 pair->child_sql, cols.data, cols.data, pair->child_sql, pair->child_key_sql);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(sql.data, 1, &argtype);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql.data, SPI_result_code_string(SPI_result));
	ret = insert_softly(pair, &soft, plan, &row, NULL);
	if (ret != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "inserting the booking failed: %s", SPI_result_code_string(ret));
	inserted = SPI_processed == 1;
	if (inserted && pair_key_is_integer(pair->child_key_type))
	{
		bool		n;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n);

		booking_id_null = n;
		if (!n)
			booking_id = pair_integer(d, pair->child_key_type);
	}
	SPI_finish();
	if (!inserted && !soft.refused)
		elog(ERROR, "the booking row was skipped by another trigger on %s", pair->child_sql);

	result_outcome(fcinfo, pair, &soft, inserted, false, pair_key_is_integer(pair->parent_key_type),
				   resource_id, spots, values, isnull);
	if (inserted)
	{
		values[RESULT_BOOKING_ID] = Int64GetDatum(booking_id);
		isnull[RESULT_BOOKING_ID] = booking_id_null;
	}
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, isnull));
}
