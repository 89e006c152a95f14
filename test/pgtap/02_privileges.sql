/*
 * Privileges: repair() and reset() rewrite counters and delete bookings, so EXECUTE on them is
 * revoked from PUBLIC; the functions an application calls stay executable; only a superuser can
 * turn the audit off.  A role is created inside the transaction and rolled back with it.
 */
BEGIN;
SELECT plan(26);

CREATE ROLE pgtap_booking_app NOLOGIN;
GRANT USAGE ON SCHEMA booking TO pgtap_booking_app;

-- Runs sql as role r and returns "SQLSTATE: message" of the error it raised, or 'no error'.
CREATE FUNCTION pg_temp.error_as(r name, sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	msg text;
BEGIN
	EXECUTE format('SET LOCAL ROLE %I', r);
	BEGIN
		EXECUTE sql;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	END;
	RESET ROLE;
	RETURN coalesce(st || ': ' || msg, 'no error');
END
$$;

-- repair() and reset(): not for PUBLIC
SELECT ok(NOT has_function_privilege('pgtap_booking_app', 'booking.repair()', 'EXECUTE'),
          'an ordinary role cannot execute repair()');
SELECT ok(NOT has_function_privilege('pgtap_booking_app', 'booking.reset(bigint)', 'EXECUTE'),
          'an ordinary role cannot execute reset()');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
      WHERE p.oid IN ('booking.repair()'::regprocedure, 'booking.reset(bigint)'::regprocedure)
        AND (p.proacl IS NULL
             OR EXISTS (SELECT FROM aclexplode(p.proacl) AS a
                        WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))$$,
    'the ACLs of repair() and reset() grant PUBLIC nothing');
SELECT is(pg_temp.error_as('pgtap_booking_app', 'SELECT * FROM booking.repair()'),
          '42501: permission denied for function repair', 'calling repair() as an ordinary role: 42501');
SELECT is(pg_temp.error_as('pgtap_booking_app', 'SELECT booking.reset()'),
          '42501: permission denied for function reset', 'calling reset() as an ordinary role: 42501');
SELECT ok(has_function_privilege(current_user, 'booking.repair()', 'EXECUTE'),
          'the superuser running the tests can execute repair()');

-- a grant is how a DBA hands them on
GRANT EXECUTE ON FUNCTION booking.reset(bigint) TO pgtap_booking_app;
SELECT ok(has_function_privilege('pgtap_booking_app', 'booking.reset(bigint)', 'EXECUTE'),
          'EXECUTE on reset() can be granted to a role');
REVOKE EXECUTE ON FUNCTION booking.reset(bigint) FROM pgtap_booking_app;

-- what an application calls stays executable
SELECT ok(has_function_privilege('pgtap_booking_app',
                                 'booking.book_slot(bigint, integer, tstzrange, text, interval, boolean, text, jsonb, regclass, text)',
                                 'EXECUTE'),
          'an ordinary role can execute book_slot()');
SELECT ok(has_function_privilege('pgtap_booking_app', 'booking.cancel(bigint, text, boolean)', 'EXECUTE'),
          'an ordinary role can execute cancel()');
SELECT ok(has_function_privilege('pgtap_booking_app', 'booking.availability(bigint, tstzrange)', 'EXECUTE'),
          'an ordinary role can execute availability()');
SELECT ok(has_function_privilege('pgtap_booking_app', 'booking.verify()', 'EXECUTE'),
          'an ordinary role can execute verify()');
SELECT ok(has_function_privilege('pgtap_booking_app', 'booking.confirm(bigint, uuid)', 'EXECUTE')
          AND has_function_privilege('pgtap_booking_app', 'booking.release(bigint, uuid)', 'EXECUTE')
          AND has_function_privilege('pgtap_booking_app', 'booking.extend(bigint, uuid, interval)', 'EXECUTE'),
          'an ordinary role can execute confirm(), release() and extend()');
SELECT ok(has_function_privilege('pgtap_booking_app', 'booking.book_many(bigint[], integer, tstzrange, text, interval, jsonb)', 'EXECUTE')
          AND has_function_privilege('pgtap_booking_app', 'booking.promote(bigint)', 'EXECUTE'),
          'an ordinary role can execute book_many() and promote()');
SELECT ok(NOT has_function_privilege('pgtap_booking_app', 'booking.expire_holds(integer)', 'EXECUTE'),
          'expire_holds() is not executable by PUBLIC (a job for pg_cron, as its owner)');

-- booking.queue is the engine's: nobody is granted anything on it, yet a role with the grants an
-- application needs (doc/reference.md, Privileges) holds, confirms, cancels and waits, and the
-- engine keeps the queue on its behalf
GRANT SELECT ON booking.pair, booking.resource TO pgtap_booking_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON booking.booking TO pgtap_booking_app;
INSERT INTO booking.resource (name, capacity) VALUES ('pgtap seat 1', 1), ('pgtap seat 2', 1);
SELECT is(pg_temp.error_as('pgtap_booking_app', 'SELECT * FROM booking.queue'),
          '42501: permission denied for table queue',
          'an application role cannot read booking.queue: 42501');
SELECT is(pg_temp.error_as('pgtap_booking_app', $sql$
    DO $do$
    DECLARE
        g record;
    BEGIN
        SELECT min(booking_id) AS id, min(hold_token::text)::uuid AS token INTO g
          FROM booking.book_many(ARRAY(SELECT id FROM booking.resource WHERE name LIKE 'pgtap seat %'),
                                 holder => 'pgtap-app', hold => '5 minutes');
        PERFORM booking.confirm(g.id, g.token);
        PERFORM booking.cancel(g.id, whole_group => true);
        PERFORM booking.book_slot((SELECT id FROM booking.resource WHERE name = 'pgtap seat 1'),
                                  holder => 'pgtap-app', hold => '5 minutes');
        PERFORM booking.book_slot((SELECT id FROM booking.resource WHERE name = 'pgtap seat 1'),
                                  holder => 'pgtap-late', waitlist => true);
    END
    $do$$sql$),
          'no error',
          'an application role holds a group, confirms it, cancels it whole, holds a seat and waits for it');
SELECT results_eq(
    $$SELECT b.holder, q.waiting, q.due IS NOT DISTINCT FROM b.expires_at
        FROM booking.queue q JOIN booking.booking b ON b.id = q.booking_id
       WHERE b.holder LIKE 'pgtap-%' ORDER BY q.booking_id$$,
    $$VALUES ('pgtap-late'::text, true, true)$$,
    'the engine listed the role''s waiting row in booking.queue');
SELECT results_eq(
    $$SELECT b.holder, r.hold_due = b.expires_at
        FROM booking.resource r JOIN booking.booking b ON b.id = r.hold_id
       WHERE b.holder LIKE 'pgtap-%' AND b.status = 'held'$$,
    $$VALUES ('pgtap-app'::text, true)$$,
    'and the role''s hold, the seat''s only one, in the seat''s hold slot');
SELECT is_empty('SELECT * FROM booking.verify()', 'verify() is empty after the role''s writes');

-- no function of the extension is SECURITY DEFINER, so none of them lends its owner's rights
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
      WHERE p.pronamespace = 'booking'::regnamespace AND p.prosecdef$$,
    'no function in schema booking is SECURITY DEFINER');

-- the audit switch is the superuser's (booking.audit exists once the library is loaded, which
-- any call of the extension does; a value an ordinary role set before that is dropped with a
-- warning when the library loads)
SELECT is_empty('SELECT * FROM booking.verify()', 'verify() is empty (and the library is loaded)');
SELECT is(pg_temp.error_as('pgtap_booking_app', 'SET booking.audit = off'),
          '42501: permission denied to set parameter "booking.audit"',
          'an ordinary role cannot turn booking.audit off: 42501');
SELECT is(pg_temp.error_as('pgtap_booking_app', 'SET LOCAL booking.audit = off'),
          '42501: permission denied to set parameter "booking.audit"',
          'nor for its transaction: 42501');
SELECT is(current_setting('booking.audit'), 'on', 'booking.audit is still on');
SELECT lives_ok('SET LOCAL booking.audit = off', 'a superuser can turn booking.audit off');
SELECT is(current_setting('booking.audit'), 'off', 'booking.audit is off for the rest of the transaction');

SELECT * FROM finish();
ROLLBACK;
