#!/usr/bin/env bash
# Builds dist/voicewall_<version>_<arch>.deb with goreleaser's nfpm:
#   ./scripts/package.sh            # for this machine's GOARCH
#   GOARCH=arm64 ./scripts/package.sh
# VERSION defaults to cli.Version's release plus the commit date and hash
# (0.1.0~git20261201.abc1234, which sorts before the 0.1.0 release).
# Man pages and completion scripts are generated from the command tree
# (scripts/gendocs) at build time. Prints the path of the .deb.
#
# Offline: nfpm is pinned as a tool of its own module (tools/go.mod, so its
# dependencies never change the binary's), and everything else comes from
# go.mod. After `go mod download && go -C tools mod download` on a machine
# with the network, GOPROXY=off ./scripts/package.sh builds without it.
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=github.com/voicewall/voicewall/internal/cli

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# Reproducible: every date in the package is the commit's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
if [ -z "${VERSION:-}" ]; then
  base=$(sed -n 's/^var Version = "\([0-9.]*\).*"/\1/p' internal/cli/root.go)
  VERSION="${base}~git$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d).${commit:0:7}"
  git diff --quiet HEAD 2>/dev/null || VERSION="${VERSION}.dirty"
fi
export VERSION

goarch=${GOARCH:-$(go env GOARCH)}
case "$goarch" in
  amd64|arm64|riscv64|ppc64le|s390x) DEB_ARCH=$goarch ;;
  386) DEB_ARCH=i386 ;;
  arm) DEB_ARCH=armhf; export GOARM=${GOARM:-7} ;;
  *) echo "package.sh: no Debian architecture for GOARCH=$goarch" >&2; exit 1 ;;
esac
export DEB_ARCH

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
export STAGE
mkdir -p "$STAGE/man" "$STAGE/doc" dist

# PIE: address-space randomisation, as Debian's hardening asks of binaries.
CGO_ENABLED=0 GOOS=linux GOARCH=$goarch go build -buildmode=pie -trimpath -buildvcs=false \
  -ldflags "-s -w -X $pkg.Version=$VERSION -X $pkg.Commit=$commit -X $pkg.Date=$date" \
  -o "$STAGE/voicewall" ./cmd/voicewall

# Man pages, completion: from the command tree, on the build machine.
go run -ldflags "-X $pkg.Version=$VERSION" ./scripts/gendocs -man "$STAGE/man" -completion "$STAGE/completion"
gzip -9n "$STAGE"/man/*.1

cp README.md docs/*.md "$STAGE/doc/"
cp -r contrib "$STAGE/contrib"
first=$(git log --max-parents=0 --format=%cd --date=format:%Y 2>/dev/null | tail -1)
last=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y)
years=${first:-$last}; [ "$years" = "$last" ] || years="$years-$last"
cat > "$STAGE/doc/copyright" <<COPYRIGHT
voicewall
Source: https://github.com/voicewall/voicewall

Files: *
Copyright: $years the voicewall authors
License: Apache-2.0
Comment: The binary links Go modules that carry their own licenses;
 "go version -m /usr/bin/voicewall" lists them.

License: Apache-2.0
 On Debian systems, the full text of the Apache License, Version 2.0
 can be found in "/usr/share/common-licenses/Apache-2.0".
COPYRIGHT
cat > "$STAGE/doc/changelog" <<CHANGELOG
voicewall ($VERSION) unstable; urgency=medium

  * Built from commit $commit.

 -- voicewall authors <voicewall@users.noreply.github.com>  $(date -u -R -d "@$SOURCE_DATE_EPOCH")
CHANGELOG
gzip -9n "$STAGE/doc/changelog"

out="dist/voicewall_${VERSION}_${DEB_ARCH}.deb"
rm -f "$out"
repo=$(pwd)
nfpm=$(go -C tools tool -n nfpm) # builds it (cached) and prints its path
(cd "$STAGE" && "$nfpm" package --config "$repo/scripts/nfpm.yaml" --packager deb --target "$repo/$out") >&2
echo "$out"
