# statecast build. One Makefile, one rule per kind of artefact; sources are
# found by wildcard per module folder so that adding a file needs no edit here.
#
#   make                      build/statecastd, build/statecast, build/libssm.a
#   make SANITIZE=address,undefined   the same under build/san/
#   make test                 unit tests plain + sanitized, then integration
#   make run                  build and start the daemon in the foreground
#   make deps                 install missing Debian packages (apt-get)
#   WERROR=0                  for packagers: warnings stay warnings

CC      ?= cc
PREFIX  ?= /usr/local
# /etc for a system prefix, PREFIX/etc otherwise.
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DESTDIR ?=
WERROR  ?= 1
SANITIZE ?=

ifeq ($(SANITIZE),)
BUILD   ?= build
else
BUILD   ?= build/san
endif

PKGS    := libuv msgpack sqlite3 lapacke openblas inih libmicrohttpd cairo fontconfig
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# msgpack-c ships as "msgpack" on Debian 12 and as "msgpack-c" upstream since 6.0.
ifeq ($(findstring msgpack,$(PKG_LIBS)),)
PKG_CFLAGS := $(shell pkg-config --cflags libuv msgpack-c sqlite3 lapacke openblas inih libmicrohttpd cairo fontconfig 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs libuv msgpack-c sqlite3 lapacke openblas inih libmicrohttpd cairo fontconfig 2>/dev/null)
endif
# libsystemd: notify, watchdog and socket activation (daemon/sdnotify.c).
PKG_CFLAGS += $(shell pkg-config --cflags libsystemd 2>/dev/null)
PKG_LIBS   += $(shell pkg-config --libs libsystemd 2>/dev/null)
BLAS_CFLAGS := $(shell pkg-config --cflags lapacke openblas 2>/dev/null)
BLAS_LIBS   := $(shell pkg-config --libs lapacke openblas 2>/dev/null)

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla -fno-common
ifeq ($(WERROR),1)
WARN    += -Werror
endif
OPT     ?= -O2 -g
CFLAGS  ?=
CPPFLAGS += -D_GNU_SOURCE -I. 
ALL_CFLAGS = -std=c11 $(OPT) $(WARN) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDLIBS  := $(PKG_LIBS) -lm -lpthread
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif

SSM_SRC    := $(wildcard ssm/*.c)
IO_SRC     := $(wildcard io/*.c) $(wildcard config/*.c)
DAEMON_SRC := $(wildcard daemon/*.c)
TOOLS_SRC  := $(wildcard tools/*.c)
HARNESS_SRC := tests/harness.c

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
SSM_OBJ    := $(call obj,$(SSM_SRC))
IO_OBJ     := $(call obj,$(IO_SRC))
DAEMON_OBJ := $(call obj,$(DAEMON_SRC))
TOOLS_OBJ  := $(call obj,$(TOOLS_SRC))
HARNESS_OBJ := $(call obj,$(HARNESS_SRC))

# Unit tests: tests/<module>/test_*.c, one binary each. Tests of ssm/ link
# only libssm.a and BLAS/LAPACKE: that is the proof the core stays pure.
SSM_TESTS := $(patsubst tests/ssm/%.c,$(BUILD)/tests/ssm/%,$(wildcard tests/ssm/test_*.c))
IO_TESTS  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/io/test_*.c tests/config/test_*.c tests/daemon/test_*.c tests/tools/test_*.c))
UNIT_TESTS := $(SSM_TESTS) $(IO_TESTS)

.SECONDARY:
.PHONY: all clean deps run test unit-test san-tests format check-format compile_commands.json fuzz config-files fuzz-build bench-ssm integration-test install bench deb
# Declare further phony targets beside their rule, on a line of their own.
all: $(BUILD)/statecastd $(BUILD)/statecast $(BUILD)/libssm.a

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

# ssm/ is the numerics core: its loops need an alias check before GCC -O2
# vectorizes them, which the default very-cheap cost model refuses.
$(BUILD)/obj/ssm/%.o: ALL_CFLAGS += -fvect-cost-model=dynamic

$(BUILD)/libssm.a: $(SSM_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libscio.a: $(IO_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/statecastd: $(DAEMON_OBJ) $(BUILD)/libscio.a $(BUILD)/libssm.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/statecast: $(TOOLS_OBJ) $(BUILD)/libscio.a $(BUILD)/libssm.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/ssm/%: $(BUILD)/obj/tests/ssm/%.o $(HARNESS_OBJ) $(BUILD)/libssm.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(BLAS_LIBS) -lm

# Tests of tools/ link the CLI's objects (all but main.o).
TOOLS_LIB_OBJ := $(filter-out $(BUILD)/obj/tools/main.o,$(TOOLS_OBJ))
$(BUILD)/tests/tools/%: $(BUILD)/obj/tests/tools/%.o $(HARNESS_OBJ) $(TOOLS_LIB_OBJ) $(BUILD)/libscio.a $(BUILD)/libssm.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Other unit tests may use the daemon's objects too (all but main.o).
DAEMON_LIB_OBJ := $(filter-out $(BUILD)/obj/daemon/main.o,$(DAEMON_OBJ))
$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(HARNESS_OBJ) $(DAEMON_LIB_OBJ) $(BUILD)/libscio.a $(BUILD)/libssm.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Files generated from the settings table (config/table.c), checked in;
# tests/config/test_generated fails when they are stale.
$(BUILD)/cfggen: $(BUILD)/obj/config/gen/cfggen.o $(BUILD)/libscio.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

config-files: $(BUILD)/cfggen
	$(BUILD)/cfggen conf > config/statecast.conf
	$(BUILD)/cfggen doc > docs/CONFIG.md

.PHONY: bench-ssm
# Layer speed vs sgemm: writes bench/results/ssm.md.
bench-ssm: $(BUILD)/bench/ssm_bench
	./$(BUILD)/bench/ssm_bench bench/results/ssm.md

# Fuzzing: libFuzzer targets tests/fuzz/fuzz_NAME.c built with clang and
# ASan+UBSan into build/fuzz/. `make fuzz FUZZ_SECONDS=N` runs each for N
# seconds, growing build/fuzz/corpus/NAME from tests/fuzz/corpus/NAME;
# crashes land in build/fuzz/NAME-crash-* (copy them into the corpus).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=c11 -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) -MMD -MP \
                -fsanitize=fuzzer-no-link $(WARN) $(PKG_CFLAGS)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,build/fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIB_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(IO_SRC) $(SSM_SRC))

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c $< -o $@

build/fuzz/fuzz_%: build/fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) -lm

# fuzz_dispatch drives the daemon's RPC path: it links the daemon's
# objects too (all but main.o).
FUZZ_DAEMON_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(filter-out daemon/main.c,$(DAEMON_SRC)))
build/fuzz/fuzz_dispatch: $(FUZZ_DAEMON_OBJ)

fuzz-build: $(FUZZ_TARGETS)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do n=$${t##*/fuzz_}; \
		mkdir -p build/fuzz/corpus/$$n tests/fuzz/corpus/$$n; \
		echo "== fuzz $$n for $(FUZZ_SECONDS)s"; \
		$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		    -artifact_prefix=build/fuzz/$$n-crash- \
		    build/fuzz/corpus/$$n tests/fuzz/corpus/$$n || exit 1; \
	done


# Benchmarks: bench/*.c, one program each, linked like the tools.
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BUILD)/libscio.a $(BUILD)/libssm.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

# loadgen speaks msgpack-RPC through the CLI's client.
$(BUILD)/bench/loadgen: $(BUILD)/obj/tools/client.o $(BUILD)/obj/tools/shard_route.o
# series_bytes measures the daemon's registry.
$(BUILD)/bench/series_bytes: $(BUILD)/obj/daemon/registry.o $(BUILD)/obj/daemon/slabfill.o $(BUILD)/obj/daemon/history.o

bench: $(BENCH_BINS)
	bash bench/perf.sh --quick

deps:
	@sh deploy/deps.sh

run: deps all
	@mkdir -p var
	./$(BUILD)/statecastd

unit-test: $(UNIT_TESTS)
	@sh tests/run.sh unit $(BUILD) $(UNIT_TESTS)

# The top-level test: plain build, sanitizer build, integration tests, one summary.
test: deps
	@$(MAKE) --no-print-directory all $(UNIT_TESTS)
	@$(MAKE) --no-print-directory SANITIZE=address,undefined all san-tests
	@sh tests/run.sh all

san-tests: $(UNIT_TESTS)

# Install and package (deploy/install.sh, deploy/deb.sh say what goes where).
install: all
	@sh deploy/install.sh "$(DESTDIR)" "$(PREFIX)" "$(SYSCONFDIR)" "$(BUILD)"

deb: all
	@sh deploy/deb.sh "$(BUILD)" "$(BUILD)/deb"

format:
	clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

check-format:
	clang-format --dry-run --Werror $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

# bear records only what is compiled, so this rebuilds from scratch.
compile_commands.json:
	rm -rf $(BUILD)
	bear -- $(MAKE) all $(UNIT_TESTS)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj build/fuzz/obj -name '*.d' 2>/dev/null)
