-- Direct UPDATE of the status of a consuming row, as an application or a DBA would write it:
-- to cancelled, expired or waitlisted (spots given back) or to completed or pending (still
-- consuming, the counter must not move).  None of these asks for room, so none can be refused.
\set r CASE WHEN random(1, 4) = 1 THEN random(1, :hot) ELSE random(1, :nres) END
\set k random(1, 5)
UPDATE booking.booking
   SET status = (ARRAY['cancelled', 'expired', 'waitlisted', 'completed', 'pending']::booking.status[])[:k],
       updated_at = now()
 WHERE id = (SELECT b.id FROM booking.booking b
              WHERE b.resource_id = :r AND b.status IN ('held', 'pending', 'confirmed', 'completed')
              ORDER BY random() LIMIT 1
                FOR UPDATE SKIP LOCKED);
