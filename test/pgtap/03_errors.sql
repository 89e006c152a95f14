/*
 * The errors of booking 0.1.0, by SQLSTATE (DESIGN.md's table): misuse of the functions, direct
 * writes that would break a rule, and what the error carries beside its code (table, constraint,
 * detail, hint).  Every refused statement must leave the counters as they were.
 */
BEGIN;
SELECT plan(51);

-- resource 9001 is full (2 of 2), 9002 is empty (0 of 5); 424242 does not exist.  9001's
-- waiting row is promoted by hand (auto_promote off), so that it does not hold the line.
INSERT INTO booking.resource (id, name, capacity, auto_promote)
VALUES (9001, 'pgtap full', 2, false), (9002, 'pgtap empty', 5, true);
SELECT lives_ok($$SELECT booking.book_slot(9001, 2, holder => 'pgtap')$$, 'book_slot() fills resource 9001');
SELECT lives_ok($$INSERT INTO booking.booking (resource_id, holder, status) VALUES (9001, 'pgtap-cancelled', 'cancelled')$$,
                'a cancelled row on the full resource');
SELECT lives_ok($$INSERT INTO booking.booking (resource_id, holder, status) VALUES (9001, 'pgtap-waiting', 'waitlisted')$$,
                'a waitlisted row on the full resource');

-- Returns "SQLSTATE | table | constraint | detail | hint" of the error sql raises (fields the
-- error does not carry left out), or 'no error'.
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	tab text;
	con text;
	det text;
	hint text;
BEGIN
	EXECUTE sql;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, tab = TABLE_NAME, con = CONSTRAINT_NAME,
		det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN concat_ws(' | ', st, nullif(tab, ''), nullif(con, ''), nullif(det, ''), nullif(hint, ''));
END
$$;

--
-- book_slot()
--
SELECT throws_ok('SELECT booking.book_slot(NULL)', '22004', 'resource_id must not be null',
                 'book_slot(): NULL resource_id is 22004');
SELECT throws_ok('SELECT booking.book_slot(9002, NULL)', '22004', 'spots must not be null',
                 'book_slot(): NULL spots is 22004');
SELECT throws_ok('SELECT booking.book_slot(9002, 0)', '22023', 'spots must be greater than zero',
                 'book_slot(): spots = 0 is 22023');
SELECT throws_ok('SELECT booking.book_slot(9002, -3)', '22023', 'spots must be greater than zero',
                 'book_slot(): spots < 0 is 22023');
SELECT throws_ok('SELECT booking.book_slot(424242)', 'P0002', 'resource 424242 does not exist',
                 'book_slot(): an unknown resource is P0002');
SELECT throws_ok($$SELECT booking.book_slot(9002, 1, tstzrange('2030-01-01 10:00+00', '2030-01-01 11:00+00'))$$,
                 '22023', NULL, 'book_slot(): a time range on a pool resource is 22023');
SELECT throws_ok($$SELECT booking.book_slot(9002, hold => '0 minutes')$$, '22023',
                 'hold must be a positive interval', 'book_slot(): a hold that is not positive is 22023');
SELECT throws_ok($$SELECT * FROM booking.promote((SELECT id FROM booking.booking WHERE holder = 'pgtap-cancelled'))$$,
                 '55000', NULL, 'promote(): a row that is not waiting is 55000');
SELECT throws_ok($$SELECT booking.book_slot(9002, 2, holder => 'pgtap-key', idempotency_key => 'k')
                   FROM booking.book_slot(9002, 1, holder => 'pgtap-key', idempotency_key => 'k')$$, '22023', NULL,
                 'book_slot(): one idempotency key for two different requests is 22023');
-- a full resource is an answer, not an error
SELECT is((SELECT (r.ok, r.booking_id, r.status, r.available, r.reason)::text FROM booking.book_slot(9001) AS r),
          '(f,,,0,full)', 'book_slot() on a full resource returns ok = false, reason full, available 0');
SELECT is((SELECT (r.ok, r.status, r.available, r.reason)::text FROM booking.book_slot(9002, 5) AS r),
          '(t,confirmed,0,)', 'book_slot() for the whole capacity confirms, available 0');
SELECT lives_ok('SELECT booking.reset(9002)', 'reset() empties resource 9002 again');

--
-- Direct writes on booking.booking
--
SELECT throws_ok($$INSERT INTO booking.booking (resource_id, holder) VALUES (9001, 'x')$$,
                 '23514', 'resource 9001 has not enough free spots', 'INSERT over capacity is 23514');
SELECT is(pg_temp.error_of($$INSERT INTO booking.booking (resource_id, holder) VALUES (9001, 'x')$$),
          '23514 | booking | booking_capacity | Capacity is 2, reserved is 2, requested is 1.',
          'the capacity error names table booking and constraint booking_capacity, with the figures');
SELECT throws_ok($$INSERT INTO booking.booking (resource_id, holder) VALUES (424242, 'x')$$,
                 '23503', 'resource 424242 does not exist', 'INSERT for an unknown resource is 23503');
SELECT throws_ok($$INSERT INTO booking.booking (resource_id, holder, spots) VALUES (9002, 'x', 0)$$,
                 '22023', 'spots must be greater than zero', 'INSERT with spots = 0 is 22023');
SELECT throws_ok($$INSERT INTO booking.booking (resource_id, holder, spots) VALUES (9002, 'x', NULL)$$,
                 '23502', 'spots must not be null', 'INSERT with spots NULL is 23502');
SELECT throws_ok($$INSERT INTO booking.booking (resource_id, holder, during)
                   VALUES (9002, 'x', tstzrange('2030-01-01 10:00+00', '2030-01-01 11:00+00'))$$,
                 '22023', NULL, 'INSERT of a consuming row with a time range on a pool resource is 22023');
SELECT throws_ok($$UPDATE booking.booking SET status = 'confirmed' WHERE holder = 'pgtap-cancelled'$$,
                 '55000', NULL, 'UPDATE of a cancelled booking back to confirmed is 55000 (cancelled is final)');
SELECT throws_ok($$UPDATE booking.booking SET status = 'confirmed' WHERE holder = 'pgtap-waiting'$$,
                 '23514', NULL, 'UPDATE of status into a consuming one on a full resource is 23514');
SELECT throws_ok($$UPDATE booking.booking SET spots = 3 WHERE holder = 'pgtap' AND resource_id = 9001$$,
                 '23514', NULL, 'UPDATE of spots beyond capacity is 23514');
SELECT throws_ok($$UPDATE booking.booking SET spots = 0 WHERE holder = 'pgtap' AND resource_id = 9001$$,
                 '22023', NULL, 'UPDATE of spots to 0 is 22023');
SELECT throws_ok($$UPDATE booking.booking SET resource_id = 424242 WHERE holder = 'pgtap' AND resource_id = 9001$$,
                 '23503', NULL, 'UPDATE of resource_id to an unknown resource is 23503');
SELECT lives_ok($$UPDATE booking.booking SET resource_id = 9002 WHERE holder = 'pgtap' AND resource_id = 9001$$,
                'a move to a resource with room succeeds');
SELECT lives_ok($$UPDATE booking.booking SET resource_id = 9001 WHERE holder = 'pgtap' AND resource_id = 9002$$,
                'and back');
SELECT lives_ok($$INSERT INTO booking.booking (resource_id, holder, spots) VALUES (9002, 'pgtap-big', 5)$$,
                'fill resource 9002');
SELECT throws_ok($$UPDATE booking.booking SET resource_id = 9002 WHERE holder = 'pgtap' AND resource_id = 9001$$,
                 '23514', 'resource 9002 has not enough free spots', 'a move to a full resource is 23514');
SELECT lives_ok($$DELETE FROM booking.booking WHERE holder = 'pgtap-big'$$, 'DELETE frees resource 9002');

-- holds: the token opens them, once
SELECT lives_ok($$CREATE TEMP TABLE pgtap_hold AS
                  SELECT * FROM booking.book_slot(9002, 1, holder => 'pgtap-hold', hold => '5 minutes')$$,
                'a hold on resource 9002');
SELECT throws_ok($$SELECT * FROM booking.confirm((SELECT booking_id FROM pgtap_hold), gen_random_uuid())$$,
                 '42501', NULL, 'confirm() with another token is 42501');
SELECT lives_ok($$SELECT * FROM booking.release((SELECT booking_id FROM pgtap_hold), (SELECT hold_token FROM pgtap_hold))$$,
                'release() with its token');
SELECT throws_ok($$SELECT * FROM booking.confirm((SELECT booking_id FROM pgtap_hold), (SELECT hold_token FROM pgtap_hold))$$,
                 '55000', NULL, 'confirm() of a released hold is 55000');

--
-- booking.resource
--
SELECT throws_ok('UPDATE booking.resource SET spots_reserved = 0 WHERE id = 9001', '428C9', NULL,
                 'a direct write of spots_reserved is 428C9');
SELECT throws_ok('UPDATE booking.resource SET capacity = 1 WHERE id = 9001', '23514',
                 'capacity of resource 9001 cannot be lower than its reserved spots',
                 'capacity below what is reserved is 23514');
SELECT is(pg_temp.error_of('UPDATE booking.resource SET capacity = 1 WHERE id = 9001'),
          '23514 | resource | booking_capacity | Capacity would be 1, reserved is 2.',
          'the capacity error names table resource and constraint booking_capacity, with the figures');
SELECT throws_ok($$UPDATE booking.resource SET timeline = true WHERE id = 9001$$,
                 '55000', NULL, 'a pool resource with bookings cannot become a timeline resource: 55000');
SELECT throws_ok('TRUNCATE booking.booking', '0A000', 'cannot truncate table booking',
                 'TRUNCATE booking.booking is 0A000');
SELECT ok(pg_temp.error_of('TRUNCATE booking.booking') LIKE '0A000 | % | Use booking.reset() %',
          'the TRUNCATE error points to booking.reset()');
SELECT throws_ok('TRUNCATE booking.resource, booking.booking', '0A000', NULL,
                 'TRUNCATE booking.resource is 0A000');

--
-- cancel() and availability()
--
SELECT throws_ok('SELECT * FROM booking.cancel(NULL)', '22004', 'booking_id must not be null',
                 'cancel(): NULL id is 22004');
SELECT throws_ok('SELECT * FROM booking.cancel(424242)', 'P0002', 'booking 424242 does not exist',
                 'cancel(): an unknown booking is P0002');
SELECT throws_ok($$SELECT * FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'pgtap-cancelled'))$$,
                 '55000', NULL, 'cancel(): a cancelled booking is 55000');
SELECT is(pg_temp.error_of($$SELECT * FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'pgtap-cancelled'))$$),
            '55000 | Its status is cancelled.', 'the 55000 detail gives the current status');
SELECT throws_ok('SELECT booking.availability(NULL)', '22004', NULL, 'availability(): NULL resource is 22004');
SELECT throws_ok('SELECT booking.availability(424242)', 'P0002', 'resource 424242 does not exist',
                 'availability(): an unknown resource is P0002');
SELECT throws_ok($$SELECT booking.availability(9002, tstzrange('2030-01-01 10:00+00', '2030-01-01 11:00+00'))$$,
                 '22023', NULL, 'availability(): a time range on a pool resource is 22023');

-- nothing refused changed a counter
SELECT is((SELECT array_agg(spots_reserved ORDER BY id) FROM booking.resource WHERE id IN (9001, 9002)),
          ARRAY[2, 0], 'the counters are as the successful writes left them');
SELECT is_empty('SELECT * FROM booking.verify()', 'verify() is empty');

SELECT * FROM finish();
ROLLBACK;
