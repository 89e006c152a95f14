-- test/bench/reset-seats.sql
-- Every seat free again on both sides (the history rows of setup-seats.sql stay), an empty
-- audit, no dead tuples, a fresh checkpoint.  The
-- engine's rows go with its triggers off; booking.repair() then rewrites the seats' counters.

\set ON_ERROR_STOP on

SET session_replication_role = replica;
DELETE FROM booking.booking
WHERE resource_id BETWEEN 30001 AND 39999 AND id > (SELECT engine_base FROM bench.seats_base);
RESET session_replication_role;
DO $$ BEGIN PERFORM * FROM booking.repair(); END $$;
TRUNCATE booking.attempt;

DELETE FROM bench.seat_booking WHERE id > (SELECT peer_base FROM bench.seats_base);
UPDATE bench.seat SET state = 'free', holder = NULL, hold_until = NULL WHERE state <> 'free';
DELETE FROM bench.seat_v_booking WHERE id > (SELECT v_base FROM bench.seats_base);
UPDATE bench.seat_v SET n = 0 WHERE n <> 0;
DELETE FROM bench.seat_a_booking WHERE id > (SELECT a_base FROM bench.seats_base);
TRUNCATE bench.seat_a_queue, bench.seat_a_attempt;
UPDATE bench.seat_a SET n = 0 WHERE n <> 0;
DELETE FROM bench.seat_i_booking WHERE id > (SELECT i_base FROM bench.seats_base);
UPDATE bench.seat_i SET n = 0, hold_due = NULL WHERE n <> 0 OR hold_due IS NOT NULL;

VACUUM booking.resource, booking.booking, booking.attempt, booking.queue, bench.seat, bench.seat_booking, bench.seat_w,
	bench.seat_v, bench.seat_v_booking, bench.seat_a, bench.seat_a_booking, bench.seat_a_queue,
	bench.seat_a_attempt, bench.seat_i, bench.seat_i_booking;
CHECKPOINT;
