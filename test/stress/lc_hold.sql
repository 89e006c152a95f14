-- A hold of 1 to 3 seconds on a random resource 1..:holdres of the lifecycle part (1 or 2 spots
-- on a pool, 1 on a timeline slot), waiting in line one time in four when the resource is full
-- and its line is shorter than :maxline.  Its token goes to stress.token for lc_act.sql, to be
-- acted on, one time in three, at the last moment (0 to 80 ms before the hold's time is up),
-- else any time in the next 3.5 seconds.  Caught errors go to stress.err (lifecycle.sql).
\set r random(1, :holdres)
\set s CASE WHEN :r <= :npool THEN random(1, 2) ELSE 1 END
\set k random(0, 2)
\set life random(1000, 3000)
\set w random(1, 4)
\set act CASE WHEN random(1, 3) = 1 THEN :life - random(0, 80) ELSE random(0, 3500) END
SELECT stress.hold(:r, :s, :k, :life, :w = 1, :maxline, :act, 'c' || :client_id);
