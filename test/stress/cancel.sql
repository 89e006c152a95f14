-- cancel() of a random active booking of a random resource.  The row is locked (SKIP LOCKED)
-- and its status checked under that lock before cancel() runs, so cancel() never meets a row
-- that another client cancelled first (which would raise 55000) or deleted (P0002); a resource
-- with nothing active left is a no-op.
\set r CASE WHEN random(1, 4) = 1 THEN random(1, :hot) ELSE random(1, :nres) END
SELECT c.id
  FROM (SELECT b.id FROM booking.booking b
         WHERE b.resource_id = :r AND b.status IN ('held', 'pending', 'confirmed')
         ORDER BY random() LIMIT 1
           FOR UPDATE SKIP LOCKED) t,
       LATERAL booking.cancel(t.id, 'stress') c;
