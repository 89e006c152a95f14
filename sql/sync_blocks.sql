--
-- sync_blocks(): one external calendar's busy blocks on a timeline resource, replaced as a
-- whole, idempotently, by external_id.  A block is never refused; the bookings it meets are
-- returned for a person to resolve, and verify() reports them until then.
--
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- start from empty tables and fresh ids, whatever ran before (one script for every file)
\i sql/reset.inc

INSERT INTO booking.resource (name, capacity, timeline, buffer_after) VALUES ('dr lee', 1, true, '10 minutes');
SELECT id AS lee FROM booking.resource WHERE name = 'dr lee' \gset
SELECT ok FROM booking.book_slot(:lee, 1, '[2026-12-01 10:00, 2026-12-01 11:00)', 'pat');

-- two blocks from Google; "a" starts inside pat's 10-minute buffer: returned, not refused
SELECT booking_id, holder, block_external_id, block_during
  FROM booking.sync_blocks(:lee, 'google', '[{"external_id": "a", "during": "[2026-12-01 11:05, 2026-12-01 12:00)"},
                                             {"external_id": "b", "during": "[2026-12-01 14:00, 2026-12-01 15:00)"}]');
SELECT pair, capacity, counted, problem FROM booking.verify();
-- the same call again changes nothing (the rows are not even rewritten)
SELECT booking_id, block_external_id
  FROM booking.sync_blocks(:lee, 'google', '[{"external_id": "a", "during": "[2026-12-01 11:05, 2026-12-01 12:00)"},
                                             {"external_id": "b", "during": "[2026-12-01 14:00, 2026-12-01 15:00)"}]');
SELECT id, holder, kind, source, external_id, during, created_at = updated_at AS untouched
  FROM booking.booking ORDER BY id;
-- a booking that meets a block is refused, naming it
SELECT ok, reason FROM booking.book_slot(:lee, 1, '[2026-12-01 14:30, 2026-12-01 15:00)', 'quinn');
-- another source's blocks are its own
SELECT count(*) AS overlaps FROM booking.sync_blocks(:lee, 'outlook', '[{"external_id": "a", "during": "[2026-12-02 09:00, 2026-12-02 10:00)"}]');
-- the next sync: "a" is gone, "b" moved; only google's blocks change
SELECT count(*) AS overlaps
  FROM booking.sync_blocks(:lee, 'google', '[{"external_id": "b", "during": "[2026-12-01 16:00, 2026-12-01 17:00)"}]');
SELECT id, kind, source, external_id, during FROM booking.booking ORDER BY id;
SELECT * FROM booking.verify();
-- an empty list clears the source
SELECT count(*) AS overlaps FROM booking.sync_blocks(:lee, 'google', '[]');
SELECT source, count(*) FROM booking.booking WHERE kind = 'block' GROUP BY source ORDER BY source;

-- misuse, and nothing changes
SELECT * FROM booking.sync_blocks(:lee, 'google', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.sync_blocks(:lee, 'google', '[{"external_id": "x", "during": "nope"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.sync_blocks(:lee, 'google', '[{"external_id": "x", "during": "[2026-12-01 16:00,)"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.sync_blocks(:lee, 'google', '[{"during": "[2026-12-01 16:00, 2026-12-01 17:00)"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.sync_blocks(:lee, 'google', '[{"external_id": "x", "during": "[2026-12-01 16:00, 2026-12-01 17:00)"},
                                                   {"external_id": "x", "during": "[2026-12-02 16:00, 2026-12-02 17:00)"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.sync_blocks(:lee, NULL, '[]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM booking.sync_blocks(424242, 'google', '[]');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO booking.resource (name, capacity) VALUES ('pool', 3);
SELECT * FROM booking.sync_blocks((SELECT id FROM booking.resource WHERE name = 'pool'), 'google', '[]');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS rows_left FROM booking.booking;
SELECT * FROM booking.verify();
