-- cancel() of a random booking of a random resource of the lifecycle part: 14 times in 20 a
-- confirmed or pending one (confirmed bookings leave only this way, so this keeps room turning
-- over), 5 times a waiting one, once a hold (which its client may be about to act on; rarely, or
-- few abandoned holds would live to expire).
-- The row is locked (SKIP LOCKED) and its status checked under that lock before cancel() runs,
-- so cancel() never meets a row that is already over (55000); a resource with no such row is a
-- no-op.  A waiting row locked here is one that a promotion running at the same time must not
-- wait for (src/waitlist.c).  One time in four the whole group of the row goes, without a reason:
-- cancel()'s direct way, whose other rows are not locked first and race their holders' confirm,
-- release and extend, the sweeper and the admissions that expire holds.
\set r random(1, :nres)
\set k random(1, 20)
\set g random(1, 4)
SELECT c.id
  FROM (SELECT b.id FROM booking.booking b
         WHERE b.resource_id = :r
           AND CASE WHEN :k <= 14 THEN b.status IN ('confirmed', 'pending')
                    WHEN :k <= 19 THEN b.status = 'waitlisted'
                    ELSE b.status = 'held' END
         ORDER BY random() LIMIT 1
           FOR UPDATE SKIP LOCKED) t,
       LATERAL booking.cancel(t.id, CASE WHEN :g = 1 THEN NULL ELSE 'lc' END, whole_group => :g = 1) c;
