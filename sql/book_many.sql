--
-- book_many(): several resources (seats side by side) all or nothing, under one group_id; the
-- result says which resource refused.  A group's hold is confirmed, released or extended as one.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

-- six seats of one row, one place each, and two meeting rooms
INSERT INTO booking.resource (name, capacity)
SELECT 'seat A' || g, 1 FROM generate_series(1, 6) g;
INSERT INTO booking.resource (name, capacity, timeline) VALUES ('room 1', 1, true), ('room 2', 1, true);

-- three seats at once: one row per seat, all booked, one group
SELECT ok, booking_id, status, resource_id, available, reason
FROM booking.book_many(ARRAY[3, 1, 2], holder => 'ann');
SELECT resource_id, holder, status, group_id IS NOT NULL AS grouped,
       count(*) OVER (PARTITION BY group_id) AS in_group
FROM booking.booking ORDER BY resource_id;

-- seats 3 and 4: seat 3 is taken, so neither is booked; the row of seat 3 says why
SELECT ok, booking_id, resource_id, available, reason FROM booking.book_many(ARRAY[4, 3], holder => 'ben');
SELECT count(*) AS rows_of_ben FROM booking.booking WHERE holder = 'ben';
SELECT id, spots_reserved FROM booking.resource WHERE id <= 6 ORDER BY id;

-- a group's hold: one token for every row; confirming one row confirms the group
CREATE TEMP TABLE cart AS
SELECT * FROM booking.book_many(ARRAY[4, 5], holder => 'cat', hold => '10 minutes');
SELECT ok, status, resource_id FROM cart ORDER BY resource_id;
SELECT count(DISTINCT hold_token) AS tokens, count(DISTINCT expires_at) AS expiries FROM cart;
SELECT holder, resource_id, status FROM booking.confirm((SELECT min(booking_id) FROM cart),
                                                        (SELECT min(hold_token::text)::uuid FROM cart))
ORDER BY resource_id;

-- releasing one row of a held group releases the group
CREATE TEMP TABLE cart2 AS
SELECT * FROM booking.book_many(ARRAY[6], holder => 'dan', hold => '10 minutes');
SELECT holder, status FROM booking.release((SELECT booking_id FROM cart2), (SELECT hold_token FROM cart2));
SELECT id, spots_reserved FROM booking.resource WHERE id <= 6 ORDER BY id;

-- extend acts on the group too
CREATE TEMP TABLE cart3 AS
SELECT * FROM booking.book_many(ARRAY[6, 3], holder => 'eve', hold => '5 minutes');
SELECT ok, resource_id, reason FROM cart3 ORDER BY resource_id;
UPDATE booking.booking SET status = 'cancelled' WHERE holder = 'ann' AND resource_id = 3;
DROP TABLE cart3;
CREATE TEMP TABLE cart3 AS
SELECT * FROM booking.book_many(ARRAY[6, 3], holder => 'eve', hold => '5 minutes');
SELECT resource_id, expires_at - created_at AS life
FROM booking.extend((SELECT min(booking_id) FROM cart3), (SELECT min(hold_token::text)::uuid FROM cart3), '10 minutes')
ORDER BY resource_id;
-- every resource's max_hold counts for a group: seat 6 allows 20 minutes in all (22023), even
-- when the row named is seat 3's, which has no limit
UPDATE booking.resource SET max_hold = '20 minutes' WHERE id = 6;
SELECT * FROM booking.extend((SELECT min(booking_id) FROM cart3), (SELECT min(hold_token::text)::uuid FROM cart3), '10 minutes');
\echo :LAST_ERROR_SQLSTATE
-- a new group's hold is judged against every member's max_hold before anything is written, the
-- members in ascending order: 22023 names seat 6 though it is not the first, an unknown resource
-- before it is named instead (P0002), and nothing was booked or audited
SELECT count(*) AS bookings_before FROM booking.booking \gset
SELECT count(*) AS attempts_before FROM booking.attempt \gset
SELECT * FROM booking.book_many(ARRAY[6, 3], holder => 'hal', hold => '30 minutes');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_many(ARRAY[6, 3, 0], holder => 'hal', hold => '30 minutes');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_many(ARRAY[3, 6, 999999], holder => 'hal', hold => '30 minutes');
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT count(*) FROM booking.booking) - :bookings_before AS new_bookings,
       (SELECT count(*) FROM booking.attempt) - :attempts_before AS new_attempts;

-- timeline resources: the same range on both rooms, or neither; a conflict offers alternatives
SELECT ok, resource_id, status FROM booking.book_many(ARRAY[7, 8], 1, '[2030-04-01 09:00, 2030-04-01 10:00)', 'fay');
SELECT ok, resource_id, reason, alternatives
FROM booking.book_many(ARRAY[7, 8], 1, '[2030-04-01 09:30, 2030-04-01 10:30)', 'gus');

-- cancelling a group: cancel() of one row cancels that row alone; with whole_group, every live
-- row of the row's group goes at once (its resources locked first, in ascending id order), and
-- the rows already over stay as they are
SELECT status, resource_id FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'ann' AND resource_id = 2));
SELECT status, resource_id, meta->>'cancel_reason' AS reason
FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'ann' AND resource_id = 2),
                    'show moved', whole_group => true)
ORDER BY resource_id;
SELECT resource_id, status FROM booking.booking WHERE holder = 'ann' ORDER BY resource_id;
SELECT id, spots_reserved FROM booking.resource WHERE id <= 3 ORDER BY id;
-- fay's two rooms, both live: one call cancels both
SELECT status, resource_id FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'fay' AND resource_id = 8), whole_group => true)
ORDER BY resource_id;
-- nothing of the group is live any more: 55000 naming the row's status
SELECT * FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'ann' AND resource_id = 1), whole_group => true);
\echo :LAST_ERROR_SQLSTATE
-- a booking of no group: whole_group cancels just it
SELECT booking_id AS lone FROM booking.book_slot(2, holder => 'hal') \gset
SELECT status, resource_id, group_id FROM booking.cancel(:lone, whole_group => true);
SELECT * FROM booking.cancel(424242, whole_group => true);
\echo :LAST_ERROR_SQLSTATE

-- errors, nothing written: NULL or empty list, a NULL in it, a seat twice, an unknown resource,
-- spots <= 0, a range on a pool
SELECT * FROM booking.book_many(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_many(ARRAY[]::bigint[]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_many(ARRAY[1, NULL]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_many(ARRAY[6, 6]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_many(ARRAY[998, 999]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_many(ARRAY[6], 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_many(ARRAY[6], 1, '[2030-04-01 09:00, 2030-04-01 10:00)');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS rows FROM booking.booking;

-- the audit: a row per booking made, or the one refusal
SELECT action, holder, resource_id, ok, reason, status FROM booking.attempt ORDER BY id;
SELECT * FROM booking.verify();
