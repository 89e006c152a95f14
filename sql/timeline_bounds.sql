--
-- Timeline resources: the bounds of the overlap search.  The engine finds the rows near a range
-- through a btree on each row's start, from the range's start less the longest range of that
-- kind on the resource (resource.longest_booking, longest_block).  A row longer than every one
-- before it raises the bound before it is written; verify() reports a bound below a row's range
-- (a row written with the triggers off), repair() raises it.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity, timeline) VALUES ('hall', 1, true);
INSERT INTO booking.resource (name, capacity, timeline, waitlist) VALUES ('court', 1, true, true);
INSERT INTO booking.resource (name, capacity, timeline) VALUES ('cabin', 1, true);
SELECT id AS hall FROM booking.resource WHERE name = 'hall' \gset
SELECT id AS court FROM booking.resource WHERE name = 'court' \gset
SELECT id AS cabin FROM booking.resource WHERE name = 'cabin' \gset

-- a new resource starts with no bounds; each longer booking raises its kind's bound
SELECT name, longest_booking, longest_block FROM booking.resource ORDER BY id;
SELECT ok FROM booking.book_slot(:hall, 1, '[2026-12-01 10:00, 2026-12-01 11:00)', 'ann');
SELECT ok FROM booking.book_slot(:hall, 1, '[2026-12-01 12:00, 2026-12-01 12:30)', 'ann');
SELECT longest_booking, longest_block FROM booking.resource WHERE id = :hall;
-- a three-day booking, then short requests inside it, far from its start: each finds it
SELECT ok FROM booking.book_slot(:hall, 1, '[2026-12-10 00:00, 2026-12-13 00:00)', 'bea');
SELECT longest_booking, longest_block FROM booking.resource WHERE id = :hall;
SELECT ok, reason FROM booking.book_slot(:hall, 1, '[2026-12-12 20:00, 2026-12-12 21:00)', 'cy');
SELECT ok, reason FROM booking.book_slot(:hall, 1, '[2026-12-12 23:59:59.999999, 2026-12-13 01:00)', 'cy');
SELECT ok, reason FROM booking.book_slot(:hall, 1, '[2026-12-13 00:00, 2026-12-13 01:00)', 'cy');
-- a range closed at its upper end covers that instant too
SELECT ok FROM booking.book_slot(:hall, 1, '[2026-12-20 00:00, 2026-12-22 00:00]', 'dot');
SELECT ok, reason FROM booking.book_slot(:hall, 1, '[2026-12-22 00:00, 2026-12-22 01:00)', 'dot');
-- direct writes raise it too, and a reschedule that lengthens a booking (a refused one does not)
\set VERBOSITY terse
INSERT INTO booking.booking (resource_id, holder, during)
	VALUES (:hall, 'orm', '[2027-01-01 00:00, 2027-01-05 00:00)');
SELECT longest_booking FROM booking.resource WHERE id = :hall;
INSERT INTO booking.booking (resource_id, holder, during)
	VALUES (:hall, 'orm', '[2027-01-04 12:00, 2027-01-04 13:00)');
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET during = '[2026-12-02 12:00, 2026-12-10 12:00)'
	WHERE holder = 'ann' AND lower(during) = '2026-12-01 12:00';
\echo :LAST_ERROR_SQLSTATE
SELECT longest_booking FROM booking.resource WHERE id = :hall;
UPDATE booking.booking SET during = '[2026-12-02 12:00, 2026-12-09 12:00)'
	WHERE holder = 'ann' AND lower(during) = '2026-12-01 12:00';
SELECT longest_booking FROM booking.resource WHERE id = :hall;
SELECT ok, reason FROM booking.book_slot(:hall, 1, '[2026-12-09 09:00, 2026-12-09 09:30)', 'cy');
-- the bound is the engine's: a direct write of it is refused, and it is never lowered
UPDATE booking.resource SET longest_booking = '1 hour' WHERE id = :hall;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
DELETE FROM booking.booking WHERE resource_id = :hall AND holder = 'orm';
SELECT longest_booking FROM booking.resource WHERE id = :hall;

-- blocks have their own bound: a two-week holiday leaves the bookings' bound alone
SELECT ok FROM booking.book_slot(:cabin, 1, '[2026-12-01 10:00, 2026-12-01 11:00)', 'eve');
SELECT * FROM booking.sync_blocks(:cabin, 'ical',
	'[{"external_id": "xmas", "during": "[2026-12-20, 2027-01-03)"}]');
SELECT longest_booking, longest_block FROM booking.resource WHERE id = :cabin;
SELECT ok, reason FROM booking.book_slot(:cabin, 1, '[2027-01-02 10:00, 2027-01-02 11:00)', 'eve');
SELECT ok, reason FROM booking.book_slot(:cabin, 1, '[2027-01-03 00:00, 2027-01-03 01:00)', 'eve');

-- a waiting row is covered too: a later request inside its range waits behind it
SELECT ok FROM booking.book_slot(:court, 1, '[2026-12-01 10:00, 2026-12-01 11:00)', 'fay');
SELECT ok, status, waitlist_position FROM booking.book_slot(:court, 1, '[2026-12-01 09:00, 2026-12-01 20:00)', 'gus');
SELECT longest_booking FROM booking.resource WHERE id = :court;
SELECT ok, status, waitlist_position FROM booking.book_slot(:court, 1, '[2026-12-01 18:00, 2026-12-01 19:00)', 'hal');
SELECT holder, status, during FROM booking.booking WHERE resource_id = :court ORDER BY id;

-- a row written with the triggers off can be longer than the bound: verify() says so, and
-- repair() raises the bound, after which the search finds the row again
SET session_replication_role = replica;
INSERT INTO booking.booking (resource_id, holder, during)
	VALUES (:cabin, 'restored', '[2027-02-01 00:00, 2027-02-06 00:00)');
RESET session_replication_role;
SELECT pair, resource_id, problem FROM booking.verify();
SELECT pair, resource_id, old_reserved, new_reserved FROM booking.repair();
SELECT longest_booking, longest_block FROM booking.resource WHERE id = :cabin;
SELECT pair, resource_id, problem FROM booking.verify();
SELECT ok, reason FROM booking.book_slot(:cabin, 1, '[2027-02-05 10:00, 2027-02-05 11:00)', 'eve');

-- a capacity lowered is judged over every row, whatever the bounds
UPDATE booking.resource SET capacity = 2 WHERE id = :hall;
SELECT ok FROM booking.book_slot(:hall, 1, '[2026-12-11 00:00, 2026-12-11 01:00)', 'ivy');
\set VERBOSITY terse
UPDATE booking.resource SET capacity = 1 WHERE id = :hall;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT * FROM booking.verify();
