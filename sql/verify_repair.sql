--
-- verify() reports every resource whose counter differs from its rows or exceeds its capacity;
-- repair() rewrites wrong counters from the rows.  The counters are broken on purpose here with
-- the triggers off (session_replication_role = replica), which only a superuser can do.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity) VALUES ('r1', 5), ('r2', 5), ('r3', 5), ('r4', 5);
INSERT INTO booking.booking (resource_id, holder, spots, status)
SELECT r.id, 'h' || r.id || '-' || n, n, s
FROM booking.resource r,
     (VALUES (1, 'confirmed'::booking.status), (2, 'pending'), (3, 'cancelled')) AS v(n, s)
ORDER BY r.id, n;
SELECT id, name, capacity, spots_reserved FROM booking.resource ORDER BY id;

-- all is well: verify() is empty, repair() has nothing to do
SELECT * FROM booking.verify();
SELECT * FROM booking.repair();

-- break three counters behind the engine's back:
--   r1 counter written too low; r2 a row added without its spots; r3 a row deleted, its spots kept
SET session_replication_role = replica;
UPDATE booking.resource SET spots_reserved = 1 WHERE name = 'r1';
INSERT INTO booking.booking (resource_id, holder, spots)
SELECT id, 'ghost', 2 FROM booking.resource WHERE name = 'r2';
DELETE FROM booking.booking WHERE holder = (SELECT 'h' || id || '-2' FROM booking.resource WHERE name = 'r3');
RESET session_replication_role;
SELECT id, name, capacity, spots_reserved FROM booking.resource ORDER BY id;

SELECT * FROM booking.verify() ORDER BY pair, resource_id;

-- repair() returns what it changed, and verify() is empty again
SELECT * FROM booking.repair() ORDER BY pair, resource_id;
SELECT * FROM booking.verify();
SELECT id, name, capacity, spots_reserved FROM booking.resource ORDER BY id;
-- a second run has nothing left to do
SELECT * FROM booking.repair();

-- the repaired counters are what the engine goes on from: r2 is full (3 + 2 of 5)
SELECT ok, available, reason FROM booking.book_slot((SELECT id FROM booking.resource WHERE name = 'r2'), holder => 'zoe');
SELECT ok, available, reason FROM booking.book_slot((SELECT id FROM booking.resource WHERE name = 'r1'), 2, holder => 'zoe');

-- reservations over capacity with a counter that matches its rows: reported, and not something
-- repair() can fix by rewriting the counter
SET session_replication_role = replica;
UPDATE booking.resource SET capacity = 2 WHERE name = 'r4';
RESET session_replication_role;
SELECT * FROM booking.verify() ORDER BY pair, resource_id;
SELECT * FROM booking.repair();
SELECT * FROM booking.verify() ORDER BY pair, resource_id;
-- the DBA raises the capacity back (allowed: it is not below what is reserved)
UPDATE booking.resource SET capacity = 5 WHERE name = 'r4';

-- a counter that is wrong and above capacity is one row, as a counter that differs from its rows
SET session_replication_role = replica;
UPDATE booking.resource SET spots_reserved = 9 WHERE name = 'r4';
RESET session_replication_role;
SELECT * FROM booking.verify() ORDER BY pair, resource_id;
SELECT * FROM booking.repair() ORDER BY pair, resource_id;

--
-- booking.queue lists the held and the waiting rows that the admission looks up; the trigger
-- keeps it.  A hold written with the triggers off is missing there (and from its counter):
-- verify() says so, repair() rebuilds the list, and the admission then finds the hold and
-- expires it when its time has passed
--
SET session_replication_role = replica;
INSERT INTO booking.booking (resource_id, holder, spots, status, expires_at)
SELECT id, 'hidden hold', 1, 'held', now() - interval '1 minute' FROM booking.resource WHERE name = 'r3';
RESET session_replication_role;
SELECT pair, resource_id, counted, problem FROM booking.verify() ORDER BY pair, resource_id, problem;
SELECT pair, resource_id, old_reserved, new_reserved FROM booking.repair() ORDER BY pair, resource_id, new_reserved;
SELECT * FROM booking.verify();
SELECT resource_id, waiting, due IS NOT NULL AS has_due FROM booking.queue ORDER BY resource_id, booking_id;
-- r3 has 5 places, 1 confirmed and 1 held past due: 4 more fit once the hold is expired
SELECT ok, reason FROM booking.book_slot((SELECT id FROM booking.resource WHERE name = 'r3'), 4, holder => 'yan');
SELECT holder, status FROM booking.booking WHERE holder IN ('hidden hold', 'yan') ORDER BY id;
SELECT count(*) AS entries FROM booking.queue;

--
-- repair() and reset() are not for everyone: EXECUTE is revoked from PUBLIC (42501)
--
CREATE ROLE regress_booking_clerk;
GRANT USAGE ON SCHEMA booking TO regress_booking_clerk;
SET ROLE regress_booking_clerk;
SELECT * FROM booking.repair();
\echo :LAST_ERROR_SQLSTATE
SELECT booking.reset();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE USAGE ON SCHEMA booking FROM regress_booking_clerk;
DROP ROLE regress_booking_clerk;

SELECT id, name, capacity, spots_reserved FROM booking.resource ORDER BY id;
SELECT * FROM booking.verify();
