/*
 * The catalog surface of booking 0.1.0: schema, tables, columns and their types, keys, the
 * status enum, the result type, the triggers on the booking tables and the pg_dump registration.
 * Runs in a database where CREATE EXTENSION pgtap and booking were run.
 */
BEGIN;
SELECT plan(117);

-- the extension and its schema
SELECT has_extension('booking', 'extension booking is installed');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'booking'), '0.1.0', 'version 0.1.0');
SELECT is((SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'booking'),
          'booking', 'the extension lives in schema booking');
SELECT has_schema('booking', 'schema booking');

SELECT tables_are('booking', ARRAY['resource', 'booking', 'attempt', 'pair', 'holder_rate', 'queue'],
                  'schema booking holds resource, booking, attempt, pair, holder_rate and queue');
SELECT types_are('booking', ARRAY['status', 'kind', 'result'], 'schema booking defines status, kind and result');
SELECT enum_has_labels('booking', 'kind', ARRAY['booking', 'block'], 'booking.kind labels');

-- booking.status
SELECT has_enum('booking', 'status', 'enum booking.status');
SELECT enum_has_labels('booking', 'status',
                       ARRAY['held', 'pending', 'confirmed', 'completed', 'waitlisted', 'cancelled', 'expired'],
                       'booking.status has its seven labels in order');

-- booking.result
SELECT has_composite('booking', 'result', 'composite type booking.result');
SELECT columns_are('booking', 'result',
                   ARRAY['ok', 'booking_id', 'status', 'resource_id', 'spots', 'during', 'expires_at',
                         'hold_token', 'waitlist_position', 'available', 'reason', 'alternatives'],
                   'booking.result has the columns of DESIGN.md');
SELECT is(ARRAY(SELECT attname::text FROM pg_attribute
                WHERE attrelid = 'booking.result'::regclass AND attnum > 0 AND NOT attisdropped
                ORDER BY attnum),
          ARRAY['ok', 'booking_id', 'status', 'resource_id', 'spots', 'during', 'expires_at',
                'hold_token', 'waitlist_position', 'available', 'reason', 'alternatives'],
          'booking.result columns are in the documented order');
SELECT col_type_is('booking', 'result', 'ok', 'boolean', 'result.ok is boolean');
SELECT col_type_is('booking', 'result', 'booking_id', 'bigint', 'result.booking_id is bigint');
SELECT col_type_is('booking', 'result', 'status', 'booking', 'status', 'result.status is booking.status');
SELECT col_type_is('booking', 'result', 'resource_id', 'bigint', 'result.resource_id is bigint');
SELECT col_type_is('booking', 'result', 'spots', 'integer', 'result.spots is integer');
SELECT col_type_is('booking', 'result', 'during', 'tstzrange', 'result.during is tstzrange');
SELECT col_type_is('booking', 'result', 'expires_at', 'timestamp with time zone', 'result.expires_at is timestamptz');
SELECT col_type_is('booking', 'result', 'hold_token', 'uuid', 'result.hold_token is uuid');
SELECT col_type_is('booking', 'result', 'waitlist_position', 'integer', 'result.waitlist_position is integer');
SELECT col_type_is('booking', 'result', 'available', 'integer', 'result.available is integer');
SELECT col_type_is('booking', 'result', 'reason', 'text', 'result.reason is text');
SELECT col_type_is('booking', 'result', 'alternatives', 'tstzrange[]', 'result.alternatives is tstzrange[]');

-- booking.resource
SELECT columns_are('booking', 'resource',
                   ARRAY['id', 'name', 'capacity', 'spots_reserved', 'timeline', 'buffer_before',
                         'buffer_after', 'waitlist', 'auto_promote', 'hold_ttl', 'max_hold', 'min_notice',
                         'max_horizon', 'max_per_holder', 'longest_booking', 'longest_block', 'waiting',
                         'hold_id', 'hold_due', 'meta', 'created_at'],
                   'booking.resource has its columns');
SELECT col_is_pk('booking', 'resource', 'id', 'resource.id is the primary key');
SELECT col_type_is('booking', 'resource', 'id', 'bigint', 'resource.id is bigint');
SELECT ok((SELECT attidentity = 'd' FROM pg_attribute
           WHERE attrelid = 'booking.resource'::regclass AND attname = 'id'),
          'resource.id is an identity column (by default)');
SELECT col_type_is('booking', 'resource', 'name', 'text', 'resource.name is text');
SELECT col_type_is('booking', 'resource', 'capacity', 'integer', 'resource.capacity is integer');
SELECT col_not_null('booking', 'resource', 'capacity', 'resource.capacity is NOT NULL');
SELECT col_type_is('booking', 'resource', 'spots_reserved', 'integer', 'resource.spots_reserved is integer');
SELECT col_not_null('booking', 'resource', 'spots_reserved', 'resource.spots_reserved is NOT NULL');
SELECT col_default_is('booking', 'resource', 'spots_reserved', '0', 'resource.spots_reserved defaults to 0');
SELECT col_type_is('booking', 'resource', 'waiting', 'integer', 'resource.waiting is integer');
SELECT col_not_null('booking', 'resource', 'waiting', 'resource.waiting is NOT NULL');
SELECT col_default_is('booking', 'resource', 'waiting', '0', 'resource.waiting defaults to 0');
SELECT col_type_is('booking', 'resource', 'hold_id', 'bigint', 'resource.hold_id (the hold slot) is bigint');
SELECT col_type_is('booking', 'resource', 'hold_due', 'timestamp with time zone',
                   'resource.hold_due is timestamptz');
SELECT col_type_is('booking', 'resource', 'timeline', 'boolean', 'resource.timeline is boolean');
SELECT col_default_is('booking', 'resource', 'timeline', 'false', 'resource.timeline defaults to false');
SELECT col_type_is('booking', 'resource', 'buffer_before', 'interval', 'resource.buffer_before is interval');
SELECT col_type_is('booking', 'resource', 'buffer_after', 'interval', 'resource.buffer_after is interval');
SELECT col_type_is('booking', 'resource', 'waitlist', 'boolean', 'resource.waitlist is boolean');
SELECT col_type_is('booking', 'resource', 'auto_promote', 'boolean', 'resource.auto_promote is boolean');
SELECT col_type_is('booking', 'resource', 'hold_ttl', 'interval', 'resource.hold_ttl is interval');
SELECT col_type_is('booking', 'resource', 'max_hold', 'interval', 'resource.max_hold is interval');
SELECT col_type_is('booking', 'resource', 'min_notice', 'interval', 'resource.min_notice is interval');
SELECT col_type_is('booking', 'resource', 'max_horizon', 'interval', 'resource.max_horizon is interval');
SELECT col_type_is('booking', 'resource', 'max_per_holder', 'integer', 'resource.max_per_holder is integer');
SELECT col_type_is('booking', 'resource', 'longest_booking', 'interval', 'resource.longest_booking is interval');
SELECT col_type_is('booking', 'resource', 'longest_block', 'interval', 'resource.longest_block is interval');
SELECT results_eq($$INSERT INTO booking.resource (name, capacity, timeline, longest_booking, longest_block)
                    VALUES ('bounds', 1, true, '5 days', '1 year')
                    RETURNING longest_booking, longest_block$$,
                  $$VALUES ('0'::interval, '0'::interval)$$,
                  'a new resource''s range bounds start at zero whatever the INSERT says');
SELECT throws_ok($$UPDATE booking.resource SET longest_booking = '1 hour' WHERE name = 'bounds'$$,
                 '428C9', NULL, 'a direct UPDATE of longest_booking is refused with 428C9');
SELECT throws_ok($$UPDATE booking.resource SET longest_block = '1 hour' WHERE name = 'bounds'$$,
                 '428C9', NULL, 'a direct UPDATE of longest_block is refused with 428C9');
SELECT col_type_is('booking', 'resource', 'meta', 'jsonb', 'resource.meta is jsonb');
SELECT col_type_is('booking', 'resource', 'created_at', 'timestamp with time zone', 'resource.created_at is timestamptz');
SELECT ok(NOT EXISTS (SELECT FROM pg_constraint
                      WHERE conrelid IN ('booking.resource'::regclass, 'booking.booking'::regclass)
                        AND contype = 'c'),
          'no CHECK constraint on resource or booking: the triggers check, once per row');
SELECT throws_ok($$INSERT INTO booking.resource (name, capacity) VALUES ('negative', -1)$$,
                 '23514', 'capacity must not be negative',
                 'a negative capacity is refused by the trigger with 23514');

-- booking.booking
SELECT columns_are('booking', 'booking',
                   ARRAY['id', 'resource_id', 'holder', 'spots', 'during', 'status', 'expires_at',
                         'hold_token_digest', 'group_id', 'idempotency_key', 'kind', 'source',
                         'external_id', 'created_at', 'updated_at', 'meta'],
                   'booking.booking has its columns');
SELECT col_is_pk('booking', 'booking', 'id', 'booking.id is the primary key');
SELECT col_type_is('booking', 'booking', 'id', 'bigint', 'booking.id is bigint');
SELECT col_type_is('booking', 'booking', 'resource_id', 'bigint', 'booking.resource_id is bigint');
SELECT col_not_null('booking', 'booking', 'resource_id', 'booking.resource_id is NOT NULL');
SELECT fk_ok('booking', 'booking', 'resource_id', 'booking', 'resource', 'id',
             'booking.resource_id references resource.id');
SELECT col_type_is('booking', 'booking', 'holder', 'text', 'booking.holder is text');
SELECT col_type_is('booking', 'booking', 'spots', 'integer', 'booking.spots is integer');
SELECT col_default_is('booking', 'booking', 'spots', '1', 'booking.spots defaults to 1');
SELECT col_type_is('booking', 'booking', 'during', 'tstzrange', 'booking.during is tstzrange');
SELECT col_is_null('booking', 'booking', 'during', 'booking.during is nullable (pool resources)');
SELECT col_type_is('booking', 'booking', 'status', 'booking', 'status', 'booking.status is booking.status');
SELECT col_default_is('booking', 'booking', 'status', 'confirmed', 'booking.status defaults to confirmed');
SELECT col_type_is('booking', 'booking', 'expires_at', 'timestamp with time zone', 'booking.expires_at is timestamptz');
SELECT col_type_is('booking', 'booking', 'hold_token_digest', 'bytea', 'booking.hold_token_digest is bytea');
SELECT col_type_is('booking', 'booking', 'group_id', 'bigint', 'booking.group_id is bigint');
SELECT col_type_is('booking', 'booking', 'idempotency_key', 'text', 'booking.idempotency_key is text');
SELECT col_type_is('booking', 'booking', 'kind', 'booking.kind', 'booking.kind is the enum booking.kind');
SELECT col_type_is('booking', 'booking', 'source', 'text', 'booking.source is text');
SELECT col_type_is('booking', 'booking', 'external_id', 'text', 'booking.external_id is text');
SELECT col_type_is('booking', 'booking', 'created_at', 'timestamp with time zone', 'booking.created_at is timestamptz');
SELECT col_type_is('booking', 'booking', 'updated_at', 'timestamp with time zone', 'booking.updated_at is timestamptz');
SELECT col_type_is('booking', 'booking', 'meta', 'jsonb', 'booking.meta is jsonb');
SELECT has_index('booking', 'booking', 'booking_resource_idx', ARRAY['resource_id', 'holder'],
                 'booking has an index on (resource_id, holder) (the foreign key, and max_per_holder)');
SELECT has_index('booking', 'booking', 'booking_slot_idx',
                 ARRAY['resource_id', 'kind', 'lower(during)'],
                 'booking has a btree on (resource_id, kind, lower(during)): the overlap search');
SELECT index_is_type('booking', 'booking', 'booking_slot_idx', 'btree', 'booking_slot_idx is a btree');
SELECT has_index('booking', 'queue', 'queue_key', ARRAY['resource_id', 'waiting', 'booking_id'],
                 'queue has an index on (resource_id, waiting, booking_id): the holds and the line of each resource');
SELECT is_empty($$
    SELECT i.indexrelid::regclass::text
      FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum > 0
     WHERE i.indrelid = 'booking.booking'::regclass
       AND a.attname IN ('status', 'expires_at', 'hold_token_digest', 'updated_at', 'meta')
       AND (a.attnum = ANY (i.indkey)
            OR pg_get_expr(i.indpred, i.indrelid) ~ ('\m' || a.attname || '\M')
            OR pg_get_expr(i.indexprs, i.indrelid) ~ ('\m' || a.attname || '\M'))$$,
    'no index of booking.booking names a column that a change of status writes (those updates stay HOT)');

-- booking.attempt
SELECT columns_are('booking', 'attempt',
                   ARRAY['id', 'at', 'role', 'action', 'holder', 'resource_id', 'spots', 'during', 'ok',
                         'reason', 'booking_id', 'status', 'idempotency_key'],
                   'booking.attempt has its columns');
SELECT hasnt_pk('booking', 'attempt', 'attempt has no primary key: the engine appends rows straight into it');
SELECT col_type_is('booking', 'attempt', 'id', 'bigint', 'attempt.id is bigint');
SELECT col_type_is('booking', 'attempt', 'at', 'timestamp with time zone', 'attempt.at is timestamptz');
SELECT col_type_is('booking', 'attempt', 'role', 'text', 'attempt.role is text');
SELECT col_type_is('booking', 'attempt', 'action', 'text', 'attempt.action is text');
SELECT col_type_is('booking', 'attempt', 'resource_id', 'bigint', 'attempt.resource_id is bigint');
SELECT col_type_is('booking', 'attempt', 'ok', 'boolean', 'attempt.ok is boolean');
SELECT col_type_is('booking', 'attempt', 'reason', 'text', 'attempt.reason is text');
SELECT col_type_is('booking', 'attempt', 'booking_id', 'bigint', 'attempt.booking_id is bigint');
SELECT col_type_is('booking', 'attempt', 'status', 'booking', 'status', 'attempt.status is booking.status');

-- booking.pair: the extension's own pair is pair 1
SELECT col_is_pk('booking', 'pair', 'id', 'pair.id is the primary key');
SELECT is(
    (SELECT string_agg(concat_ws(' ', id, parent, parent_key, capacity_column, counter_column, timeline_column,
                                 child, child_key, child_parent, spots_column, status_column, consuming,
                                 during_column, expires_column), '; ' ORDER BY id)
     FROM booking.pair),
    '1 booking.resource id capacity spots_reserved timeline booking.booking id resource_id spots status '
    '{held,pending,confirmed,completed} during expires_at',
    'pair 1 is booking.resource/booking.booking, counting held, pending, confirmed and completed rows');

-- the triggers: a BEFORE ROW guard on each table, a BEFORE TRUNCATE guard on both
SELECT triggers_are('booking', 'booking', ARRAY['zz_booking_guard', 'zz_booking_promote', 'booking_truncate_guard'],
                    'booking.booking has its three triggers');
SELECT triggers_are('booking', 'resource', ARRAY['zz_booking_resource_guard', 'zz_booking_resource_promote', 'booking_truncate_guard'],
                    'booking.resource has its three triggers');
SELECT trigger_is('booking', 'booking', 'zz_booking_promote', 'booking', 'promote_trigger',
                  'zz_booking_promote calls booking.promote_trigger()');
SELECT trigger_is('booking', 'resource', 'zz_booking_resource_promote', 'booking', 'promote_trigger',
                  'zz_booking_resource_promote calls booking.promote_trigger()');
SELECT trigger_is('booking', 'booking', 'zz_booking_guard', 'booking', 'booking_guard',
                  'zz_booking_guard calls booking.booking_guard()');
SELECT trigger_is('booking', 'resource', 'zz_booking_resource_guard', 'booking', 'resource_guard',
                  'zz_booking_resource_guard calls booking.resource_guard()');
SELECT trigger_is('booking', 'booking', 'booking_truncate_guard', 'booking', 'truncate_guard',
                  'booking_truncate_guard on booking calls booking.truncate_guard()');
SELECT trigger_is('booking', 'resource', 'booking_truncate_guard', 'booking', 'truncate_guard',
                  'booking_truncate_guard on resource calls booking.truncate_guard()');
-- tgtype bits: ROW 1, BEFORE 2, INSERT 4, DELETE 8, UPDATE 16, TRUNCATE 32
SELECT is((SELECT tgtype::int FROM pg_trigger
           WHERE tgrelid = 'booking.booking'::regclass AND tgname = 'zz_booking_guard'),
          1 | 2 | 4 | 8 | 16, 'zz_booking_guard fires BEFORE INSERT OR UPDATE OR DELETE FOR EACH ROW');
SELECT is((SELECT tgtype::int FROM pg_trigger
           WHERE tgrelid = 'booking.resource'::regclass AND tgname = 'zz_booking_resource_guard'),
          1 | 2 | 4 | 16, 'zz_booking_resource_guard fires BEFORE INSERT OR UPDATE FOR EACH ROW');
SELECT is((SELECT array_agg(tgtype::int ORDER BY tgrelid) FROM pg_trigger
           WHERE tgname = 'booking_truncate_guard'
             AND tgrelid IN ('booking.booking'::regclass, 'booking.resource'::regclass)),
          ARRAY[2 | 32, 2 | 32], 'booking_truncate_guard fires BEFORE TRUNCATE FOR EACH STATEMENT on both tables');
SELECT is((SELECT count(*)::int FROM pg_trigger
           WHERE tgrelid IN ('booking.booking'::regclass, 'booking.resource'::regclass)
             AND NOT tgisinternal AND (tgenabled <> 'O' OR tgnargs <> 1 OR tgargs <> '1\000'::bytea)),
          0, 'every guard is enabled and names pair 1 as its one argument');
-- the row guard sorts last among BEFORE ROW triggers, so that it sees the row as it will be written
SELECT is((SELECT max(tgname) FROM pg_trigger
           WHERE tgrelid = 'booking.booking'::regclass AND NOT tgisinternal AND tgtype & 3 = 3),
          'zz_booking_guard', 'zz_booking_guard is the last BEFORE ROW trigger on booking.booking');

-- pg_dump keeps the user data of every table, and pair rows other than the install's; not the
-- rate windows of holder_rate, which are a few minutes' state
SELECT set_eq(
    $$SELECT c.relname::text, coalesce(cond, '')
      FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(reloid, cond)
      JOIN pg_class c ON c.oid = u.reloid
      WHERE e.extname = 'booking'$$,
    $$VALUES ('resource', ''), ('booking', ''), ('attempt', ''), ('pair', 'WHERE id > 1'),
             ('resource_id_seq', ''), ('booking_id_seq', ''), ('attempt_id_seq', '')$$,
    'every table and sequence but holder_rate is registered with pg_extension_config_dump');

SELECT is_empty('SELECT * FROM booking.verify()', 'verify() is empty');

-- the GUC (defined when the library loads, which the call above did)
SELECT is(current_setting('booking.audit'), 'on', 'booking.audit is on by default');
SELECT is((SELECT context FROM pg_settings WHERE name = 'booking.audit'), 'superuser',
          'booking.audit can be set by a superuser only');

SELECT * FROM finish();
ROLLBACK;
