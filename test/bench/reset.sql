-- test/bench/reset.sql
-- Brings both sides back to the state setup.sql left, so that every timed run starts alike:
-- the pre-loaded rows only, counters matching them, an empty audit, no dead tuples, a fresh
-- checkpoint.  The engine's rows go with its triggers off (deleting tens of thousands of rows of
-- one resource in one transaction through the trigger would pile up counter versions) and
-- booking.repair() then rewrites the counters from the rows, under each resource's lock.  Only
-- rows without a range are the pool part's: the timeline part (reset-timeline.sql) keeps its own.

\set ON_ERROR_STOP on

SET session_replication_role = replica;
DELETE FROM booking.booking WHERE id > (SELECT engine_base FROM bench.base) AND during IS NULL;
RESET session_replication_role;
DO $$ BEGIN PERFORM * FROM booking.repair(); END $$;
TRUNCATE booking.attempt;

DELETE FROM bench.registration WHERE id > (SELECT peer_base FROM bench.base);
UPDATE bench.event e SET reserved = t.total
FROM (SELECT v.id, coalesce(sum(r.spots), 0)::integer AS total
	  FROM bench.event v
	  LEFT JOIN bench.registration r ON r.event_id = v.id AND r.status = 'confirmed'
	  GROUP BY v.id) t
WHERE t.id = e.id AND e.reserved <> t.total;

VACUUM booking.resource, booking.booking, booking.attempt, bench.event, bench.registration;
CHECKPOINT;
