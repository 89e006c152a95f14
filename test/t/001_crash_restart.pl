
# Copyright: the booking authors; see the repository's licence.

# Crash under load: the server is stopped with -m immediate (every backend killed, no shutdown
# checkpoint) while pgbench books, cancels, updates and deletes on small pools and direct
# writers hit the capacity limit.  A witness session records every booking and cancellation
# whose commit the server acknowledged to it.  After crash recovery:
#   - booking.verify() is empty and an independent count of the rows agrees with every counter;
#   - every acknowledged booking is there, every acknowledged cancellation is cancelled;
#   - the engine admits and refuses as before.
# Two rounds, so that the second crash hits a cluster that has already recovered once.
#
# fsync stays off as PostgreSQL::Test::Cluster sets it: an immediate stop kills processes, not
# the machine, so what a backend wrote to the kernel before acknowledging a commit survives.

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use BookingTest qw(invariant_sql);

my $stress_dir = File::Spec->rel2abs(dirname(__FILE__) . '/../stress');
my $nres       = 40;      # load resources 1..40, small pools
my $hot        = 4;
my $witness_resource;     # a pool large enough never to refuse the witness

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf(
	'postgresql.conf', qq(
max_connections = 40
shared_buffers = 32MB
synchronous_commit = on
log_statement = none
log_min_messages = warning
));
$node->start;

$node->safe_psql(
	'postgres', qq(
CREATE EXTENSION booking;
INSERT INTO booking.resource (name, capacity)
SELECT format('load %s', g), 1 + (g * 7) % 8 FROM generate_series(1, $nres) g;
CREATE SCHEMA stress;
CREATE TABLE stress.deleted (
	id bigint PRIMARY KEY,
	resource_id bigint NOT NULL,
	spots int NOT NULL,
	status booking.status NOT NULL
);
));
$witness_resource = $node->safe_psql('postgres',
	"INSERT INTO booking.resource (name, capacity) VALUES ('witness', 1000000) RETURNING id");
is( $node->safe_psql('postgres',
		"SELECT min(id) || ' ' || max(id) FROM booking.resource WHERE name LIKE 'load %'"),
	"1 $nres",
	'load resources are numbered as the pgbench scripts pick them');

# Counters against rows, without the engine's help: one row per broken resource.
my $invariant_sql = invariant_sql();

# Statements a direct writer sends, many of which the engine must refuse with 23514.
sub direct_script
{
	my ($seed) = @_;
	srand($seed);
	my $sql = '';
	for (1 .. 20000)
	{
		my $r = 1 + int(rand($nres));
		my $s = 1 + int(rand(4));
		if (rand() < 0.7)
		{
			$sql .=
			  "INSERT INTO booking.booking (resource_id, holder, spots) VALUES ($r, 'direct', $s);\n";
		}
		else
		{
			$sql .=
			    "UPDATE booking.booking SET spots = spots + $s WHERE id = "
			  . "(SELECT id FROM booking.booking WHERE resource_id = $r "
			  . "AND status = 'confirmed' ORDER BY random() LIMIT 1);\n";
		}
	}
	return $sql;
}

# The witness: books one spot, says so once the commit is acknowledged; every third booking it
# cancels again, and it also inserts rows directly.  Each line is printed by psql only after
# the server's CommandComplete, which follows the commit.
sub witness_script
{
	my ($round) = @_;
	my $sql = '';
	for my $i (1 .. 50000)
	{
		$sql .=
		  "SELECT (booking.book_slot($witness_resource, 1, holder => 'witness $round')).booking_id AS bid \\gset\n"
		  . "\\echo book :bid\n";
		$sql .= "SELECT 'cancel ' || id FROM booking.cancel(:bid, 'witness');\n"
		  if $i % 3 == 0;
		$sql .=
		  "INSERT INTO booking.booking (resource_id, holder, spots) VALUES ($witness_resource, 'witness $round', 2) RETURNING 'insert ' || id;\n"
		  if $i % 5 == 0;
	}
	return $sql;
}

my %acked_book;
my %acked_cancel;
my %acked_insert;

for my $round (1 .. 2)
{
	my @conn = ('-h', $node->host, '-p', $node->port, '-d', 'postgres');
	my $timeout = IPC::Run::timeout(180);

	# Inputs and outputs are files, handed to the children as they are: nothing waits for this
	# script to pump them while it polls the server.
	my $tmp = PostgreSQL::Test::Utils::tempdir;
	my $bench = IPC::Run::start(
		[
			'pgbench', '-n', '-M', 'prepared', '-c', '8', '-j', '2', '-T', '120',
			'-D', "nres=$nres", '-D', "hot=$hot",
			'-f', "$stress_dir/book.sql\@8", '-f', "$stress_dir/cancel.sql\@3",
			'-f', "$stress_dir/release.sql\@2", '-f', "$stress_dir/shrink.sql\@1",
			'-f', "$stress_dir/delete.sql\@1", @conn
		],
		'>', "$tmp/bench.out", '2>', "$tmp/bench.err", $timeout);

	my @direct;
	for my $d (1 .. 2)
	{
		PostgreSQL::Test::Utils::append_to_file("$tmp/direct.$d.sql",
			direct_script(1000 * $round + $d));
		push @direct,
		  IPC::Run::start(
			[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=0', '-f', "$tmp/direct.$d.sql", @conn ],
			'>', "$tmp/direct.$d.out", '2>', "$tmp/direct.$d.err", $timeout);
	}

	PostgreSQL::Test::Utils::append_to_file("$tmp/witness.sql", witness_script($round));
	my $witness = IPC::Run::start(
		[ 'psql', '-X', '-At', '-q', '-v', 'ON_ERROR_STOP=1', '-f', "$tmp/witness.sql", @conn ],
		'>', "$tmp/witness.out", '2>', "$tmp/witness.err", $timeout);

	# Crash once the load is demonstrably under way: witness bookings committed, and pgbench's
	# bookings and direct writes landing.
	ok( $node->poll_query_until(
			'postgres', qq{
			SELECT (SELECT count(*) FROM booking.booking WHERE holder = 'witness $round') >= 1000
			   AND (SELECT count(*) FROM booking.attempt WHERE holder = 'pgbench') >= 3000 * $round
			   AND (SELECT count(*) FROM booking.booking WHERE holder = 'direct') >= 100 * $round}
		),
		"round $round: load is running");
	my $before = $node->safe_psql('postgres', 'SELECT max(id) FROM booking.booking');

	my $log_offset = -s $node->logfile;
	$node->stop('immediate');

	# Every client loses its connection; none may hang.
	for my $h ($bench, @direct, $witness)
	{
		eval { $h->finish; };
		$h->kill_kill if $@;
	}
	my $bench_err   = slurp_file("$tmp/bench.err");
	my $witness_out = slurp_file("$tmp/witness.out");
	my $witness_err = slurp_file("$tmp/witness.err");
	my $direct_err  = join('', map { slurp_file("$tmp/direct.$_.err") } 1 .. 2);
	like(
		$bench_err,
		qr/server closed the connection|connection to server|terminating connection|aborted/,
		"round $round: pgbench was cut off by the crash");

	$node->start;
	ok( $node->log_contains(
			qr/database system was not properly shut down; automatic recovery in progress/,
			$log_offset),
		"round $round: the restart ran crash recovery");

	# What the witness was told.
	my ($books, $cancels, $inserts) = (0, 0, 0);
	for my $line (split /\n/, $witness_out)
	{
		if ($line =~ /^book (\d+)$/) { $acked_book{$1} = 1; $books++; }
		elsif ($line =~ /^cancel (\d+)$/) { $acked_cancel{$1} = 1; $cancels++; }
		elsif ($line =~ /^insert (\d+)$/) { $acked_insert{$1} = 1; $inserts++; }
	}
	cmp_ok($books + $inserts, '>=', 900,
		"round $round: the witness was acknowledged $books bookings and $inserts inserts");
	cmp_ok($cancels, '>', 0, "round $round: and $cancels cancellations");
	like(
		$witness_err,
		qr/server closed the connection|connection to server|terminating connection/,
		"round $round: the witness was cut off by the crash");
	unlike($witness_err, qr/ERROR:/, "round $round: and met no error of its own");
	my @refusals = ($direct_err =~ /ERROR:  (.*)/g);
	cmp_ok(scalar(@refusals), '>', 0,
		"round $round: direct writers were refused over capacity before the crash");
	is(join("\n", grep { !/has not enough free spots/ } @refusals),
		'', "round $round: and met no other error");

	is($node->safe_psql('postgres', 'SELECT count(*) FROM booking.verify()'),
		'0', "round $round: verify() is empty after recovery");
	is($node->safe_psql('postgres', $invariant_sql),
		'', "round $round: every counter equals its rows' spots and fits its capacity");

	# Load the acknowledgements into the recovered server and compare.
	my $values = sub {
		my ($h) = @_;
		return 'SELECT NULL::bigint WHERE false' unless %$h;
		return 'VALUES ' . join(',', map { "(${_}::bigint)" } sort { $a <=> $b } keys %$h);
	};
	my $book_values   = $values->(\%acked_book);
	my $cancel_values = $values->(\%acked_cancel);
	my $insert_values = $values->(\%acked_insert);
	is( $node->safe_psql(
			'postgres', qq{
			SELECT count(*) FROM ($book_values) a(id)
			 WHERE NOT EXISTS (SELECT 1 FROM booking.booking b
			                    WHERE b.id = a.id AND b.holder LIKE 'witness %'
			                      AND b.resource_id = $witness_resource AND b.spots = 1)}),
		'0',
		"round $round: every acknowledged book_slot() booking survived the crash");
	is( $node->safe_psql(
			'postgres', qq{
			SELECT count(*) FROM ($insert_values) a(id)
			 WHERE NOT EXISTS (SELECT 1 FROM booking.booking b
			                    WHERE b.id = a.id AND b.holder LIKE 'witness %' AND b.spots = 2
			                      AND b.status = 'confirmed')}),
		'0',
		"round $round: every acknowledged direct INSERT survived the crash");
	is( $node->safe_psql(
			'postgres', qq{
			SELECT count(*) FROM ($cancel_values) a(id)
			 WHERE NOT EXISTS (SELECT 1 FROM booking.booking b
			                    WHERE b.id = a.id AND b.status = 'cancelled'
			                      AND b.meta->>'cancel_reason' = 'witness')}),
		'0',
		"round $round: every acknowledged cancellation survived the crash");
	cmp_ok($node->safe_psql('postgres', 'SELECT max(id) FROM booking.booking'),
		'>=', $before, "round $round: no committed row went missing at the top of the table");

	# The engine still admits and refuses after recovery, and the counters follow.
	my $full = $node->safe_psql(
		'postgres', q{
		SELECT r.id FROM booking.resource r
		 WHERE r.name LIKE 'load %' AND r.capacity > 0 ORDER BY r.id LIMIT 1});
	$node->safe_psql('postgres',
		"SELECT booking.book_slot($full, 1) FROM generate_series(1, 10)");
	is( $node->safe_psql(
			'postgres',
			"SELECT ok, reason, available FROM booking.book_slot($full, 1)"),
		'f|full|0',
		"round $round: a full pool still refuses after recovery");
	is( $node->safe_psql(
			'postgres',
			"SELECT ok, status FROM booking.book_slot($witness_resource, 3, holder => 'after')"),
		't|confirmed',
		"round $round: and a pool with room still admits");
	my ($ret, $out, $err) = $node->psql('postgres',
		"INSERT INTO booking.booking (resource_id, holder, spots) VALUES ($full, 'after', 1)");
	like($err, qr/has not enough free spots/,
		"round $round: a direct INSERT into the full pool is refused");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM booking.verify()'),
		'0', "round $round: verify() is still empty");
}

$node->stop;
done_testing();
