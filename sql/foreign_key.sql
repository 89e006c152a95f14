--
-- booking.booking.resource_id references booking.resource: the foreign key is declared, its
-- resource-side check is PostgreSQL's own, and its booking-side check is the engine's (the two
-- PostgreSQL triggers that would look the resource up again for every row are disabled by the
-- install script).  Every path must still refuse a booking of a missing resource and a delete of
-- a resource that has bookings.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

-- the constraint, and which of its triggers run
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'booking.booking'::regclass AND contype = 'f';
SELECT tg.tgrelid::regclass AS on_table, tg.tgfoid::regproc AS function, tg.tgenabled
  FROM pg_trigger tg JOIN pg_constraint c ON c.oid = tg.tgconstraint
 WHERE c.conrelid = 'booking.booking'::regclass AND c.contype = 'f'
 ORDER BY 1, 2;

INSERT INTO booking.resource (name, capacity) VALUES ('kiln', 2);
SELECT id AS kiln FROM booking.resource WHERE name = 'kiln' \gset

-- rows that take capacity: the counter's look-up finds the resource or refuses
INSERT INTO booking.booking (resource_id, holder) VALUES (:kiln, 'ada');
INSERT INTO booking.booking (resource_id, holder) VALUES (424242, 'ghost');
\echo :LAST_ERROR_SQLSTATE
-- rows that take nothing: the engine's own look-up (FOR KEY SHARE) refuses a missing resource
INSERT INTO booking.booking (resource_id, holder, status) VALUES (424242, 'ghost', 'cancelled');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO booking.booking (resource_id, holder, status) VALUES (424242, 'ghost', 'waitlisted');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO booking.booking (resource_id, holder, status) VALUES (:kiln, 'bo', 'cancelled');
-- moving such a row to a missing resource, or a consuming one
UPDATE booking.booking SET resource_id = 424242 WHERE holder = 'bo';
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET resource_id = 424242 WHERE holder = 'ada';
\echo :LAST_ERROR_SQLSTATE
-- changing anything else of a row that takes nothing needs no look-up and works
UPDATE booking.booking SET meta = '{"note": "kept"}' WHERE holder = 'bo';
SELECT holder, status, meta FROM booking.booking ORDER BY holder;

-- the resource side: PostgreSQL's own check refuses deleting a resource that has bookings,
-- even when none of them takes capacity
DELETE FROM booking.resource WHERE id = :kiln;
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET status = 'cancelled' WHERE holder = 'ada';
DELETE FROM booking.resource WHERE id = :kiln;
\echo :LAST_ERROR_SQLSTATE
-- once its bookings are gone, it can go
SELECT booking.reset(:kiln);
DELETE FROM booking.resource WHERE id = :kiln;
SELECT count(*) AS resources_left FROM booking.resource;

SELECT * FROM booking.verify();
