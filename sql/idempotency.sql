--
-- Idempotency: one (holder, idempotency_key) is one booking.  A retry returns the booking the
-- key made, as it stands; the same key for another request is 22023; a refused request made no
-- booking, so its retry asks again.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity) VALUES ('ferry', 3);
INSERT INTO booking.resource (name, capacity, timeline) VALUES ('court', 1, true);
SELECT id AS ferry FROM booking.resource WHERE name = 'ferry' \gset
SELECT id AS court FROM booking.resource WHERE name = 'court' \gset

-- the first call books; its retries return the same booking and book nothing more
SELECT ok, booking_id, status, spots, available
FROM booking.book_slot(:ferry, 2, holder => 'ann', idempotency_key => 'order-1');
SELECT ok, booking_id, status, spots
FROM booking.book_slot(:ferry, 2, holder => 'ann', idempotency_key => 'order-1');
SELECT ok, booking_id, status, spots
FROM booking.book_slot(:ferry, 2, holder => 'ann', idempotency_key => 'order-1');
SELECT count(*) AS rows, sum(spots) AS spots FROM booking.booking;
SELECT spots_reserved FROM booking.resource WHERE id = :ferry;

-- the same key for another request: 22023, nothing written
SELECT * FROM booking.book_slot(:ferry, 1, holder => 'ann', idempotency_key => 'order-1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_slot(:court, 2, holder => 'ann', idempotency_key => 'order-1');
\echo :LAST_ERROR_SQLSTATE
-- keys belong to a holder: ben's order-1 is another booking
SELECT ok, booking_id, spots FROM booking.book_slot(:ferry, 1, holder => 'ben', idempotency_key => 'order-1');
SELECT count(*) AS rows FROM booking.booking;

-- a refused request made no booking: once there is room, its retry books
SELECT ok, reason FROM booking.book_slot(:ferry, 1, holder => 'cat', idempotency_key => 'order-7');
SELECT holder, status FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'ben'));
SELECT ok, status, booking_id IS NOT NULL AS booked
FROM booking.book_slot(:ferry, 1, holder => 'cat', idempotency_key => 'order-7');
SELECT ok, status FROM booking.book_slot(:ferry, 1, holder => 'cat', idempotency_key => 'order-7');

-- a retry after the booking was cancelled returns it as it stands now
SELECT holder, status FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'cat'));
SELECT ok, status FROM booking.book_slot(:ferry, 1, holder => 'cat', idempotency_key => 'order-7');

-- a hold: the retry returns it with a new token, which replaces the first
CREATE TEMP TABLE first_try AS
SELECT * FROM booking.book_slot(:ferry, 1, holder => 'dan', hold => '10 minutes', idempotency_key => 'cart-9');
CREATE TEMP TABLE second_try AS
SELECT * FROM booking.book_slot(:ferry, 1, holder => 'dan', hold => '10 minutes', idempotency_key => 'cart-9');
SELECT f.booking_id = s.booking_id AS same_booking, s.status, f.expires_at = s.expires_at AS same_expiry,
       f.hold_token <> s.hold_token AS new_token
FROM first_try f, second_try s;
SELECT * FROM booking.confirm((SELECT booking_id FROM first_try), (SELECT hold_token FROM first_try));
\echo :LAST_ERROR_SQLSTATE
SELECT holder, status FROM booking.confirm((SELECT booking_id FROM second_try), (SELECT hold_token FROM second_try));

-- on a timeline resource the range is part of the request
SELECT ok, status FROM booking.book_slot(:court, 1, '[2030-03-01 09:00, 2030-03-01 10:00)', 'eve',
                                         idempotency_key => 'slot-1');
SELECT ok, status FROM booking.book_slot(:court, 1, '[2030-03-01 09:00, 2030-03-01 10:00)', 'eve',
                                         idempotency_key => 'slot-1');
SELECT * FROM booking.book_slot(:court, 1, '[2030-03-01 10:00, 2030-03-01 11:00)', 'eve',
                                idempotency_key => 'slot-1');
\echo :LAST_ERROR_SQLSTATE

-- a direct INSERT that reuses a holder's key is refused by the unique index (23505)
INSERT INTO booking.booking (resource_id, holder, idempotency_key, status)
VALUES (:ferry, 'ann', 'order-1', 'waitlisted');
\echo :LAST_ERROR_SQLSTATE

-- the audit: the first call is a 'book', each retry a 'replay', all with their key
SELECT action, holder, ok, reason, status, idempotency_key FROM booking.attempt ORDER BY id;
SELECT * FROM booking.verify();
