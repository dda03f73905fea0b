# pnnlab — the two set-up commands are `make demo` and `make test`.
SWIFT      ?= swift
BIN        := .build/release/pnnlab
PREFIX     ?= /usr/local
DESTDIR    ?=
INSTALL    ?= install
PYTHON3    ?= python3
VENV       ?= .venv

.PHONY: deps deps-test build install uninstall demo test python bench results results-clln plots fuzz format lint clean proto

deps:
	@scripts/install-deps.sh

deps-test:
	@scripts/install-deps.sh --with-test-beds

build: deps
	$(SWIFT) build -c release --product pnnlab

# Release build of pnnlab copied to $(DESTDIR)$(PREFIX)/bin (PREFIX defaults to /usr/local).
install: build
	$(INSTALL) -d "$(DESTDIR)$(PREFIX)/bin"
	$(INSTALL) -m 755 $(BIN) "$(DESTDIR)$(PREFIX)/bin/pnnlab"

uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/pnnlab"

# Emulated crossbar board on a pty: attach, train Iris over the serial link, print the runs.
demo: build
	@BIN=$(BIN) scripts/demo.sh

# The whole test suite (unit, physics, store, CLI end-to-end with real child processes),
# then the Python package's pytest suite against the pnnlab binary just built.
# Tests run one at a time: many of them drive real ptys, child processes and link deadlines,
# and on a 2-core machine Swift's cooperative pool (one thread per core) is otherwise held for
# tens of seconds by a neighbour's computation (measured: 326 s serial vs 240 s parallel, and
# the parallel run starved a pty transfer for 180 s in CI).
test: deps-test python
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel
	PNNLAB_BIN="$$($(SWIFT) build --show-bin-path)/pnnlab" $(VENV)/bin/python -m pytest -q -p no:cacheprovider python/tests

# The Python package (python/) with its dependencies (numpy, grpcio, protobuf) and test
# dependencies in a virtual environment at .venv (created once; reinstalled when python/ changes).
python: $(VENV)/.pnnlab-installed

$(VENV)/bin/pip:
	@scripts/install-deps.sh --with-python
	rm -rf $(VENV)
	$(PYTHON3) -m venv $(VENV)

$(VENV)/.pnnlab-installed: $(VENV)/bin/pip python/pyproject.toml python/README.md $(wildcard python/src/pnnlab/*.py) \
  $(wildcard python/src/pnnlab/v1/*.py)
	$(VENV)/bin/python -m pip install --quiet --upgrade './python[test]'
	@touch $@

# Speed and memory figures with same-run baselines; rewrites docs/benchmarks.md.
bench: deps python
	@scripts/install-deps.sh --with-bench
	$(SWIFT) build -c release --product pnnbench
	$(SWIFT) build -c release --product pnnlab
	.build/release/pnnbench --output docs/benchmarks.md
	BIN=$(BIN) scripts/unplug-soak.sh >> docs/benchmarks.md

# Accuracy tables over seeds on the twins; rewrites docs/results.md.
results: build
	$(SWIFT) build -c release --product pnnbench
	.build/release/pnnbench --results --output docs/results.md
	.build/release/pnnbench --results-clln --output docs/results.md

# Only the CLLN section of docs/results.md (seed 002: limit cycles, ring tasks, 2+1 theory; ~5 min).
results-clln: deps
	$(SWIFT) build -c release --product pnnbench
	.build/release/pnnbench --results-clln --output docs/results.md

# One SVG of every `pnnlab plot` kind from runs on the twins; rewrites docs/plots/ (docs/plots.md).
plots: build
	@BIN=$(BIN) scripts/plots.sh

# libFuzzer + ASan over the wire decoder, the TOML reader and the twin-state importers
# (FUZZ_SECONDS each, default 60; FUZZ_TARGETS picks); fails on any crash or invariant break.
fuzz:
	@Fuzz/run.sh

# Regenerate the committed gRPC code from Proto/pnnlab/v1/pnnlab.proto (only after editing
# it; normal builds never run a plugin). Needs protoc (apt-get install protobuf-compiler) and
# the two Swift plugins built from the package mirror: PROTOC_PLUGINS names the folder holding
# protoc-gen-swift and protoc-gen-grpc-swift-2 (docs/remote.md says how to build them).
PROTOC_PLUGINS ?= $(HOME)/.local/protoc-plugins
proto: python
	$(VENV)/bin/python -m pip install --quiet 'grpcio-tools==1.85.1'
	protoc -I Proto --plugin=protoc-gen-swift=$(PROTOC_PLUGINS)/protoc-gen-swift \
	  --plugin=protoc-gen-grpc-swift-2=$(PROTOC_PLUGINS)/protoc-gen-grpc-swift-2 \
	  --swift_out=Sources/PNNRemote/Generated --swift_opt=Visibility=Internal,FileNaming=DropPath \
	  --grpc-swift-2_out=Sources/PNNRemote/Generated --grpc-swift-2_opt=Visibility=Internal,FileNaming=DropPath \
	  Proto/pnnlab/v1/pnnlab.proto
	for f in Sources/PNNRemote/Generated/*.swift; do sed -i '1i // swift-format-ignore-file' "$$f"; done
	$(VENV)/bin/python -m grpc_tools.protoc -I Proto --python_out=python/src --pyi_out=python/src \
	  --grpc_python_out=python/src Proto/pnnlab/v1/pnnlab.proto

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Drivers Calibration Experiments Fuzz Tests

lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Drivers Calibration Experiments Fuzz Tests

clean:
	rm -rf .build out $(VENV) python/build python/src/pnnlab.egg-info
