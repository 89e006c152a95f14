-- book_many() of 2 or 3 pool resources, 1 spot each, held for 1 to 3 seconds: all or nothing,
-- one token for the group, to be acted on as in lc_hold.sql.
\set a random(1, :npool)
\set n random(2, 3)
\set life random(1000, 3000)
\set act CASE WHEN random(1, 3) = 1 THEN :life - random(0, 80) ELSE random(0, 3500) END
SELECT stress.many(:a, :n, :npool, :life, :act, 'c' || :client_id);
