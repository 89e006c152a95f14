/*
 * indexes.c
 *		A table's indexes opened for the engine's own writes, with what does not change between
 *		calls prepared once per backend.
 *
 * The engine inserts booking rows (book_slot(), book_many()) and the index entries of row
 * versions that a HOT update could not cover without an INSERT or UPDATE statement.  The
 * executor's way to open the indexes, ExecOpenIndices(), describes every index again at each
 * call (its columns, expressions and predicate, copied out of the relcache), and the first row
 * inserted then prepares each partial index's predicate for evaluation.  On the booking table,
 * with its three partial indexes, that was about 11,000 instructions per book_many() call.
 *
 * Here the descriptions (IndexInfo) are built once per table and kept in backend memory, with
 * the predicates and expressions already prepared.  Each call still opens and locks every index
 * (RowExclusiveLock, as the executor does), and works on its own copy of each description: an
 * index access method may keep state of its own in the IndexInfo for the length of a statement
 * (ii_AmCache), which must not outlive the call.  The prepared expressions are shared by the
 * copies; they hold no state between evaluations.
 *
 * What is kept is forgotten when the table or one of its indexes is invalidated (a new or
 * dropped index, REINDEX, ALTER INDEX) and rebuilt at the next call; the list of index OIDs and
 * each index's readiness are also compared at every call.  Memory that an outer call may still
 * use when a nested one rebuilds is handed to the transaction, which frees it.
 */
#include "postgres.h"

#include "access/genam.h"
#include "catalog/index.h"
#include "executor/executor.h"
#include "nodes/execnodes.h"
#include "nodes/pg_list.h"
#include "optimizer/optimizer.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"

#include "compat.h"
#include "indexes.h"

/* The prepared indexes of one table. */
typedef struct IndexSet
{
	Oid			relid;			/* InvalidOid: unused */
	bool		valid;			/* false once invalidated: rebuilt at the next call */
	int			n;
	Oid		   *oids;			/* RelationGetIndexList()'s order */
	IndexInfo **infos;
	MemoryContext cxt;			/* holds oids, infos and their prepared expressions */
} IndexSet;

/* The engine writes to a handful of tables: its booking and resource tables, a managed pair's. */
#define INDEX_SETS 4

static IndexSet index_sets[INDEX_SETS];
static int	index_sets_next = 0;	/* the one a new table takes, round robin */
static bool index_sets_registered = false;

static void
index_sets_callback(Datum arg, Oid relid)
{
	int			s;
	int			i;

	for (s = 0; s < INDEX_SETS; s++)
	{
		IndexSet   *set = &index_sets[s];

		if (!OidIsValid(set->relid) || !set->valid)
			continue;
		if (relid == InvalidOid || relid == set->relid)
		{
			set->valid = false;
			continue;
		}
		for (i = 0; i < set->n; i++)
		{
			if (set->oids[i] == relid)
			{
				set->valid = false;
				break;
			}
		}
	}
}

/*
 * Lets go of a set's memory.  Called inside a transaction only: the memory goes to the
 * transaction, so that a call still working on it (an outer call, when a nested one rebuilds)
 * keeps it until the transaction ends.
 */
static void
index_set_retire(IndexSet *set)
{
	if (set->cxt != NULL)
		MemoryContextSetParent(set->cxt, TopTransactionContext);
	set->cxt = NULL;
	set->relid = InvalidOid;
	set->valid = false;
	set->n = 0;
	set->oids = NULL;
	set->infos = NULL;
}

/* Whether the set still describes these open indexes, in this order. */
static bool
index_set_matches(const IndexSet *set, Relation *descs, int n)
{
	int			i;

	if (!set->valid || set->n != n)
		return false;
	for (i = 0; i < n; i++)
	{
		Form_pg_index form = descs[i]->rd_index;

		if (RelationGetRelid(descs[i]) != set->oids[i] ||
			form->indisready != set->infos[i]->ii_ReadyForInserts ||
			form->indisunique != set->infos[i]->ii_Unique)
			return false;
	}
	return true;
}

/*
 * Builds the set of the open indexes.  Its memory hangs under the caller's context until it is
 * complete, so that an error half-way leaves nothing behind in backend memory.
 */
static void
index_set_build(IndexSet *set, Oid relid, Relation *descs, int n)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "booking index set",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Oid		   *oids = palloc(sizeof(Oid) * Max(n, 1));
	IndexInfo **infos = palloc(sizeof(IndexInfo *) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
	{
		IndexInfo  *info = BuildIndexInfo(descs[i]);

		/* prepared as the executor prepares them on the first row, but once */
		if (info->ii_Predicate != NIL)
			info->ii_PredicateState =
				ExecInitQual((List *) expression_planner((Expr *) info->ii_Predicate), NULL);
		if (info->ii_Expressions != NIL)
		{
			List	   *states = NIL;
			ListCell   *lc;

			foreach(lc, info->ii_Expressions)
				states = lappend(states,
								 ExecInitExpr(expression_planner((Expr *) lfirst(lc)), NULL));
			info->ii_ExpressionsState = states;
		}
		oids[i] = RelationGetRelid(descs[i]);
		infos[i] = info;
	}
	MemoryContextSwitchTo(old);

	MemoryContextSetParent(cxt, CacheMemoryContext);
	set->relid = relid;
	set->n = n;
	set->oids = oids;
	set->infos = infos;
	set->cxt = cxt;
	set->valid = true;
}

/*
 * Opens the indexes of rri's table for inserts, as ExecOpenIndices(rri, false) does: each index
 * opened with RowExclusiveLock; indexes_close() closes them.  The descriptions are copies, in the
 * current memory context, of the ones kept for the table.
 */
void
indexes_open(ResultRelInfo *rri)
{
	Relation	rel = rri->ri_RelationDesc;
	Oid			relid = RelationGetRelid(rel);
	List	   *oids;
	Relation   *descs;
	IndexInfo **infos;
	IndexSet   *set = NULL;
	ListCell   *lc;
	int			n;
	int			i;

	rri->ri_NumIndices = 0;
	if (!RelationGetForm(rel)->relhasindex)
		return;
	if (!index_sets_registered)
	{
		CacheRegisterRelcacheCallback(index_sets_callback, (Datum) 0);
		index_sets_registered = true;
	}

	oids = RelationGetIndexList(rel);
	n = list_length(oids);
	if (n == 0)
	{
		list_free(oids);
		return;
	}
	descs = palloc(sizeof(Relation) * n);
	infos = palloc(sizeof(IndexInfo *) * n);
	i = 0;
	foreach(lc, oids)
		descs[i++] = index_open(lfirst_oid(lc), RowExclusiveLock);
	list_free(oids);

	for (i = 0; i < INDEX_SETS; i++)
	{
		if (index_sets[i].relid == relid)
		{
			set = &index_sets[i];
			break;
		}
	}
	if (set == NULL)
	{
		set = &index_sets[index_sets_next];
		index_sets_next = (index_sets_next + 1) % INDEX_SETS;
		index_set_retire(set);
	}
	else if (!index_set_matches(set, descs, n))
		index_set_retire(set);
	if (!OidIsValid(set->relid))
		index_set_build(set, relid, descs, n);

	for (i = 0; i < n; i++)
	{
		infos[i] = palloc(sizeof(IndexInfo));
		memcpy(infos[i], set->infos[i], sizeof(IndexInfo));
		infos[i]->ii_AmCache = NULL;
		infos[i]->ii_Context = CurrentMemoryContext;
	}
	rri->ri_NumIndices = n;
	rri->ri_IndexRelationDescs = descs;
	rri->ri_IndexRelationInfo = infos;
}

/*
 * Inserts the index entries of a new row version of rel that a HOT update could not cover, as
 * the executor would after an UPDATE (only the summarizing indexes where the heap says so).
 */
void
indexes_insert_entries(Relation rel, TupleTableSlot *slot, bool only_summarizing)
{
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);

	InitResultRelInfo(rri, rel, 1, NULL, 0);
	indexes_open(rri);
	(void) booking_insert_index_tuples(rri, slot, estate, only_summarizing);
	indexes_close(rri);
	FreeExecutorState(estate);
}

/*
 * Closes what indexes_open() opened, as ExecCloseIndices() does, except that each index keeps
 * its lock until the transaction ends, as its table does: the next call in the transaction then
 * finds it held instead of asking the lock manager again (a statement lets its index locks go
 * and takes them again, one each time).
 */
void
indexes_close(ResultRelInfo *rri)
{
	int			i;

	for (i = 0; i < rri->ri_NumIndices; i++)
	{
		Relation	irel = rri->ri_IndexRelationDescs[i];

		if (irel == NULL)
			continue;
		booking_index_insert_cleanup(irel, rri->ri_IndexRelationInfo[i]);
		index_close(irel, NoLock);
		rri->ri_IndexRelationDescs[i] = NULL;
	}
}
