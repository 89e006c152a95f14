-- Acts on the hold made earlier whose time to act has come: confirm, release, extend or abandon
-- it, after up to :maxthink ms more of thinking inside the transaction (stress.act in
-- lifecycle.sql).
\set k random(1, 100)
\set think random(0, :maxthink)
SELECT stress.act(:k, :think);
