-- test/bench/setup-seats.sql
-- The seat-map part of the benchmark (issue 4): a show of :seats seats, one place each, booked
-- in groups of adjacent seats that are held, then confirmed, then cancelled (so that the map
-- stays open over a run).  Seats are resources 30001 .. 30000 + :seats on the engine's side and
-- rows of bench.seat with the same ids on the peer's.
--
-- The peer is the flow a careful user writes with SELECT ... FOR UPDATE in PL/pgSQL: lock the
-- seats in id order, check that every one is free (or held by a hold that has run out), mark
-- them held with a token, write one booking row per seat; confirm checks the token and the
-- expiry under the rows' locks; cancel frees the seats.

\set ON_ERROR_STOP on

CREATE EXTENSION IF NOT EXISTS booking;
CREATE SCHEMA IF NOT EXISTS bench;

INSERT INTO booking.resource (id, name, capacity)
SELECT 30000 + g, 'seat ' || g, 1 FROM pg_catalog.generate_series(1, :seats) g;

CREATE TABLE bench.seat (
	id bigint PRIMARY KEY,
	state text NOT NULL DEFAULT 'free' CHECK (state IN ('free', 'held', 'sold')),
	holder text,
	hold_until timestamptz
);
INSERT INTO bench.seat (id) SELECT 30000 + g FROM pg_catalog.generate_series(1, :seats) g;

CREATE TABLE bench.seat_booking (
	id bigserial PRIMARY KEY,
	seat_id bigint NOT NULL REFERENCES bench.seat,
	holder text NOT NULL,
	status text NOT NULL,
	group_id bigint NOT NULL,
	token uuid,
	expires_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX seat_booking_group ON bench.seat_booking (group_id);
CREATE SEQUENCE bench.seat_group_seq;

-- Holds p_count seats from p_first: every one or none.  Returns ok, the group and its token.
CREATE FUNCTION bench.s_hold(p_first bigint, p_count integer, p_holder text,
							 OUT ok boolean, OUT group_id bigint, OUT token uuid)
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	busy integer;
BEGIN
	SELECT count(*) FILTER (WHERE s.state = 'sold' OR (s.state = 'held' AND s.hold_until > now()))
	  INTO busy
	  FROM (SELECT * FROM bench.seat
			 WHERE id BETWEEN p_first AND p_first + p_count - 1
			 ORDER BY id FOR UPDATE) s;
	IF busy > 0 THEN
		ok := false;
		RETURN;
	END IF;
	group_id := nextval('bench.seat_group_seq');
	token := gen_random_uuid();
	UPDATE bench.seat SET state = 'held', holder = p_holder, hold_until = now() + interval '5 minutes'
	 WHERE id BETWEEN p_first AND p_first + p_count - 1;
	INSERT INTO bench.seat_booking (seat_id, holder, status, group_id, token, expires_at)
	SELECT g, p_holder, 'held', group_id, token, now() + interval '5 minutes'
	  FROM generate_series(p_first, p_first + p_count - 1) g;
	ok := true;
END
$$;

-- Confirms a held group with its token: false when the token is wrong or the hold ran out.
CREATE FUNCTION bench.s_confirm(p_group bigint, p_token uuid)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	bad integer;
BEGIN
	SELECT count(*) FILTER (WHERE b.status <> 'held' OR b.token <> p_token OR b.expires_at <= now())
	  INTO bad
	  FROM (SELECT * FROM bench.seat_booking WHERE group_id = p_group ORDER BY seat_id FOR UPDATE) b;
	IF bad > 0 THEN
		RETURN false;
	END IF;
	UPDATE bench.seat s SET state = 'sold', hold_until = NULL
	  FROM bench.seat_booking b
	 WHERE b.group_id = p_group AND s.id = b.seat_id;
	UPDATE bench.seat_booking SET status = 'confirmed', token = NULL, expires_at = NULL
	 WHERE group_id = p_group;
	RETURN true;
END
$$;

-- Cancels a group: its seats are free again.
CREATE FUNCTION bench.s_cancel(p_group bigint)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer;
BEGIN
	WITH b AS (
		UPDATE bench.seat_booking SET status = 'cancelled'
		 WHERE group_id = p_group AND status IN ('held', 'confirmed')
		RETURNING seat_id)
	UPDATE bench.seat s SET state = 'free', holder = NULL, hold_until = NULL
	  FROM b WHERE s.id = b.seat_id;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- W, not a peer but a ceiling: the same three transactions per script, each writing the group's
-- rows once (one UPDATE of a counter per seat) with no check, no lock taken first and no booking
-- row.  Its statements are the script's own, prepared (run.sh), not a function: a SQL function's
-- statements are planned again at every call, which would make W measure the planner.
CREATE TABLE bench.seat_w (
	id bigint PRIMARY KEY,
	n bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 70);
INSERT INTO bench.seat_w (id) SELECT 30000 + g FROM pg_catalog.generate_series(1, :seats) g;


-- V, not a peer but a tighter ceiling for the engine's data model: what the contract asks the
-- engine to write, and nothing else.  A counter per seat (bench.seat_v) and a booking row per seat
-- (bench.seat_v_booking, with a primary key and an index on its group): the hold raises the
-- group's counters and inserts its rows, the confirm updates the rows, the cancel updates the
-- rows and lowers the counters (in ascending seat order, as the hold, so that the two cannot
-- deadlock).  No check, no lock taken first, no audit, no hold token; prepared statements of the
-- script (run.sh).  Its seats are W's, a key and a counter (the fillfactor given again: LIKE does
-- not copy it).
CREATE TABLE bench.seat_v (LIKE bench.seat_w INCLUDING ALL) WITH (fillfactor = 70);
INSERT INTO bench.seat_v (id) SELECT id FROM bench.seat_w;
CREATE SEQUENCE bench.seat_v_group_seq;
CREATE TABLE bench.seat_v_booking (
	id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	seat_id bigint NOT NULL,
	group_id bigint NOT NULL,
	status text NOT NULL
) WITH (fillfactor = 90);
CREATE INDEX seat_v_booking_group_idx ON bench.seat_v_booking (group_id);

-- A, the ceiling of the engine's design rather than of its contract: V plus the two other things
-- the engine writes for a seat, still with no check and no lock taken first.  Each held seat gets
-- an entry in a list beside the table (bench.seat_a_queue, like booking.queue: its key indexed,
-- deleted at the confirm), so that a hold past due can be found without an index that names the
-- status; and each seat's every transition (the hold, the confirm, the cancel) writes one audit
-- row (bench.seat_a_attempt, the columns of booking.attempt that apply, no index, as shipped).
-- Its seats and booking rows are V's, the booking rows with the hold's expiry.
CREATE TABLE bench.seat_a (LIKE bench.seat_w INCLUDING ALL) WITH (fillfactor = 70);
INSERT INTO bench.seat_a (id) SELECT id FROM bench.seat_w;
CREATE SEQUENCE bench.seat_a_group_seq;
CREATE TABLE bench.seat_a_booking (LIKE bench.seat_v_booking INCLUDING ALL) WITH (fillfactor = 90);
ALTER TABLE bench.seat_a_booking ADD COLUMN expires_at timestamptz;
CREATE TABLE bench.seat_a_queue (
	resource_id bigint NOT NULL,
	waiting boolean NOT NULL,
	booking_id bigint NOT NULL,
	due timestamptz
);
CREATE INDEX seat_a_queue_key ON bench.seat_a_queue (resource_id, waiting, booking_id);
CREATE TABLE bench.seat_a_attempt (
	id bigint GENERATED BY DEFAULT AS IDENTITY,
	at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	role text NOT NULL DEFAULT CURRENT_USER,
	action text NOT NULL,
	holder text,
	resource_id bigint,
	spots integer,
	ok boolean NOT NULL,
	booking_id bigint,
	status text
);

-- I, the ceiling of the contract's writes for any design: A with the hold found through its seat's
-- own row instead of a list (the hold raises the counter and sets the seat's hold_due in one
-- UPDATE; the confirm clears it with a second UPDATE of the seats, as F does), the same audit rows,
-- the same booking rows (bench.seat_i_booking).
CREATE TABLE bench.seat_i (LIKE bench.seat_w INCLUDING ALL) WITH (fillfactor = 70);
ALTER TABLE bench.seat_i ADD COLUMN hold_due timestamptz;
INSERT INTO bench.seat_i (id) SELECT id FROM bench.seat_w;
CREATE TABLE bench.seat_i_booking (LIKE bench.seat_a_booking INCLUDING ALL) WITH (fillfactor = 90);

-- History on both sides: :history old bookings of the seats, long cancelled, so that the tables
-- are not empty when the run's statements are planned (as they would not be in production).
INSERT INTO booking.booking (resource_id, holder, status, group_id)
SELECT 30001 + g % :seats, 'history', 'cancelled', g / 4 FROM pg_catalog.generate_series(1, :history) g;
INSERT INTO bench.seat_booking (seat_id, holder, status, group_id)
SELECT 30001 + g % :seats, 'history', 'cancelled', g / 4 FROM pg_catalog.generate_series(1, :history) g;
INSERT INTO bench.seat_v_booking (seat_id, status, group_id)
SELECT 30001 + g % :seats, 'cancelled', g / 4 FROM pg_catalog.generate_series(1, :history) g;
INSERT INTO bench.seat_a_booking (seat_id, status, group_id)
SELECT 30001 + g % :seats, 'cancelled', g / 4 FROM pg_catalog.generate_series(1, :history) g;
SELECT pg_catalog.setval('bench.seat_v_group_seq', :history);
INSERT INTO bench.seat_i_booking (seat_id, status, group_id)
SELECT 30001 + g % :seats, 'cancelled', g / 4 FROM pg_catalog.generate_series(1, :history) g;
SELECT pg_catalog.setval('bench.seat_a_group_seq', :history);
SELECT pg_catalog.setval('bench.seat_group_seq', :history);

-- Where the rows of a run begin: a reset removes everything above.
CREATE TABLE bench.seats_base AS
SELECT (SELECT coalesce(max(id), 0) FROM booking.booking) AS engine_base,
	   (SELECT coalesce(max(id), 0) FROM bench.seat_booking) AS peer_base,
	   (SELECT coalesce(max(id), 0) FROM bench.seat_v_booking) AS v_base,
	   (SELECT coalesce(max(id), 0) FROM bench.seat_a_booking) AS a_base,
	   (SELECT coalesce(max(id), 0) FROM bench.seat_i_booking) AS i_base;

VACUUM (ANALYZE) booking.resource, booking.booking, bench.seat, bench.seat_booking, bench.seat_w,
	bench.seat_v, bench.seat_v_booking, bench.seat_a, bench.seat_a_booking, bench.seat_a_queue,
	bench.seat_a_attempt, bench.seat_i, bench.seat_i_booking;
