-- test/bench/check-managed.sql
-- After a timed run of the managed part, one |-separated line:
--   rows added to the managed copy, booking.verify() problems, managed events whose counter is
--   not the sum of their consuming rows (counted here in plain SQL), rows added to the
--   unprotected copy, rows added to the FOR UPDATE copy, FOR UPDATE events whose counter differs.

SELECT (SELECT count(*) FROM bench_m."Registration" WHERE id > (SELECT base FROM bench.managed_base)),
	   (SELECT count(*) FROM booking.verify()),
	   (SELECT count(*) FROM bench_m."Event" e
		 WHERE e."spotsReserved" IS DISTINCT FROM
			   (SELECT coalesce(sum(r."spotsCount"), 0) FROM bench_m."Registration" r
				 WHERE r."eventId" = e.id AND r.status IN ('PENDING', 'CONFIRMED'))),
	   (SELECT count(*) FROM bench_r."Registration" WHERE id > (SELECT base FROM bench.managed_base)),
	   (SELECT count(*) FROM bench_x."Registration" WHERE id > (SELECT base FROM bench.managed_base)),
	   (SELECT count(*) FROM bench_x."Event" e
		 WHERE e."spotsReserved" IS DISTINCT FROM
			   (SELECT coalesce(sum(r."spotsCount"), 0) FROM bench_x."Registration" r
				 WHERE r."eventId" = e.id));
