--
-- book_slot(): confirms at once while spots are left, returns ok = false with reason 'full'
-- and the spots still free when they are not, and raises on misuse.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity) VALUES ('yoga', 10), ('closed', 0), ('spare', 5);
SELECT id AS yoga FROM booking.resource WHERE name = 'yoga' \gset
SELECT id AS closed FROM booking.resource WHERE name = 'closed' \gset
SELECT id AS spare FROM booking.resource WHERE name = 'spare' \gset

-- one spot by default, for the calling role, confirmed at once
SELECT * FROM booking.book_slot(:yoga);
SELECT holder = current_user AS holder_is_caller, spots, status, during IS NULL AS no_range, meta
FROM booking.booking ORDER BY id;

-- several spots, another holder, application data
SELECT ok, booking_id, status, resource_id, spots, available, reason
FROM booking.book_slot(:yoga, spots => 4, holder => 'alice', meta => '{"channel": "web"}');

-- waitlist => false (the resource's own setting) is accepted
SELECT ok, booking_id, status, spots, available, reason
FROM booking.book_slot(:yoga, 2, holder => 'bob', waitlist => false);

SELECT id, holder, spots, status, meta FROM booking.booking WHERE holder <> current_user ORDER BY id;

-- 7 of 10 taken: 4 more do not fit; the refusal says how many are still free
SELECT * FROM booking.book_slot(:yoga, 4, holder => 'carol');
-- the last 3 fit exactly
SELECT ok, booking_id, status, spots, available, reason FROM booking.book_slot(:yoga, 3, holder => 'carol');
-- full: a single spot is refused
SELECT ok, booking_id, status, spots, available, reason FROM booking.book_slot(:yoga, 1, holder => 'dave');
-- more than the whole capacity is a refusal too, not an error
SELECT ok, booking_id, status, spots, available, reason FROM booking.book_slot(:spare, 6, holder => 'dave');
-- capacity 0 refuses everyone
SELECT ok, booking_id, status, spots, available, reason FROM booking.book_slot(:closed, holder => 'dave');

-- refusals wrote no booking and moved no counter
SELECT name, capacity, spots_reserved, booking.availability(id) AS available FROM booking.resource ORDER BY id;
SELECT resource_id, count(*) AS bookings, sum(spots) AS spots FROM booking.booking GROUP BY 1 ORDER BY 1;

--
-- Misuse raises, and changes nothing.
--
-- a required argument is NULL: 22004
SELECT * FROM booking.book_slot(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_slot(:spare, NULL);
\echo :LAST_ERROR_SQLSTATE
-- spots <= 0: 22023
SELECT * FROM booking.book_slot(:spare, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_slot(:spare, -2);
\echo :LAST_ERROR_SQLSTATE
-- unknown resource: P0002
SELECT * FROM booking.book_slot(999);
\echo :LAST_ERROR_SQLSTATE
-- a time range on a pool resource: 22023
SELECT * FROM booking.book_slot(:spare, 1, tstzrange('2030-01-01 10:00', '2030-01-01 11:00'));
\echo :LAST_ERROR_SQLSTATE
-- holds, keys and waitlists have files of their own: holds.sql, idempotency.sql, waitlist.sql

-- nothing changed: the spare resource is untouched, no booking was added
SELECT name, capacity, spots_reserved FROM booking.resource ORDER BY id;
SELECT count(*) AS bookings FROM booking.booking;

SELECT * FROM booking.verify();
