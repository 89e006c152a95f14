--
-- cancel(): marks a booking cancelled, frees its spots, records the reason, returns the row;
-- refuses what is already over, and raises on misuse.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

-- (auto_promote off: the waiting row below is a list entry, not a queue; see waitlist.sql)
INSERT INTO booking.resource (name, capacity, auto_promote) VALUES ('concert', 4, false);
SELECT id AS concert FROM booking.resource WHERE name = 'concert' \gset

SELECT booking_id AS b_ann FROM booking.book_slot(:concert, 2, holder => 'ann') \gset
SELECT booking_id AS b_ben FROM booking.book_slot(:concert, 2, holder => 'ben', meta => '{"seat": "A7"}') \gset
SELECT ok, available, reason FROM booking.book_slot(:concert, 1, holder => 'cat');
SELECT spots_reserved FROM booking.resource WHERE id = :concert;

-- cancel returns the cancelled row; the reason goes into meta
SELECT id, resource_id, holder, spots, status, meta
FROM booking.cancel(:b_ann, 'changed plans');
SELECT spots_reserved FROM booking.resource WHERE id = :concert;
-- the freed spots are bookable again
SELECT ok, booking_id, available FROM booking.book_slot(:concert, 1, holder => 'cat');

-- without a reason, meta is left as it was
SELECT id, holder, status, meta FROM booking.cancel(:b_ben);
SELECT spots_reserved FROM booking.resource WHERE id = :concert;

-- more rows, written directly: pending, waitlisted, confirmed and held
INSERT INTO booking.booking (resource_id, holder, spots, status, meta) VALUES
	(:concert, 'dan', 1, 'pending', '{"seat": "B2"}'),
	(:concert, 'eve', 1, 'waitlisted', NULL),
	(:concert, 'fay', 1, 'confirmed', NULL),
	(:concert, 'gus', 1, 'held', NULL);
SELECT spots_reserved FROM booking.resource WHERE id = :concert;
SELECT id AS b_dan FROM booking.booking WHERE holder = 'dan' \gset
SELECT id AS b_eve FROM booking.booking WHERE holder = 'eve' \gset
SELECT id AS b_fay FROM booking.booking WHERE holder = 'fay' \gset
SELECT id AS b_gus FROM booking.booking WHERE holder = 'gus' \gset
-- a pending booking gives its spot back; its meta keeps the application's keys
SELECT holder, status, meta FROM booking.cancel(:b_dan, 'no payment');
-- a waitlisted entry takes no spot, so cancelling it frees none
SELECT holder, status, meta FROM booking.cancel(:b_eve);
SELECT spots_reserved FROM booking.resource WHERE id = :concert;
-- one completed, one expired (neither can be cancelled, below)
UPDATE booking.booking SET status = 'completed' WHERE id = :b_fay;
UPDATE booking.booking SET status = 'expired' WHERE id = :b_gus;
SELECT spots_reserved FROM booking.resource WHERE id = :concert;

SELECT holder, spots, status, meta FROM booking.booking ORDER BY id;

--
-- Errors
--
-- a NULL id: 22004
SELECT * FROM booking.cancel(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.cancel(NULL, 'why');
\echo :LAST_ERROR_SQLSTATE
-- an unknown booking: P0002
SELECT * FROM booking.cancel(999);
\echo :LAST_ERROR_SQLSTATE
-- already cancelled, expired or completed: 55000, with the status in the detail
SELECT * FROM booking.cancel(:b_ann);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.cancel(:b_ann, 'again');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.cancel(:b_gus);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.cancel(:b_fay);
\echo :LAST_ERROR_SQLSTATE

-- the refusals changed nothing: the first reason is still the one recorded
SELECT holder, spots, status, meta FROM booking.booking ORDER BY id;
SELECT spots_reserved FROM booking.resource WHERE id = :concert;

SELECT * FROM booking.verify();
