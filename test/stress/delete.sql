-- Direct DELETE of a random booking of a random resource; what went is kept in stress.deleted
-- so that the final check can account for every booking that book_slot() made.
\set r CASE WHEN random(1, 4) = 1 THEN random(1, :hot) ELSE random(1, :nres) END
WITH gone AS (
	DELETE FROM booking.booking
	 WHERE id = (SELECT b.id FROM booking.booking b
	              WHERE b.resource_id = :r
	              ORDER BY random() LIMIT 1
	                FOR UPDATE SKIP LOCKED)
	RETURNING id, resource_id, spots, status
)
INSERT INTO stress.deleted (id, resource_id, spots, status)
SELECT id, resource_id, spots, status FROM gone;
