# simval — every target here is what CI and the README run; nothing else is needed.
GO        ?= go
PYTHON    ?= python3
REPORTS   ?= reports
GOTESTSUM  = $(GO) tool gotestsum

.PHONY: test vet pytest lint bench golden-update gpu-binaries vidur

## test: vet (with and without -tags gpu), the Python driver unit tests, then every Go test.
## The gotestsum summary line is the last thing printed.
test: vet pytest
	@mkdir -p $(REPORTS)
	$(GOTESTSUM) --format testname --junitfile $(REPORTS)/junit.xml -- -count=1 ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags gpu ./...

pytest:
	$(PYTHON) -m unittest discover -q -s realkit/drivers -p 'test_*.py'

lint: vet
	$(GO) mod tidy -diff

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./simkit/...

## golden-update: rewrite goldens after a reviewed simulator change; never in CI.
golden-update:
	@test -z "$$CI" || { echo "refusing to update goldens under CI"; exit 1; }
	GOLDIE_UPDATE=1 $(GO) test -count=1 ./...

## gpu-binaries: linux/amd64 binaries to carry to a GPU runner with no Go.
gpu-binaries:
	@mkdir -p bin
	GOOS=linux GOARCH=amd64 CGO_ENABLED=0 $(GO) build -ldflags="-s -w" -o bin/simval ./cmd/simval
	GOOS=linux GOARCH=amd64 CGO_ENABLED=0 $(GO) test -c -ldflags="-s -w" -tags gpu -o bin/scenarios.test ./scenarios

## vidur: install microsoft/vidur (pinned commit, Debian packages) to run it beside simval;
## not needed by `make test` or CI (tests that need it skip with the reason).
vidur:
	scripts/vidur-install.sh
