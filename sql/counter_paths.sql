--
-- The two ways the engine writes a resource's counter (src/counter.c): straight through the
-- table access method while booking.resource is as shipped, and through an UPDATE statement as
-- soon as something on the table needs to see the write (a trigger, a CHECK constraint).  Both
-- must give the same counter, keep indexes right, and honour what was added.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity) VALUES ('pottery', 6);
SELECT id AS pottery FROM booking.resource WHERE name = 'pottery' \gset

-- 1. As shipped: the direct way.  An index on the counter makes every counter write a non-HOT
-- update, so the direct way must add the new index entries itself; an index-only lookup by
-- counter value finds the row at each step.
CREATE INDEX resource_reserved_idx ON booking.resource (spots_reserved);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT ok, available FROM booking.book_slot(:pottery, 2, holder => 'ada');
EXPLAIN (COSTS OFF) SELECT id FROM booking.resource WHERE spots_reserved = 2;
SELECT id = :pottery AS found_by_index FROM booking.resource WHERE spots_reserved = 2;
SELECT ok, available FROM booking.book_slot(:pottery, 3, holder => 'bea');
SELECT id = :pottery AS found_by_index FROM booking.resource WHERE spots_reserved = 5;
SELECT count(*) AS stale_entries FROM booking.resource WHERE spots_reserved IN (0, 2);
SELECT ok, available, reason FROM booking.book_slot(:pottery, 2, holder => 'cy');
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP INDEX booking.resource_reserved_idx;

-- 2. A trigger of the application's on resource: the engine writes through an UPDATE
-- statement, so the trigger sees every counter change.
CREATE TABLE public.counter_log (resource_id bigint, old_reserved int, new_reserved int);
CREATE FUNCTION public.log_counter() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.counter_log VALUES (NEW.id, OLD.spots_reserved, NEW.spots_reserved);
	RETURN NEW;
END $$;
CREATE TRIGGER log_counter AFTER UPDATE ON booking.resource
	FOR EACH ROW EXECUTE FUNCTION public.log_counter();
SELECT ok, available FROM booking.book_slot(:pottery, 1, holder => 'dot');
SELECT status FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'ada'));
SELECT ok, available, reason FROM booking.book_slot(:pottery, 5, holder => 'eve');
SELECT old_reserved, new_reserved FROM public.counter_log ORDER BY new_reserved DESC;
-- disabled, it sees nothing more (and the engine is free to write directly again)
ALTER TABLE booking.resource DISABLE TRIGGER log_counter;
SELECT ok, available FROM booking.book_slot(:pottery, 1, holder => 'fay');
SELECT count(*) AS log_rows FROM public.counter_log;
DROP TABLE public.counter_log CASCADE;
DROP TRIGGER log_counter ON booking.resource;
DROP FUNCTION public.log_counter();

-- 3. A CHECK constraint a DBA adds on resource is honoured: the engine writes through an
-- UPDATE statement, which checks it.
ALTER TABLE booking.resource ADD CONSTRAINT at_most_five CHECK (spots_reserved <= 5);
SELECT spots_reserved FROM booking.resource WHERE id = :pottery;
\set VERBOSITY terse
SELECT ok, available FROM booking.book_slot(:pottery, 1, holder => 'gil');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT spots_reserved FROM booking.resource WHERE id = :pottery;
ALTER TABLE booking.resource DROP CONSTRAINT at_most_five;
SELECT ok, available FROM booking.book_slot(:pottery, 1, holder => 'gil');

-- whatever the way, the counter is what the rows say
SELECT spots_reserved, capacity FROM booking.resource WHERE id = :pottery;
SELECT * FROM booking.verify();
