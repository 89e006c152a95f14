--
-- Timeline resources, looking for room: min_notice and max_horizon (too_soon, too_far), the
-- alternatives a refused book_slot() offers, and free_slots() for a booking page.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity, timeline, buffer_after) VALUES
	('consulting room', 1, true, '15 minutes');
INSERT INTO booking.resource (name, capacity, timeline, min_notice, max_horizon) VALUES
	('studio', 1, true, '2 hours', '30 days');
SELECT id AS room FROM booking.resource WHERE name = 'consulting room' \gset
SELECT id AS studio FROM booking.resource WHERE name = 'studio' \gset

-- notice and horizon, counted from the transaction's start
SELECT ok, reason FROM booking.book_slot(:studio, 1, tstzrange(now() + '1 hour', now() + '2 hours'), 'ann');
SELECT ok, reason FROM booking.book_slot(:studio, 1, tstzrange(now() + '3 hours', now() + '4 hours'), 'ann');
SELECT ok, reason FROM booking.book_slot(:studio, 1, tstzrange(now() + '31 days', now() + '31 days 1 hour'), 'ann');
SELECT action, ok, reason FROM booking.attempt ORDER BY id;
-- a direct write meets the same policy: 23514 on booking_notice / booking_horizon
\set VERBOSITY terse
INSERT INTO booking.booking (resource_id, holder, during) VALUES (:studio, 'orm', tstzrange(now() + '30 minutes', now() + '1 hour'));
\echo :LAST_ERROR_SQLSTATE
INSERT INTO booking.booking (resource_id, holder, during) VALUES (:studio, 'orm', tstzrange(now() + '40 days', now() + '40 days 1 hour'));
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
-- the policy is on new ranges: a booking already made may change status or spots
UPDATE booking.booking SET meta = '{"note": "kept"}' WHERE holder = 'ann';
SELECT count(*) AS ann_bookings FROM booking.booking WHERE holder = 'ann';

-- alternatives: the nearest free ranges of the same length, before and after, buffers included
SELECT ok FROM booking.book_slot(:room, 1, '[2026-12-01 10:00, 2026-12-01 11:00)', 'bea');
SELECT ok FROM booking.book_slot(:room, 1, '[2026-12-01 12:00, 2026-12-01 13:00)', 'bea');
SELECT ok, reason, alternatives FROM booking.book_slot(:room, 1, '[2026-12-01 10:30, 2026-12-01 11:30)', 'cy');
-- each alternative offered can be booked at once
SELECT ok FROM booking.book_slot(:room, 1, '[2026-12-01 08:45, 2026-12-01 09:45)', 'cy');
SELECT ok, reason, alternatives FROM booking.book_slot(:room, 1, '[2026-12-01 09:00, 2026-12-01 10:00)', 'dot');
-- a shorter request is offered ranges of its own length
SELECT ok, reason, alternatives FROM booking.book_slot(:room, 1, '[2026-12-01 11:00, 2026-12-01 11:30)', 'dot');

-- free_slots(): free ranges of a duration inside a range, on a grid (default: back to back)
SELECT slot FROM booking.free_slots(:room, '[2026-12-01 06:00, 2026-12-01 16:00)', '1 hour');
SELECT slot FROM booking.free_slots(:room, '[2026-12-01 06:00, 2026-12-01 16:00)', '1 hour', step => '30 minutes', max => 5);
SELECT count(*) FROM booking.free_slots(:room, '[2026-12-01 06:00, 2026-12-01 16:00)', '90 minutes', step => '15 minutes');
-- and its errors
SELECT * FROM booking.free_slots(:room, '[2026-12-01 06:00,)', '1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.free_slots(:room, '[2026-12-01 06:00, 2026-12-01 16:00)', '0');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.free_slots(:room, '[2026-12-01 06:00, 2026-12-01 16:00)', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.free_slots(424242, '[2026-12-01 06:00, 2026-12-01 16:00)', '1 hour');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO booking.resource (name, capacity) VALUES ('pool', 3);
SELECT * FROM booking.free_slots((SELECT id FROM booking.resource WHERE name = 'pool'), '[2026-12-01 06:00, 2026-12-01 16:00)', '1 hour');
\echo :LAST_ERROR_SQLSTATE

-- alternatives far off: the search looks near the range first (half a day here) and goes out to a
-- week when that gives fewer than three; one free hour 2 hours before, then 13 hours before and
-- 60 hours after the range asked for
INSERT INTO booking.resource (name, capacity, timeline) VALUES ('theatre', 1, true);
SELECT id AS theatre FROM booking.resource WHERE name = 'theatre' \gset
SELECT ok FROM booking.book_slot(:theatre, 1, '[2027-03-01 00:00, 2027-03-01 10:00)', 'troupe');
SELECT ok FROM booking.book_slot(:theatre, 1, '[2027-03-01 11:00, 2027-03-04 00:00)', 'troupe');
SELECT ok, reason, alternatives FROM booking.book_slot(:theatre, 1, '[2027-03-01 12:00, 2027-03-01 13:00)', 'solo');

SELECT * FROM booking.verify();
