-- Acts on a random hold made earlier: confirm, release, extend or abandon it, after up to 50 ms
-- of thinking inside the transaction (stress.act in lifecycle.sql).
\set k random(1, 100)
\set think random(0, 50)
SELECT stress.act(:k, :think);
