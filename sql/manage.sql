--
-- booking.manage(): an application's own tables under the engine.  A Prisma-shaped schema
-- (quoted camelCase names, a text status), a snake_case one (an enum status, bigint keys), time
-- slots given as a start plus a duration, as start and end columns, and as a tstzrange; what
-- manage() checks, what it reports, what it installs; ALTER TABLE and DROP TABLE afterwards;
-- unmanage().
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

\i sql/reset.inc

-- try(sql): runs one statement and says how it ended, with the fields a driver reads
CREATE FUNCTION pg_temp.try(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	tab text;
	con text;
	msg text;
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, tab = TABLE_NAME, con = CONSTRAINT_NAME,
		msg = MESSAGE_TEXT;
	RETURN concat_ws(' | ', st, NULLIF(tab, ''), NULLIF(con, ''), msg);
END
$$;

-- 1. A Prisma schema: "Event" with a counter the application kept by hand (and got wrong), and
-- "Registration" with "spotsCount" and a text status.
CREATE TABLE "Event" (
	id serial PRIMARY KEY,
	title text NOT NULL,
	capacity integer NOT NULL,
	"spotsReserved" integer NOT NULL DEFAULT 0
);
CREATE TABLE "Registration" (
	id serial PRIMARY KEY,
	"eventId" integer NOT NULL REFERENCES "Event" (id),
	"userId" integer NOT NULL,
	"spotsCount" integer NOT NULL DEFAULT 1,
	status text NOT NULL DEFAULT 'PENDING'
);
INSERT INTO "Event" (title, capacity, "spotsReserved") VALUES ('Yoga', 3, 0), ('Jazz', 2, 1), ('Chess', 4, 0);
INSERT INTO "Registration" ("eventId", "userId", "spotsCount", status) VALUES
	(1, 1, 2, 'CONFIRMED'),
	(2, 2, 2, 'CONFIRMED'), (2, 3, 1, 'PENDING'), (2, 4, 1, 'CANCELLED');

-- manage() finds the keys and the foreign key itself, sets the counters from the rows and
-- returns what the rows already break: Jazz has 3 spots taken of 2
SELECT * FROM booking.manage('"Event"', '"Registration"', counter_column => 'spotsReserved',
							 spots_column => 'spotsCount', consuming => '{PENDING,CONFIRMED}');
SELECT id, title, capacity, "spotsReserved" FROM "Event" ORDER BY id;
SELECT id, parent, parent_key, capacity_column, counter_column, child, child_key, child_parent,
	   spots_column, status_column, consuming, timeline
  FROM booking.pair ORDER BY id;
SELECT tgrelid::regclass, tgname FROM pg_trigger
 WHERE tgrelid IN ('"Event"'::regclass, '"Registration"'::regclass) AND NOT tgisinternal
 ORDER BY 1, 2;
SELECT * FROM booking.verify();

-- 2. What an ORM writes, held to capacity: the last spot, then one too many
SELECT pg_temp.try($$INSERT INTO "Registration" ("eventId", "userId", status) VALUES (1, 5, 'CONFIRMED')$$);
SELECT pg_temp.try($$INSERT INTO "Registration" ("eventId", "userId", status) VALUES (1, 6, 'CONFIRMED')$$);
-- a row that takes nothing goes in whatever the room
SELECT pg_temp.try($$INSERT INTO "Registration" ("eventId", "userId", status) VALUES (1, 6, 'CANCELLED')$$);
-- a cancel frees the spot, which the next one takes
UPDATE "Registration" SET status = 'CANCELLED' WHERE "userId" = 5;
SELECT pg_temp.try($$INSERT INTO "Registration" ("eventId", "userId", status) VALUES (1, 7, 'PENDING')$$);
-- more seats on one registration, a move to another event, a delete
SELECT pg_temp.try($$UPDATE "Registration" SET "spotsCount" = 2 WHERE "userId" = 7$$);
SELECT pg_temp.try($$UPDATE "Registration" SET "eventId" = 3, "spotsCount" = 4 WHERE "userId" = 7$$);
SELECT pg_temp.try($$UPDATE "Registration" SET "eventId" = 3, "spotsCount" = 5 WHERE "userId" = 1$$);
DELETE FROM "Registration" WHERE "userId" = 2;
SELECT id, title, capacity, "spotsReserved" FROM "Event" ORDER BY id;
SELECT * FROM booking.verify();
-- a bad row is refused as on the extension's own table
SELECT pg_temp.try($$INSERT INTO "Registration" ("eventId", "userId", "spotsCount", status) VALUES (1, 8, 0, 'PENDING')$$);
SELECT pg_temp.try($$INSERT INTO "Registration" ("eventId", "userId", status) VALUES (99, 8, 'PENDING')$$);

-- 3. The parent: the counter is the engine's; capacity not below what is reserved; a new event
-- starts at 0 whatever it says; TRUNCATE refused on both
SELECT pg_temp.try($$UPDATE "Event" SET "spotsReserved" = 0 WHERE id = 1$$);
SELECT pg_temp.try($$UPDATE "Event" SET capacity = 1 WHERE id = 3$$);
SELECT pg_temp.try($$UPDATE "Event" SET capacity = 5, title = 'Chess club' WHERE id = 3$$);
INSERT INTO "Event" (title, capacity, "spotsReserved") VALUES ('Pottery', 2, 7);
SELECT id, title, capacity, "spotsReserved" FROM "Event" WHERE title = 'Pottery';
SELECT pg_temp.try($$TRUNCATE "Registration"$$);
SELECT pg_temp.try($$TRUNCATE "Event" CASCADE$$);

-- 4. ALTER TABLE: a renamed column is followed, on either table; dropping a column the pair
-- needs, or giving it a type the engine cannot read, is refused with the reason
ALTER TABLE "Registration" RENAME COLUMN "spotsCount" TO seats;
ALTER TABLE "Event" RENAME COLUMN "spotsReserved" TO taken;
SELECT spots_column, counter_column FROM booking.pair WHERE child = '"Registration"'::regclass;
SELECT pg_temp.try($$INSERT INTO "Registration" ("eventId", "userId", seats, status) VALUES (4, 9, 2, 'CONFIRMED')$$);
SELECT pg_temp.try($$INSERT INTO "Registration" ("eventId", "userId", seats, status) VALUES (4, 9, 1, 'CONFIRMED')$$);
SELECT pg_temp.try($$ALTER TABLE "Registration" DROP COLUMN seats$$);
SELECT pg_temp.try($$ALTER TABLE "Registration" ALTER COLUMN seats TYPE text$$);
SELECT pg_temp.try($$ALTER TABLE "Event" DROP COLUMN capacity$$);
-- other changes pass
ALTER TABLE "Registration" ADD COLUMN note text;
ALTER TABLE "Registration" ALTER COLUMN seats TYPE bigint;
SELECT pg_temp.try($$INSERT INTO "Registration" ("eventId", "userId", seats, status) VALUES (4, 10, 1, 'CONFIRMED')$$);
SELECT id, title, capacity, taken FROM "Event" ORDER BY id;
SELECT * FROM booking.verify();

-- 5. repair() covers the pair: a counter written with the triggers off is found and set right
ALTER TABLE "Event" DISABLE TRIGGER zz_booking_resource_guard;
UPDATE "Event" SET taken = 0 WHERE id = 1;
ALTER TABLE "Event" ENABLE TRIGGER zz_booking_resource_guard;
SELECT * FROM booking.verify();
SELECT * FROM booking.repair();
SELECT * FROM booking.verify();

-- 6. What manage() refuses, each with the column or the table at fault
CREATE TABLE shows (id bigint PRIMARY KEY, seats integer, sold integer, big_seats bigint, label text);
CREATE TABLE tickets (id bigint PRIMARY KEY, show_id bigint REFERENCES shows, other_show bigint REFERENCES shows,
	holder text, kind text, starts timestamptz, ends timestamp, span tstzrange);
CREATE VIEW show_view AS SELECT * FROM shows;
CREATE TABLE nokey (show_id bigint REFERENCES shows, status text);
ALTER TABLE tickets ADD COLUMN ends_utc timestamptz GENERATED ALWAYS AS (ends AT TIME ZONE 'UTC') STORED;
CREATE TABLE uuid_parent (id uuid PRIMARY KEY, capacity integer, taken integer);
CREATE TABLE uuid_child (id bigint PRIMARY KEY, parent_id uuid REFERENCES uuid_parent, status text);
SELECT pg_temp.try($$SELECT booking.manage(NULL, 'tickets')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'shows')$$);
SELECT pg_temp.try($$SELECT booking.manage('show_view', 'tickets')$$);
SELECT pg_temp.try($$SELECT booking.manage('"Event"', 'tickets')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', counter_column => 'sold')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', counter_column => 'sold', child_parent => 'show_id')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'sold', child_parent => 'show_id')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'sold', child_parent => 'show_id', status_column => 'kind')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'sold', child_parent => 'show_id', status_column => NULL, consuming => '{a}')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'sold', child_parent => 'show_id', status_column => 'kind', consuming => '{}')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'big_seats', counter_column => 'sold', child_parent => 'show_id', status_column => NULL)$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'label', child_parent => 'show_id', status_column => NULL)$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'sold', child_parent => 'show_id', status_column => NULL, spots_column => 'holder')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'sold', child_parent => 'holder', status_column => NULL)$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'sold', child_parent => 'show_id', status_column => 'starts', consuming => '{a}')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'sold', fixed_capacity => 2, child_parent => 'show_id', status_column => NULL)$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', fixed_capacity => 2, counter_column => 'sold', child_parent => 'show_id', status_column => NULL)$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', fixed_capacity => 2, child_parent => 'show_id', status_column => NULL, start_column => 'starts', end_column => 'ends')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', fixed_capacity => 2, child_parent => 'show_id', status_column => NULL, start_column => 'starts')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', fixed_capacity => 2, child_parent => 'show_id', status_column => NULL, start_column => 'starts', end_column => 'ends_utc')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', fixed_capacity => 2, child_parent => 'show_id', status_column => NULL, end_column => 'ends')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', fixed_capacity => 2, child_parent => 'show_id', status_column => NULL, during_column => 'span', start_column => 'starts', duration => '1 hour')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', fixed_capacity => 2, child_parent => 'show_id', status_column => NULL, during_column => 'holder')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', fixed_capacity => 2, child_parent => 'show_id', status_column => NULL, start_column => 'starts', duration => '1 day')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', fixed_capacity => 2, child_parent => 'show_id', status_column => NULL, start_column => 'starts', duration => '-1 hour')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', fixed_capacity => -1, child_parent => 'show_id', status_column => NULL, during_column => 'span')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', fixed_capacity => 2, child_parent => 'show_id', status_column => NULL, during_column => 'span', buffer_after => '-5 minutes')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'sold', child_parent => 'show_id', status_column => NULL, buffer_after => '5 minutes')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'nokey', capacity_column => 'seats', counter_column => 'sold', consuming => '{a}')$$);
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'sold', child_parent => 'show_id', child_key => 'starts', status_column => NULL)$$);
SELECT pg_temp.try($$SELECT booking.manage('uuid_parent', 'uuid_child', counter_column => 'taken', consuming => '{a}', child_parent => 'id')$$);
-- a table some other role owns
CREATE ROLE booking_manage_stranger;
GRANT USAGE ON SCHEMA booking TO booking_manage_stranger;
SET ROLE booking_manage_stranger;
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'sold', child_parent => 'show_id', status_column => NULL)$$);
SELECT pg_temp.try($$SELECT booking.unmanage('"Event"')$$);
RESET ROLE;
-- none of it left anything behind
SELECT count(*) AS pairs FROM booking.pair;
SELECT count(*) AS triggers FROM pg_trigger
 WHERE tgrelid IN ('shows'::regclass, 'tickets'::regclass) AND NOT tgisinternal;

-- 7. A pair without a status column: every row takes its spots (one ticket, one seat)
SELECT * FROM booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'sold',
							 child_parent => 'show_id', status_column => NULL);
INSERT INTO shows (id, seats, sold) VALUES (1, 2, 9);
INSERT INTO tickets (id, show_id) VALUES (1, 1), (2, 1);
SELECT pg_temp.try($$INSERT INTO tickets (id, show_id) VALUES (3, 1)$$);
DELETE FROM tickets WHERE id = 2;
INSERT INTO tickets (id, show_id) VALUES (3, 1);
SELECT id, seats, sold FROM shows;
SELECT pg_temp.try($$SELECT booking.manage('shows', 'tickets', capacity_column => 'seats', counter_column => 'sold', child_parent => 'show_id', status_column => NULL)$$);
SELECT pg_temp.try($$SELECT booking.manage('"Event"', 'nokey', capacity_column => 'capacity', counter_column => 'taken', child_parent => 'show_id', consuming => '{a}')$$);

-- 8. unmanage(): the triggers go, the rows and counters stay; writes are the application's again
SELECT booking.unmanage('tickets');
SELECT count(*) AS triggers FROM pg_trigger
 WHERE tgrelid IN ('shows'::regclass, 'tickets'::regclass) AND NOT tgisinternal;
INSERT INTO tickets (id, show_id) VALUES (4, 1);
SELECT id, seats, sold FROM shows;
SELECT pg_temp.try($$SELECT booking.unmanage('tickets')$$);
SELECT pg_temp.try($$SELECT booking.unmanage('booking.booking')$$);
SELECT pg_temp.try($$SELECT booking.unmanage(NULL)$$);

-- 9. Time slots, snake_case: a therapist's 50-minute sessions with 10 minutes kept free after
-- each, an enum status, bigint keys; the session's time zone does not matter
SET timezone = 'Europe/Berlin';
CREATE TYPE session_status AS ENUM ('scheduled', 'completed', 'cancelled', 'no_show');
CREATE TABLE therapists (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
CREATE TABLE sessions (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	therapist_id bigint NOT NULL REFERENCES therapists,
	client text NOT NULL,
	scheduled_at timestamptz NOT NULL,
	status session_status NOT NULL DEFAULT 'scheduled'
);
INSERT INTO therapists (name) VALUES ('Ana'), ('Ben');
-- Ana was double-booked before the engine came
INSERT INTO sessions (therapist_id, client, scheduled_at) VALUES
	(1, 'c1', '2030-03-01 10:00'), (1, 'c2', '2030-03-01 10:30'), (2, 'c3', '2030-03-01 10:00');
SELECT pair, resource_id, capacity, counted, problem
  FROM booking.manage('therapists', 'sessions', fixed_capacity => 1, start_column => 'scheduled_at',
					  duration => '50 minutes', buffer_after => '10 minutes',
					  consuming => '{scheduled,completed,no_show}');
-- the next slot starts after the buffer: 11:00 is free, 10:55 is not
SELECT pg_temp.try($$INSERT INTO sessions (therapist_id, client, scheduled_at) VALUES (2, 'c4', '2030-03-01 10:55')$$);
SELECT pg_temp.try($$INSERT INTO sessions (therapist_id, client, scheduled_at) VALUES (2, 'c4', '2030-03-01 11:00')$$);
-- before a booking too: its own buffer must end before the next one starts
SELECT pg_temp.try($$INSERT INTO sessions (therapist_id, client, scheduled_at) VALUES (2, 'c5', '2030-03-01 09:05')$$);
SELECT pg_temp.try($$INSERT INTO sessions (therapist_id, client, scheduled_at) VALUES (2, 'c5', '2030-03-01 09:00')$$);
-- a reschedule is one step: moving c4 by five minutes does not collide with itself
SELECT pg_temp.try($$UPDATE sessions SET scheduled_at = scheduled_at + interval '5 minutes' WHERE client = 'c4'$$);
SELECT pg_temp.try($$UPDATE sessions SET scheduled_at = '2030-03-01 09:30' WHERE client = 'c4'$$);
-- a cancelled session frees its time
UPDATE sessions SET status = 'cancelled' WHERE client = 'c2';
SELECT * FROM booking.verify();
UPDATE sessions SET status = 'cancelled' WHERE client = 'c3';
SELECT pg_temp.try($$INSERT INTO sessions (therapist_id, client, scheduled_at) VALUES (2, 'c6', '2030-03-01 10:00')$$);
SELECT client, scheduled_at, status FROM sessions ORDER BY therapist_id, scheduled_at, id;
SELECT * FROM booking.verify();
-- the parent has no counter: its rows may be written freely
UPDATE therapists SET name = 'Ana M.' WHERE id = 1;
SET timezone = 'UTC';

-- 10. Time slots as start and end columns without a time zone (read as UTC), capacity 2 from a
-- column; and as a tstzrange
CREATE TABLE courts (id integer PRIMARY KEY, lanes integer NOT NULL);
CREATE TABLE games (
	id serial PRIMARY KEY,
	court_id integer NOT NULL REFERENCES courts,
	starts timestamp NOT NULL,
	ends timestamp NOT NULL,
	state varchar(10) NOT NULL DEFAULT 'ok'
);
SELECT * FROM booking.manage('courts', 'games', capacity_column => 'lanes', start_column => 'starts',
							 end_column => 'ends', status_column => 'state', consuming => '{ok}');
INSERT INTO courts VALUES (1, 2);
INSERT INTO games (court_id, starts, ends) VALUES (1, '2030-01-01 10:00', '2030-01-01 12:00'),
												 (1, '2030-01-01 11:00', '2030-01-01 13:00');
SELECT pg_temp.try($$INSERT INTO games (court_id, starts, ends) VALUES (1, '2030-01-01 11:30', '2030-01-01 11:45')$$);
SELECT pg_temp.try($$INSERT INTO games (court_id, starts, ends) VALUES (1, '2030-01-01 12:00', '2030-01-01 12:45')$$);
SELECT pg_temp.try($$INSERT INTO games (court_id, starts, ends) VALUES (1, '2030-01-01 13:00', '2030-01-01 12:45')$$);
-- fewer lanes than the games at one instant: refused
SELECT pg_temp.try($$UPDATE courts SET lanes = 1 WHERE id = 1$$);
SELECT * FROM booking.verify();

CREATE TABLE venues (id integer PRIMARY KEY, name text);
CREATE TABLE gigs (id integer PRIMARY KEY, venue_id integer REFERENCES venues, slot tstzrange, status text);
SELECT * FROM booking.manage('venues', 'gigs', fixed_capacity => 1, during_column => 'slot',
							 consuming => '{booked}');
INSERT INTO venues VALUES (1, 'club');
INSERT INTO gigs VALUES (1, 1, '[2030-01-01 20:00, 2030-01-01 22:00)', 'booked');
SELECT pg_temp.try($$INSERT INTO gigs VALUES (2, 1, '[2030-01-01 21:00, 2030-01-01 23:00)', 'booked')$$);
SELECT pg_temp.try($$INSERT INTO gigs VALUES (2, 1, '[2030-01-01 21:00, 2030-01-01 23:00)', 'asked')$$);
SELECT pg_temp.try($$UPDATE gigs SET status = 'booked' WHERE id = 2$$);
SELECT pg_temp.try($$INSERT INTO gigs VALUES (3, 1, '[2030-01-01 22:00,)', 'booked')$$);

-- 11. DROP TABLE takes the pair with it, and the engine's triggers on the other table
DROP TABLE gigs;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'venues'::regclass AND NOT tgisinternal;
UPDATE venues SET name = 'club 2';
SELECT child FROM booking.pair ORDER BY id;
SELECT * FROM booking.verify();

-- 12. Roles: the tables' owner needs only USAGE on schema booking to call manage(); the
-- application's role that writes the child needs nothing of booking at all
CREATE ROLE booking_manage_owner;
CREATE ROLE booking_manage_writer;
GRANT USAGE ON SCHEMA booking TO booking_manage_owner;
GRANT CREATE ON SCHEMA public TO booking_manage_owner;
SET ROLE booking_manage_owner;
CREATE TABLE classes (id integer PRIMARY KEY, capacity integer NOT NULL, taken integer NOT NULL DEFAULT 0);
CREATE TABLE enrolments (id serial PRIMARY KEY, class_id integer NOT NULL REFERENCES classes, status text NOT NULL DEFAULT 'in');
INSERT INTO classes VALUES (1, 1, 0);
SELECT * FROM booking.manage('classes', 'enrolments', counter_column => 'taken', consuming => '{in}');
GRANT SELECT, INSERT, UPDATE ON enrolments TO booking_manage_writer;
GRANT USAGE ON SEQUENCE enrolments_id_seq TO booking_manage_writer;
SET ROLE booking_manage_writer;
INSERT INTO enrolments (class_id) VALUES (1);
SELECT pg_temp.try($$INSERT INTO enrolments (class_id) VALUES (1)$$);
UPDATE enrolments SET status = 'out';
INSERT INTO enrolments (class_id) VALUES (1);
SET ROLE booking_manage_owner;
SELECT id, capacity, taken FROM classes;
SELECT booking.unmanage('classes');
DROP TABLE enrolments, classes;
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM booking_manage_owner;
REVOKE USAGE ON SCHEMA booking FROM booking_manage_owner;
DROP ROLE booking_manage_owner, booking_manage_writer;

-- 13. Keys that are not integers: Prisma's String ids (text), and uuids, on a pool and on time
-- slots; verify() and repair() name such a resource in resource_key
CREATE TABLE "Workshop" (id text PRIMARY KEY, capacity integer NOT NULL, "spotsReserved" integer NOT NULL DEFAULT 0);
CREATE TABLE "Seat" (id text PRIMARY KEY, "workshopId" text NOT NULL REFERENCES "Workshop" (id),
	status text NOT NULL DEFAULT 'TAKEN');
INSERT INTO "Workshop" (id, capacity) VALUES ('cl9ebqhxk00003b600tymydho', 2), ('cl9ebqkxk00013b60abcdefgh', 1);
SELECT * FROM booking.manage('"Workshop"', '"Seat"', counter_column => 'spotsReserved', consuming => '{TAKEN}');
INSERT INTO "Seat" VALUES ('s1', 'cl9ebqhxk00003b600tymydho'), ('s2', 'cl9ebqhxk00003b600tymydho');
SELECT pg_temp.try($$INSERT INTO "Seat" VALUES ('s3', 'cl9ebqhxk00003b600tymydho')$$);
SELECT pg_temp.try($$UPDATE "Seat" SET "workshopId" = 'cl9ebqkxk00013b60abcdefgh' WHERE id IN ('s1', 's2')$$);
UPDATE "Seat" SET "workshopId" = 'cl9ebqkxk00013b60abcdefgh' WHERE id = 's1';
SELECT pg_temp.try($$INSERT INTO "Seat" VALUES ('s4', 'no such workshop')$$);
SELECT id, capacity, "spotsReserved" FROM "Workshop" ORDER BY id;
ALTER TABLE "Workshop" DISABLE TRIGGER zz_booking_resource_guard;
UPDATE "Workshop" SET "spotsReserved" = 5 WHERE id = 'cl9ebqhxk00003b600tymydho';
ALTER TABLE "Workshop" ENABLE TRIGGER zz_booking_resource_guard;
SELECT * FROM booking.verify();
SELECT * FROM booking.repair();
SELECT * FROM booking.verify();

CREATE TABLE rooms_u (id uuid PRIMARY KEY, name text);
CREATE TABLE slots_u (id uuid PRIMARY KEY, room_id uuid NOT NULL REFERENCES rooms_u, span tstzrange NOT NULL,
	status text NOT NULL DEFAULT 'booked');
INSERT INTO rooms_u VALUES ('00000000-0000-4000-8000-000000000001', 'blue');
SELECT * FROM booking.manage('rooms_u', 'slots_u', fixed_capacity => 1, during_column => 'span',
							 consuming => '{booked}', buffer_before => '15 minutes');
INSERT INTO slots_u VALUES ('10000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001',
	'[2030-05-01 10:00, 2030-05-01 11:00)');
SELECT pg_temp.try($$INSERT INTO slots_u VALUES ('10000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', '[2030-05-01 11:00, 2030-05-01 12:00)')$$);
SELECT pg_temp.try($$INSERT INTO slots_u VALUES ('10000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', '[2030-05-01 11:15, 2030-05-01 12:00)')$$);
-- a reschedule of a uuid row is one step too
SELECT pg_temp.try($$UPDATE slots_u SET span = '[2030-05-01 09:30, 2030-05-01 10:30)' WHERE id = '10000000-0000-4000-8000-000000000001'$$);
SELECT pg_temp.try($$UPDATE slots_u SET span = '[2030-05-01 10:30, 2030-05-01 11:30)' WHERE id = '10000000-0000-4000-8000-000000000001'$$);
SELECT * FROM booking.verify();
SELECT booking.unmanage('"Seat"'), booking.unmanage('slots_u');
DROP TABLE "Seat", "Workshop", slots_u, rooms_u;

-- 14. book_slot() on a managed pair: the same decision, a refusal returned instead of raised; meta
-- gives the row's other columns; the alternatives of a refused time slot
CREATE TABLE "Talk" (id serial PRIMARY KEY, capacity integer NOT NULL, "spotsReserved" integer NOT NULL DEFAULT 0);
CREATE TABLE "Seat" (id serial PRIMARY KEY, "talkId" integer NOT NULL REFERENCES "Talk" (id),
	"userId" integer NOT NULL, "spotsCount" integer NOT NULL DEFAULT 1, status text NOT NULL DEFAULT 'PENDING');
INSERT INTO "Talk" (capacity) VALUES (3);
SELECT count(*) FROM booking.manage('"Talk"', '"Seat"', counter_column => 'spotsReserved',
									spots_column => 'spotsCount', consuming => '{CONFIRMED,PENDING}');
SELECT ok, booking_id, status, resource_id, spots, available, reason
  FROM booking.book_slot(1, 2, managed => '"Seat"', meta => '{"userId": 7}');
SELECT ok, booking_id, resource_id, spots, available, reason
  FROM booking.book_slot(NULL, 2, managed => '"Talk"', resource_key => '1', meta => '{"userId": 8}');
SELECT ok, booking_id, resource_id, spots, available, reason
  FROM booking.book_slot(1, 1, managed => '"Seat"', meta => '{"userId": 9, "status": "PENDING"}');
SELECT id, "talkId", "userId", "spotsCount", status FROM "Seat" ORDER BY id;
SELECT id, capacity, "spotsReserved" FROM "Talk";
SELECT pg_temp.try($$SELECT booking.book_slot(1, 1, managed => '"Seat"', meta => '{"nope": 1}')$$);
SELECT pg_temp.try($$SELECT booking.book_slot(1, 1, managed => '"Seat"', meta => '[1]')$$);
SELECT pg_temp.try($$SELECT booking.book_slot(1, 1, managed => '"Seat"', hold => '1 minute')$$);
SELECT pg_temp.try($$SELECT booking.book_slot(1, 1, managed => '"Seat"', idempotency_key => 'k')$$);
SELECT pg_temp.try($$SELECT booking.book_slot(1, 1, '[2030-01-01, 2030-01-02)', managed => '"Seat"', meta => '{"userId": 1}')$$);
SELECT pg_temp.try($$SELECT booking.book_slot(99, 1, managed => '"Seat"', meta => '{"userId": 1}')$$);
SELECT pg_temp.try($$SELECT booking.book_slot(1, 1, resource_key => '1')$$);
SELECT pg_temp.try($$SELECT booking.book_slot(1, 1, managed => 'booking.booking')$$);
SELECT pg_temp.try($$SELECT booking.book_slot(1, 1, managed => 'pg_class')$$);

CREATE TABLE studios (id uuid PRIMARY KEY);
CREATE TABLE classes_u (id bigserial PRIMARY KEY, studio_id uuid NOT NULL REFERENCES studios, at timestamp,
	status text NOT NULL DEFAULT 'ok');
INSERT INTO studios VALUES ('00000000-0000-4000-8000-0000000000aa');
SELECT count(*) FROM booking.manage('studios', 'classes_u', fixed_capacity => 1, start_column => 'at',
									duration => '1 hour', consuming => '{ok}');
SELECT ok, booking_id, resource_id, during, available, reason, alternatives
  FROM booking.book_slot(NULL, 1, '[2030-01-01 10:00, 2030-01-01 11:00)', managed => 'classes_u',
						 resource_key => '00000000-0000-4000-8000-0000000000aa');
SELECT ok, booking_id, resource_id, during, available, reason, alternatives
  FROM booking.book_slot(NULL, 1, '[2030-01-01 10:30, 2030-01-01 11:30)', managed => 'classes_u',
						 resource_key => '00000000-0000-4000-8000-0000000000aa');
SELECT pg_temp.try($$SELECT booking.book_slot(NULL, 1, '[2030-01-01 12:00, 2030-01-01 12:30)', managed => 'classes_u', resource_key => '00000000-0000-4000-8000-0000000000aa')$$);
SELECT pg_temp.try($$SELECT booking.book_slot(NULL, 1, managed => 'classes_u', resource_key => '00000000-0000-4000-8000-0000000000aa')$$);
SELECT pg_temp.try($$SELECT booking.book_slot(1, 1, '[2030-01-01 12:00, 2030-01-01 13:00)', managed => 'classes_u')$$);
-- a consuming row with no start on time slots is refused; one that takes nothing goes in
SELECT pg_temp.try($$INSERT INTO classes_u (studio_id, at) VALUES ('00000000-0000-4000-8000-0000000000aa', NULL)$$);
SELECT pg_temp.try($$INSERT INTO classes_u (studio_id, at, status) VALUES ('00000000-0000-4000-8000-0000000000aa', NULL, 'off')$$);
SELECT studio_id, at, status FROM classes_u ORDER BY id;
SELECT * FROM booking.verify();
SELECT booking.unmanage('"Seat"'), booking.unmanage('classes_u');
DROP TABLE "Seat", "Talk", classes_u, studios;

-- leave no managed table behind for the files that run next
SELECT booking.unmanage('"Registration"'), booking.unmanage('sessions'), booking.unmanage('games');
DROP TABLE "Registration", "Event", tickets, shows, nokey, uuid_child, uuid_parent, sessions,
	therapists, games, courts, venues CASCADE;
DROP TYPE session_status;
REVOKE USAGE ON SCHEMA booking FROM booking_manage_stranger;
DROP ROLE booking_manage_stranger;
SELECT count(*) AS pairs FROM booking.pair;
