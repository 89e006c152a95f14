--
-- The state machine: a booking is born in any status and moves only forward; a direct UPDATE
-- that breaks the table gets 55000 naming the current status, and changes nothing.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity) VALUES ('hall', 10);
SELECT id AS hall FROM booking.resource WHERE name = 'hall' \gset

-- one row born in each status (an import or a restore writes history as it was)
INSERT INTO booking.booking (resource_id, holder, status, expires_at)
SELECT :hall, s::text, s, CASE WHEN s = 'held' THEN now() + interval '1 hour' END
FROM unnest(enum_range(NULL::booking.status)) s;
SELECT holder, status FROM booking.booking ORDER BY id;
SELECT spots_reserved FROM booking.resource WHERE id = :hall;

-- every change, tried on a fresh copy of each row inside a savepoint: allowed or 55000
CREATE TEMP TABLE tried (from_status booking.status, to_status booking.status, outcome text);
DO $$
DECLARE
	f booking.status;
	t booking.status;
	b bigint;
BEGIN
	FOREACH f IN ARRAY enum_range(NULL::booking.status) LOOP
		FOREACH t IN ARRAY enum_range(NULL::booking.status) LOOP
			CONTINUE WHEN f = t;
			BEGIN
				INSERT INTO booking.booking (resource_id, holder, status, expires_at)
				VALUES ((SELECT id FROM booking.resource WHERE name = 'hall'), 'probe', f,
						CASE WHEN f = 'held' THEN now() + interval '1 hour' END)
				RETURNING id INTO b;
				UPDATE booking.booking SET status = t WHERE id = b;
				RAISE EXCEPTION 'undo' USING ERRCODE = 'P0001';
			EXCEPTION
				WHEN object_not_in_prerequisite_state THEN
					INSERT INTO tried VALUES (f, t, '55000');
				WHEN raise_exception THEN
					INSERT INTO tried VALUES (f, t, 'allowed');
			END;
		END LOOP;
	END LOOP;
END
$$;
SELECT from_status, string_agg(to_status::text, ', ' ORDER BY to_status) FILTER (WHERE outcome = 'allowed') AS may_become
FROM tried GROUP BY from_status ORDER BY from_status;
SELECT count(*) AS refused FROM tried WHERE outcome = '55000';

-- the error names the row, both states and what is allowed; nothing changes
UPDATE booking.booking SET status = 'confirmed' WHERE holder = 'cancelled';
UPDATE booking.booking SET status = 'held' WHERE holder = 'confirmed';
UPDATE booking.booking SET status = 'pending' WHERE holder = 'completed';
SELECT holder, status FROM booking.booking WHERE holder IN ('cancelled', 'confirmed', 'completed') ORDER BY id;

-- forward moves go through, and the counter follows
UPDATE booking.booking SET status = 'confirmed' WHERE holder = 'waitlisted';
UPDATE booking.booking SET status = 'completed' WHERE holder = 'confirmed';
SELECT spots_reserved FROM booking.resource WHERE id = :hall;
SELECT action, holder, status FROM booking.attempt ORDER BY id;
SELECT * FROM booking.verify();
