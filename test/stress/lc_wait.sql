-- A booking with no hold on a random resource of the lifecycle part, waiting in line when the
-- resource (or the timeline slot) is full and its line is shorter than :maxline.
\set r random(1, :nres)
\set s CASE WHEN :r <= :npool THEN random(1, 2) ELSE 1 END
\set k random(0, 2)
SELECT stress.hold(:r, :s, :k, NULL, true, :maxline, NULL, 'c' || :client_id);
