-- Every client asks for the same hour of the same capacity-1 resource, once, under its own
-- holder name ('c' and pgbench's client id).  Exactly one may win; the others get ok = false
-- with reason 'conflict', returned, never raised.
SELECT ok FROM booking.book_slot(:room, 1, tstzrange('2030-01-06 10:00+00', '2030-01-06 11:00+00'),
                                 holder => 'c' || :client_id);
