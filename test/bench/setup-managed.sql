-- test/bench/setup-managed.sql
-- The managed-table part of the benchmark (issue 5): an application's own Prisma-shaped tables,
-- an "Event" with capacity and "spotsReserved" and a "Registration" with "eventId",
-- "spotsCount" and a text status, written by a plain INSERT as an ORM writes them.  Three copies
-- of the same schema, :events events each with :history registrations already in:
--   bench_m  put under the engine with booking.manage(): the INSERT fires its triggers
--   bench_r  no protection at all: the same INSERT, no check, no counter (it oversells)
--   bench_x  the route the background write-ups took: bench.x_register() locks the event with
--            SELECT ... FOR UPDATE, checks, raises the counter and inserts, in PL/pgSQL
-- Capacity is never reached: every attempt books.

\set ON_ERROR_STOP on

CREATE EXTENSION IF NOT EXISTS booking;
CREATE SCHEMA IF NOT EXISTS bench;

DO $$
DECLARE
	s text;
BEGIN
	FOREACH s IN ARRAY ARRAY['bench_m', 'bench_r', 'bench_x'] LOOP
		EXECUTE format('CREATE SCHEMA %I', s);
		EXECUTE format($f$CREATE TABLE %I."Event" (
			id serial PRIMARY KEY,
			title text NOT NULL,
			capacity integer NOT NULL,
			"spotsReserved" integer NOT NULL DEFAULT 0,
			"createdAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP)$f$, s);
		EXECUTE format($f$CREATE TABLE %I."Registration" (
			id serial PRIMARY KEY,
			"eventId" integer NOT NULL REFERENCES %I."Event" (id),
			"userId" integer NOT NULL DEFAULT 0,
			"spotsCount" integer NOT NULL DEFAULT 1,
			status text NOT NULL DEFAULT 'CONFIRMED',
			"createdAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP)$f$, s, s);
		EXECUTE format($f$CREATE INDEX ON %I."Registration" ("eventId")$f$, s);
	END LOOP;
END
$$;

INSERT INTO bench_m."Event" (title, capacity) SELECT 'event ' || g, 1000000000 FROM generate_series(1, :events) g;
INSERT INTO bench_r."Event" (title, capacity) SELECT 'event ' || g, 1000000000 FROM generate_series(1, :events) g;
INSERT INTO bench_x."Event" (title, capacity) SELECT 'event ' || g, 1000000000 FROM generate_series(1, :events) g;
INSERT INTO bench_m."Registration" ("eventId", "userId", "spotsCount")
SELECT 1 + g % :events, g, 1 + g % 4 FROM generate_series(1, :events * :history) g;
INSERT INTO bench_r."Registration" SELECT * FROM bench_m."Registration";
INSERT INTO bench_x."Registration" SELECT * FROM bench_m."Registration";
SELECT setval(pg_get_serial_sequence('bench_r."Registration"', 'id'), (SELECT max(id) FROM bench_r."Registration"));
SELECT setval(pg_get_serial_sequence('bench_x."Registration"', 'id'), (SELECT max(id) FROM bench_x."Registration"));
UPDATE bench_x."Event" e SET "spotsReserved" = c.n
  FROM (SELECT "eventId", sum("spotsCount") AS n FROM bench_x."Registration" GROUP BY 1) c WHERE c."eventId" = e.id;

-- the engine's counters are set from the rows by manage() itself
SELECT count(*) FROM booking.manage('bench_m."Event"', 'bench_m."Registration"',
									counter_column => 'spotsReserved', spots_column => 'spotsCount',
									consuming => '{PENDING,CONFIRMED}');

CREATE TABLE bench.managed_base AS
SELECT (SELECT max(id) FROM bench_m."Registration") AS base;

-- The SELECT ... FOR UPDATE route: lock the event row, check, raise the counter, insert.
CREATE FUNCTION bench.x_register(p_event integer, p_spots integer)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cap integer;
	taken integer;
BEGIN
	SELECT capacity, "spotsReserved" INTO cap, taken FROM bench_x."Event" WHERE id = p_event FOR UPDATE;
	IF NOT FOUND OR taken + p_spots > cap THEN
		RETURN false;
	END IF;
	UPDATE bench_x."Event" SET "spotsReserved" = "spotsReserved" + p_spots WHERE id = p_event;
	INSERT INTO bench_x."Registration" ("eventId", "spotsCount", status) VALUES (p_event, p_spots, 'CONFIRMED');
	RETURN true;
END
$$;

VACUUM ANALYZE;
