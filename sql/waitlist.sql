--
-- Waitlists: a request that finds no room waits where the call or the resource says it may;
-- freed capacity goes to the waiting rows first, first come first served, where auto_promote is
-- on; a new booking does not overtake them; promote() works the list by hand.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity, waitlist) VALUES ('spin class', 2, true);
INSERT INTO booking.resource (name, capacity, waitlist, auto_promote) VALUES ('tasting', 1, false, false);
INSERT INTO booking.resource (name, capacity, timeline) VALUES ('studio', 1, true);
SELECT id AS spin FROM booking.resource WHERE name = 'spin class' \gset
SELECT id AS tasting FROM booking.resource WHERE name = 'tasting' \gset
SELECT id AS studio FROM booking.resource WHERE name = 'studio' \gset

-- full: the next requests wait, in order (the resource allows it; the call may say so too)
SELECT ok, status, available FROM booking.book_slot(:spin, 2, holder => 'ann');
SELECT ok, booking_id, status, waitlist_position, reason
FROM booking.book_slot(:spin, 1, holder => 'ben');
SELECT ok, status, waitlist_position, reason FROM booking.book_slot(:spin, 2, holder => 'cat', waitlist => true);
SELECT ok, status, waitlist_position FROM booking.book_slot(:spin, 1, holder => 'dan');
-- the call may also decline to wait: refused, nothing written
SELECT ok, status, booking_id, reason FROM booking.book_slot(:spin, 1, holder => 'eve', waitlist => false);
SELECT holder, spots, status FROM booking.booking WHERE resource_id = :spin ORDER BY id;
SELECT spots_reserved FROM booking.resource WHERE id = :spin;

-- ann cancels: her 2 spots go to the line in the same transaction: ben (1) fits, cat (2) does
-- not, so the line stops there and dan (1) does not overtake cat
SELECT holder, status FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'ann'));
SELECT holder, spots, status FROM booking.booking WHERE resource_id = :spin ORDER BY id;
SELECT spots_reserved FROM booking.resource WHERE id = :spin;

-- one spot is free, but cat waits for two: a new booking does not overtake her; it waits too
SELECT ok, status, waitlist_position, reason FROM booking.book_slot(:spin, 1, holder => 'fay');
-- a direct INSERT is judged on the room alone: it is how a restore or an import writes rows
-- back as they were (waiting rows before the bookings that came after them)
INSERT INTO booking.booking (resource_id, holder) VALUES (:spin, 'gus');
SELECT holder, status FROM booking.booking WHERE holder = 'gus';

-- a request for more spots than the class has at all never waits: nothing could ever free them
SELECT ok, status, booking_id, reason FROM booking.book_slot(:spin, 3, holder => 'hugo', waitlist => true);
-- a higher capacity promotes too: 4 spots, cat (2) comes in; dan and fay wait for the next
UPDATE booking.booking SET updated_at = '2025-01-01 00:00+00' WHERE resource_id = :spin;
UPDATE booking.resource SET capacity = 4 WHERE id = :spin;
-- a promotion is a change of status like any other: updated_at moves on the promoted row only
SELECT holder, spots, status, updated_at > '2025-01-01 00:00+00' AS touched FROM booking.booking WHERE resource_id = :spin ORDER BY id;
SELECT spots_reserved FROM booking.resource WHERE id = :spin;

-- auto_promote off: the waiting rows are a list worked by hand, and new bookings are admitted
-- on the room alone
SELECT ok FROM booking.book_slot(:tasting, 1, holder => 'hal');
SELECT ok, status, waitlist_position FROM booking.book_slot(:tasting, 1, holder => 'ivy', waitlist => true);
SELECT ok, status, waitlist_position FROM booking.book_slot(:tasting, 1, holder => 'jon', waitlist => true);
SELECT holder, status FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'hal'));
SELECT holder, status FROM booking.booking WHERE resource_id = :tasting ORDER BY id;
-- promote() takes any waiting row, ahead of its turn, when there is room
SELECT holder, status FROM booking.promote((SELECT id FROM booking.booking WHERE holder = 'jon'));
-- no room: 23514; not waiting: 55000; unknown: P0002; NULL: 22004
SELECT * FROM booking.promote((SELECT id FROM booking.booking WHERE holder = 'ivy'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.promote((SELECT id FROM booking.booking WHERE holder = 'jon'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.promote(999);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.promote(NULL);
\echo :LAST_ERROR_SQLSTATE

-- a timeline resource: a request waits for its range, and gets it when the range frees
SELECT ok FROM booking.book_slot(:studio, 1, '[2030-06-01 10:00, 2030-06-01 11:00)', 'kim');
SELECT ok, status, waitlist_position, reason, alternatives IS NULL AS no_alternatives
FROM booking.book_slot(:studio, 1, '[2030-06-01 10:30, 2030-06-01 11:30)', 'lea', waitlist => true);
-- a range the waiting row does not ask for is free to book
SELECT ok, status FROM booking.book_slot(:studio, 1, '[2030-06-01 12:00, 2030-06-01 13:00)', 'max');
-- kim's booking moves away: the range frees, and lea, who waited for it, gets it at once
UPDATE booking.booking SET during = '[2030-06-01 08:00, 2030-06-01 09:00)' WHERE holder = 'kim';
SELECT holder, during, status FROM booking.booking WHERE resource_id = :studio ORDER BY id;
SELECT ok, status, reason FROM booking.book_slot(:studio, 1, '[2030-06-01 11:00, 2030-06-01 11:15)', 'ned', waitlist => false);
-- while lea waited, a new booking of her range was refused even where the room was free: on a
-- resource that promotes on its own, the line moves first (here with auto_promote off for a
-- moment, so that she stays waiting when the range frees)
UPDATE booking.resource SET auto_promote = false WHERE id = :studio;
SELECT booking_id AS b_pia FROM booking.book_slot(:studio, 1, '[2030-06-02 10:00, 2030-06-02 11:00)', 'pia') \gset
SELECT ok, status FROM booking.book_slot(:studio, 1, '[2030-06-02 10:30, 2030-06-02 11:30)', 'quinn', waitlist => true);
SELECT holder, status FROM booking.cancel(:b_pia);
UPDATE booking.resource SET auto_promote = true WHERE id = :studio;
-- the range is free and quinn waits for it: rex's new booking does not overtake; the line moves
-- first (quinn is promoted), and rex is refused
SELECT ok, status, reason FROM booking.book_slot(:studio, 1, '[2030-06-02 11:00, 2030-06-02 12:00)', 'rex', waitlist => false);
SELECT holder, during, status FROM booking.booking WHERE holder IN ('pia', 'quinn', 'rex') ORDER BY id;

-- the audit: each promotion is recorded
SELECT action, holder, status FROM booking.attempt WHERE action <> 'book' ORDER BY id;
SELECT * FROM booking.verify();

-- each resource counts its waitlisted rows (resource.waiting), so that an admission looks at the
-- waitlist only when someone waits; the count follows every way a row starts or stops waiting,
-- and starts at 0 whatever a new resource's INSERT says
INSERT INTO booking.resource (name, capacity, waitlist, waiting) VALUES ('yoga', 1, true, 7);
INSERT INTO booking.resource (name, capacity, waitlist) VALUES ('pilates', 1, true);
SELECT id AS yoga FROM booking.resource WHERE name = 'yoga' \gset
SELECT id AS pilates FROM booking.resource WHERE name = 'pilates' \gset
SELECT waiting FROM booking.resource WHERE id = :yoga;
SELECT booking_id AS y_amy FROM booking.book_slot(:yoga, 1, holder => 'amy') \gset
SELECT booking_id AS y_bo, status FROM booking.book_slot(:yoga, 1, holder => 'bo') \gset
SELECT booking_id AS y_cy, status FROM booking.book_slot(:yoga, 1, holder => 'cy') \gset
SELECT name, waiting FROM booking.resource WHERE id IN (:yoga, :pilates) ORDER BY id;
-- amy cancels: bo is promoted, one row still waits
SELECT holder, status FROM booking.cancel(:y_amy);
SELECT waiting FROM booking.resource WHERE id = :yoga;
-- cy waits on pilates instead (the row moves): one count down, the other up
UPDATE booking.booking SET resource_id = :pilates WHERE id = :y_cy;
SELECT name, waiting FROM booking.resource WHERE id IN (:yoga, :pilates) ORDER BY id;
-- ... and leaves the line
SELECT holder, status FROM booking.cancel(:y_cy);
SELECT name, waiting FROM booking.resource WHERE id IN (:yoga, :pilates) ORDER BY id;
-- a direct INSERT of a waiting row counts, its DELETE counts it out
INSERT INTO booking.booking (resource_id, holder, status) VALUES (:yoga, 'dee', 'waitlisted');
SELECT waiting FROM booking.resource WHERE id = :yoga;
DELETE FROM booking.booking WHERE resource_id = :yoga AND holder = 'dee';
SELECT waiting FROM booking.resource WHERE id = :yoga;
-- only the engine writes it: 428C9
UPDATE booking.resource SET waiting = 3 WHERE id = :yoga;
-- a count written with the triggers off is reported by verify() and rewritten by repair()
SELECT booking_id AS y_eli, status FROM booking.book_slot(:yoga, 1, holder => 'eli') \gset
SET session_replication_role = replica;
UPDATE booking.resource SET waiting = 0 WHERE id = :yoga;
RESET session_replication_role;
SELECT resource_id = :yoga AS yoga, counted, problem FROM booking.verify();
SELECT resource_id = :yoga AS yoga, old_reserved, new_reserved FROM booking.repair();
SELECT waiting FROM booking.resource WHERE id = :yoga;
-- with the count right again, eli's place in line holds: bo's cancel gives her the spot, and a
-- new request waits behind no one but finds no room
SELECT holder, status FROM booking.cancel(:y_bo);
SELECT holder, status FROM booking.booking WHERE id = :y_eli;
SELECT ok, status, waitlist_position FROM booking.book_slot(:yoga, 1, holder => 'fay');
SELECT name, waiting FROM booking.resource WHERE id = :yoga;
SELECT * FROM booking.verify();

-- Within one transaction: a cancel where nobody waits, a request that then waits, another cancel:
-- the waiting one gets the place (what a cancel learned of the line is not kept once it changes)
INSERT INTO booking.resource (name, capacity, waitlist, auto_promote) VALUES ('barre', 1, true, true);
SELECT id AS barre FROM booking.resource WHERE name = 'barre' \gset
SELECT booking_id AS b_gus FROM booking.book_slot(:barre, 1, holder => 'gus') \gset
BEGIN;
SELECT holder, status FROM booking.cancel(:b_gus);
SELECT booking_id AS b_hal FROM booking.book_slot(:barre, 1, holder => 'hal') \gset
SELECT booking_id AS b_ida, status, waitlist_position FROM booking.book_slot(:barre, 1, holder => 'ida') \gset
SELECT waiting FROM booking.resource WHERE id = :barre;
SELECT holder, status FROM booking.cancel(:b_hal);
SELECT holder, status FROM booking.booking WHERE id = :b_ida;
COMMIT;
SELECT waiting, spots_reserved FROM booking.resource WHERE id = :barre;
SELECT * FROM booking.verify();
