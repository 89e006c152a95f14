-- Direct UPDATE of the status of a consuming row, as an application or a DBA would write it,
-- along the state machine: a hold released (cancelled), expired or sent for approval (pending);
-- a pending booking cancelled or approved; a confirmed one cancelled or completed.  Those that
-- leave a consuming status give the spots back; the others stay consuming and the counter must
-- not move.  None of these asks for room or breaks the state machine, so none can be refused.
\set r CASE WHEN random(1, 4) = 1 THEN random(1, :hot) ELSE random(1, :nres) END
\set k random(1, 4)
UPDATE booking.booking b
   SET status = CASE b.status
                  WHEN 'held' THEN (ARRAY['cancelled', 'expired', 'pending', 'cancelled']::booking.status[])[:k]
                  WHEN 'pending' THEN (ARRAY['cancelled', 'confirmed', 'cancelled', 'confirmed']::booking.status[])[:k]
                  ELSE (ARRAY['cancelled', 'completed', 'cancelled', 'completed']::booking.status[])[:k]
                END,
       updated_at = now()
 WHERE b.id = (SELECT c.id FROM booking.booking c
                WHERE c.resource_id = :r AND c.status IN ('held', 'pending', 'confirmed')
                ORDER BY random() LIMIT 1
                  FOR UPDATE SKIP LOCKED);
