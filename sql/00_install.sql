--
-- Installation: CREATE EXTENSION booking creates the schema, its tables, types, triggers and
-- functions, registers the user tables for pg_dump, and configures the extension's own pair.
-- Every later file assumes this one ran first.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

CREATE EXTENSION booking;

SELECT extname, extversion, extnamespace::regnamespace AS schema, extrelocatable
FROM pg_extension WHERE extname = 'booking';
SELECT nspname, obj_description(oid, 'pg_namespace') IS NOT NULL AS commented
FROM pg_namespace WHERE nspname = 'booking';

-- every object the extension owns
SELECT pg_describe_object(classid, objid, objsubid) AS object
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'booking')
  AND deptype = 'e'
ORDER BY 1;

-- tables and sequences whose contents pg_dump keeps, with their filters
SELECT c.relname, cond.condition
FROM pg_extension e,
     unnest(e.extconfig, e.extcondition) AS cond(reloid, condition)
     JOIN pg_class c ON c.oid = cond.reloid
WHERE e.extname = 'booking'
ORDER BY c.relname;

-- the statuses, in order
SELECT enumlabel FROM pg_enum WHERE enumtypid = 'booking.status'::regtype ORDER BY enumsortorder;

-- the triggers that put every writer through the engine
SELECT tgrelid::regclass AS "table", tgname, tgfoid::regproc AS function, tgenabled
FROM pg_trigger
WHERE tgrelid IN ('booking.booking'::regclass, 'booking.resource'::regclass) AND NOT tgisinternal
ORDER BY tgrelid::regclass::text, tgname;

-- the extension's own table pair is pair 1
SELECT id, parent, parent_key, capacity_column, counter_column, timeline_column,
       child, child_key, child_parent, spots_column, status_column, consuming, during_column
FROM booking.pair ORDER BY id;

-- the audit is on by default
SHOW booking.audit;

-- the tables start empty
SELECT (SELECT count(*) FROM booking.resource) AS resources,
       (SELECT count(*) FROM booking.booking) AS bookings,
       (SELECT count(*) FROM booking.attempt) AS attempts;

-- a second CREATE EXTENSION is refused
CREATE EXTENSION booking;
\echo :LAST_ERROR_SQLSTATE

SELECT * FROM booking.verify();
