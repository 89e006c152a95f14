-- Direct UPDATE that lowers the spots of a booking by one (consuming or not): the counter of a
-- consuming row's resource drops by one, nothing else moves.
\set r CASE WHEN random(1, 4) = 1 THEN random(1, :hot) ELSE random(1, :nres) END
UPDATE booking.booking
   SET spots = spots - 1, updated_at = now()
 WHERE id = (SELECT b.id FROM booking.booking b
              WHERE b.resource_id = :r AND b.spots > 1
              ORDER BY random() LIMIT 1
                FOR UPDATE SKIP LOCKED);
