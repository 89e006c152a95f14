-- test/bench/reset-timeline.sql
-- Brings the timeline part back to a known state before every timed run: the base rows of
-- setup-timeline.sql, plus, when -v big=1 (workload f), the extra rows that take the capacity-1
-- rooms from base_rows to big_rows bookings each (-v big_rows), on the engine's side and in E's
-- table.  The rows a run added go; the extra rows go only when a run wants the base state, so
-- that two runs in a row of f do not load them twice.  The engine's rows go, and its extra rows
-- come, with its triggers off (they are valid rows, before the window, overlapping nothing);
-- booking.repair() then rewrites the counters.  E's extra rows go in through its constraint.

\set ON_ERROR_STOP on

SELECT count(*) > 0 AS has_extra FROM booking.booking
WHERE id > (SELECT engine_base FROM bench.tl_base) AND holder = 'extra' \gset

SET session_replication_role = replica;
DELETE FROM booking.booking
WHERE id > (SELECT engine_base FROM bench.tl_base) AND during IS NOT NULL
  AND (holder <> 'extra' OR NOT :big::boolean);
\if :big
\if :has_extra
\else
INSERT INTO booking.booking (resource_id, holder, during)
SELECT 10000 + r, 'extra', bench.preload_range(k)
FROM bench.tl_conf c, pg_catalog.generate_series(1, c.rooms) r,
	 pg_catalog.generate_series(c.base_rows, :big_rows - 1) k;
\endif
\endif
RESET session_replication_role;
DO $$ BEGIN PERFORM * FROM booking.repair(); END $$;
TRUNCATE booking.attempt;

DELETE FROM bench.slot_excl
WHERE id > (SELECT excl_base FROM bench.tl_base) AND (holder <> 'extra' OR NOT :big::boolean);
\if :big
INSERT INTO bench.slot_excl (room_id, holder, during)
SELECT 10000 + r, 'extra', bench.preload_range(k)
FROM bench.tl_conf c, pg_catalog.generate_series(1, c.rooms) r,
	 pg_catalog.generate_series(c.base_rows, :big_rows - 1) k
WHERE NOT EXISTS (SELECT FROM bench.slot_excl WHERE holder = 'extra');
\endif
DELETE FROM bench.slot_uniq WHERE id > (SELECT uniq_base FROM bench.tl_base);
DELETE FROM bench.slot_cap WHERE id > (SELECT cap_base FROM bench.tl_base);
DELETE FROM bench.slot_free WHERE id > (SELECT free_base FROM bench.tl_base);

VACUUM booking.resource, booking.booking, booking.attempt, bench.slot_excl, bench.slot_uniq,
	bench.slot_cap, bench.slot_free;
CHECKPOINT;
