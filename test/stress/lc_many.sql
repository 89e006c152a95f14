-- book_many() of 2 or 3 pool resources, 1 spot each, held for 1 to 3 seconds: all or nothing,
-- one token for the group.
\set a random(1, :npool)
\set n random(2, 3)
\set life random(1000, 3000)
SELECT stress.many(:a, :n, :npool, :life, 'c' || :client_id);
