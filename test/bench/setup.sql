-- test/bench/setup.sql
-- The benchmark's database: the engine's resources, and the peer schema a careful user would write
-- without the extension (an event table with a counter, a registration table with the rows), with
-- the three PL/pgSQL booking functions that DESIGN.md's Performance section names as peers.
--
-- Variables (psql -v): resources (how many resources workload b spreads over), big_rows (bookings
-- pre-loaded on the big resource of workload c), capacity (of every resource: never reached).
-- Ids are the same on both sides: 1 = the hot resource (a), 2 = the big one (c),
-- 1001 .. 1000 + resources = the spread ones (b).

\set ON_ERROR_STOP on

CREATE EXTENSION booking;

-- ---------------------------------------------------------------------------------------------
-- The engine's side
-- ---------------------------------------------------------------------------------------------

INSERT INTO booking.resource (id, name, capacity)
VALUES (1, 'hot', :capacity), (2, 'big', :capacity);
INSERT INTO booking.resource (id, name, capacity)
SELECT g, 'spread ' || g, :capacity FROM pg_catalog.generate_series(1001, 1000 + :resources) g;

-- Loads the big resource through the engine's own trigger, a thousand rows per transaction (one
-- transaction would pile every version of the counter row into one chain).  No SET clause: a
-- procedure that commits cannot carry one.
CREATE SCHEMA bench;
CREATE PROCEDURE bench.preload_engine(p_resource bigint, p_rows integer)
LANGUAGE plpgsql
AS $$
DECLARE
	done integer := 0;
	n integer;
BEGIN
	WHILE done < p_rows LOOP
		n := least(1000, p_rows - done);
		INSERT INTO booking.booking (resource_id, holder, spots)
		SELECT p_resource, 'preload', 1 + (done + g) % 4
		FROM pg_catalog.generate_series(1, n) g;
		done := done + n;
		COMMIT;
	END LOOP;
END
$$;
CALL bench.preload_engine(2, :big_rows);

-- ---------------------------------------------------------------------------------------------
-- The peers' side
-- ---------------------------------------------------------------------------------------------

CREATE TABLE bench.event (
	id bigint PRIMARY KEY,
	capacity integer NOT NULL CHECK (capacity >= 0),
	reserved integer NOT NULL DEFAULT 0
);
CREATE TABLE bench.registration (
	id bigserial PRIMARY KEY,
	event_id bigint NOT NULL REFERENCES bench.event,
	holder text NOT NULL,
	spots integer NOT NULL CHECK (spots > 0),
	status text NOT NULL DEFAULT 'confirmed',
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX registration_event_id_idx ON bench.registration (event_id);

INSERT INTO bench.event (id, capacity) VALUES (1, :capacity), (2, :capacity);
INSERT INTO bench.event (id, capacity)
SELECT g, :capacity FROM pg_catalog.generate_series(1001, 1000 + :resources) g;

INSERT INTO bench.registration (event_id, holder, spots)
SELECT 2, 'preload', 1 + g % 4 FROM pg_catalog.generate_series(1, :big_rows) g;
UPDATE bench.event e SET reserved = s.total
FROM (SELECT event_id, pg_catalog.sum(spots)::integer AS total
	  FROM bench.registration GROUP BY event_id) s
WHERE s.event_id = e.id;

-- P1: one conditional UPDATE of the counter; the INSERT only when it matched.
CREATE FUNCTION bench.p1_book(p_event bigint, p_spots integer, p_holder text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	UPDATE bench.event SET reserved = reserved + p_spots
	WHERE id = p_event AND reserved + p_spots <= capacity;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	INSERT INTO bench.registration (event_id, holder, spots, status)
	VALUES (p_event, coalesce(p_holder, current_user), p_spots, 'confirmed');
	RETURN true;
END
$$;

-- P2: lock the event row, decide, then UPDATE the counter and INSERT.
CREATE FUNCTION bench.p2_book(p_event bigint, p_spots integer, p_holder text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cap integer;
	res integer;
BEGIN
	SELECT capacity, reserved INTO cap, res FROM bench.event WHERE id = p_event FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'event % does not exist', p_event USING ERRCODE = 'no_data_found';
	END IF;
	IF res + p_spots > cap THEN
		RETURN false;
	END IF;
	UPDATE bench.event SET reserved = reserved + p_spots WHERE id = p_event;
	INSERT INTO bench.registration (event_id, holder, spots, status)
	VALUES (p_event, coalesce(p_holder, current_user), p_spots, 'confirmed');
	RETURN true;
END
$$;

-- P3: no counter; an advisory lock per event, then the sum of its confirmed rows.
CREATE FUNCTION bench.p3_book(p_event bigint, p_spots integer, p_holder text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cap integer;
	used bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(p_event);
	SELECT capacity INTO cap FROM bench.event WHERE id = p_event;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'event % does not exist', p_event USING ERRCODE = 'no_data_found';
	END IF;
	SELECT coalesce(sum(spots), 0) INTO used
	FROM bench.registration WHERE event_id = p_event AND status = 'confirmed';
	IF used + p_spots > cap THEN
		RETURN false;
	END IF;
	INSERT INTO bench.registration (event_id, holder, spots, status)
	VALUES (p_event, coalesce(p_holder, current_user), p_spots, 'confirmed');
	RETURN true;
END
$$;

-- Where each side's pre-loaded rows end: a reset removes everything above.
CREATE TABLE bench.base AS
SELECT (SELECT coalesce(max(id), 0) FROM booking.booking) AS engine_base,
	   (SELECT coalesce(max(id), 0) FROM bench.registration) AS peer_base;

VACUUM (ANALYZE) booking.resource, booking.booking, booking.attempt, bench.event, bench.registration;
