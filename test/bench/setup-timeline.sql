-- test/bench/setup-timeline.sql
-- The timeline part of the benchmark: the engine's timeline resources, and the peer tables a
-- careful user writes without the extension for rooms booked over time ranges.
--
-- Variables (psql -v): rooms (rooms per set), window_start (the first instant requests ask for,
-- a timestamptz literal), base_rows (bookings pre-loaded per room before the window).
-- Ids are the same on both sides:
--   10001 .. 10000 + rooms  capacity 1: workloads d, u and f (engine, E and U)
--   20001 .. 20000 + rooms  capacity 3: workload e (engine and P)
-- Every room starts with base_rows one-hour bookings before the window (a preload of the same
-- rows on every side), so that requests never meet them; bench.preload_rows() gives the k-th.

\set ON_ERROR_STOP on

CREATE EXTENSION IF NOT EXISTS booking;
CREATE EXTENSION btree_gist;
CREATE SCHEMA IF NOT EXISTS bench;

-- The settings the reset and the checks need again.
CREATE TABLE bench.tl_conf AS
SELECT :'window_start'::timestamptz AS window_start, :rooms::integer AS rooms,
	   :base_rows::integer AS base_rows;

-- The k-th pre-loaded booking of every room (k = 0, 1, ...): one hour, two hours apart, going
-- back from a day before the window.  Used for the base rows and for the extra rows of f.
CREATE FUNCTION bench.preload_range(k integer)
RETURNS tstzrange
LANGUAGE sql
STABLE
AS $$
	SELECT tstzrange(c.window_start - interval '1 day' - (k + 1) * interval '2 hours',
					 c.window_start - interval '1 day' - (k + 1) * interval '2 hours' + interval '1 hour')
	FROM bench.tl_conf c
$$;

-- ---------------------------------------------------------------------------------------------
-- The engine's side
-- ---------------------------------------------------------------------------------------------

INSERT INTO booking.resource (id, name, capacity, timeline)
SELECT 10000 + g, 'room ' || g, 1, true FROM pg_catalog.generate_series(1, :rooms) g;
INSERT INTO booking.resource (id, name, capacity, timeline)
SELECT 20000 + g, 'court ' || g, 3, true FROM pg_catalog.generate_series(1, :rooms) g;

-- Through the engine's trigger: base_rows per room, one statement per set.
INSERT INTO booking.booking (resource_id, holder, during)
SELECT 10000 + r, 'preload', bench.preload_range(k)
FROM pg_catalog.generate_series(1, :rooms) r, pg_catalog.generate_series(0, :base_rows - 1) k;
INSERT INTO booking.booking (resource_id, holder, during)
SELECT 20000 + r, 'preload', bench.preload_range(k)
FROM pg_catalog.generate_series(1, :rooms) r, pg_catalog.generate_series(0, :base_rows - 1) k;

-- ---------------------------------------------------------------------------------------------
-- The peers' side: one room table, and a booking table per peer, each with a foreign key to the
-- rooms (the engine checks and locks its resource row on every booking too).
-- ---------------------------------------------------------------------------------------------

CREATE TABLE bench.room (
	id bigint PRIMARY KEY,
	capacity integer NOT NULL CHECK (capacity >= 0)
);
INSERT INTO bench.room (id, capacity)
SELECT 10000 + g, 1 FROM pg_catalog.generate_series(1, :rooms) g
UNION ALL
SELECT 20000 + g, 3 FROM pg_catalog.generate_series(1, :rooms) g;

-- E: capacity 1 by an exclusion constraint (btree_gist for the room's equality).
CREATE TABLE bench.slot_excl (
	id bigserial PRIMARY KEY,
	room_id bigint NOT NULL REFERENCES bench.room,
	holder text NOT NULL,
	during tstzrange NOT NULL,
	status text NOT NULL DEFAULT 'confirmed',
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT slot_excl_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&)
		WHERE (status = 'confirmed')
);

-- U: capacity 1 by a partial unique index on the start: right only for fixed-length slots on a
-- grid of their own length (workload u), where two bookings overlap exactly when they start
-- together.
CREATE TABLE bench.slot_uniq (
	id bigserial PRIMARY KEY,
	room_id bigint NOT NULL REFERENCES bench.room,
	holder text NOT NULL,
	start_time timestamptz NOT NULL,
	during tstzrange NOT NULL,
	status text NOT NULL DEFAULT 'confirmed',
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE UNIQUE INDEX slot_uniq_start ON bench.slot_uniq (room_id, start_time) WHERE status = 'confirmed';

-- P: capacity k by an advisory lock per room and the per-instant load in PL/pgSQL.
CREATE TABLE bench.slot_cap (
	id bigserial PRIMARY KEY,
	room_id bigint NOT NULL REFERENCES bench.room,
	holder text NOT NULL,
	spots integer NOT NULL CHECK (spots > 0),
	during tstzrange NOT NULL,
	status text NOT NULL DEFAULT 'confirmed',
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX slot_cap_room_during ON bench.slot_cap USING gist (room_id, during) WHERE status = 'confirmed';

-- N: no protection at all, the ceiling: the same row into a table like P's, with no check and
-- no lock (wrong: it oversells).  Not a peer; it shows the most any implementation that writes
-- the row could reach on this machine.
CREATE TABLE bench.slot_free (
	id bigserial PRIMARY KEY,
	room_id bigint NOT NULL REFERENCES bench.room,
	holder text NOT NULL,
	spots integer NOT NULL CHECK (spots > 0),
	during tstzrange NOT NULL,
	status text NOT NULL DEFAULT 'confirmed',
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX slot_free_room_during ON bench.slot_free USING gist (room_id, during) WHERE status = 'confirmed';

INSERT INTO bench.slot_excl (room_id, holder, during)
SELECT 10000 + r, 'preload', bench.preload_range(k)
FROM pg_catalog.generate_series(1, :rooms) r, pg_catalog.generate_series(0, :base_rows - 1) k;
INSERT INTO bench.slot_uniq (room_id, holder, start_time, during)
SELECT 10000 + r, 'preload', lower(bench.preload_range(k)), bench.preload_range(k)
FROM pg_catalog.generate_series(1, :rooms) r, pg_catalog.generate_series(0, :base_rows - 1) k;
INSERT INTO bench.slot_cap (room_id, holder, spots, during)
SELECT 20000 + r, 'preload', 1, bench.preload_range(k)
FROM pg_catalog.generate_series(1, :rooms) r, pg_catalog.generate_series(0, :base_rows - 1) k;
INSERT INTO bench.slot_free (room_id, holder, spots, during)
SELECT room0 + r, 'preload', 1, bench.preload_range(k)
FROM (VALUES (10000), (20000)) s(room0), pg_catalog.generate_series(1, :rooms) r,
	 pg_catalog.generate_series(0, :base_rows - 1) k;

-- E: the INSERT, with the exclusion violation caught and turned into false (a subtransaction
-- per call, as any function that wants an answer rather than an error needs).
CREATE FUNCTION bench.e_book(p_room bigint, p_spots integer, p_during tstzrange, p_holder text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_spots <> 1 THEN
		RAISE EXCEPTION 'a slot is one spot' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO bench.slot_excl (room_id, holder, during, status)
	VALUES (p_room, coalesce(p_holder, current_user), p_during, 'confirmed');
	RETURN true;
EXCEPTION WHEN exclusion_violation THEN
	RETURN false;
END
$$;

-- U: INSERT ... ON CONFLICT DO NOTHING on the partial unique index; true when a row went in.
CREATE FUNCTION bench.u_book(p_room bigint, p_spots integer, p_during tstzrange, p_holder text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_spots <> 1 THEN
		RAISE EXCEPTION 'a slot is one spot' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO bench.slot_uniq (room_id, holder, start_time, during, status)
	VALUES (p_room, coalesce(p_holder, current_user), lower(p_during), p_during, 'confirmed')
	ON CONFLICT (room_id, start_time) WHERE status = 'confirmed' DO NOTHING;
	RETURN FOUND;
END
$$;

-- P: the room's advisory lock, then the peak load over the requested range: the load can only
-- rise where a booking starts, so it is enough to sum the spots covering the start of the range
-- and the start of every booking that begins inside it (the correct per-instant check, not the
-- plain sum of every overlapping booking, which refuses bookings that fit).
CREATE FUNCTION bench.p_book(p_room bigint, p_spots integer, p_during tstzrange, p_holder text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cap integer;
	peak bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(p_room);
	SELECT capacity INTO cap FROM bench.room WHERE id = p_room;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'room % does not exist', p_room USING ERRCODE = 'no_data_found';
	END IF;
	SELECT coalesce(max(load), 0) INTO peak
	FROM (SELECT (SELECT sum(c.spots)
				  FROM bench.slot_cap c
				  WHERE c.room_id = p_room AND c.status = 'confirmed' AND c.during @> pt.t) AS load
		  FROM (SELECT greatest(lower(o.during), lower(p_during)) AS t
				FROM bench.slot_cap o
				WHERE o.room_id = p_room AND o.status = 'confirmed' AND o.during && p_during) pt) l;
	IF peak + p_spots > cap THEN
		RETURN false;
	END IF;
	INSERT INTO bench.slot_cap (room_id, holder, spots, during, status)
	VALUES (p_room, coalesce(p_holder, current_user), p_spots, p_during, 'confirmed');
	RETURN true;
END
$$;

-- N: the INSERT alone.
CREATE FUNCTION bench.n_book(p_room bigint, p_spots integer, p_during tstzrange, p_holder text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO bench.slot_free (room_id, holder, spots, during, status)
	VALUES (p_room, coalesce(p_holder, current_user), p_spots, p_during, 'confirmed');
	RETURN true;
END
$$;

-- Where each table's pre-loaded rows end: a reset removes everything above (and the extra rows
-- of workload f, marked holder 'extra', are added above it).
CREATE TABLE bench.tl_base AS
SELECT (SELECT coalesce(max(id), 0) FROM booking.booking) AS engine_base,
	   (SELECT coalesce(max(id), 0) FROM bench.slot_excl) AS excl_base,
	   (SELECT coalesce(max(id), 0) FROM bench.slot_uniq) AS uniq_base,
	   (SELECT coalesce(max(id), 0) FROM bench.slot_cap) AS cap_base,
	   (SELECT coalesce(max(id), 0) FROM bench.slot_free) AS free_base;

-- The independent check after each run: the peak load of every room of a set of rows, swept in
-- plain SQL (each range adds its spots at its start and gives them back at its end; ends sort
-- before starts at the same instant, the ranges being half-open), against the room's capacity.
-- Returns how many rooms go over somewhere.
CREATE FUNCTION bench.rooms_over(p_rows regclass, p_where text)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE format($q$
		SELECT count(DISTINCT e.room)
		FROM (SELECT room, sum(delta) OVER (PARTITION BY room ORDER BY t, delta
											ROWS UNBOUNDED PRECEDING) AS load
			  FROM (SELECT x.room, v.t, v.delta
					FROM (SELECT %s AS room, %s AS spots, during FROM %s WHERE %s) x,
						 LATERAL (VALUES (lower(x.during), x.spots), (upper(x.during), -x.spots)) v(t, delta)) ev) e
		JOIN bench.room r ON r.id = e.room
		WHERE e.load > r.capacity$q$,
		CASE WHEN p_rows = 'booking.booking'::regclass THEN 'resource_id' ELSE 'room_id' END,
		CASE WHEN p_rows IN ('booking.booking'::regclass, 'bench.slot_cap'::regclass) THEN 'spots' ELSE '1' END,
		p_rows, p_where) INTO n;
	RETURN n;
END
$$;

VACUUM (ANALYZE) booking.resource, booking.booking, booking.attempt, bench.room, bench.slot_excl,
	bench.slot_uniq, bench.slot_cap, bench.slot_free;
