#!/usr/bin/env bash
# The whole test suite, as a new user and CI run it:
#   ./scripts/test.sh
# As root it first installs what the live tests need (nftables, sipp, socat, strace,
# iproute2, fail2ban, bash-completion, ansible-core), what the package test needs
# (lintian, man-db) and what the CI tests need (pre-commit, git) with
# apt-get when they are missing. Then: gofmt, go vet,
# go test ./... (unit, golden, nft oracle, network-namespace end-to-end
# tests, the Ansible collection with ansible-playbook), the .deb built and
# installed into a scratch root (scripts/test-package.sh), and a bounded run
# of every fuzz target (FUZZTIME, default 15s). This is the full lane; for
# day-to-day work `go test -short ./...` skips the kernel, Ansible and scale
# tests (a few minutes on two cores).
#
# Each phase prints a line as it starts and its time when it ends; go test's
# results come a package at a time as each finishes (scripts/testlog), with
# the slowest tests at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
phase_start=$SECONDS
phase() {
  if [ -n "${phase_name:-}" ]; then
    echo "== $phase_name: done in $((SECONDS - phase_start))s"
  fi
  phase_name=$1
  phase_start=$SECONDS
  [ -n "$phase_name" ] && echo "== $phase_name"
  return 0
}

phase "tools the tests need"

need=()
command -v nft   >/dev/null 2>&1 || need+=(nftables)
command -v sipp  >/dev/null 2>&1 || need+=(sip-tester)
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v fail2ban-client >/dev/null 2>&1 || need+=(fail2ban)
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
command -v ip    >/dev/null 2>&1 || need+=(iproute2)
command -v strace >/dev/null 2>&1 || need+=(strace)
command -v ansible-playbook >/dev/null 2>&1 || need+=(ansible-core)
[ -f /usr/share/bash-completion/bash_completion ] || need+=(bash-completion)
command -v lintian >/dev/null 2>&1 || need+=(lintian)
command -v man     >/dev/null 2>&1 || need+=(man-db)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)   # the units' security score
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)        # the boot test runs the unit's capability set
command -v pre-commit >/dev/null 2>&1 || need+=(pre-commit)
command -v git     >/dev/null 2>&1 || need+=(git)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "note: ${need[*]} missing and not root: live tests will skip" >&2
  fi
fi

phase "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
phase "go vet"
go vet ./...
phase "go test ./... (full lane: unit, golden, kernel in network namespaces, Ansible, scale)"
go test -count=1 -timeout 20m -json ./... | go run ./scripts/testlog
phase "package: build the .deb, lintian, install into a scratch root"
./scripts/test-package.sh

# Keep fuzzing in CI: every Fuzz target for a bounded time.
FUZZTIME=${FUZZTIME:-15s}
if [ "$FUZZTIME" != "0" ]; then
  phase "fuzz: every fuzz target for $FUZZTIME"
  for pkg in $(go list ./...); do
    dir=$(go list -f '{{.Dir}}' "$pkg")
    for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
      echo "fuzz $pkg $f for $FUZZTIME"
      # Minimization is bounded by a count in each target (testenv.BoundFuzzMinimization):
      # a time bound lets Go's coordinator end a run with a bare "context deadline
      # exceeded" when -fuzztime runs out mid-minimization. That harness error (no
      # failing input written) is retried once; a real crasher fails at once.
      for try in 1 2; do
        if go test -run '^$' -fuzz "^${f}\$" -fuzztime "$FUZZTIME" "$pkg" >/tmp/voicewall-fuzz.log 2>&1; then
          break
        fi
        if [ "$try" = 1 ] && grep -q 'context deadline exceeded' /tmp/voicewall-fuzz.log && ! grep -q 'Failing input' /tmp/voicewall-fuzz.log; then
          echo "  go's fuzz coordinator stopped on its own deadline (no failing input): running $f again"
          continue
        fi
        cat /tmp/voicewall-fuzz.log
        exit 1
      done
    done
  done
fi
phase ""
echo "all tests passed in $((SECONDS - started))s"
