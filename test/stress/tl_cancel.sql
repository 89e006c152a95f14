-- cancel() of a random active booking of a random timeline resource.  The row is locked (SKIP
-- LOCKED) and its status checked under that lock before cancel() runs, so cancel() never meets
-- a row that another client cancelled first (55000); nothing active left is a no-op.
\set r random(:c1lo, :c3hi)
SELECT c.id
  FROM (SELECT b.id FROM booking.booking b
         WHERE b.resource_id = :r AND b.status IN ('held', 'pending', 'confirmed')
         ORDER BY random() LIMIT 1
           FOR UPDATE SKIP LOCKED) t,
       LATERAL booking.cancel(t.id, 'tl-stress') c;
