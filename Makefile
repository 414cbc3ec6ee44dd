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
		   libnetfilter_queue libsystemd
CFLAGS		+= $(shell pkg-config --cflags $(PKGS))
LDLIBS		+= $(shell pkg-config --libs $(PKGS)) -lm -lpthread

ifeq ($(SANITIZE),1)
CFLAGS		+= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
LDFLAGS		+= -fsanitize=address,undefined
endif

# Each flavour builds in its own directory, so flags never mix.
B		?= build$(if $(filter 1,$(SANITIZE)),-asan)$(if $(findstring clang,$(CC)),-clang)
ENGINE_SRC	:= src/alarm.c src/bind.c src/cbf.c src/clock.c src/conf.c \
		   src/decode.c src/enforce.c src/engine.c src/flood.c src/hash.c \
		   src/htab.c src/log.c src/nft.c src/pending.c src/sipmsg.c \
		   src/state.c src/ctl.c src/daemon.c \
		   src/spoof.c src/stream.c src/util.c src/capture_pcap.c \
		   src/capture_nfq.c
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
		   tests/e2e_differential.sh
TOOL_BINS	:= $(B)/sgpcap

DEPS		:= $(wildcard $(B)/*.d $(B)/tests/*.d $(B)/tools/*.d \
		   $(B)/bench/*.d)

.PHONY: all check demo deps install clean help lint bench bench-nfq

all: $(B)/sipguard $(B)/sipguardctl ## build the daemon and sipguardctl

$(ENGINE_OBJ) $(SG_OBJ): $(B)/sysconfdir

$(B)/sipguard: $(SG_OBJ) $(B)/libsg.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/sipguardctl: $(B)/sipguardctl.o
	$(CC) $(LDFLAGS) -o $@ $^

$(B)/libsg.a: $(ENGINE_OBJ)
	$(AR) rcs $@ $^

$(B)/%.o: src/%.c | $(B)
	@echo '  CC  $<'
	@$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/%.o: tests/%.c | $(B)/tests
	@echo '  CC  $<'
	@$(CC) $(CFLAGS) $(shell pkg-config --cflags cmocka) -Itests -c -o $@ $<

$(B)/tools/%.o: tools/%.c | $(B)/tools
	@echo '  CC  $<'
	@$(CC) $(CFLAGS) -Itests -c -o $@ $<

TEST_LIB	:= $(B)/tests/pktgen.o $(B)/tests/scenario.o $(B)/tests/scenarios.o \
		   $(B)/tests/floodgen.o

$(B)/tests/test_%: $(B)/tests/test_%.o $(TEST_LIB) $(B)/tests/testlib.o \
		   $(B)/libsg.a
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs cmocka) $(LDLIBS)

$(B)/sgpcap: $(B)/tools/sgpcap.o $(TEST_LIB) $(B)/libsg.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/%.o: bench/%.c | $(B)/bench
	@echo '  CC  $<'
	@$(CC) $(CFLAGS) -Itests -c -o $@ $<

$(B)/bench/bench: $(B)/bench/bench.o $(B)/tests/pktgen.o $(B)/libsg.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/nfq_accept: $(B)/bench/nfq_accept.o $(B)/libsg.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/udpflood: $(B)/bench/udpflood.o
	$(CC) $(LDFLAGS) -o $@ $^

$(B) $(B)/tests $(B)/tools $(B)/bench:
	mkdir -p $@

deps: ## install the Debian packages the build and tests need (if missing)
	@tools/deps.sh

check: deps $(B)/sipguard $(B)/sipguardctl $(B)/bench/udpflood $(TEST_BINS) $(TOOL_BINS) ## build and run every test
	@B=$(B) SIPGUARD=$(B)/sipguard tools/run-tests.sh $(TEST_BINS) $(TEST_SCRIPTS)

demo: deps $(B)/sipguard $(B)/sipguardctl $(TOOL_BINS) ## attacks replayed, then live in front of Kamailio
	@B=$(B) tools/demo.sh
	@B=$(B) tools/demo-live.sh

bench: $(B)/bench/bench ## measure the cost per message (ratios to osip2)
	@$(B)/bench/bench

bench-nfq: all $(B)/bench/nfq_accept $(B)/bench/udpflood ## live pkts/s, daemon vs bare reader (root)
	@B=$(B) tools/bench-nfq.sh

lint: ## fail on clock calls outside src/clock.c
	@! grep -nE '\b(time|gettimeofday|clock_gettime)\(' src/*.c | \
	    grep -v '^src/clock.c:' || { echo "lint: use clock.c"; exit 1; }

install: $(B)/sipguard $(B)/sipguardctl ## install (PREFIX, DESTDIR, sysconfdir honoured)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(sysconfdir)/sipguard \
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
