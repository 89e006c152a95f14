-- cancel() with no reason, whose direct way changes the row without locking it first, of a random
-- consuming booking of a random resource picked without a lock: it races the other clients'
-- cancels and direct UPDATEs and DELETEs, and the direct sessions' moves, of the same row.  A row
-- found over (55000) or gone (P0002) is counted in stress.cancel_missed (stress.cancel_plain), never
-- an error; what it cancelled goes to stress.cancelled_plain, whose key says no row was cancelled
-- twice.
\set r CASE WHEN random(1, 4) = 1 THEN random(1, :hot) ELSE random(1, :nres) END
SELECT stress.cancel_plain((SELECT b.id FROM booking.booking b
                             WHERE b.resource_id = :r AND b.status IN ('held', 'pending', 'confirmed')
                             ORDER BY random() LIMIT 1));
