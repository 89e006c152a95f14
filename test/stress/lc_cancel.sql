-- cancel() of a random booking of a random resource of the lifecycle part: one time in two a
-- consuming one (held, pending, confirmed), else a waiting one.  The row is locked (SKIP LOCKED)
-- and its status checked under that lock before cancel() runs, so cancel() never meets a row
-- that is already over (55000); a resource with no such row is a no-op.  A waiting row locked
-- here is one that a promotion running at the same time must not wait for (src/waitlist.c).
\set r random(1, :nres)
\set k random(1, 2)
SELECT c.id
  FROM (SELECT b.id FROM booking.booking b
         WHERE b.resource_id = :r
           AND CASE WHEN :k = 1 THEN b.status IN ('held', 'pending', 'confirmed')
                    ELSE b.status = 'waitlisted' END
         ORDER BY random() LIMIT 1
           FOR UPDATE SKIP LOCKED) t,
       LATERAL booking.cancel(t.id, 'lc') c;
