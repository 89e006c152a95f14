/*
 * indexes.h
 *		A table's indexes opened for the engine's own writes (indexes.c).
 */
#ifndef BOOKING_INDEXES_H
#define BOOKING_INDEXES_H

#include "postgres.h"

#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "utils/relcache.h"

extern void indexes_open(ResultRelInfo *rri);
extern void indexes_close(ResultRelInfo *rri);
extern void indexes_insert_entries(Relation rel, TupleTableSlot *slot, bool only_summarizing);

#endif							/* BOOKING_INDEXES_H */
