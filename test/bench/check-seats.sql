-- test/bench/check-seats.sql
-- After a timed run of the seat-map part, one |-separated line:
--   engine groups confirmed, engine audit rows, booking.verify() problems, engine seats sold
--   twice (two active rows on one seat, counted in plain SQL), peer groups confirmed, peer seats
--   sold twice.
-- Each transaction script holds, confirms and cancels; a group counts once it was confirmed.

SELECT (SELECT count(DISTINCT group_id) FROM booking.attempt a
		  JOIN booking.booking b ON b.id = a.booking_id
		 WHERE a.action = 'confirm' AND b.resource_id BETWEEN 30001 AND 39999),
	   (SELECT count(*) FROM booking.attempt),
	   (SELECT count(*) FROM booking.verify()),
	   (SELECT count(*) FROM (SELECT resource_id FROM booking.booking
							   WHERE resource_id BETWEEN 30001 AND 39999
								 AND status IN ('held', 'pending', 'confirmed', 'completed')
							   GROUP BY resource_id HAVING count(*) > 1) x),
	   (SELECT count(DISTINCT group_id) FROM bench.seat_booking WHERE status IN ('confirmed', 'cancelled')
		   AND token IS NULL AND holder <> 'history'),
	   (SELECT count(*) FROM (SELECT seat_id FROM bench.seat_booking
							   WHERE status IN ('held', 'confirmed')
							   GROUP BY seat_id HAVING count(*) > 1) x);
