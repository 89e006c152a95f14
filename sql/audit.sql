--
-- booking.attempt: one row per book_slot() and cancel() call, refusals included, written in the
-- caller's transaction; booking.audit = off (superuser only) turns it off.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity) VALUES ('tour', 3);
SELECT id AS tour FROM booking.resource WHERE name = 'tour' \gset

-- what the audit says, without the columns that vary from run to run
CREATE TEMP VIEW audit AS
SELECT a.id, a.action, a.holder, r.name AS resource, a.spots, a.during, a.ok, a.reason,
       a.booking_id, a.status, a.idempotency_key, a.role = current_user AS by_caller,
       a.at IS NOT NULL AS timed
FROM booking.attempt a LEFT JOIN booking.resource r ON r.id = a.resource_id
ORDER BY a.id;

SHOW booking.audit;
-- a success, a refusal, a cancellation: three rows
SELECT ok, booking_id, available, reason FROM booking.book_slot(:tour, 2, holder => 'ann');
SELECT ok, booking_id, available, reason FROM booking.book_slot(:tour, 2, holder => 'ben');
SELECT holder, status FROM booking.cancel(1, 'weather');
SELECT * FROM audit ORDER BY id;

-- the audit is written in the caller's transaction: a rollback takes it away with the booking
BEGIN;
SELECT ok, booking_id FROM booking.book_slot(:tour, 1, holder => 'cat');
SELECT count(*) AS attempts FROM booking.attempt;
ROLLBACK;
SELECT count(*) AS attempts FROM booking.attempt;

-- a refusal commits with the caller's transaction: the audit keeps it
BEGIN;
SELECT ok, booking_id FROM booking.book_slot(:tour, 3, holder => 'dan');
SELECT ok, booking_id, available, reason FROM booking.book_slot(:tour, 3, holder => 'eve');
COMMIT;
SELECT * FROM audit WHERE holder IN ('cat', 'dan', 'eve') ORDER BY id;

-- direct writes are not book_slot() calls and are not audited
UPDATE booking.booking SET status = 'cancelled' WHERE holder = 'dan';
INSERT INTO booking.booking (resource_id, holder) VALUES (:tour, 'fay');
SELECT count(*) AS attempts FROM booking.attempt;

-- a call that raises leaves no row
SELECT * FROM booking.book_slot(999);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_slot(:tour, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.cancel(999);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.cancel(1);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS attempts FROM booking.attempt;

--
-- booking.audit = off: no rows for successes, refusals or cancellations
--
SET booking.audit = off;
SELECT ok, booking_id, available, reason FROM booking.book_slot(:tour, 1, holder => 'gus');
SELECT ok, booking_id, available, reason FROM booking.book_slot(:tour, 1, holder => 'hal');
SELECT holder, status FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'gus'));
SELECT count(*) AS attempts FROM booking.attempt;
RESET booking.audit;
SHOW booking.audit;
-- SET LOCAL lasts for the transaction only
BEGIN;
SET LOCAL booking.audit = off;
SELECT ok, reason FROM booking.book_slot(:tour, 5, holder => 'ivy');
COMMIT;
SELECT ok, reason FROM booking.book_slot(:tour, 5, holder => 'jon');
SELECT * FROM audit WHERE holder IN ('gus', 'hal', 'ivy', 'jon') ORDER BY id;

-- only a superuser may turn the audit off: 42501
CREATE ROLE regress_booking_auditee;
SET ROLE regress_booking_auditee;
SET booking.audit = off;
\echo :LAST_ERROR_SQLSTATE
SHOW booking.audit;
RESET ROLE;
DROP ROLE regress_booking_auditee;

--
-- ids: the identity steps by 64, and one draw numbers all the rows of a call
--
SELECT seqincrement FROM pg_sequence WHERE seqrelid = 'booking.attempt_id_seq'::regclass;
INSERT INTO booking.resource (name, capacity) VALUES ('row a', 1), ('row b', 1), ('row c', 1);
SELECT max(id) AS before FROM booking.attempt \gset
-- a group of three: three rows, consecutive ids, the first of a new block
SELECT resource_id IS NOT NULL AS seat, ok, status, hold_token IS NOT NULL AS token
  FROM booking.book_many(ARRAY(SELECT id FROM booking.resource WHERE name LIKE 'row _' ORDER BY id),
                         holder => 'kim', hold => interval '5 minutes');
SELECT id - :before AS after_last, action, holder FROM booking.attempt WHERE id > :before ORDER BY id;
-- the group's cancel: one call, three transitions, the next block
SELECT count(*) AS cancelled FROM booking.cancel((SELECT min(id) FROM booking.booking WHERE holder = 'kim'),
                                                 whole_group => true);
SELECT id - :before AS after_last, action, holder FROM booking.attempt WHERE id > :before ORDER BY id;
-- a refusal is a call of its own: one row, a block of its own
SELECT ok, reason FROM booking.book_slot(:tour, 9, holder => 'lou');
SELECT id - :before AS after_last, action, holder FROM booking.attempt WHERE id > :before ORDER BY id;

-- a DBA's sequence that steps by 1: every row draws its own id, still in the order written
ALTER TABLE booking.attempt ALTER COLUMN id SET INCREMENT BY 1;
SELECT max(id) AS before FROM booking.attempt \gset
SELECT count(*) FILTER (WHERE ok) AS booked
  FROM booking.book_many(ARRAY(SELECT id FROM booking.resource WHERE name LIKE 'row _' ORDER BY id),
                         holder => 'max');
SELECT ok FROM booking.book_slot(:tour, 1, holder => 'ned');
SELECT id - :before AS after_last, action, holder FROM booking.attempt WHERE id > :before ORDER BY id;
-- and one that steps by 10: a block of 10 ids per call
ALTER TABLE booking.attempt ALTER COLUMN id SET INCREMENT BY 10;
SELECT max(id) AS before FROM booking.attempt \gset
SELECT count(*) AS cancelled
  FROM booking.cancel((SELECT min(id) FROM booking.booking WHERE holder = 'max'), whole_group => true);
SELECT ok FROM booking.book_slot(:tour, 1, holder => 'oli');
SELECT id - :before AS after_last, action, holder FROM booking.attempt WHERE id > :before ORDER BY id;
-- a call with more rows than a block draws as many blocks as it needs
ALTER TABLE booking.attempt ALTER COLUMN id SET INCREMENT BY 2;
SELECT max(id) AS before FROM booking.attempt \gset
SELECT count(*) FILTER (WHERE ok) AS booked
  FROM booking.book_many(ARRAY(SELECT id FROM booking.resource WHERE name LIKE 'row _' ORDER BY id),
                         holder => 'pat');
SELECT ok FROM booking.book_slot(:tour, 1, holder => 'quinn');
SELECT id - :before AS after_last, action, holder FROM booking.attempt WHERE id > :before ORDER BY id;
ALTER TABLE booking.attempt ALTER COLUMN id SET INCREMENT BY 64;
SELECT count(*) = count(DISTINCT id) AS ids_distinct FROM booking.attempt;

-- the rows of one call are formed once and copied with their own id, time, resource, spots,
-- outcome, booking and status written over (src/audit.c): each row says what its booking is
INSERT INTO booking.resource (name, capacity) VALUES ('lane a', 5), ('lane b', 5), ('lane c', 5);
SELECT max(id) AS before FROM booking.attempt \gset
SELECT min(booking_id) AS ray, min(hold_token::text) AS ray_token
  FROM booking.book_many(ARRAY(SELECT id FROM booking.resource WHERE name LIKE 'lane _' ORDER BY id),
                         holder => 'ray', hold => interval '5 minutes') \gset
SELECT count(*) AS confirmed FROM booking.confirm(:ray, :'ray_token');
SELECT a.action, a.holder, a.resource_id = b.resource_id AS same_resource, a.spots, a.ok,
       a.status, a.booking_id = b.id AS same_booking, a.at <= clock_timestamp() AS at_set
  FROM booking.attempt a JOIN booking.booking b ON b.id = a.booking_id
 WHERE a.id > :before ORDER BY a.id;
SELECT count(DISTINCT a.resource_id) AS resources, count(DISTINCT a.booking_id) AS bookings
  FROM booking.attempt a WHERE a.id > :before;
-- rows of one call that differ in a text column are formed each on its own: a group written
-- directly, with two holders, cancelled as one
SELECT max(id) AS before FROM booking.attempt \gset
INSERT INTO booking.booking (resource_id, holder, group_id)
SELECT id, CASE WHEN name = 'lane a' THEN 'tia' ELSE 'uma' END, 999999
  FROM booking.resource WHERE name IN ('lane a', 'lane b');
SELECT max(id) AS before FROM booking.attempt \gset
SELECT count(*) AS cancelled FROM booking.cancel((SELECT min(id) FROM booking.booking WHERE group_id = 999999),
                                                 whole_group => true);
SELECT a.action, a.holder, a.booking_id = b.id AS same_booking, b.holder AS booking_holder, a.status
  FROM booking.attempt a JOIN booking.booking b ON b.id = a.booking_id
 WHERE a.id > :before ORDER BY a.id;

--
-- how the rows are written follows the table: the engine keeps what it prepared for the direct
-- way (the row type, the caller's name) and makes it again when the table or a role changes
--
DROP VIEW audit;
INSERT INTO booking.resource (name, capacity) VALUES ('hall', 10), ('box x', 1), ('box y', 1);
SELECT id AS hall FROM booking.resource WHERE name = 'hall' \gset
CREATE ROLE regress_booking_clerk;
GRANT USAGE ON SCHEMA booking TO regress_booking_clerk;
GRANT SELECT ON booking.resource TO regress_booking_clerk;
GRANT SELECT, INSERT, UPDATE, DELETE ON booking.booking TO regress_booking_clerk;
SET ROLE regress_booking_clerk;
SELECT ok FROM booking.book_slot(:hall, 1, holder => 'pia');
RESET ROLE;
ALTER ROLE regress_booking_clerk RENAME TO regress_booking_teller;
SET ROLE regress_booking_teller;
SELECT ok FROM booking.book_slot(:hall, 1, holder => 'rob');
RESET ROLE;
SELECT ok FROM booking.book_slot(:hall, 1, holder => 'sid');
SELECT holder, role FROM booking.attempt WHERE holder IN ('pia', 'rob', 'sid') ORDER BY id;
DROP OWNED BY regress_booking_teller;
DROP ROLE regress_booking_teller;
-- a column's type changed, its name kept: still the direct way, in the new row type
ALTER TABLE booking.attempt ALTER COLUMN reason TYPE varchar(20);
SELECT ok, reason FROM booking.book_slot(:hall, 99, holder => 'tom');
SELECT holder, reason, pg_typeof(reason) AS type FROM booking.attempt WHERE holder = 'tom';
ALTER TABLE booking.attempt ALTER COLUMN reason TYPE text;
-- a trigger of the DBA's: every row goes through an INSERT statement and fires it, a group's
-- rows each; dropped, the direct way again
CREATE TABLE public.attempt_seen (n serial, holder text, action text, ok boolean);
CREATE FUNCTION public.attempt_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.attempt_seen (holder, action, ok) VALUES (NEW.holder, NEW.action, NEW.ok);
	RETURN NEW;
END $$;
CREATE TRIGGER attempt_seen AFTER INSERT ON booking.attempt
	FOR EACH ROW EXECUTE FUNCTION public.attempt_seen();
SELECT count(*) FILTER (WHERE ok) AS booked
  FROM booking.book_many(ARRAY(SELECT id FROM booking.resource WHERE name LIKE 'box _' ORDER BY id),
                         holder => 'una');
SELECT ok, reason FROM booking.book_slot(:hall, 99, holder => 'val');
DROP TRIGGER attempt_seen ON booking.attempt;
SELECT ok FROM booking.book_slot(:hall, 1, holder => 'wes');
SELECT holder, action, ok FROM public.attempt_seen ORDER BY n;
SELECT holder, action, ok, reason FROM booking.attempt WHERE holder IN ('una', 'val', 'wes') ORDER BY id;
DROP TABLE public.attempt_seen;
DROP FUNCTION public.attempt_seen();
-- an index of the DBA's: the statement way keeps it filled
CREATE INDEX attempt_holder_probe ON booking.attempt (holder);
SELECT ok FROM booking.book_slot(:hall, 1, holder => 'xia');
SET enable_seqscan = off;
SELECT holder, action FROM booking.attempt WHERE holder = 'xia';
RESET enable_seqscan;
DROP INDEX booking.attempt_holder_probe;
SELECT ok FROM booking.book_slot(:hall, 1, holder => 'yan');
SELECT holder, action FROM booking.attempt WHERE holder IN ('xia', 'yan') ORDER BY id;
SELECT count(*) = count(DISTINCT id) AS ids_distinct FROM booking.attempt;

SELECT * FROM booking.verify();
