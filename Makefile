# booking: PGXS build.
#
#   make && make install           build and install into the PostgreSQL that pg_config names
#   make installcheck              pg_regress (sql/), isolation (test/specs/) and TAP (test/t/) suites
#                                  against a running server (PGHOST/PGPORT)
#   make pgtap                     pgTAP suite (test/pgtap/) through pg_prove
#   make stress                    pgbench stress with invariant checks (test/stress/)
#   make bench                     side-by-side performance against the peer approaches (test/bench/)
#   make demo / make test          the README's two commands (see README.md)

EXTENSION = booking
MODULE_big = booking
OBJS = \
	src/booking.o \
	src/pair.o \
	src/locks.o \
	src/engine.o \
	src/counter.o \
	src/queue.o \
	src/timeline.o \
	src/audit.o \
	src/digest.o \
	src/triggers.o \
	src/states.o \
	src/holds.o \
	src/waitlist.o \
	src/groups.o \
	src/holder_limits.o \
	src/direct.o \
	src/indexes.o \
	src/manage.o \
	src/rowhint.o \
	src/api.o

DATA = $(wildcard booking--*.sql)
PGFILEDESC = "booking - booking engine for PostgreSQL"

REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --outputdir=results
ISOLATION = $(sort $(basename $(notdir $(wildcard test/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test --outputdir=output_iso
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl
PROVE_FLAGS = -I test/t

EXTRA_CLEAN = results output_iso tmp_check regression.diffs regression.out log

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

override CPPFLAGS := -I$(srcdir)/src $(CPPFLAGS)

# Every object depends on every header of ours (PGXS tracks no header dependencies by itself).
$(OBJS): $(wildcard $(srcdir)/src/*.h)

.PHONY: pgtap stress bench demo test

pgtap:
	pg_prove --ext .sql -v test/pgtap/

stress:
	bash test/stress/run.sh

bench:
	bash test/bench/run.sh

demo:
	bash scripts/demo.sh

test:
	bash scripts/test-all.sh
