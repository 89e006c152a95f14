-- test/bench/check.sql
-- After a timed run: what each side wrote, and whether its counters still agree with its rows.
-- One line, |-separated: engine rows added, audit rows, booking.verify() problems, peer rows added,
-- peer events whose counter differs from the sum of their confirmed rows (meaningful for P1 and
-- P2; P3 keeps no counter).

SELECT (SELECT count(*) FROM booking.booking WHERE id > b.engine_base AND during IS NULL),
	   (SELECT count(*) FROM booking.attempt),
	   (SELECT count(*) FROM booking.verify()),
	   (SELECT count(*) FROM bench.registration WHERE id > b.peer_base),
	   (SELECT count(*)
		FROM bench.event e
		LEFT JOIN (SELECT event_id, sum(spots) AS total
				   FROM bench.registration
				   WHERE status = 'confirmed'
				   GROUP BY event_id) r ON r.event_id = e.id
		WHERE e.reserved <> coalesce(r.total, 0))
FROM bench.base b;
