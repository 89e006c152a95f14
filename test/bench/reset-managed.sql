-- test/bench/reset-managed.sql
-- The three copies of the managed part back to their pre-loaded rows and counters: the rows a
-- run added go with the engine's triggers off, and booking.repair() then rewrites the managed
-- counters from the rows; the FOR UPDATE copy's counters are set back in plain SQL.

\set ON_ERROR_STOP on

SET session_replication_role = replica;
DELETE FROM bench_m."Registration" WHERE id > (SELECT base FROM bench.managed_base);
RESET session_replication_role;
DO $$ BEGIN PERFORM * FROM booking.repair(); END $$;
DELETE FROM bench_r."Registration" WHERE id > (SELECT base FROM bench.managed_base);
DELETE FROM bench_x."Registration" WHERE id > (SELECT base FROM bench.managed_base);
UPDATE bench_x."Event" e SET "spotsReserved" = c.n
  FROM (SELECT "eventId", sum("spotsCount") AS n FROM bench_x."Registration" GROUP BY 1) c
 WHERE c."eventId" = e.id AND e."spotsReserved" <> c.n;

VACUUM bench_m."Event", bench_m."Registration", bench_r."Event", bench_r."Registration",
	bench_x."Event", bench_x."Registration";
CHECKPOINT;
