--
-- Direct DML on booking.booking: every INSERT, UPDATE, DELETE and COPY goes through the same
-- admission as book_slot(), so spots_reserved always equals the spots of the consuming rows
-- (held, pending, confirmed, completed), and a write over capacity is an error.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

-- hall is resource 1 and annex resource 2 (the COPY data below names them by id)
INSERT INTO booking.resource (name, capacity, auto_promote) VALUES ('hall', 5, false), ('annex', 3, false);
-- (auto_promote off: the waiting rows below are a list worked by hand, not a queue; see waitlist.sql)
SELECT id AS hall FROM booking.resource WHERE name = 'hall' \gset
SELECT id AS annex FROM booking.resource WHERE name = 'annex' \gset

-- counters next to what the rows say
CREATE TEMP VIEW counters AS
SELECT r.name, r.capacity, r.spots_reserved,
       (SELECT coalesce(sum(b.spots), 0) FROM booking.booking b
        WHERE b.resource_id = r.id AND b.status IN ('held', 'pending', 'confirmed', 'completed')) AS counted
FROM booking.resource r ORDER BY r.id;

--
-- INSERT
--
INSERT INTO booking.booking (resource_id, holder, spots) VALUES (:hall, 'ann', 2);
INSERT INTO booking.booking (resource_id, holder) VALUES (:hall, 'ben');
INSERT INTO booking.booking (resource_id, holder, status) VALUES (:annex, 'eve', 'pending');
-- statuses that do not consume take nothing
INSERT INTO booking.booking (resource_id, holder, spots, status)
VALUES (:hall, 'cat', 4, 'waitlisted'), (:hall, 'dan', 4, 'waitlisted'), (:annex, 'fred', 3, 'waitlisted'),
       (:hall, 'gil', 1, 'cancelled');
SELECT * FROM counters;

-- a multi-row INSERT is admitted row by row and fails as a whole: 3 + 1 fit, 4 + 2 do not
INSERT INTO booking.booking (resource_id, holder, spots) VALUES (:hall, 'gil', 1), (:hall, 'hal', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM counters;
SELECT count(*) AS bookings FROM booking.booking;

--
-- UPDATE of status
--
-- leaving a consuming status frees the spots
UPDATE booking.booking SET status = 'cancelled' WHERE holder = 'ann';
SELECT * FROM counters;
-- entering one takes them: hall 1 + 4 = 5
UPDATE booking.booking SET status = 'confirmed' WHERE holder = 'cat';
SELECT * FROM counters;
-- from one consuming status to another changes nothing
UPDATE booking.booking SET status = 'completed' WHERE holder = 'ben';
SELECT * FROM counters;
-- admitting a waitlisted booking on a full resource is refused
UPDATE booking.booking SET status = 'confirmed' WHERE holder = 'dan';
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM counters;

--
-- UPDATE of spots
--
-- more spots on a full resource: only the difference is requested, and refused
UPDATE booking.booking SET spots = 2 WHERE holder = 'ben';
\echo :LAST_ERROR_SQLSTATE
-- fewer spots free the difference: hall 5 - 2 = 3
UPDATE booking.booking SET spots = 2 WHERE holder = 'cat';
SELECT * FROM counters;
-- then the difference fits: hall 3 + 1 = 4
UPDATE booking.booking SET spots = 2 WHERE holder = 'ben';
SELECT * FROM counters;
-- spots of a row that does not consume count for nothing
UPDATE booking.booking SET spots = 9 WHERE holder = 'dan';
SELECT * FROM counters;

--
-- UPDATE of resource_id: a move is admitted on the new resource and frees the old one
--
-- to a higher id: cat (2) from hall to annex; hall 4 - 2 = 2, annex 1 + 2 = 3
UPDATE booking.booking SET resource_id = :annex WHERE holder = 'cat';
SELECT * FROM counters;
-- to a full resource: refused, both counters unchanged
UPDATE booking.booking SET resource_id = :annex WHERE holder = 'ben';
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM counters;
-- to a lower id: eve (1) from annex to hall; hall 2 + 1 = 3, annex 3 - 1 = 2
UPDATE booking.booking SET resource_id = :hall WHERE holder = 'eve';
SELECT * FROM counters;
-- a move and a cancellation at once only frees: annex 2 - 2 = 0
UPDATE booking.booking SET resource_id = :hall, status = 'cancelled' WHERE holder = 'cat';
SELECT * FROM counters;
-- a move and an admission at once takes on the new resource only: fred (3, waitlisted) to hall
-- would need 3 + 3 = 6 > 5
UPDATE booking.booking SET resource_id = :hall, status = 'confirmed' WHERE holder = 'fred';
\echo :LAST_ERROR_SQLSTATE
-- on its own resource it fits: annex 0 + 3 = 3
UPDATE booking.booking SET status = 'confirmed' WHERE holder = 'fred';
SELECT * FROM counters;

-- columns the engine does not count leave the counters alone
UPDATE booking.booking SET holder = 'benjamin', meta = '{"note": "renamed"}' WHERE holder = 'ben';
SELECT * FROM counters;

-- one statement over many rows: every row is admitted (completed is final: left as it is)
UPDATE booking.booking SET status = 'cancelled' WHERE resource_id = :hall AND status <> 'completed';
SELECT * FROM counters;
-- from one consuming status to another: fred completes, benjamin already has
UPDATE booking.booking SET status = 'completed' WHERE holder IN ('fred', 'benjamin');
SELECT * FROM counters;

--
-- DELETE frees the spots of a consuming row, and nothing for the others
--
DELETE FROM booking.booking WHERE holder = 'eve';
SELECT * FROM counters;
DELETE FROM booking.booking WHERE status = 'cancelled';
SELECT * FROM counters;
SELECT holder, resource_id, spots, status FROM booking.booking ORDER BY id;

--
-- COPY fires the same trigger
--
COPY booking.booking (resource_id, holder, spots, status) FROM STDIN;
1	ivy	1	confirmed
1	jon	1	pending
2	kim	1	waitlisted
\.
SELECT * FROM counters;
-- a COPY that would overfill hall loads nothing: lea fits (4 + 1 = 5), max (5 + 2) does not
COPY booking.booking (resource_id, holder, spots) FROM STDIN;
1	lea	1
1	max	2
1	ned	1
\.
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM counters;
SELECT count(*) AS bookings FROM booking.booking;

--
-- Errors of a direct write
--
-- unknown resource: 23503
INSERT INTO booking.booking (resource_id, holder) VALUES (999, 'oli');
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET resource_id = 999 WHERE holder = 'ivy';
\echo :LAST_ERROR_SQLSTATE
-- spots <= 0: 22023
INSERT INTO booking.booking (resource_id, holder, spots) VALUES (:hall, 'oli', 0);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO booking.booking (resource_id, holder, spots) VALUES (:hall, 'oli', -1);
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET spots = 0 WHERE holder = 'ivy';
\echo :LAST_ERROR_SQLSTATE
-- spots NULL: 23502
INSERT INTO booking.booking (resource_id, holder, spots) VALUES (:hall, 'oli', NULL);
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET spots = NULL WHERE holder = 'ivy';
\echo :LAST_ERROR_SQLSTATE
-- a consuming row on a pool resource with a time range: 22023
INSERT INTO booking.booking (resource_id, holder, during)
VALUES (:hall, 'oli', tstzrange('2030-01-01 10:00', '2030-01-01 11:00'));
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET during = tstzrange('2030-01-01 10:00', '2030-01-01 11:00') WHERE holder = 'ivy';
\echo :LAST_ERROR_SQLSTATE
-- over capacity: 23514, with the figures in the detail
INSERT INTO booking.booking (resource_id, holder, spots) VALUES (:hall, 'oli', 3);
\echo :LAST_ERROR_SQLSTATE
-- the error names the table and the constraint booking_capacity, for drivers and ORMs
DO $$
DECLARE
	st text;
	sch text;
	tab text;
	con text;
	det text;
BEGIN
	INSERT INTO booking.booking (resource_id, holder, spots)
	SELECT id, 'oli', 3 FROM booking.resource WHERE name = 'hall';
EXCEPTION WHEN check_violation THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, sch = SCHEMA_NAME, tab = TABLE_NAME,
		con = CONSTRAINT_NAME, det = PG_EXCEPTION_DETAIL;
	RAISE NOTICE 'sqlstate %, table %.%, constraint %, detail: %', st, sch, tab, con, det;
END
$$;

-- none of it changed anything
SELECT * FROM counters;
SELECT holder, resource_id, spots, status, during FROM booking.booking ORDER BY id;

SELECT * FROM booking.verify();
