-- A hold of 1 to 3 seconds on a random resource of the lifecycle part (1 or 2 spots on a pool,
-- 1 on a timeline slot), waiting in line one time in four when the resource is full; its token
-- goes to stress.token for lc_act.sql.  Caught errors go to stress.err (lifecycle.sql).
\set r random(1, :nres)
\set s CASE WHEN :r <= :npool THEN random(1, 2) ELSE 1 END
\set k random(0, 2)
\set life random(1000, 3000)
\set w random(1, 4)
SELECT stress.hold(:r, :s, :k, :life, :w = 1, 'c' || :client_id);
