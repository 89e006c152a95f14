# Shared by the TAP tests of booking (test/t/*.pl; prove runs with -I test/t).
package BookingTest;

use strict;
use warnings;
use Exporter 'import';

our @EXPORT_OK = qw(invariant_sql);

# Counters against rows, without the engine's help: one row per resource whose counter is not
# what its rows say (the spots of its consuming rows on a pool, 0 on a timeline resource, which
# keeps no counter), exceeds its capacity or is negative.
sub invariant_sql
{
	return q{
SELECT r.id, r.capacity, r.spots_reserved, e.n
  FROM booking.resource r
  LEFT JOIN (SELECT b.resource_id, sum(b.spots) AS n
               FROM booking.booking b
              WHERE b.status IN ('held', 'pending', 'confirmed', 'completed')
              GROUP BY b.resource_id) c ON c.resource_id = r.id
 CROSS JOIN LATERAL (SELECT CASE WHEN r.timeline THEN 0 ELSE COALESCE(c.n, 0) END AS n) e
 WHERE r.spots_reserved <> e.n
    OR r.spots_reserved > r.capacity
    OR r.spots_reserved < 0};
}

1;
