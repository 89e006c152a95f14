--
-- booking.resource is guarded too: spots_reserved is the engine's (a new row's starts at 0, an
-- UPDATE may not change it), capacity cannot
-- drop below what is reserved, a resource cannot switch between pool and timeline while it has
-- bookings, and TRUNCATE of the
-- booking tables is refused in favour of booking.reset(), which deletes through the engine.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

-- a new resource starts with nothing reserved, whatever the INSERT says: its bookings, written
-- after it, count themselves in (this is what makes a pg_dump restore, which brings the old
-- counters, come out right)
INSERT INTO booking.resource (name, capacity) VALUES ('studio', 6);
INSERT INTO booking.resource (name, capacity, spots_reserved) VALUES ('gym', 4, 0);
INSERT INTO booking.resource (name, capacity, spots_reserved) VALUES ('gym 2', 4, 2), ('gym 3', 4, NULL)
RETURNING name, capacity, spots_reserved;
SELECT id AS studio FROM booking.resource WHERE name = 'studio' \gset
SELECT id AS gym FROM booking.resource WHERE name = 'gym' \gset
SELECT name, capacity, spots_reserved, timeline FROM booking.resource ORDER BY id;

INSERT INTO booking.booking (resource_id, holder, spots) VALUES (:studio, 'ann', 3), (:studio, 'ben', 1), (:gym, 'cat', 2);
SELECT name, capacity, spots_reserved FROM booking.resource ORDER BY id;

-- other columns are the DBA's to change, and an UPDATE that leaves the counter as it is passes
UPDATE booking.resource SET name = 'studio a', meta = '{"floor": 2}', spots_reserved = spots_reserved
WHERE id = :studio;
-- capacity may rise, and may drop down to exactly what is reserved
UPDATE booking.resource SET capacity = 10 WHERE id = :studio;
UPDATE booking.resource SET capacity = 4 WHERE id = :studio;
SELECT name, capacity, spots_reserved, meta FROM booking.resource ORDER BY id;
-- a resource with no bookings may be deleted
INSERT INTO booking.resource (name, capacity) VALUES ('storeroom', 1);
DELETE FROM booking.resource WHERE name = 'storeroom';

--
-- After that, the counter belongs to the engine: an UPDATE that changes it gets 428C9
--
UPDATE booking.resource SET spots_reserved = 0 WHERE id = :studio;
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.resource SET spots_reserved = spots_reserved + 1;
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.resource SET spots_reserved = NULL WHERE id = :gym;
\echo :LAST_ERROR_SQLSTATE

--
-- Capacity below what is reserved: 23514 on booking_capacity
--
UPDATE booking.resource SET capacity = 3 WHERE id = :studio;
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.resource SET capacity = 0 WHERE id = :gym;
\echo :LAST_ERROR_SQLSTATE
-- a statement over several resources fails as a whole
UPDATE booking.resource SET capacity = capacity - 1;
\echo :LAST_ERROR_SQLSTATE
-- negative capacity is refused as well
UPDATE booking.resource SET capacity = -1 WHERE id = :gym;
\echo :LAST_ERROR_SQLSTATE

--
-- A timeline resource can be created; a pool resource with bookings cannot switch rule: 55000
--
INSERT INTO booking.resource (name, capacity, timeline) VALUES ('room', 1, true);
UPDATE booking.resource SET timeline = true WHERE id = :gym;
\echo :LAST_ERROR_SQLSTATE

--
-- A resource with bookings cannot be deleted (the foreign key): 23503
--
DELETE FROM booking.resource WHERE id = :gym;
\echo :LAST_ERROR_SQLSTATE

--
-- TRUNCATE would bypass the counters: 0A000, pointing to booking.reset()
--
TRUNCATE booking.booking;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE booking.booking, booking.resource;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE booking.resource CASCADE;
\echo :LAST_ERROR_SQLSTATE

-- none of the refused statements changed anything
SELECT name, capacity, spots_reserved, timeline FROM booking.resource ORDER BY id;
SELECT count(*) AS bookings FROM booking.booking;

--
-- reset(): deletes bookings through the engine and says how many
--
SELECT booking.reset(:gym) AS deleted;
SELECT name, capacity, spots_reserved FROM booking.resource ORDER BY id;
SELECT booking.reset(999) AS deleted;
SELECT booking.reset() AS deleted;
SELECT name, capacity, spots_reserved FROM booking.resource ORDER BY id;
SELECT count(*) AS bookings FROM booking.booking;
-- with nothing reserved, capacity may drop to 0
UPDATE booking.resource SET capacity = 0 WHERE id = :gym;
SELECT name, capacity, spots_reserved FROM booking.resource ORDER BY id;

SELECT * FROM booking.verify();
