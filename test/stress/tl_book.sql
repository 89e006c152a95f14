-- book_slot() of a random range on a random timeline resource: a start on a 5-minute grid over
-- :days days from 2030-01-07 00:00 UTC, 15 to 120 minutes long; 1 spot on the capacity-1
-- resources (:c1lo..:c1hi), 1 or 2 on the capacity-3 ones (:c3lo..:c3hi).  A refusal is
-- ok = false with reason 'conflict', returned, never raised, so nothing here errs.
\set r random(:c1lo, :c3hi)
\set s CASE WHEN :r >= :c3lo THEN random(1, 2) ELSE 1 END
\set start random(0, :days * 288 - 1)
\set len random(3, 24)
SELECT ok
  FROM booking.book_slot(:r, :s,
                         tstzrange(timestamptz '2030-01-07 00:00+00' + make_interval(mins => 5 * :start::int),
                                   timestamptz '2030-01-07 00:00+00' + make_interval(mins => 5 * (:start::int + :len::int))),
                         holder => 'tl');
