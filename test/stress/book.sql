-- book_slot() on a random resource (one call in four on a few hot ones), 1 to 4 spots: a
-- confirmed booking, or ok = false with reason 'full' once the pool is taken.  Refusals are
-- returned, never raised, so nothing here errs.
\set r CASE WHEN random(1, 4) = 1 THEN random(1, :hot) ELSE random(1, :nres) END
\set s random(1, 4)
SELECT ok FROM booking.book_slot(:r, :s, holder => 'pgbench');
