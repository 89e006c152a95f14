-- test/bench/check-timeline.sql
-- After a timed run of the timeline part: what each side wrote, and an independent check of the
-- rule.  One line, |-separated:
--   engine rows added, audit rows, audit rows with ok, booking.verify() problems, engine rooms over
--   capacity somewhere (bench.rooms_over: a sweep in plain SQL, not the engine's code),
--   E rows added, E rooms over, U rows added, U rooms over, P rows added, P rooms over,
--   N rows added (N checks nothing: its rooms are not checked).
-- Rows added = the attempts that succeeded (every attempt books one row or nothing).

SELECT (SELECT count(*) FROM booking.booking
		WHERE id > b.engine_base AND during IS NOT NULL AND holder NOT IN ('extra', 'preload')),
	   (SELECT count(*) FROM booking.attempt),
	   (SELECT count(*) FROM booking.attempt WHERE ok),
	   (SELECT count(*) FROM booking.verify()),
	   bench.rooms_over('booking.booking',
						$$during IS NOT NULL AND resource_id > 10000
						  AND status IN ('held', 'pending', 'confirmed', 'completed')$$),
	   (SELECT count(*) FROM bench.slot_excl WHERE id > b.excl_base AND holder <> 'extra'),
	   bench.rooms_over('bench.slot_excl', $$status = 'confirmed'$$),
	   (SELECT count(*) FROM bench.slot_uniq WHERE id > b.uniq_base),
	   bench.rooms_over('bench.slot_uniq', $$status = 'confirmed'$$),
	   (SELECT count(*) FROM bench.slot_cap WHERE id > b.cap_base),
	   bench.rooms_over('bench.slot_cap', $$status = 'confirmed'$$),
	   (SELECT count(*) FROM bench.slot_free WHERE id > b.free_base)
FROM bench.tl_base b;
