--
-- Limits per holder: max_per_holder caps the active bookings one holder may have on a resource,
-- for book_slot(), book_many() and direct writes alike.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity, max_per_holder) VALUES ('gym', 10, 2), ('pool', 10, NULL);
INSERT INTO booking.resource (name, capacity, timeline, max_per_holder) VALUES ('court', 1, true, 1);
SELECT id AS gym FROM booking.resource WHERE name = 'gym' \gset
SELECT id AS pool FROM booking.resource WHERE name = 'pool' \gset
SELECT id AS court FROM booking.resource WHERE name = 'court' \gset

-- two active bookings each; the third is refused, whatever its size
SELECT ok, status, reason FROM booking.book_slot(:gym, 1, holder => 'ann');
SELECT ok, status, reason FROM booking.book_slot(:gym, 3, holder => 'ann');
SELECT ok, status, available, reason FROM booking.book_slot(:gym, 1, holder => 'ann');
SELECT ok, status, reason FROM booking.book_slot(:gym, 1, holder => 'ben');
-- no limit elsewhere
SELECT ok FROM booking.book_slot(:pool, 1, holder => 'ann');
SELECT ok FROM booking.book_slot(:pool, 1, holder => 'ann');
SELECT ok FROM booking.book_slot(:pool, 1, holder => 'ann');

-- not through a direct INSERT, a move, a change of holder, or book_many() either
INSERT INTO booking.booking (resource_id, holder) VALUES (:gym, 'ann');
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET resource_id = :gym WHERE id = (SELECT min(id) FROM booking.booking WHERE resource_id = :pool);
\echo :LAST_ERROR_SQLSTATE
UPDATE booking.booking SET holder = 'ann' WHERE holder = 'ben';
\echo :LAST_ERROR_SQLSTATE
SELECT ok, resource_id, reason FROM booking.book_many(ARRAY[:gym, :pool], holder => 'ann');
-- changes to a booking the holder already has are not a new booking
UPDATE booking.booking SET spots = 2 WHERE holder = 'ann' AND resource_id = :gym AND spots = 1;
SELECT holder, spots, status FROM booking.booking WHERE resource_id = :gym ORDER BY id;

-- rows that take nothing do not count: once one is cancelled, there is room for another
SELECT holder, status FROM booking.cancel((SELECT min(id) FROM booking.booking WHERE holder = 'ann' AND resource_id = :gym));
SELECT ok, status FROM booking.book_slot(:gym, 1, holder => 'ann');

-- a waiting row whose holder is at the limit is passed over by promotion, not an error: the
-- gym is made full, ann (at her limit) and cat wait, ben cancels, and cat gets the spot
UPDATE booking.resource SET capacity = (SELECT spots_reserved FROM booking.resource WHERE id = :gym) WHERE id = :gym;
INSERT INTO booking.booking (resource_id, holder, status) VALUES (:gym, 'ann', 'waitlisted');
SELECT ok, status, waitlist_position FROM booking.book_slot(:gym, 1, holder => 'cat', waitlist => true);
SELECT holder, status FROM booking.cancel((SELECT id FROM booking.booking WHERE holder = 'ben' AND resource_id = :gym));
SELECT holder, spots, status FROM booking.booking WHERE resource_id = :gym ORDER BY id;

-- timeline resources too
SELECT ok, status FROM booking.book_slot(:court, 1, '[2030-05-01 09:00, 2030-05-01 10:00)', 'ann');
SELECT ok, reason FROM booking.book_slot(:court, 1, '[2030-05-02 09:00, 2030-05-02 10:00)', 'ann');
SELECT ok, status FROM booking.book_slot(:court, 1, '[2030-05-02 09:00, 2030-05-02 10:00)', 'ben');
-- a reschedule is the same booking
UPDATE booking.booking SET during = '[2030-05-03 09:00, 2030-05-03 10:00)' WHERE holder = 'ann' AND resource_id = :court;
SELECT holder, during FROM booking.booking WHERE resource_id = :court ORDER BY id;

-- a COPY is a bulk load of rows as they were (it is how pg_dump's output restores them): the
-- policies on new requests (per-holder limits, notice, horizon) do not apply to it; capacity and
-- the overlap rule do
INSERT INTO booking.resource (name, capacity, timeline, min_notice) VALUES ('desk', 1, true, '1 day');
SELECT id AS desk FROM booking.resource WHERE name = 'desk' \gset
UPDATE booking.resource SET capacity = capacity + 1 WHERE id = :gym;
SELECT count(*) AS ann_active_on_gym FROM booking.booking
 WHERE holder = 'ann' AND resource_id = :gym AND status = 'confirmed';
COPY booking.booking (resource_id, holder) FROM STDIN;
1	ann
\.
SELECT count(*) AS ann_active_on_gym FROM booking.booking
 WHERE holder = 'ann' AND resource_id = :gym AND status = 'confirmed';
-- only COPY ... FROM: a COPY (query) TO whose query books is held to the policies
INSERT INTO booking.resource (name, capacity, max_per_holder) VALUES ('spa', 5, 0);
COPY (SELECT ok, reason FROM booking.book_slot((SELECT id FROM booking.resource WHERE name = 'spa'), 1, holder => 'ann')) TO STDOUT;
INSERT INTO booking.booking (resource_id, holder, during) VALUES (:desk, 'ann', '[2020-01-01 09:00, 2020-01-01 10:00)');
\echo :LAST_ERROR_SQLSTATE
COPY booking.booking (resource_id, holder, during) FROM STDIN;
4	ann	[2020-01-01 09:00, 2020-01-01 10:00)
\.
COPY booking.booking (resource_id, holder, during) FROM STDIN;
4	ben	[2020-01-01 09:30, 2020-01-01 10:30)
\.
SELECT holder, during FROM booking.booking WHERE resource_id = :desk ORDER BY id;

SELECT action, holder, ok, reason FROM booking.attempt WHERE NOT ok ORDER BY id;
SELECT * FROM booking.verify();
