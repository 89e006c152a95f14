--
-- Timeline resources: capacity at every instant over the bookings' ranges, widened by the
-- buffers; capacity 1 is slot uniqueness, capacity k lets k overlap; blocks take the whole
-- capacity; a reschedule is judged as one step.  The errors right after each rule.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

-- (auto_promote off on the room: its waiting row below is promoted by hand; see waitlist.sql)
INSERT INTO booking.resource (name, capacity, timeline, buffer_before, buffer_after, auto_promote) VALUES
	('therapy room', 1, true, '0', '15 minutes', false),
	('tennis court', 3, true, '0', '0', true),
	('yoga class', 10, false, '0', '0', true);
SELECT id AS room FROM booking.resource WHERE name = 'therapy room' \gset
SELECT id AS court FROM booking.resource WHERE name = 'tennis court' \gset
SELECT id AS yoga FROM booking.resource WHERE name = 'yoga class' \gset

-- capacity 1: one slot, and the 15-minute buffer after it
SELECT ok, status, available, reason FROM booking.book_slot(:room, 1, '[2026-12-01 10:00, 2026-12-01 11:00)', 'ann');
SELECT ok, status, available, reason FROM booking.book_slot(:room, 1, '[2026-12-01 10:30, 2026-12-01 11:30)', 'ben');
SELECT ok, status, available, reason FROM booking.book_slot(:room, 1, '[2026-12-01 11:00, 2026-12-01 12:00)', 'ben');
SELECT ok, status, available, reason FROM booking.book_slot(:room, 1, '[2026-12-01 11:15, 2026-12-01 12:00)', 'ben');
-- the buffer stacks before a booking too: 09:00-09:45 would run into ann's slot with its buffer
SELECT ok, reason FROM booking.book_slot(:room, 1, '[2026-12-01 09:00, 2026-12-01 09:50)', 'cat');
SELECT ok, reason FROM booking.book_slot(:room, 1, '[2026-12-01 09:00, 2026-12-01 09:45)', 'cat');
SELECT holder, during FROM booking.booking WHERE resource_id = :room ORDER BY lower(during);

-- a direct INSERT that overlaps: 23P01 on booking_no_overlap, naming the booking in the way
INSERT INTO booking.booking (resource_id, holder, during) VALUES (:room, 'orm', '[2026-12-01 10:50, 2026-12-01 11:05)');
\echo :LAST_ERROR_SQLSTATE
-- what a driver sees of it: the SQLSTATE, the table and the constraint
DO $$
DECLARE
	st text; tab text; con text;
BEGIN
	INSERT INTO booking.booking (resource_id, holder, during)
	VALUES ((SELECT id FROM booking.resource WHERE name = 'therapy room'), 'orm',
			'[2026-12-01 10:50, 2026-12-01 11:05)');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, tab = TABLE_NAME, con = CONSTRAINT_NAME;
	RAISE NOTICE 'sqlstate %, table %, constraint %', st, tab, con;
END
$$;

-- a reschedule is one step: ann's own old range does not block her new one
UPDATE booking.booking SET during = '[2026-12-01 10:05, 2026-12-01 11:00)' WHERE holder = 'ann';
-- but it may not run into ben's slot
UPDATE booking.booking SET during = '[2026-12-01 10:05, 2026-12-01 11:05)' WHERE holder = 'ann';
\echo :LAST_ERROR_SQLSTATE
-- cancelling frees the slot; a waitlisted booking for it is admitted again when it takes it
SELECT status FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'ann'));
INSERT INTO booking.booking (resource_id, holder, during, status)
VALUES (:room, 'ann2', '[2026-12-01 10:05, 2026-12-01 11:00)', 'waitlisted');
SELECT ok FROM booking.book_slot(:room, 1, '[2026-12-01 10:00, 2026-12-01 10:30)', 'dan');
UPDATE booking.booking SET status = 'confirmed' WHERE holder = 'ann2';
\echo :LAST_ERROR_SQLSTATE

-- capacity 3: three may overlap, the fourth may not, and the check is at every instant
SELECT ok, available FROM booking.book_slot(:court, 2, '[2026-12-01 10:00, 2026-12-01 11:00)', 'team a');
SELECT ok, available FROM booking.book_slot(:court, 1, '[2026-12-01 10:30, 2026-12-01 11:30)', 'eve');
SELECT ok, available, reason FROM booking.book_slot(:court, 1, '[2026-12-01 10:45, 2026-12-01 10:50)', 'fay');
SELECT ok, available FROM booking.book_slot(:court, 2, '[2026-12-01 11:00, 2026-12-01 12:00)', 'team b');
SELECT ok, available, reason FROM booking.book_slot(:court, 1, '[2026-12-01 11:15, 2026-12-01 11:20)', 'gil');
-- growing a booking is judged too
UPDATE booking.booking SET spots = 3 WHERE holder = 'team a';
\echo :LAST_ERROR_SQLSTATE
-- the least free spots over a range
SELECT booking.availability(:court, '[2026-12-01 09:00, 2026-12-01 10:00)') AS before_ten,
       booking.availability(:court, '[2026-12-01 10:00, 2026-12-01 11:00)') AS ten_to_eleven,
       booking.availability(:court, '[2026-12-01 11:30, 2026-12-01 12:00)') AS after_half_past;

-- a block takes the whole capacity; a booking that meets it is refused and names it
INSERT INTO booking.booking (resource_id, holder, during, kind, source, external_id)
VALUES (:court, 'calendar', '[2026-12-01 14:00, 2026-12-01 15:00)', 'block', 'google', 'evt-1');
SELECT ok, available, reason FROM booking.book_slot(:court, 1, '[2026-12-01 14:30, 2026-12-01 14:45)', 'hal');
INSERT INTO booking.booking (resource_id, holder, during) VALUES (:court, 'orm', '[2026-12-01 14:59, 2026-12-01 15:30)');
\echo :LAST_ERROR_SQLSTATE

-- moving a booking to another timeline resource is admitted there
UPDATE booking.booking SET resource_id = :room WHERE holder = 'eve';
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET resource_id = :room, during = '[2026-12-02 10:00, 2026-12-02 11:00)' WHERE holder = 'eve';
SELECT holder, resource_id = :room AS in_room, during FROM booking.booking WHERE holder = 'eve';

-- ranges: required, bounded and not empty on a timeline resource, absent on a pool resource
SELECT ok FROM booking.book_slot(:room, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ok FROM booking.book_slot(:room, 1, 'empty');
\echo :LAST_ERROR_SQLSTATE
SELECT ok FROM booking.book_slot(:room, 1, '[2026-12-03 10:00,)');
\echo :LAST_ERROR_SQLSTATE
SELECT ok FROM booking.book_slot(:yoga, 1, '[2026-12-03 10:00, 2026-12-03 11:00)');
\echo :LAST_ERROR_SQLSTATE
SELECT booking.availability(:room);
\echo :LAST_ERROR_SQLSTATE

-- the resource's rule: lowering capacity or widening a buffer under existing bookings is 23514,
-- switching rule with bookings is 55000, loosening is fine
UPDATE booking.resource SET capacity = 1 WHERE id = :court;
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.resource SET buffer_after = '1 hour' WHERE id = :room;
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.resource SET timeline = false WHERE id = :room;
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.resource SET capacity = 4, buffer_after = '0' WHERE id = :court;

-- time zones: the same instants whatever the session's zone, across a daylight-saving change
-- (Europe/Berlin leaves summer time at 03:00 on 2026-10-25: 02:00-03:00 happens twice)
SET timezone = 'Europe/Berlin';
SELECT ok FROM booking.book_slot(:room, 1, '[2026-10-25 01:30+02, 2026-10-25 02:30+01)', 'night owl');
SET timezone = 'America/New_York';
-- 2026-10-24 20:00 in New York is 02:00+02 in Berlin, inside the booking above
SELECT ok, reason FROM booking.book_slot(:room, 1, '[2026-10-24 20:00, 2026-10-24 20:10)', 'early bird');
SELECT ok, reason FROM booking.book_slot(:room, 1, '[2026-10-24 21:45, 2026-10-24 22:00)', 'early bird');
SET timezone = 'UTC';
SELECT holder, during FROM booking.booking WHERE holder IN ('night owl', 'early bird') ORDER BY lower(during);

-- a timeline resource keeps no counter (spots_reserved stays 0); verify() checks every instant
-- from the rows
SELECT name, capacity, spots_reserved FROM booking.resource ORDER BY id;
SELECT * FROM booking.verify();
-- with the triggers off, an overlap slips in; verify() reports it
SET session_replication_role = replica;
INSERT INTO booking.booking (resource_id, holder, during) VALUES (:room, 'sneak', '[2026-12-02 10:30, 2026-12-02 10:45)');
RESET session_replication_role;
SELECT pair, resource_id = :room AS room, capacity, counted, problem FROM booking.verify();
-- deleted with the triggers on, it leaves no trace; repair() has nothing to do
DELETE FROM booking.booking WHERE holder = 'sneak';
SELECT * FROM booking.repair();
SELECT * FROM booking.verify();
-- a timeline counter written with the triggers off is reported, and repair() puts it back to 0
SET session_replication_role = replica;
UPDATE booking.resource SET spots_reserved = 3 WHERE id = :room;
RESET session_replication_role;
SELECT pair, resource_id = :room AS room, spots_reserved, counted, problem FROM booking.verify();
SELECT pair, resource_id = :room AS room, old_reserved, new_reserved FROM booking.repair();
SELECT * FROM booking.verify();
