--
-- Locks: book_slot() and every write on booking.booking take a transaction-scoped advisory lock
-- per resource in the extension's own key space: in pg_locks, classid and objid are the high and
-- low 32 bits of the resource id and objsubid is 16384 + the pair id (16385 for the extension's
-- own pair).  pg_advisory_lock(bigint) uses objsubid 1 and pg_advisory_lock(int, int) 2, so no
-- key an application chooses names the same lock.  lock_timeout ends a wait for the lock with
-- 55P03, passed through unchanged.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

-- resource 1, and one whose id needs more than 32 bits: 4294967298 = 2^32 + 2
INSERT INTO booking.resource (name, capacity) VALUES ('small', 4);
INSERT INTO booking.resource (id, name, capacity) VALUES (4294967298, 'wide', 4);
SELECT id, name FROM booking.resource ORDER BY id;

-- the advisory locks this session holds
CREATE TEMP VIEW my_locks AS
SELECT classid, objid, objsubid, mode, granted,
       database = (SELECT oid FROM pg_database WHERE datname = current_database()) AS this_db
FROM pg_locks
WHERE locktype = 'advisory' AND pid = pg_backend_pid()
ORDER BY objsubid, classid, objid;

SELECT * FROM my_locks;

-- book_slot() locks the resource for the rest of the transaction
BEGIN;
SELECT ok FROM booking.book_slot(1, holder => 'ann');
SELECT * FROM my_locks;
COMMIT;
SELECT * FROM my_locks;

-- a 64-bit id: high word in classid, low word in objid
BEGIN;
SELECT ok FROM booking.book_slot(4294967298, holder => 'ann');
SELECT * FROM my_locks;
COMMIT;

-- a refusal is decided under the same lock
BEGIN;
SELECT ok, reason FROM booking.book_slot(1, 9, holder => 'ben');
SELECT * FROM my_locks;
ROLLBACK;

-- the application's advisory locks on the same numbers are other locks
BEGIN;
SELECT pg_advisory_xact_lock(1);
SELECT pg_advisory_xact_lock(0, 1);
SELECT pg_advisory_xact_lock(4294967298);
SELECT pg_advisory_xact_lock(1, 2);
SELECT ok FROM booking.book_slot(1, holder => 'cat');
SELECT ok FROM booking.book_slot(4294967298, holder => 'cat');
SELECT * FROM my_locks;
ROLLBACK;

-- and an application's session-level lock on key 1 does not stand in the engine's way
SELECT pg_advisory_lock(1);
SELECT ok FROM booking.book_slot(1, holder => 'dan');
SELECT pg_advisory_unlock(1);
SELECT * FROM my_locks;

-- direct writes take the same lock: INSERT, UPDATE, DELETE
BEGIN;
INSERT INTO booking.booking (resource_id, holder) VALUES (1, 'eve');
SELECT * FROM my_locks;
ROLLBACK;
BEGIN;
UPDATE booking.booking SET spots = 2 WHERE holder = 'dan';
SELECT * FROM my_locks;
ROLLBACK;
BEGIN;
DELETE FROM booking.booking WHERE holder = 'ann' AND resource_id = 4294967298;
SELECT * FROM my_locks;
ROLLBACK;
-- a move between resources locks both
BEGIN;
UPDATE booking.booking SET resource_id = 4294967298 WHERE holder = 'dan';
SELECT * FROM my_locks;
ROLLBACK;
-- cancel() too
BEGIN;
SELECT holder, status FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'dan'));
SELECT * FROM my_locks;
ROLLBACK;

-- the locks are gone with the transaction that took them
SELECT * FROM my_locks;
SELECT name, capacity, spots_reserved FROM booking.resource ORDER BY id;

--
-- Another transaction's locks, held by a prepared transaction (this needs
-- max_prepared_transactions > 0, as the test clusters of scripts/lib.sh have).
--
-- An application's transaction holding advisory keys 1, (0, 1) and 4294967298 does not block
-- the engine on resources 1 and 4294967298.
BEGIN;
SELECT pg_advisory_xact_lock(1);
SELECT pg_advisory_xact_lock(0, 1);
SELECT pg_advisory_xact_lock(4294967298);
PREPARE TRANSACTION 'regress_booking_app_keys';
SET lock_timeout = '200ms';
SELECT ok FROM booking.book_slot(1, holder => 'fay');
SELECT ok FROM booking.book_slot(4294967298, holder => 'fay');
RESET lock_timeout;
ROLLBACK PREPARED 'regress_booking_app_keys';

-- A transaction in the middle of a booking on resource 1 holds its lock: the application's own
-- keys stay free, while another admission on resource 1 waits, and lock_timeout ends the wait
-- with 55P03, unchanged.
BEGIN;
SELECT ok FROM booking.book_slot(1, holder => 'gil');
PREPARE TRANSACTION 'regress_booking_engine';
-- (a prepared transaction's locks have no pid)
SELECT locktype, classid, objid, objsubid, mode, granted
FROM pg_locks
WHERE locktype = 'advisory' AND pid IS NULL
ORDER BY objsubid, classid, objid;
SELECT pg_try_advisory_xact_lock(1) AS key_1_free, pg_try_advisory_xact_lock(0, 1) AS key_0_1_free;
SET lock_timeout = '200ms';
SELECT * FROM booking.book_slot(1, holder => 'hal');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO booking.booking (resource_id, holder) VALUES (1, 'hal');
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET status = 'cancelled' WHERE holder = 'dan';
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'dan'));
\echo :LAST_ERROR_SQLSTATE
-- resource 4294967298 is not held up
SELECT ok FROM booking.book_slot(4294967298, holder => 'hal');
RESET lock_timeout;
ROLLBACK PREPARED 'regress_booking_engine';
-- with the lock released, the same call goes through
SELECT ok FROM booking.book_slot(1, holder => 'hal');
SELECT holder, resource_id, spots, status FROM booking.booking ORDER BY id;
SELECT name, capacity, spots_reserved FROM booking.resource ORDER BY id;


-- A lock taken in a savepoint that is rolled back goes with it, and the next admission on that
-- resource in the same transaction takes it again (the engine remembers the locks it holds, to
-- skip asking twice, and forgets those of an aborted subtransaction, nested ones too); one taken
-- before the savepoint, or in one released, stays
BEGIN;
SELECT ok FROM booking.book_slot(4294967298, holder => 'ivy');
SAVEPOINT s1;
SELECT ok FROM booking.book_slot(1, holder => 'ivy');
SELECT * FROM my_locks;
ROLLBACK TO SAVEPOINT s1;
SELECT * FROM my_locks;
SELECT ok FROM booking.book_slot(1, holder => 'ivy');
SELECT * FROM my_locks;
ROLLBACK;
BEGIN;
SAVEPOINT outer_sp;
SAVEPOINT inner_sp;
SELECT count(*) AS rows_of_ivy FROM booking.book_many(ARRAY[1, 4294967298], holder => 'ivy');
RELEASE SAVEPOINT inner_sp;
SELECT * FROM my_locks;
ROLLBACK TO SAVEPOINT outer_sp;
SELECT * FROM my_locks;
SELECT count(*) AS rows_of_ivy FROM booking.book_many(ARRAY[4294967298, 1], holder => 'ivy');
SELECT * FROM my_locks;
ROLLBACK;


-- A group's hold confirmed changes no count: it takes no advisory lock; released, each row gives
-- its spot back under its resource's lock
INSERT INTO booking.resource (id, name, capacity) VALUES (7, 'stall', 2), (8, 'stand', 2);
SELECT min(booking_id) AS cart, min(hold_token::text) AS cart_token
FROM booking.book_many(ARRAY[8, 7], holder => 'joe', hold => '10 minutes') \gset
BEGIN;
SELECT status, resource_id FROM booking.confirm(:cart, :'cart_token') ORDER BY resource_id;
SELECT * FROM my_locks;
ROLLBACK;
BEGIN;
SELECT status, resource_id FROM booking.release(:cart, :'cart_token') ORDER BY resource_id;
SELECT * FROM my_locks;
COMMIT;


-- The engine remembers its newest 64 locks: after 40 locks, a savepoint, 40 more (the last 16 of
-- them in the places of the first 16) and a rollback to the savepoint, the 40 taken in it are let
-- go and forgotten, and a booking on one of them takes its lock again (its place in the ring held
-- one of the forgotten, not the first 16 it had written over)
INSERT INTO booking.resource (id, name, capacity)
SELECT 1000 + g, 'stool ' || g, 5 FROM generate_series(1, 80) g;
BEGIN;
SELECT count(*) FILTER (WHERE b.ok) AS first_40
  FROM generate_series(1001, 1040) r, LATERAL booking.book_slot(r, holder => 'kai') b;
SAVEPOINT forty;
SELECT count(*) FILTER (WHERE b.ok) AS next_40
  FROM generate_series(1041, 1080) r, LATERAL booking.book_slot(r, holder => 'kai') b;
SELECT count(*) AS locks_held FROM my_locks WHERE objsubid = 16385 AND classid = 0 AND objid > 1000;
ROLLBACK TO SAVEPOINT forty;
SELECT count(*) AS locks_held FROM my_locks WHERE objsubid = 16385 AND classid = 0 AND objid > 1000;
SELECT ok FROM booking.book_slot(1080, holder => 'kai');
SELECT ok FROM booking.book_slot(1001, holder => 'kai');
SELECT objid FROM my_locks WHERE objsubid = 16385 AND classid = 0 AND objid IN (1001, 1041, 1080);
ROLLBACK;

SELECT * FROM booking.verify();
