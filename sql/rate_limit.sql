--
-- The per-holder rate: booking.holder_rate_limit new bookings per holder within
-- booking.holder_rate_window, refused ones included, through every path.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity) VALUES ('concert', 2), ('museum', 100), ('closed room', 0);
SELECT id AS concert FROM booking.resource WHERE name = 'concert' \gset
SELECT id AS museum FROM booking.resource WHERE name = 'museum' \gset
SELECT id AS closed FROM booking.resource WHERE name = 'closed room' \gset

-- off by default
SHOW booking.holder_rate_limit;
SHOW booking.holder_rate_window;

SET booking.holder_rate_limit = 3;
SET booking.holder_rate_window = '1h';
-- three attempts in the window, a refused one among them; the fourth is refused, anywhere
SELECT ok, reason FROM booking.book_slot(:concert, 2, holder => 'ann');
SELECT ok, reason FROM booking.book_slot(:concert, 1, holder => 'ann');
SELECT ok, reason FROM booking.book_slot(:museum, 1, holder => 'ann');
SELECT ok, reason, available FROM booking.book_slot(:museum, 1, holder => 'ann');
SELECT holder, attempts FROM booking.holder_rate ORDER BY holder;
-- others are not held back
SELECT ok, reason FROM booking.book_slot(:museum, 1, holder => 'ben');
-- nor is ann, through book_many() or a direct INSERT
SELECT ok, resource_id, reason FROM booking.book_many(ARRAY[:museum], holder => 'ann');
INSERT INTO booking.booking (resource_id, holder) VALUES (:museum, 'ann');
\echo :LAST_ERROR_SQLSTATE
-- changes to her bookings are not new bookings
SELECT holder, status FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'ann' AND resource_id = :museum));

-- a new window starts once the last is over (here: moved an hour and a half back)
UPDATE booking.holder_rate SET window_start = window_start - interval '90 minutes' WHERE holder = 'ann';
SELECT ok, reason FROM booking.book_slot(:museum, 1, holder => 'ann');
SELECT holder, attempts FROM booking.holder_rate ORDER BY holder;

-- a refused group counts too: each row judged before the refusal is an attempt (the museum's,
-- then the closed room's, which refuses), though no row of the group is kept
SELECT ok, resource_id, reason FROM booking.book_many(ARRAY[:museum, :closed], holder => 'cat');
SELECT holder, attempts FROM booking.holder_rate WHERE holder = 'cat';
SELECT count(*) AS rows_of_cat FROM booking.booking WHERE holder = 'cat';

-- only a superuser sets the limit
CREATE ROLE regress_booking_rater;
SET ROLE regress_booking_rater;
SET booking.holder_rate_limit = 0;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE regress_booking_rater;
RESET booking.holder_rate_limit;
RESET booking.holder_rate_window;

SELECT action, holder, ok, reason FROM booking.attempt ORDER BY id;
SELECT * FROM booking.verify();
