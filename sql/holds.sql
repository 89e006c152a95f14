--
-- Holds: book_slot(hold => ...) keeps spots for a while; confirm(), release() and extend() with
-- the hold token; a hold past its time stops counting with no job running; expire_holds()
-- tidies the rest.  Pending bookings are approved by confirm().  Errors right after each
-- happy path.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity, max_hold, hold_ttl)
VALUES ('workshop', 3, '1 hour', '15 minutes');
INSERT INTO booking.resource (name, capacity, timeline) VALUES ('studio', 1, true);
INSERT INTO booking.resource (name, capacity) VALUES ('lounge', 5);
SELECT id AS shop FROM booking.resource WHERE name = 'workshop' \gset
SELECT id AS studio FROM booking.resource WHERE name = 'studio' \gset
SELECT id AS lounge FROM booking.resource WHERE name = 'lounge' \gset

-- a hold: status held, an expiry `hold` from now, a token; it takes its spots at once
CREATE TEMP TABLE first_hold AS
SELECT * FROM booking.book_slot(:shop, 2, holder => 'ann', hold => '10 minutes');
SELECT ok, h.status, h.spots, h.expires_at = b.created_at + interval '10 minutes' AS expires_in_10_min,
       hold_token IS NOT NULL AS has_token, available
FROM first_hold h JOIN booking.booking b ON b.id = h.booking_id;
SELECT booking_id AS h_ann, hold_token AS t_ann FROM first_hold \gset
SELECT booking_id AS h_ben, hold_token AS t_ben
FROM booking.book_slot(:shop, 1, holder => 'ben', hold => '10 minutes') \gset
SELECT spots_reserved FROM booking.resource WHERE id = :shop;
SELECT ok, reason, available FROM booking.book_slot(:shop, 1, holder => 'cat');
-- the table keeps the token's digest (sha256 of its 16 bytes), never the token
SELECT hold_token_digest = sha256(uuid_send(:'t_ben'::uuid)) AS digest_of_token,
       position(replace(:'t_ben', '-', '') IN encode(hold_token_digest, 'hex')) = 0 AS token_not_stored
FROM booking.booking WHERE id = :h_ben;

-- confirm with the token: confirmed, no expiry, no digest any more
SELECT id, holder, spots, status, expires_at, hold_token_digest
FROM booking.confirm(:h_ben, :'t_ben');
SELECT spots_reserved FROM booking.resource WHERE id = :shop;
-- a second confirm: 55000, naming the status
SELECT * FROM booking.confirm(:h_ben, :'t_ben');
\echo :LAST_ERROR_SQLSTATE

-- another hold's token, or none: 42501, and nothing changes
SELECT * FROM booking.release(:h_ann, :'t_ben');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.release(:h_ann, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.confirm(:h_ann);
\echo :LAST_ERROR_SQLSTATE
SELECT status FROM booking.booking WHERE id = :h_ann;
-- release with the right token gives the spots back at once
SELECT holder, status, hold_token_digest FROM booking.release(:h_ann, :'t_ann');
SELECT spots_reserved FROM booking.resource WHERE id = :shop;
-- a released hold is over: 55000
SELECT * FROM booking.release(:h_ann, :'t_ann');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.extend(:h_ann, :'t_ann');
\echo :LAST_ERROR_SQLSTATE

-- extend: later by an interval, or by the resource's hold_ttl (15 minutes) when none is given
SELECT booking_id AS h_eve, hold_token AS t_eve
FROM booking.book_slot(:shop, 1, holder => 'eve', hold => '20 minutes') \gset
SELECT expires_at - created_at AS life FROM booking.extend(:h_eve, :'t_eve', '10 minutes');
SELECT expires_at - created_at AS life FROM booking.extend(:h_eve, :'t_eve');
-- the whole life of a hold stays within max_hold (1 hour): 45 minutes so far, 20 more is too
-- much (22023); an extension must be positive (22023)
SELECT * FROM booking.extend(:h_eve, :'t_eve', '20 minutes');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.extend(:h_eve, :'t_eve', '-5 minutes');
\echo :LAST_ERROR_SQLSTATE
SELECT expires_at - created_at AS life FROM booking.booking WHERE id = :h_eve;
-- a hold longer than max_hold, or not positive: 22023, nothing written
SELECT * FROM booking.book_slot(:shop, 1, holder => 'fay', hold => '2 hours');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_slot(:shop, 1, holder => 'fay', hold => '0 minutes');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS fay_rows FROM booking.booking WHERE holder = 'fay';
-- unknown booking: P0002; NULL id: 22004
SELECT * FROM booking.confirm(999, :'t_eve');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.confirm(NULL);
\echo :LAST_ERROR_SQLSTATE

-- A hold whose time has passed (made due here by moving its expiry into the past) still counts on a
-- pool until it is marked expired; the next admission that needs its room marks it first.
SELECT holder, status, spots FROM booking.booking WHERE id IN (:h_ben, :h_eve) ORDER BY id;
SELECT spots_reserved, capacity FROM booking.resource WHERE id = :shop;
UPDATE booking.booking SET expires_at = '2025-01-01 00:00+00' WHERE id = :h_eve;
SELECT ok, status, available FROM booking.book_slot(:shop, 2, holder => 'gus');
SELECT holder, status FROM booking.booking WHERE id = :h_eve;
SELECT spots_reserved FROM booking.resource WHERE id = :shop;
-- too late to confirm it: 55000, it has expired
SELECT * FROM booking.confirm(:h_eve, :'t_eve');
\echo :LAST_ERROR_SQLSTATE

-- a due hold nobody needed stays held until expire_holds() comes by
SELECT booking_id AS h_hal, hold_token AS t_hal
FROM booking.book_slot(:lounge, 1, holder => 'hal', hold => '10 minutes') \gset
UPDATE booking.booking SET expires_at = '2025-01-01 00:00+00', updated_at = '2025-01-01 00:00+00'
 WHERE id = :h_hal;
SELECT status FROM booking.booking WHERE id = :h_hal;
-- confirming or releasing it: 55000, it has expired (the guard says so for a direct UPDATE too)
SELECT * FROM booking.release(:h_hal, :'t_hal');
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET status = 'confirmed' WHERE id = :h_hal;
\echo :LAST_ERROR_SQLSTATE
SELECT booking.expire_holds();
-- an expiry is a change of status like any other: updated_at moves
SELECT status, updated_at > '2025-01-01 00:00+00' AS touched FROM booking.booking WHERE id = :h_hal;
SELECT booking.expire_holds();
SELECT * FROM booking.expire_holds(-1);
\echo :LAST_ERROR_SQLSTATE

-- On a timeline resource a hold past its time counts for nothing at once.
SELECT booking_id AS h_ivy, hold_token AS t_ivy
FROM booking.book_slot(:studio, 1, '[2030-05-01 10:00, 2030-05-01 11:00)', 'ivy', hold => '10 minutes') \gset
SELECT ok, reason FROM booking.book_slot(:studio, 1, '[2030-05-01 10:30, 2030-05-01 11:30)', 'jon');
UPDATE booking.booking SET expires_at = '2025-01-01 00:00+00' WHERE id = :h_ivy;
SELECT ok, status FROM booking.book_slot(:studio, 1, '[2030-05-01 10:30, 2030-05-01 11:30)', 'jon');
SELECT holder, status FROM booking.booking WHERE resource_id = :studio ORDER BY id;
-- giving the past-due hold a later expiry is a new claim on its range: jon has it now (23P01)
UPDATE booking.booking SET expires_at = now() + interval '1 hour' WHERE id = :h_ivy;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.verify();

-- Approval: a pending booking takes its spots; confirm() approves it, no token needed.
INSERT INTO booking.resource (name, capacity) VALUES ('tasting', 2);
SELECT id AS tasting FROM booking.resource WHERE name = 'tasting' \gset
INSERT INTO booking.booking (resource_id, holder, spots, status) VALUES (:tasting, 'kim', 2, 'pending')
RETURNING id AS p_kim \gset
SELECT ok, reason FROM booking.book_slot(:tasting, 1, holder => 'lea');
SELECT holder, status FROM booking.confirm(:p_kim);
SELECT spots_reserved FROM booking.resource WHERE id = :tasting;

-- every change of status is in the audit, whoever made it
SELECT action, holder, ok, reason, booking_id IS NOT NULL AS has_booking, status
FROM booking.attempt ORDER BY id;
SELECT * FROM booking.verify();

-- A hold written directly is held to max_hold as book_slot() and extend() are: it must have an
-- expiry, and its whole life, from created_at, must stay within the limit (22023, nothing
-- written); a row that becomes held counts its life from now; a resource without max_hold takes
-- any hold; a COPY (a bulk load, such as a restore) is not judged.
INSERT INTO booking.resource (name, capacity, max_hold) VALUES ('booth', 5, '1 hour');
SELECT id AS booth FROM booking.resource WHERE name = 'booth' \gset
INSERT INTO booking.booking (resource_id, holder, spots, status, expires_at)
VALUES (:booth, 'max', 1, 'held', now() + interval '2 hours');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO booking.booking (resource_id, holder, spots, status) VALUES (:booth, 'max', 1, 'held');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO booking.booking (resource_id, holder, spots, status, expires_at, created_at)
VALUES (:booth, 'max', 1, 'held', now() + interval '30 minutes', now() - interval '45 minutes');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO booking.booking (resource_id, holder, spots, status, expires_at)
VALUES (:booth, 'max', 1, 'held', now() + interval '50 minutes') RETURNING id AS h_max \gset
-- a later expiry by UPDATE: judged like extend(); a shorter one, or none at all, is not
UPDATE booking.booking SET expires_at = created_at + interval '61 minutes' WHERE id = :h_max;
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET expires_at = NULL WHERE id = :h_max;
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET expires_at = created_at + interval '1 hour' WHERE id = :h_max
RETURNING expires_at - created_at AS life;
-- the lounge has no max_hold: a hold with no expiry at all is taken, and refused when moved here
INSERT INTO booking.booking (resource_id, holder, spots, status) VALUES (:lounge, 'max', 1, 'held')
RETURNING id AS h_forever \gset
UPDATE booking.booking SET resource_id = :booth WHERE id = :h_forever;
\echo :LAST_ERROR_SQLSTATE
-- a row that waited three hours, then held for 30 minutes: its hold starts now
INSERT INTO booking.booking (resource_id, holder, spots, status, created_at)
VALUES (:booth, 'ned', 1, 'waitlisted', now() - interval '3 hours') RETURNING id AS w_ned \gset
UPDATE booking.booking SET status = 'held', expires_at = now() + interval '30 minutes' WHERE id = :w_ned
RETURNING status;
SELECT :booth AS booth;
COPY booking.booking (resource_id, holder, spots, status, expires_at) FROM stdin;
5	old	1	held	2030-01-01 00:00:00+00
\.
SELECT holder, status, expires_at IS NULL AS no_expiry,
       expires_at - created_at > interval '1 hour' AS life_over_max_hold
FROM booking.booking WHERE resource_id IN (:booth, :lounge) AND holder IN ('max', 'ned', 'old')
ORDER BY id;
SELECT spots_reserved FROM booking.resource WHERE id = :booth;
SELECT * FROM booking.verify();

-- The hold slot.  A hold that is its resource's only one is recorded on the resource's row
-- (hold_id, hold_due) instead of in booking.queue; any other hold gets an entry there.  The
-- confirm leaves the slot naming a row no longer held; the cancel that gives the spots back
-- empties it where others still take spots, and leaves it where none do (the next take
-- overwrites or empties it).  Admissions and expire_holds() find a due hold in either place.
INSERT INTO booking.resource (name, capacity) VALUES ('seat A1', 1), ('seat A2', 1), ('bench', 2);
SELECT id AS a1 FROM booking.resource WHERE name = 'seat A1' \gset
SELECT id AS a2 FROM booking.resource WHERE name = 'seat A2' \gset
SELECT id AS bench FROM booking.resource WHERE name = 'bench' \gset
SELECT booking_id AS s_one, hold_token AS t_one
FROM booking.book_slot(:a1, holder => 'ola', hold => '10 minutes') \gset
SELECT r.hold_id = :s_one AS slot_names_hold, r.hold_due = b.expires_at AS slot_due_is_expiry
FROM booking.resource r JOIN booking.booking b ON b.id = :s_one WHERE r.id = :a1;
SELECT count(*) AS queue_entries FROM booking.queue WHERE booking_id = :s_one;
-- a pool's second hold goes to the queue; the first stays in the slot
SELECT booking_id AS s_p1, hold_token AS t_p1
FROM booking.book_slot(:bench, holder => 'pia', hold => '10 minutes') \gset
SELECT booking_id AS s_p2, hold_token AS t_p2
FROM booking.book_slot(:bench, holder => 'quin', hold => '10 minutes') \gset
SELECT hold_id = :s_p1 AS slot_has_first FROM booking.resource WHERE id = :bench;
SELECT booking_id = :s_p2 AS queued_is_second FROM booking.queue WHERE resource_id = :bench;
SELECT * FROM booking.verify();
-- confirms: the queue's entry goes; the slot stays, naming a confirmed row
SELECT status FROM booking.confirm(:s_one, :'t_one');
SELECT status FROM booking.confirm(:s_p2, :'t_p2');
SELECT count(*) AS queue_entries FROM booking.queue WHERE resource_id IN (:a1, :bench);
SELECT hold_id = :s_one AS slot_still_names_it FROM booking.resource WHERE id = :a1;
SELECT * FROM booking.verify();
-- the cancel gives the seat back; nothing stays taken, so the slot is left naming the cancelled
-- row, which readers pass over; the next hold takes it
SELECT status FROM booking.cancel(:s_one);
SELECT spots_reserved, hold_id = :s_one AS slot_names_cancelled FROM booking.resource WHERE id = :a1;
SELECT * FROM booking.verify();
SELECT booking_id AS s_two FROM booking.book_slot(:a1, holder => 'ron', hold => '10 minutes') \gset
SELECT hold_id = :s_two AS slot_names_new_hold FROM booking.resource WHERE id = :a1;
-- an extension moves the hold to the queue with its new expiry; the slot's is no longer its own
UPDATE booking.booking SET expires_at = expires_at + interval '5 minutes' WHERE id = :s_two;
SELECT q.due = b.expires_at AS queued_with_new_expiry, r.hold_due < b.expires_at AS slot_due_older
FROM booking.queue q JOIN booking.booking b ON b.id = q.booking_id
JOIN booking.resource r ON r.id = b.resource_id WHERE q.booking_id = :s_two;
SELECT * FROM booking.verify();
SELECT status FROM booking.cancel(:s_two);
-- a hold in the slot that is past due: the next request for the seat expires it and takes it
INSERT INTO booking.booking (resource_id, holder, status, expires_at, created_at)
VALUES (:a1, 'sam', 'held', now() - interval '1 minute', now() - interval '11 minutes')
RETURNING id AS s_due \gset
SELECT hold_id = :s_due AS slot_names_due_hold FROM booking.resource WHERE id = :a1;
SELECT ok, status FROM booking.book_slot(:a1, holder => 'tom');
SELECT status FROM booking.booking WHERE id = :s_due;
-- and expire_holds() finds one there too (2: ivy's hold on the studio is due since above)
INSERT INTO booking.booking (resource_id, holder, status, expires_at, created_at)
VALUES (:a2, 'uma', 'held', now() - interval '1 minute', now() - interval '11 minutes')
RETURNING id AS s_due2 \gset
SELECT booking.expire_holds(100) AS expired;
SELECT status FROM booking.booking WHERE id = :s_due2;
SELECT spots_reserved, hold_id = :s_due2 AS slot_names_expired FROM booking.resource WHERE id = :a2;
SELECT action, holder, status FROM booking.attempt WHERE holder IN ('sam', 'uma') ORDER BY id;
-- the slot is the engine's: an UPDATE that writes it gets 428C9; a new resource's starts empty
UPDATE booking.resource SET hold_id = NULL WHERE id = :bench;
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.resource SET hold_due = now() WHERE id = :bench;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO booking.resource (name, capacity, hold_id, hold_due) VALUES ('seat A3', 1, 42, now())
RETURNING hold_id IS NULL AS slot_empty, hold_due IS NULL AS due_empty;
-- written around the triggers, a slot emptied leaves its hold listed nowhere: verify() says so,
-- repair() lists it in the queue
SET session_replication_role = replica;
UPDATE booking.resource SET hold_id = NULL, hold_due = NULL WHERE id = :bench;
RESET session_replication_role;
SELECT resource_id = :bench AS the_bench, problem FROM booking.verify();
SELECT resource_id = :bench AS the_bench, old_reserved, new_reserved FROM booking.repair();
SELECT booking_id = :s_p1 AS queued_is_first FROM booking.queue WHERE resource_id = :bench;
SELECT * FROM booking.verify();
-- a give-back that leaves spots taken empties the slot naming its row; a take with no hold to
-- record that finds nothing taken empties a slot left naming a row given back
INSERT INTO booking.resource (name, capacity) VALUES ('sofa', 2), ('seat A4', 1);
SELECT id AS sofa FROM booking.resource WHERE name = 'sofa' \gset
SELECT id AS a4 FROM booking.resource WHERE name = 'seat A4' \gset
SELECT booking_id AS s_x FROM booking.book_slot(:sofa, holder => 'xia', hold => '10 minutes') \gset
SELECT booking_id AS s_y FROM booking.book_slot(:sofa, holder => 'yan', hold => '10 minutes') \gset
SELECT hold_id = :s_x AS slot_names_x FROM booking.resource WHERE id = :sofa;
SELECT status FROM booking.cancel(:s_x);
SELECT spots_reserved, hold_id IS NULL AS slot_empty, hold_due IS NULL AS due_empty
FROM booking.resource WHERE id = :sofa;
SELECT booking_id AS s_z FROM booking.book_slot(:a4, holder => 'zoe', hold => '10 minutes') \gset
SELECT status FROM booking.cancel(:s_z);
SELECT hold_id = :s_z AS slot_names_z FROM booking.resource WHERE id = :a4;
SELECT ok, status FROM booking.book_slot(:a4, holder => 'abe');
SELECT spots_reserved, hold_id IS NULL AS slot_empty, hold_due IS NULL AS due_empty
FROM booking.resource WHERE id = :a4;
SELECT * FROM booking.verify();

-- tokens come from a block of strong random bytes drawn ahead (1,024 bytes, 64 tokens): across
-- several blocks every token is a distinct version 4 UUID whose digest is sha256() of its bytes
INSERT INTO booking.resource (name, capacity) VALUES ('hall', 200) RETURNING id AS hall \gset
CREATE TEMP TABLE many_holds AS
SELECT h.* FROM generate_series(1, 150) g,
     LATERAL booking.book_slot(:hall, 1, holder => 'crowd' || g, hold => '5 minutes') h;
SELECT count(*) AS holds, count(DISTINCT m.hold_token) AS distinct_tokens,
       bool_and(b.hold_token_digest = sha256(uuid_send(m.hold_token))) AS digests_match,
       bool_and(substr(m.hold_token::text, 15, 1) = '4'
                AND substr(m.hold_token::text, 20, 1) IN ('8', '9', 'a', 'b')) AS version_4
FROM many_holds m JOIN booking.booking b ON b.id = m.booking_id;
-- and each confirms with its own token
SELECT count(*) AS confirmed
FROM many_holds m, LATERAL booking.confirm(m.booking_id, m.hold_token) c
WHERE c.status = 'confirmed';
SELECT * FROM booking.verify();

-- A hold's length is judged before its room, wherever it is read: a hold longer than max_hold
-- is 22023 on a full pool resource (where the admission reads max_hold with the counter) and on a
-- timeline (read apart), never a refusal or a waiting row; a hold that fits is refused or waits
INSERT INTO booking.resource (name, capacity, max_hold) VALUES ('kiosk', 1, '1 hour')
RETURNING id AS kiosk \gset
SELECT ok, status FROM booking.book_slot(:kiosk, 1, holder => 'kim');
SELECT count(*) AS attempts_before FROM booking.attempt \gset
SELECT * FROM booking.book_slot(:kiosk, 1, holder => 'lou', hold => '2 hours', waitlist => true);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.book_slot(:kiosk, 1, holder => 'lou', hold => '2 hours');
\echo :LAST_ERROR_SQLSTATE
SELECT ok, reason FROM booking.book_slot(:kiosk, 1, holder => 'lou', hold => '30 minutes');
SELECT ok, status, waitlist_position
FROM booking.book_slot(:kiosk, 1, holder => 'lou', hold => '30 minutes', waitlist => true);
SELECT count(*) - :attempts_before AS new_attempts FROM booking.attempt;
UPDATE booking.resource SET max_hold = '1 hour' WHERE id = :studio;
SELECT * FROM booking.book_slot(:studio, 1, '[2031-01-01 10:00, 2031-01-01 11:00)', holder => 'lou',
                                hold => '2 hours');
\echo :LAST_ERROR_SQLSTATE
SELECT ok, status FROM booking.book_slot(:studio, 1, '[2031-01-01 10:00, 2031-01-01 11:00)',
                                         holder => 'lou', hold => '1 hour');
SELECT holder, status FROM booking.booking WHERE holder = 'lou' ORDER BY id;
SELECT * FROM booking.verify();
