--
-- The two ways the engine's functions write booking.booking (src/direct.c): book_slot()'s new
-- row, and the change of status of the rows confirm(), release() and cancel(whole_group) have
-- locked, go straight through the table access method while the table is as shipped, and
-- through an INSERT or UPDATE statement as soon as something on the table needs the executor
-- (a trigger of the application's, a policy) or the caller lacks the privilege.  Both must write
-- the same rows, keep every index right, check uniqueness, promote what is freed, and honour
-- what was added.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity, waitlist) VALUES ('kiln', 2, true);
INSERT INTO booking.resource (name, capacity, timeline) VALUES ('studio', 1, true);
SELECT id AS kiln FROM booking.resource WHERE name = 'kiln' \gset
SELECT id AS studio FROM booking.resource WHERE name = 'studio' \gset

-- 1. As shipped: the direct way.  The row has the table's defaults and the caller's values, and
-- each index finds it.
BEGIN;
SELECT ok, booking_id, status FROM booking.book_slot(:kiln, 1, holder => 'ada', meta => '{"a": 1}', idempotency_key => 'k1');
SELECT ok, booking_id, status, expires_at IS NOT NULL AS expires, hold_token IS NOT NULL AS token
  FROM booking.book_slot(:studio, 1, '[2027-05-01 10:00, 2027-05-01 11:00)', 'bea', hold => '5 minutes');
SELECT ok, booking_id, status, waitlist_position FROM booking.book_slot(:kiln, 2, holder => 'cy');
SELECT id, resource_id, holder, spots, during, status, expires_at > now() AS expires,
	   hold_token_digest IS NOT NULL AS digest, group_id, idempotency_key, kind, source,
	   external_id, created_at = now() AS created_now, updated_at = now() AS updated_now, meta
  FROM booking.booking ORDER BY id;
COMMIT;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT holder FROM booking.booking WHERE id = 2;
SELECT holder FROM booking.booking WHERE resource_id = :kiln AND holder = 'cy';
SELECT holder FROM booking.booking WHERE resource_id = :studio AND kind = 'booking'
   AND lower(during) >= '2027-05-01' AND lower(during) < '2027-05-02';
SELECT holder FROM booking.booking WHERE holder = 'ada' AND idempotency_key = 'k1';
RESET enable_seqscan;
RESET enable_bitmapscan;
-- the engine decided on the row it wrote: counter, queue, bounds
SELECT name, spots_reserved, longest_booking FROM booking.resource ORDER BY id;
SELECT * FROM booking.verify();

-- uniqueness is checked as the statement would: an id taken by hand is 23505 on booking_pkey
INSERT INTO booking.resource (name, capacity) VALUES ('wheel', 10);
SELECT id AS wheel FROM booking.resource WHERE name = 'wheel' \gset
SELECT last_value + 1 AS next_id FROM booking.booking_id_seq \gset
INSERT INTO booking.booking (id, resource_id, holder) VALUES (:next_id, :wheel, 'by hand');
\set VERBOSITY terse
SELECT ok FROM booking.book_slot(:wheel, 1, holder => 'dot');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT ok, booking_id = :next_id + 1 AS next_one FROM booking.book_slot(:wheel, 1, holder => 'dot');
SELECT holder, spots FROM booking.booking WHERE resource_id = :wheel ORDER BY id;

-- 2. An application trigger on INSERT: the statement, which fires it, for the row book_slot()
-- writes and for its waiting row
CREATE TABLE inserted_log (holder text, status booking.status);
CREATE FUNCTION log_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO inserted_log VALUES (NEW.holder, NEW.status);
	RETURN NEW;
END $$;
CREATE TRIGGER log_insert AFTER INSERT ON booking.booking FOR EACH ROW EXECUTE FUNCTION log_insert();
SELECT ok, status FROM booking.book_slot(:wheel, 1, holder => 'eve');
SELECT ok, status FROM booking.book_slot(:wheel, 9, holder => 'fay', waitlist => true);
INSERT INTO booking.resource (name, capacity) VALUES ('bench 1', 1), ('bench 2', 1);
SELECT ok, status FROM booking.book_many(ARRAY(SELECT id FROM booking.resource WHERE name LIKE 'bench %'), 1, NULL, 'gil');
SELECT * FROM inserted_log;
DROP TRIGGER log_insert ON booking.booking;
SELECT status FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'fay'));
-- a BEFORE trigger that changes the row: the row written is the trigger's
CREATE FUNCTION tag_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.meta := '{"tagged": true}';
	RETURN NEW;
END $$;
CREATE TRIGGER a_tag_insert BEFORE INSERT ON booking.booking FOR EACH ROW EXECUTE FUNCTION tag_insert();
SELECT ok FROM booking.book_slot(:wheel, 1, holder => 'hal');
SELECT holder, meta FROM booking.booking WHERE holder = 'hal';
DROP TRIGGER a_tag_insert ON booking.booking;
-- the engine's guard disabled: an INSERT would not run it, so book_slot() does not run it
-- either; the statement writes the row unjudged, as any INSERT's would be, and verify() sees it
ALTER TABLE booking.booking DISABLE TRIGGER zz_booking_guard;
SELECT ok FROM booking.book_slot(:wheel, 50, holder => 'ivy');
ALTER TABLE booking.booking ENABLE TRIGGER zz_booking_guard;
SELECT pair, resource_id, capacity, spots_reserved, counted, problem FROM booking.verify();
SELECT pair, resource_id, old_reserved, new_reserved FROM booking.repair();
SELECT ok, reason FROM booking.book_slot(:wheel, 1, holder => 'jon');
SET session_replication_role = replica;
DELETE FROM booking.booking WHERE holder = 'ivy';
RESET session_replication_role;
SELECT pair, resource_id, old_reserved, new_reserved FROM booking.repair();
-- a default of the application's on a column the engine leaves empty: the INSERT would write it,
-- so book_slot() takes the statement (the table's shape, compared once per version of its
-- relcache entry, is compared again after the ALTER); without it, the direct way again
ALTER TABLE booking.booking ALTER COLUMN source SET DEFAULT 'web';
SELECT ok FROM booking.book_slot(:wheel, 1, holder => 'dflt_on');
ALTER TABLE booking.booking ALTER COLUMN source DROP DEFAULT;
SELECT ok FROM booking.book_slot(:wheel, 1, holder => 'dflt_off');
SELECT holder, source FROM booking.booking WHERE holder IN ('dflt_on', 'dflt_off') ORDER BY id;

-- 3. A caller with the documented grants but INSERT: the statement, and its error
CREATE ROLE booking_insert_paths_reader;
GRANT USAGE ON SCHEMA booking TO booking_insert_paths_reader;
GRANT SELECT ON booking.pair, booking.resource, booking.booking TO booking_insert_paths_reader;
SET ROLE booking_insert_paths_reader;
\set VERBOSITY terse
SELECT ok FROM booking.book_slot(:wheel, 1, holder => 'kim');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
RESET ROLE;
DROP OWNED BY booking_insert_paths_reader;
DROP ROLE booking_insert_paths_reader;

-- 4. Changes of status on locked rows: confirm() and release() of a group, cancel(whole_group).
-- The direct way: the rows change, the counter and booking.queue follow, the audit has each
-- transition, and a cancelled group's spots go to the waiting row at once.
INSERT INTO booking.resource (name, capacity, waitlist) VALUES ('seat 1', 1, true), ('seat 2', 1, true);
SELECT min(id) AS s1, max(id) AS s2 FROM booking.resource WHERE name LIKE 'seat %' \gset
SELECT booking_id AS g1, hold_token AS t1 FROM booking.book_many(ARRAY[:s1, :s2]::bigint[], 1, NULL, 'lee', '10 minutes') LIMIT 1 \gset
SELECT holder, status, expires_at IS NULL AS no_expiry FROM booking.confirm(:g1, :'t1') ORDER BY resource_id;
SELECT ok, status, waitlist_position FROM booking.book_slot(:s1, 1, holder => 'max');
SELECT holder, status FROM booking.cancel(:g1, whole_group => true) ORDER BY resource_id;
SELECT r.name, r.spots_reserved, b.holder, b.status FROM booking.resource r
  JOIN booking.booking b ON b.resource_id = r.id AND b.status <> 'cancelled'
 WHERE r.id IN (:s1, :s2) ORDER BY r.id, b.id;
SELECT action, holder, ok, status FROM booking.attempt
 WHERE resource_id IN (:s1, :s2) ORDER BY id;
-- an index of the application's on status: a change of status is no HOT update then, and the
-- direct way adds the new version's index entries itself; the index finds the row by its new status
CREATE INDEX booking_status_probe ON booking.booking (status, holder);
SELECT booking_id AS g6, hold_token AS t6 FROM booking.book_many(ARRAY[:s2]::bigint[], 1, NULL, 'mo', '10 minutes') \gset
SELECT holder, status FROM booking.confirm(:g6, :'t6');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT holder FROM booking.booking WHERE status = 'confirmed' AND holder = 'mo';
SELECT holder FROM booking.booking WHERE status = 'confirmed' AND holder = 'mo';
SELECT count(*) AS stale FROM booking.booking WHERE status = 'held' AND holder = 'mo';
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT holder, status FROM booking.cancel(:g6, whole_group => true);
DROP INDEX booking.booking_status_probe;
-- the engine keeps each table's index descriptions (with a partial index's predicate and an
-- expression prepared) between calls: an index added after this session's first direct insert,
-- partial and on an expression, gets the entries of the rows inserted after it; one dropped is
-- no longer written
CREATE INDEX booking_held_probe ON booking.booking (lower(holder)) WHERE status = 'held';
SELECT booking_id AS g7, hold_token AS t7 FROM booking.book_many(ARRAY[:s2]::bigint[], 1, NULL, 'Ned', '10 minutes') \gset
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT holder FROM booking.booking WHERE lower(holder) = 'ned' AND status = 'held';
SELECT holder FROM booking.booking WHERE lower(holder) = 'ned' AND status = 'held';
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT holder, status FROM booking.cancel(:g7, whole_group => true);
DROP INDEX booking.booking_held_probe;
SELECT booking_id AS g8 FROM booking.book_many(ARRAY[:s2]::bigint[], 1, NULL, 'oz') \gset
SELECT holder, status FROM booking.cancel(:g8, whole_group => true);
-- one row cancelled (no group): its lock and change the direct way too; the freed seat goes to
-- the row waiting for it; a second cancel is 55000 naming the status, an unknown id P0002
SELECT booking_id AS one FROM booking.book_slot(:s2, 1, holder => 'kit') \gset
SELECT ok, status FROM booking.book_slot(:s2, 1, holder => 'lou');
SELECT holder, status FROM booking.cancel(:one);
SELECT holder, status FROM booking.booking WHERE resource_id = :s2 AND holder IN ('kit', 'lou') ORDER BY id;
\set VERBOSITY terse
SELECT * FROM booking.cancel(:one);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.cancel(424242);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT holder, status FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'lou'));
SELECT booking_id AS g2, hold_token AS t2 FROM booking.book_many(ARRAY[:s2]::bigint[], 1, NULL, 'ned', '10 minutes') \gset
SELECT holder, status, expires_at IS NOT NULL AS kept_expiry, hold_token_digest IS NULL AS no_digest
  FROM booking.release(:g2, :'t2');
SELECT * FROM booking.verify();
-- An application trigger on UPDATE: the statements, which fire it for every row
CREATE TABLE updated_log (holder text, old_status booking.status, new_status booking.status);
CREATE FUNCTION log_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO updated_log VALUES (NEW.holder, OLD.status, NEW.status);
	RETURN NEW;
END $$;
CREATE TRIGGER log_update AFTER UPDATE ON booking.booking FOR EACH ROW EXECUTE FUNCTION log_update();
SELECT booking_id AS g3, hold_token AS t3 FROM booking.book_many(ARRAY[:s2]::bigint[], 1, NULL, 'oz', '10 minutes') \gset
SELECT holder, status FROM booking.confirm(:g3, :'t3');
SELECT holder, status FROM booking.cancel(:g3, whole_group => true);
SELECT booking_id AS one FROM booking.book_slot(:s2, 1, holder => 'ola') \gset
SELECT holder, status FROM booking.cancel(:one);
SELECT * FROM updated_log;
DROP TRIGGER log_update ON booking.booking;
-- a group cancelled with a reason: the statement, which writes the reason into meta
INSERT INTO booking.resource (name, capacity) VALUES ('seat 3', 1), ('seat 4', 1);
SELECT booking_id AS g4 FROM booking.book_many(ARRAY(SELECT id FROM booking.resource WHERE name IN ('seat 3', 'seat 4')), 1, NULL, 'pat') LIMIT 1 \gset
SELECT holder, status, meta FROM booking.cancel(:g4, 'rain', whole_group => true);

-- row-level security on the table: every write and lock of the engine's functions goes through
-- the statements, which apply the policies (to a role that is not a superuser)
CREATE ROLE booking_write_paths_app;
GRANT USAGE ON SCHEMA booking TO booking_write_paths_app;
GRANT SELECT ON booking.pair, booking.resource TO booking_write_paths_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON booking.booking TO booking_write_paths_app;
ALTER TABLE booking.booking ENABLE ROW LEVEL SECURITY;
CREATE POLICY everything ON booking.booking USING (true) WITH CHECK (holder <> 'nobody');
SET ROLE booking_write_paths_app;
SELECT booking_id AS g5, hold_token AS t5 FROM booking.book_many(ARRAY(SELECT id FROM booking.resource WHERE name IN ('seat 3', 'seat 4')), 1, NULL, 'quin', '10 minutes') LIMIT 1 \gset
SELECT holder, status FROM booking.confirm(:g5, :'t5') ORDER BY resource_id;
SELECT holder, status FROM booking.cancel(:g5, whole_group => true) ORDER BY resource_id;
\set VERBOSITY terse
SELECT ok FROM booking.book_slot(:wheel, 1, holder => 'nobody');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
RESET ROLE;
DROP POLICY everything ON booking.booking;
ALTER TABLE booking.booking DISABLE ROW LEVEL SECURITY;
DROP OWNED BY booking_write_paths_app;
DROP ROLE booking_write_paths_app;

SELECT * FROM booking.verify();
