# buzzlite build. `make` builds build/buzzlite.so; `make test` runs every test
# (normal build, then the same suite under ASan+UBSan); `make demo` runs the
# sample job; `make deps` installs what is missing. One explicit rule per
# artefact family; modules are folders under src/ with a one-way dependency
# order declared below.

SAN ?= 0
ifeq ($(SAN),1)
B ?= build-asan
OPT = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
B ?= build
OPT = -O2 -g
endif

CC ?= cc
CPPFLAGS = -D_GNU_SOURCE -Isrc -Iinclude -I/usr/include/cjson
CFLAGS = -std=c11 $(OPT) -Wall -Wextra -Werror -fPIC -fvisibility=hidden -pthread
LDFLAGS_SAN = $(if $(filter 1,$(SAN)),-fsanitize=address$(,)undefined,)
, := ,
# libcurl is not linked: src/aws/aws_curl.c loads it on first use.
LIBS = -lzstd -lsnappy -lz -llz4 -lbrotlidec -lcjson -lssl -lcrypto -lexpat -lhiredis -lpthread -lm
# Only the unit tests link these (the codec tests compress with brotli).
TEST_LIBS = -lbrotlienc

# Modules, and what each may depend on (itself first, then its dependencies,
# in link order).
MODULES = common codec parquet aws redis wire plan exec
DEPS_common  = common
DEPS_codec   = codec common
DEPS_parquet = parquet codec common
DEPS_aws     = aws common
DEPS_redis   = redis common
DEPS_wire    = wire codec common
DEPS_plan    = plan parquet codec common
DEPS_exec    = exec plan wire aws redis parquet codec common

mod_srcs = $(wildcard src/$(1)/*.c src/$(1)/*/*.c)
mod_objs = $(patsubst %.c,$(B)/obj/%.o,$(call mod_srcs,$(1)))
mod_lib  = $(B)/lib/libbz_$(1).a
dep_libs = $(foreach m,$(DEPS_$(1)),$(call mod_lib,$(m)))

ALL_LIBS = $(call dep_libs,exec)
EXT_SRCS = $(wildcard ext/*.c)
EXT_OBJS = $(patsubst %.c,$(B)/obj/%.o,$(EXT_SRCS))
UNIT_SRCS = $(wildcard tests/unit/*/test_*.c)
UNIT_BINS = $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))

.PHONY: all lib ext unit test test-fast demo deps fuzz fuzz-build clean stack-up stack-down stack-env bench
all: $(B)/buzzlite.so

ext: $(B)/buzzlite.so
unit: $(UNIT_BINS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

define MODULE_RULES
$(call mod_lib,$(1)): $(call mod_objs,$(1))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call MODULE_RULES,$(m))))

$(B)/buzzlite.so: $(EXT_OBJS) $(ALL_LIBS)
	$(CC) -shared $(CFLAGS) -o $@ $(EXT_OBJS) -Wl,--start-group $(ALL_LIBS) -Wl,--end-group $(LIBS)

# Unit tests: tests/unit/<module>/test_x.c links only that module's libraries.
define UNIT_RULE
$(B)/tests/$(1)/%: tests/unit/$(1)/%.c $(call dep_libs,$(1))
	@mkdir -p $$(dir $$@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit -o $$@ $$< $(call dep_libs,$(1)) $(LIBS) $(TEST_LIBS)
endef
$(foreach m,$(MODULES),$(eval $(call UNIT_RULE,$(m))))

# ---- Fuzzing (tests/fuzz/, zstd style) ------------------------------------
# One libFuzzer target per decoder, built with clang and ASan+UBSan into
# build-fuzz/ (`make fuzz-build`; `make fuzz` runs scripts/fuzz.sh). The seed
# corpus is derived from the conformance files into build-fuzz/corpus/ (never
# into git). The replay driver runs every target on those seeds and on
# tests/fuzz/regressions/ without libFuzzer; it is built by the normal compiler
# as a unit test of each build (test_fuzz_replay, run by tests/run.sh).
FUZZ_TARGETS = file meta codec encoding
FUZZ_SRCS = $(patsubst %,tests/fuzz/fuzz_%.c,$(FUZZ_TARGETS))
FZ = build-fuzz
FUZZ_CC ?= clang
FUZZ_CFLAGS = -std=c11 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -Wall -Wextra -Werror -pthread
FUZZ_LIB_OBJS = $(patsubst %.c,$(FZ)/obj/%.o,$(foreach m,$(DEPS_parquet),$(call mod_srcs,$(m))))

unit: $(B)/tests/fuzz/test_fuzz_replay
$(B)/tests/fuzz/test_fuzz_replay: tests/fuzz/fuzz_replay.c $(FUZZ_SRCS) tests/fuzz/fuzz_common.h $(call dep_libs,parquet)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -DFUZZ_REPLAY -Itests/fuzz -o $@ tests/fuzz/fuzz_replay.c $(FUZZ_SRCS) $(call dep_libs,parquet) $(LIBS)

$(FZ)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< $(FUZZ_LIB_OBJS) $(LIBS)

$(FZ)/corpus/.stamp: $(B)/tests/fuzz/test_fuzz_replay
	rm -rf $(FZ)/corpus
	$(B)/tests/fuzz/test_fuzz_replay --make-corpus $(FZ)/corpus
	@touch $@

fuzz-build: $(patsubst %,$(FZ)/fuzz_%,$(FUZZ_TARGETS)) $(FZ)/corpus/.stamp

# ---- hbee worker binary (lambda/) and the Lambda package ------------------
# The extension's ext/ sources compiled in (-DSQLITE_CORE, objects apart in
# $(B)/obj-core) and SQLite linked; `unit` builds it so tests/python/
# test_hbee_cli.py can run it. `make lambda` also packages it as
# $(B)/hbee-lambda.zip for the provided.al2023 runtime (x86_64): `bootstrap`
# (this binary) and every non-glibc shared library it or libcurl (loaded on
# first use, src/aws/aws_curl.c) needs, found through DT_RPATH $ORIGIN (not
# RUNPATH: RPATH also applies to the libraries' own dependencies and to
# dlopen); scripts/lambda_zip.sh copies them, checks the versions and zips.
#
# Rationale (performance): a worker's start is the dynamic loader's work, so
# the libraries that have a Debian static archive are linked in (the binary
# needs only libcjson, libm and libc; libcurl comes later, on demand):
# `hbee` with no argument takes 3.5 ms of CPU instead of 31.5 ms with 42
# shared libraries (perf stat, bench/RESULTS.md). Rationale (portability):
# AL2023 has glibc 2.34, so nothing may need a newer symbol version; the
# static libexpat and libstdc++ (libsnappy's) call glibc 2.36's arc4random
# and the static libgcc unwinder glibc 2.35's _dl_find_object: those bind to
# lambda/glibc_compat.c. SAN=1 links as the extension does (the sanitizer
# runtimes need the shared libstdc++), and has no Lambda package.
HBEE_OBJS = $(patsubst %.c,$(B)/obj-core/%.o,$(EXT_SRCS) lambda/hbee.c)
HBEE_STATIC = -Wl,--as-needed -Wl,-O1 -Wl,--disable-new-dtags -Wl,-rpath,'$$ORIGIN' \
	-Wl,-Bstatic -lsqlite3 -lzstd -lsnappy -llz4 -lbrotlidec -lbrotlicommon -lhiredis \
	-lexpat -lz -lcrypto -Wl,-Bdynamic -lcjson -lm -static-libstdc++ -static-libgcc
.PHONY: lambda
unit: $(B)/hbee
$(B)/obj-core/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DSQLITE_CORE $(CFLAGS) -MMD -MP -c $< -o $@
-include $(wildcard $(B)/obj-core/*/*.d)
ifeq ($(SAN),1)
lambda: $(B)/hbee
$(B)/hbee: $(HBEE_OBJS) $(ALL_LIBS)
	$(CC) $(CFLAGS) -o $@ $(HBEE_OBJS) -Wl,--start-group $(ALL_LIBS) -Wl,--end-group -lsqlite3 $(LIBS) $(LDFLAGS_SAN)
else
lambda: $(B)/hbee-lambda.zip
unit: $(B)/hbee-lambda.zip
$(B)/hbee: $(HBEE_OBJS) $(B)/obj-core/lambda/glibc_compat.o $(ALL_LIBS)
	$(CXX) -pthread -o $@ $(HBEE_OBJS) $(B)/obj-core/lambda/glibc_compat.o \
		-Wl,--start-group $(ALL_LIBS) -Wl,--end-group $(HBEE_STATIC)
endif
$(B)/hbee-lambda.zip: $(B)/hbee scripts/lambda_zip.sh
	scripts/lambda_zip.sh $< $@

deps:
	@scripts/deps.sh

test: deps
	@scripts/test.sh

# One pass of the suite against one build directory (used by scripts/test.sh).
test-fast: all unit
	@tests/run.sh $(B)

demo: deps all
	@scripts/demo.sh $(B)

fuzz:
	@scripts/fuzz.sh 60

# The stack runs $(B)/hbee (Lambda emulator, Redis-fed workers): build it first.
stack-up: all $(B)/hbee
	@BZ_BUILD=$(CURDIR)/$(B) tests/stack.sh up
stack-down:
	@tests/stack.sh down
stack-env:
	@tests/stack.sh env

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(B)/obj $(FZ)/obj -name '*.d' 2>/dev/null)
