/*
 * The functions of booking 0.1.0: each exists with its signature, argument names and defaults,
 * return type, language and volatility; every function, table, type and column carries a
 * COMMENT; no SECURITY DEFINER function is left without a pinned search_path.
 */
BEGIN;
SELECT plan(69);

-- exactly these functions, no more
SELECT functions_are('booking',
                     ARRAY['book_slot', 'cancel', 'availability', 'verify', 'repair', 'reset',
                           'booking_guard', 'resource_guard', 'truncate_guard', 'free_slots', 'sync_blocks',
                           'confirm', 'release', 'extend', 'expire_holds', 'promote', 'promote_trigger',
                           'book_many', 'manage', 'unmanage', 'ddl_watch', 'drop_watch'],
                     'schema booking has the functions of 0.1.0');

-- book_slot
SELECT has_function('booking', 'book_slot',
                    ARRAY['bigint', 'integer', 'tstzrange', 'text', 'interval', 'boolean', 'text', 'jsonb', 'regclass', 'text'],
                    'book_slot(bigint, integer, tstzrange, text, interval, boolean, text, jsonb, regclass, text) exists');
SELECT function_returns('booking', 'book_slot',
                        ARRAY['bigint', 'integer', 'tstzrange', 'text', 'interval', 'boolean', 'text', 'jsonb', 'regclass', 'text'],
                        'booking.result', 'book_slot() returns booking.result');
SELECT is(pg_get_function_arguments('booking.book_slot(bigint, integer, tstzrange, text, interval, boolean, text, jsonb, regclass, text)'::regprocedure),
          'resource_id bigint, spots integer DEFAULT 1, during tstzrange DEFAULT NULL::tstzrange, '
          'holder text DEFAULT NULL::text, hold interval DEFAULT NULL::interval, '
          'waitlist boolean DEFAULT NULL::boolean, idempotency_key text DEFAULT NULL::text, '
          'meta jsonb DEFAULT NULL::jsonb, managed regclass DEFAULT NULL::regclass, '
          'resource_key text DEFAULT NULL::text',
          'book_slot() argument names and defaults');
SELECT volatility_is('booking', 'book_slot',
                     ARRAY['bigint', 'integer', 'tstzrange', 'text', 'interval', 'boolean', 'text', 'jsonb', 'regclass', 'text'],
                     'volatile', 'book_slot() is volatile');

-- cancel
SELECT has_function('booking', 'cancel', ARRAY['bigint', 'text', 'boolean'], 'cancel(bigint, text, boolean) exists');
SELECT function_returns('booking', 'cancel', ARRAY['bigint', 'text', 'boolean'], 'setof booking.booking',
                        'cancel() returns setof booking.booking');
SELECT is(pg_get_function_arguments('booking.cancel(bigint, text, boolean)'::regprocedure),
          'booking_id bigint, reason text DEFAULT NULL::text, whole_group boolean DEFAULT false',
          'cancel() argument names and defaults');
SELECT volatility_is('booking', 'cancel', ARRAY['bigint', 'text', 'boolean'], 'volatile', 'cancel() is volatile');

-- the life of a hold: confirm, release, extend, expire_holds
SELECT has_function('booking', 'confirm', ARRAY['bigint', 'uuid'], 'confirm(bigint, uuid) exists');
SELECT function_returns('booking', 'confirm', ARRAY['bigint', 'uuid'], 'setof booking.booking',
                        'confirm() returns setof booking.booking');
SELECT is(pg_get_function_arguments('booking.confirm(bigint, uuid)'::regprocedure),
          'booking_id bigint, hold_token uuid DEFAULT NULL::uuid', 'confirm() argument names and defaults');
SELECT volatility_is('booking', 'confirm', ARRAY['bigint', 'uuid'], 'volatile', 'confirm() is volatile');
SELECT has_function('booking', 'release', ARRAY['bigint', 'uuid'], 'release(bigint, uuid) exists');
SELECT function_returns('booking', 'release', ARRAY['bigint', 'uuid'], 'setof booking.booking',
                        'release() returns setof booking.booking');
SELECT is(pg_get_function_arguments('booking.release(bigint, uuid)'::regprocedure),
          'booking_id bigint, hold_token uuid', 'release() argument names');
SELECT has_function('booking', 'extend', ARRAY['bigint', 'uuid', 'interval'], 'extend(bigint, uuid, interval) exists');
SELECT function_returns('booking', 'extend', ARRAY['bigint', 'uuid', 'interval'], 'setof booking.booking',
                        'extend() returns setof booking.booking');
SELECT is(pg_get_function_arguments('booking.extend(bigint, uuid, interval)'::regprocedure),
          'booking_id bigint, hold_token uuid, by interval DEFAULT NULL::interval', 'extend() argument names and defaults');
SELECT has_function('booking', 'expire_holds', ARRAY['integer'], 'expire_holds(integer) exists');
SELECT function_returns('booking', 'expire_holds', ARRAY['integer'], 'integer', 'expire_holds() returns integer');
SELECT is(pg_get_function_arguments('booking.expire_holds(integer)'::regprocedure),
          'max integer DEFAULT 1000', 'expire_holds() argument names and defaults');
SELECT volatility_is('booking', 'expire_holds', ARRAY['integer'], 'volatile', 'expire_holds() is volatile');
SELECT has_function('booking', 'book_many', ARRAY['bigint[]', 'integer', 'tstzrange', 'text', 'interval', 'jsonb'],
                    'book_many(bigint[], integer, tstzrange, text, interval, jsonb) exists');
SELECT function_returns('booking', 'book_many', ARRAY['bigint[]', 'integer', 'tstzrange', 'text', 'interval', 'jsonb'],
                        'setof booking.result', 'book_many() returns setof booking.result');
SELECT is(pg_get_function_arguments('booking.book_many(bigint[], integer, tstzrange, text, interval, jsonb)'::regprocedure),
          'resource_ids bigint[], spots integer DEFAULT 1, during tstzrange DEFAULT NULL::tstzrange, holder text DEFAULT NULL::text, hold interval DEFAULT NULL::interval, meta jsonb DEFAULT NULL::jsonb',
          'book_many() argument names and defaults');
SELECT has_function('booking', 'promote', ARRAY['bigint'], 'promote(bigint) exists');
SELECT function_returns('booking', 'promote', ARRAY['bigint'], 'setof booking.booking',
                        'promote() returns setof booking.booking');
SELECT function_returns('booking', 'promote_trigger', ARRAY[]::text[], 'trigger', 'promote_trigger() returns trigger');

-- availability
SELECT has_function('booking', 'availability', ARRAY['bigint', 'tstzrange'], 'availability(bigint, tstzrange) exists');
SELECT function_returns('booking', 'availability', ARRAY['bigint', 'tstzrange'], 'integer',
                        'availability() returns integer');
SELECT is(pg_get_function_arguments('booking.availability(bigint, tstzrange)'::regprocedure),
          'resource_id bigint, during tstzrange DEFAULT NULL::tstzrange', 'availability() argument names and defaults');

-- verify
SELECT has_function('booking', 'verify', ARRAY[]::text[], 'verify() exists');
SELECT is(pg_get_function_result('booking.verify()'::regprocedure),
          'TABLE(pair integer, resource_id bigint, capacity integer, spots_reserved integer, counted integer, problem text, resource_key text)',
          'verify() returns TABLE(pair, resource_id, capacity, spots_reserved, counted, problem, resource_key)');

-- repair
SELECT has_function('booking', 'repair', ARRAY[]::text[], 'repair() exists');
SELECT is(pg_get_function_result('booking.repair()'::regprocedure),
          'TABLE(pair integer, resource_id bigint, old_reserved integer, new_reserved integer, resource_key text)',
          'repair() returns TABLE(pair, resource_id, old_reserved, new_reserved, resource_key)');
SELECT volatility_is('booking', 'repair', ARRAY[]::text[], 'volatile', 'repair() is volatile');

-- reset
SELECT has_function('booking', 'reset', ARRAY['bigint'], 'reset(bigint) exists');
SELECT function_returns('booking', 'reset', ARRAY['bigint'], 'bigint', 'reset() returns bigint');
SELECT is(pg_get_function_arguments('booking.reset(bigint)'::regprocedure),
          'resource_id bigint DEFAULT NULL::bigint', 'reset() argument names and defaults');
SELECT volatility_is('booking', 'reset', ARRAY['bigint'], 'volatile', 'reset() is volatile');

-- the trigger functions
SELECT function_returns('booking', 'booking_guard', ARRAY[]::text[], 'trigger', 'booking_guard() returns trigger');
SELECT function_returns('booking', 'resource_guard', ARRAY[]::text[], 'trigger', 'resource_guard() returns trigger');
SELECT function_returns('booking', 'truncate_guard', ARRAY[]::text[], 'trigger', 'truncate_guard() returns trigger');

-- all of them are C but sync_blocks(), whose writes all go through the engine's trigger
SELECT is(ARRAY(SELECT p.proname::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
                WHERE p.pronamespace = 'booking'::regnamespace AND l.lanname <> 'c' ORDER BY 1),
          ARRAY['sync_blocks']::text[], 'every function of 0.1.0 but sync_blocks() is written in C');

-- the trigger functions refuse to be called other than as triggers (39P01)
SELECT throws_ok('SELECT booking.booking_guard()', '39P01', NULL,
                 'booking_guard() cannot be called directly (39P01)');
SELECT throws_ok('SELECT booking.resource_guard()', '39P01', NULL,
                 'resource_guard() cannot be called directly (39P01)');
SELECT throws_ok('SELECT booking.truncate_guard()', '39P01', NULL,
                 'truncate_guard() cannot be called directly (39P01)');

-- manage, unmanage
SELECT is(pg_get_function_arguments('booking.manage(regclass, regclass, name, name, integer, name, name, name, name, name, text[], name, name, name, interval, interval, interval)'::regprocedure),
          'parent regclass, child regclass, counter_column name DEFAULT NULL::name, '
          'capacity_column name DEFAULT NULL::name, fixed_capacity integer DEFAULT NULL::integer, '
          'parent_key name DEFAULT NULL::name, child_key name DEFAULT NULL::name, '
          'child_parent name DEFAULT NULL::name, spots_column name DEFAULT NULL::name, '
          'status_column name DEFAULT ''status''::name, consuming text[] DEFAULT NULL::text[], '
          'during_column name DEFAULT NULL::name, start_column name DEFAULT NULL::name, '
          'end_column name DEFAULT NULL::name, duration interval DEFAULT NULL::interval, '
          'buffer_before interval DEFAULT NULL::interval, buffer_after interval DEFAULT NULL::interval',
          'manage() argument names and defaults');
SELECT is(pg_get_function_result('booking.manage(regclass, regclass, name, name, integer, name, name, name, name, name, text[], name, name, name, interval, interval, interval)'::regprocedure),
          pg_get_function_result('booking.verify()'::regprocedure),
          'manage() returns rows shaped as verify()''s');
SELECT volatility_is('booking', 'unmanage', ARRAY['regclass'], 'volatile', 'unmanage() is volatile');
SELECT function_returns('booking', 'unmanage', ARRAY['regclass'], 'integer', 'unmanage() returns the pair id');
SELECT throws_ok($$SELECT * FROM booking.manage('booking.resource', 'booking.booking')$$, '42710',
                 NULL, 'manage() of the extension''s own tables: 42710');

--
-- Comments: on the schema, every function, table, type and column
--
-- the generic checks below look at the extension's members; make sure they see them
SELECT is((SELECT count(*)::int FROM pg_depend
           WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
             AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'booking')
             AND classid = 'pg_proc'::regclass),
          22, 'the extension owns 22 functions');
SELECT isnt(obj_description('booking'::regnamespace, 'pg_namespace'), NULL, 'schema booking has a comment');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
      WHERE p.pronamespace = 'booking'::regnamespace
        AND coalesce(obj_description(p.oid, 'pg_proc'), '') = ''$$,
    'every function in schema booking has a comment');
SELECT is_empty(
    $$SELECT c.oid::regclass::text FROM pg_class c
      WHERE c.relnamespace = 'booking'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
        AND coalesce(obj_description(c.oid, 'pg_class'), '') = ''$$,
    'every table and view in schema booking has a comment');
SELECT is_empty(
    $$SELECT t.oid::regtype::text FROM pg_type t
      LEFT JOIN pg_class c ON c.oid = t.typrelid
      WHERE t.typnamespace = 'booking'::regnamespace
        AND t.typcategory <> 'A'                      -- array types come with their element
        AND (t.typrelid = 0 OR c.relkind = 'c')       -- a table's row type comes with the table
        AND coalesce(obj_description(t.oid, 'pg_type'), '') = ''$$,
    'every type in schema booking has a comment');
SELECT is((SELECT count(*)::int FROM pg_type t
           WHERE t.typnamespace = 'booking'::regnamespace
             AND coalesce(obj_description(t.oid, 'pg_type'), '') <> ''),
          3, 'booking.status, booking.kind and booking.result are commented');
SELECT is_empty(
    $$SELECT c.oid::regclass::text || '.' || a.attname
      FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
      WHERE c.relnamespace = 'booking'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
        AND a.attnum > 0 AND NOT a.attisdropped
        AND coalesce(col_description(c.oid, a.attnum), '') = ''$$,
    'every column of every table in schema booking has a comment');
SELECT ok((SELECT count(*) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
           WHERE c.relnamespace = 'booking'::regnamespace AND c.relkind = 'r'
             AND a.attnum > 0 AND NOT a.attisdropped) >= 50,
          'the column check saw the columns of all four tables');
SELECT isnt(col_description('booking.resource'::regclass, 3), NULL, 'resource.capacity is commented');

--
-- search_path and SECURITY DEFINER
--
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
      WHERE p.pronamespace = 'booking'::regnamespace AND p.prosecdef
        AND NOT EXISTS (SELECT FROM unnest(coalesce(p.proconfig, '{}'::text[])) AS c(setting)
                        WHERE c.setting LIKE 'search\_path=%')$$,
    'no SECURITY DEFINER function in schema booking lacks a pinned search_path');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
      WHERE p.pronamespace = 'booking'::regnamespace AND p.prosecdef
        AND EXISTS (SELECT FROM unnest(coalesce(p.proconfig, '{}'::text[])) AS c(setting)
                    WHERE c.setting LIKE 'search\_path=%'
                      AND c.setting NOT LIKE 'search\_path=pg\_catalog,%'
                      AND c.setting NOT LIKE 'search\_path="pg\_catalog",%')$$,
    'every SECURITY DEFINER function puts pg_catalog first in its search_path');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
      WHERE p.pronamespace = 'booking'::regnamespace AND p.prosecdef
        AND (p.proacl IS NULL
             OR EXISTS (SELECT FROM aclexplode(p.proacl) AS a
                        WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))$$,
    'no SECURITY DEFINER function in schema booking is executable by PUBLIC');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
      WHERE p.pronamespace = 'booking'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
        AND NOT EXISTS (SELECT FROM unnest(coalesce(p.proconfig, '{}'::text[])) AS c(setting)
                        WHERE c.setting LIKE 'search\_path=%')$$,
    'every SQL or PL/pgSQL function in schema booking pins its search_path');
SELECT is((SELECT count(*)::int FROM pg_proc p
           WHERE p.pronamespace = 'booking'::regnamespace AND p.prosecdef),
          0, 'booking 0.1.0 has no SECURITY DEFINER function');

-- no object of the extension lives outside its schema
SELECT is_empty(
    $$SELECT pg_describe_object(d.classid, d.objid, 0) FROM pg_depend d
      WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
        AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'booking')
        AND d.classid <> 'pg_event_trigger'::regclass
        AND pg_describe_object(d.classid, d.objid, 0) NOT LIKE '% booking.%'$$,
    'every object of the extension is in schema booking');
-- and its event triggers, which belong to no schema, are these two
SELECT is(
    (SELECT string_agg(concat_ws(' ', e.evtname, e.evtevent, e.evtfoid::regproc, e.evttags), '; ' ORDER BY e.evtname)
       FROM pg_event_trigger e JOIN pg_depend d ON d.classid = 'pg_event_trigger'::regclass AND d.objid = e.oid
      WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
        AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'booking')),
    'booking_ddl_watch ddl_command_end booking.ddl_watch {"ALTER TABLE"}; '
    'booking_drop_watch sql_drop booking.drop_watch {"DROP TABLE","DROP SCHEMA","DROP OWNED"}',
    'the extension''s event triggers watch ALTER TABLE and the drops of tables');

SELECT * FROM finish();
ROLLBACK;
