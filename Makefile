# sipguard: one non-recursive GNU Makefile.  `make help' lists the targets.

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
sysconfdir	?= /etc
unitdir		?= /lib/systemd/system
sysusersdir	?= /usr/lib/sysusers.d
DESTDIR		?=

CC		?= cc
CFLAGS		?= -O2 -g
CFLAGS		+= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow \
		   -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith \
		   -Wformat=2 -Werror -Iinclude -MMD -MP \
		   -DSG_SYSCONFDIR='"$(sysconfdir)"'
PKGS		:= libosip2 libconfig libpcap libsodium libmnl libnftnl \
		   libnetfilter_queue libsystemd jansson hiredis
# pkg-config runs once per make: simple variables, expanded here.
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS))
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS))
CMOCKA_CFLAGS	:= $(shell pkg-config --cflags cmocka)
CMOCKA_LIBS	:= $(shell pkg-config --libs cmocka)
CFLAGS		+= $(PKG_CFLAGS)
LDLIBS		+= $(PKG_LIBS) -lm -lpthread

# `make V=1' shows every command; by default a short line per file.
ifeq ($(V),1)
Q		:=
say		= @:
else
Q		:= @
say		= @echo '  $(1)  $(2)'
endif

ifeq ($(SANITIZE),1)
CFLAGS		+= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
LDFLAGS		+= -fsanitize=address,undefined
endif

# Each flavour builds in its own directory, so flags never mix.
B		?= build$(if $(filter 1,$(SANITIZE)),-asan)$(if $(findstring clang,$(CC)),-clang)
# Every file of src/ but the two programs' main()s is in the library.
ENGINE_SRC	:= $(filter-out src/main.c src/sipguardctl.c, \
		   $(sort $(wildcard src/*.c)))
ENGINE_OBJ	:= $(ENGINE_SRC:src/%.c=$(B)/%.o)
SG_OBJ		:= $(B)/main.o

# The configuration path is compiled in: rebuild when sysconfdir changes,
# so `make install sysconfdir=...' never installs a binary that looks
# elsewhere than where the file went.
$(shell mkdir -p $(B) && { [ "$$(cat $(B)/sysconfdir 2>/dev/null)" = \
    "$(sysconfdir)" ] || echo "$(sysconfdir)" > $(B)/sysconfdir; })

TESTS		:= $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))
TEST_BINS	:= $(TESTS:%=$(B)/tests/%)
TEST_SCRIPTS	:= tests/test_packaging.sh tests/test_live.sh tests/e2e_lab.sh \
		   tests/e2e_sipguard.sh tests/e2e_evasion.sh \
		   tests/e2e_coldstart.sh tests/e2e_differential.sh \
		   tests/fuzz_smoke.sh tests/test_deb.sh tests/eval_quick.sh
TOOL_BINS	:= $(B)/sgpcap
# The cluster (issue 14): a redis-server of their own, in namespaces.
TEST_SCRIPTS	+= tests/e2e_cluster.sh tests/e2e_sentinel.sh \
		   tests/e2e_cluster_kamailio.sh
# Batch verdicts (issue 12): a reader of its own, in namespaces.
TEST_SCRIPTS	+= tests/test_nfq_fold.sh tests/test_stall.sh

DEPS		:= $(wildcard $(B)/*.d $(B)/tests/*.d $(B)/tools/*.d \
		   $(B)/bench/*.d)

.PHONY: all check demo deps install clean help lint bench bench-memory \
		   bench-nfq \
		   bench-flood bench-cluster eval eval-quick

all: $(B)/sipguard $(B)/sipguardctl ## build the daemon and sipguardctl

$(ENGINE_OBJ) $(SG_OBJ): $(B)/sysconfdir

$(B)/sipguard: $(SG_OBJ) $(B)/libsg.a
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/sipguardctl: $(B)/sipguardctl.o
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(B)/libsg.a: $(ENGINE_OBJ)
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(B)/%.o: src/%.c | $(B)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/%.o: tests/%.c | $(B)/tests
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) $(CMOCKA_CFLAGS) -Itests -c -o $@ $<

$(B)/tools/%.o: tools/%.c | $(B)/tools
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -Itests -c -o $@ $<

TEST_LIB	:= $(B)/tests/pktgen.o $(B)/tests/scenario.o $(B)/tests/scenarios.o \
		   $(B)/tests/floodgen.o

$(B)/tests/test_%: $(B)/tests/test_%.o $(TEST_LIB) $(B)/tests/testlib.o \
		   $(B)/libsg.a
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)

$(B)/tests/nfqfold: $(B)/tests/nfqfold.o $(B)/libsg.a
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/sgpcap: $(B)/tools/sgpcap.o $(TEST_LIB) $(B)/libsg.a
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/%.o: bench/%.c | $(B)/bench
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -Itests -c -o $@ $<

$(B)/bench/bench: $(B)/bench/bench.o $(B)/tests/pktgen.o $(B)/libsg.a
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/eval: $(B)/bench/eval.o $(B)/bench/evalgen.o $(B)/tests/pktgen.o \
		 $(B)/libsg.a
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/nfq_accept: $(B)/bench/nfq_accept.o $(B)/libsg.a
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/cluster: $(B)/bench/cluster.o $(B)/tests/pktgen.o $(B)/libsg.a
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/memory: $(B)/bench/memory.o $(B)/libsg.a
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/udpflood: $(B)/bench/udpflood.o
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(B)/bench/udprtt: $(B)/bench/udprtt.o
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(B) $(B)/tests $(B)/tools $(B)/bench:
	mkdir -p $@

deps: ## install the Debian packages the build and tests need (if missing)
	@tools/deps.sh

# The benchmarks are built (not run) by check, so they never rot.
CHECK_BINS	:= $(B)/sipguard $(B)/sipguardctl $(B)/bench/udpflood \
		   $(B)/bench/udprtt \
		   $(B)/bench/nfq_accept $(B)/bench/bench $(B)/bench/eval \
		   $(B)/bench/cluster $(B)/bench/memory \
		   $(TEST_BINS) $(B)/tests/nfqfold \
		   $(TOOL_BINS)

check: deps $(CHECK_BINS) ## build and run every test
	@B=$(B) SIPGUARD=$(B)/sipguard tools/run-tests.sh $(TEST_BINS) $(TEST_SCRIPTS)

demo: deps $(B)/sipguard $(B)/sipguardctl $(TOOL_BINS) ## attacks replayed, then live in front of Kamailio
	@B=$(B) tools/demo.sh
	@B=$(B) tools/demo-live.sh

bench: $(B)/bench/bench ## measure the cost per message (ratios to osip2)
	@$(B)/bench/bench

bench-memory: $(B)/bench/memory ## resident memory at 1,048,576 bindings (README)
	@$(B)/bench/memory 1048576

# Module II measured (issue 11): one process, niced, on generated traffic.
# EVAL_SET="key=value;..." adds config lines (the engine's own keys).
eval: $(B)/bench/eval ## module II's sweep: bench/eval.md and bench/eval.svg
	@nice -n 10 $(B)/bench/eval -o bench/eval.md -g bench/eval.svg \
	    --check || echo "eval: requirements not met (above); table written"

eval-quick: $(B)/bench/eval ## a fast subset of the sweep; fails on a broken requirement
	@B=$(B) tests/eval_quick.sh

bench-nfq: all $(B)/bench/nfq_accept $(B)/bench/udpflood $(B)/bench/udprtt ## live pkts/s, daemon vs bare reader (root)
	@B=$(B) tools/bench-nfq.sh

bench-flood: all $(B)/bench/nfq_accept $(B)/bench/udpflood ## spoofed-source flood at full rate, DS1 raised: unjudged, CPU, calls (root)
	@B=$(B) sh tools/bench-flood.sh

bench-cluster: all $(B)/bench/cluster $(B)/bench/udprtt $(B)/bench/udpflood ## the cluster: propagation p50/p99, rate; live verdict latency with Redis up, killed, partitioned, off (root)
	@B=$(B) sh tools/bench-cluster.sh

lint: ## fail on clock calls outside src/clock.c
	@! grep -nE '\b(time|gettimeofday|clock_gettime)\(' src/*.c | \
	    grep -v '^src/clock.c:' || { echo "lint: use clock.c"; exit 1; }

install: $(B)/sipguard $(B)/sipguardctl ## install (PREFIX, DESTDIR, sysconfdir honoured)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(sysconfdir)/sipguard \
	    $(DESTDIR)$(sysconfdir)/logrotate.d \
	    $(DESTDIR)$(unitdir) $(DESTDIR)$(sysusersdir) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(B)/sipguard $(DESTDIR)$(SBINDIR)/sipguard
	install -m 0755 $(B)/sipguardctl $(DESTDIR)$(SBINDIR)/sipguardctl
	test -e $(DESTDIR)$(sysconfdir)/sipguard/sipguard.conf || \
	    install -m 0644 conf/sipguard.conf \
	    $(DESTDIR)$(sysconfdir)/sipguard/sipguard.conf
	sed 's|/usr/sbin/sipguard|$(SBINDIR)/sipguard|g' \
	    systemd/sipguard.service > $(B)/sipguard.service
	install -m 0644 $(B)/sipguard.service \
	    $(DESTDIR)$(unitdir)/sipguard.service
	install -m 0644 systemd/sipguard.sysusers \
	    $(DESTDIR)$(sysusersdir)/sipguard.conf
	install -m 0644 conf/logrotate $(DESTDIR)$(sysconfdir)/logrotate.d/sipguard
	for m in sipguard.8 sipguardctl.8 sipguard.conf.5; do \
	    sed 's|/etc/sipguard/|$(sysconfdir)/sipguard/|g' man/$$m \
	        > $(B)/$$m && \
	    install -m 0644 $(B)/$$m \
	        $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m || exit 1; \
	done
	@echo 'installed; once: systemd-sysusers sipguard.conf &&' \
	    'systemctl daemon-reload && systemctl enable --now sipguard'

clean: ## remove the build directories
	rm -rf build build-asan build-clang build-asan-clang

help: ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
	    awk -F':.*## ' '{ printf "  %-10s %s\n", $$1, $$2 }'

-include $(DEPS)
.SECONDARY:

# ---- fuzzing (tests/fuzz): libFuzzer harnesses, built with clang ----------
# The library is built for them in $(FUZZ_B) with ASan, UBSan and coverage
# (-fsanitize=fuzzer-no-link, given to the sub-make through the
# environment so the Makefile's own CFLAGS still apply); the seeds come
# from the test scenarios (tests/fuzz/seedgen.c, a plain build in
# $(FUZZ_SEEDS_B)).  `make -k -j2 fuzz' runs two harnesses at a time.
FUZZ_B		:= build-fuzz
FUZZ_SEEDS_B	:= build-fuzz-seeds
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 600
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_NAMES	:= packet packets sipmsg conf state baseline ctl import \
		   whitelist
FUZZ_BINS	:= $(FUZZ_NAMES:%=$(FUZZ_B)/fuzz_%)
FUZZ_CFLAGS	:= -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		   -Iinclude -Itests -Itests/fuzz -fno-omit-frame-pointer \
		   -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=undefined \
		   $(PKG_CFLAGS)
FUZZ_ENGINE	:= packet packets
FUZZ_MAXLEN_packet	:= 65536
FUZZ_MAXLEN_packets	:= 131072
FUZZ_MAXLEN_sipmsg	:= 65535
FUZZ_MAXLEN_conf	:= 16384
FUZZ_MAXLEN_state	:= 16384
FUZZ_MAXLEN_baseline	:= 16384
FUZZ_MAXLEN_ctl		:= 4096
FUZZ_MAXLEN_whitelist	:= 16384
FUZZ_ARGS	= -max_len=$(FUZZ_MAXLEN_$*) -timeout=30 -print_final_stats=1 \
		  -artifact_prefix=$(FUZZ_B)/crashes/$*-
FUZZ_SEED_OBJ	:= $(TEST_LIB:$(B)/%=$(FUZZ_SEEDS_B)/%) \
		   $(FUZZ_SEEDS_B)/libsg.a

# The sub-makes below build in $(FUZZ_B) and $(FUZZ_SEEDS_B) with the
# rules above: they must not see these.
ifeq ($(filter $(FUZZ_B) $(FUZZ_SEEDS_B),$(B)),)
.PHONY: fuzz fuzz-smoke fuzz-build fuzz-seeds fuzz-force fuzz-seed-lib \
	$(FUZZ_NAMES:%=fuzz-run-%) $(FUZZ_NAMES:%=fuzz-smoke-%)

fuzz: $(FUZZ_NAMES:%=fuzz-run-%) ## run each fuzz harness FUZZ_SECONDS (clang)

fuzz-smoke: $(FUZZ_NAMES:%=fuzz-smoke-%) ## each fuzz harness 5 s on its seeds

fuzz-build: $(FUZZ_BINS)

fuzz-seeds: $(FUZZ_B)/seeds/.done

fuzz-force:

$(FUZZ_B)/libsg.a: fuzz-force
	@CFLAGS='-O2 -g -fsanitize=fuzzer-no-link' $(MAKE) -s \
	    --no-print-directory B=$(FUZZ_B) CC=$(FUZZ_CC) SANITIZE=1 $@

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.c \
		  tests/fuzz/fuzz_engine.c tests/fuzz/fuzz.h $(FUZZ_B)/libsg.a
	$(call say,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< tests/fuzz/fuzz_util.c \
	    $(if $(filter $*,$(FUZZ_ENGINE)),tests/fuzz/fuzz_engine.c) \
	    $(FUZZ_B)/libsg.a $(LDLIBS)

$(FUZZ_SEED_OBJ): fuzz-seed-lib ;

fuzz-seed-lib:
	@$(MAKE) -s --no-print-directory B=$(FUZZ_SEEDS_B) $(FUZZ_SEED_OBJ)

$(FUZZ_SEEDS_B)/seedgen: tests/fuzz/seedgen.c tests/fuzz/fuzz.h $(FUZZ_SEED_OBJ)
	$(CC) $(CFLAGS) -Itests -Itests/fuzz -o $@ $< $(FUZZ_SEED_OBJ) $(LDLIBS)

$(FUZZ_B)/seeds/.done: $(FUZZ_SEEDS_B)/seedgen $(wildcard conf/*.conf \
		       tests/conf/*.conf)
	rm -rf $(FUZZ_B)/seeds && mkdir -p $(FUZZ_B)
	$(FUZZ_SEEDS_B)/seedgen $(FUZZ_B)/seeds
	cp conf/*.conf tests/conf/*.conf $(FUZZ_B)/seeds/conf/
	@touch $@

$(FUZZ_NAMES:%=fuzz-run-%): fuzz-run-%: $(FUZZ_B)/fuzz_% fuzz-seeds
	@mkdir -p $(FUZZ_B)/corpus/$* $(FUZZ_B)/crashes
	@echo "fuzz: $* for $(FUZZ_SECONDS) s, log in $(FUZZ_B)/$*.log"
	@$< $(FUZZ_ARGS) -max_total_time=$(FUZZ_SECONDS) \
	    $(FUZZ_B)/corpus/$* $(FUZZ_B)/seeds/$* > $(FUZZ_B)/$*.log 2>&1 || \
	    { tail -40 $(FUZZ_B)/$*.log; exit 1; }
	@grep -E '^#[0-9]+[[:space:]]+DONE|^stat::number_of_executed_units' \
	    $(FUZZ_B)/$*.log | sed 's/^/  $*: /'

$(FUZZ_NAMES:%=fuzz-smoke-%): fuzz-smoke-%: $(FUZZ_B)/fuzz_% fuzz-seeds
	@rm -rf $(FUZZ_B)/smoke/$* && mkdir -p $(FUZZ_B)/smoke/$* \
	    $(FUZZ_B)/crashes
	@$< $(FUZZ_ARGS) -max_total_time=$(FUZZ_SMOKE_SECONDS) \
	    $(FUZZ_B)/smoke/$* $(FUZZ_B)/seeds/$* > $(FUZZ_B)/smoke/$*.log \
	    2>&1 || { tail -40 $(FUZZ_B)/smoke/$*.log; exit 1; }
	@grep -E '^#[0-9]+[[:space:]]+DONE' $(FUZZ_B)/smoke/$*.log | \
	    sed 's/^/fuzz-smoke: $* ok: /'
endif
