--
-- availability(): capacity less reserved, never below 0, as the caller's snapshot sees it.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity) VALUES ('pottery', 8), ('sold out', 0);
SELECT id AS pottery FROM booking.resource WHERE name = 'pottery' \gset
SELECT id AS soldout FROM booking.resource WHERE name = 'sold out' \gset

SELECT booking.availability(:pottery) AS pottery, booking.availability(:soldout) AS sold_out;
SELECT ok, available FROM booking.book_slot(:pottery, 3, holder => 'ann');
SELECT booking.availability(:pottery);
-- direct writes count the same
INSERT INTO booking.booking (resource_id, holder, spots) VALUES (:pottery, 'ben', 4);
SELECT booking.availability(:pottery);
-- the argument may be named, and the range left out explicitly
SELECT booking.availability(resource_id => :pottery, during => NULL);
-- it agrees with what book_slot() reports
SELECT ok, available, reason FROM booking.book_slot(:pottery, 2, holder => 'cat');
SELECT ok, available, reason FROM booking.book_slot(:pottery, 1, holder => 'cat');
SELECT booking.availability(:pottery);
-- cancelling gives the spots back
UPDATE booking.booking SET status = 'cancelled' WHERE holder = 'ben';
SELECT booking.availability(:pottery);
-- capacity raised
UPDATE booking.resource SET capacity = 12 WHERE id = :pottery;
SELECT booking.availability(:pottery);

-- a transaction's own bookings are seen by its own snapshot, and gone after a rollback
BEGIN;
SELECT ok, available FROM booking.book_slot(:pottery, 5, holder => 'dan');
SELECT booking.availability(:pottery);
ROLLBACK;
SELECT booking.availability(:pottery);

-- one row per resource
SELECT name, capacity, spots_reserved, booking.availability(id) FROM booking.resource ORDER BY id;

-- never below 0: a counter over capacity (broken on purpose, triggers off) reads as 0 free
SET session_replication_role = replica;
UPDATE booking.resource SET capacity = 2 WHERE id = :pottery;
RESET session_replication_role;
SELECT capacity, spots_reserved, booking.availability(id) FROM booking.resource WHERE id = :pottery;
SET session_replication_role = replica;
UPDATE booking.resource SET capacity = 12 WHERE id = :pottery;
RESET session_replication_role;
SELECT capacity, spots_reserved, booking.availability(id) FROM booking.resource WHERE id = :pottery;

--
-- Errors
--
-- a NULL resource: 22004
SELECT booking.availability(NULL);
\echo :LAST_ERROR_SQLSTATE
-- an unknown resource: P0002
SELECT booking.availability(999);
\echo :LAST_ERROR_SQLSTATE
-- a time range on a pool resource: 22023
SELECT booking.availability(:pottery, tstzrange('2030-01-01 10:00', '2030-01-01 11:00'));
\echo :LAST_ERROR_SQLSTATE

SELECT * FROM booking.verify();
