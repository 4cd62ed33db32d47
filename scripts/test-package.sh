#!/usr/bin/env bash
# Builds the .deb (scripts/package.sh, offline: GOPROXY=off after go mod
# download) and checks it the way a Debian admin meets it: lintian finds no errors; the extracted binary runs and reports
# the commit it was built from; dpkg installs it into an empty root (its
# own dpkg database, nothing touches this system) with its conffile, man
# pages, completion and systemd units where Debian looks for them; and it
# removes and purges cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "test-package: $*" >&2; exit 1; }

# 0. Offline: once the modules are downloaded, the package builds with no
# network (GOPROXY=off), nfpm included.
go mod download
go -C tools mod download
deb=$(GOPROXY=off GOFLAGS=-mod=mod ./scripts/package.sh) || fail "the package does not build offline (GOPROXY=off) after go mod download"
echo "package (built with GOPROXY=off): $deb ($(stat -c %s "$deb") bytes)"

if command -v lintian >/dev/null 2>&1; then
  # Warnings are printed; errors fail. (Running as root is expected in CI.)
  rc=0
  lintian --fail-on error --tag-display-limit 0 "$deb" >"${deb%.deb}.lintian" 2>&1 || rc=$?
  grep -v 'root privileges' "${deb%.deb}.lintian" | sed 's/^/  lintian: /' || true
  [ $rc = 0 ] || fail "lintian reports errors"
elif [ "${CI:-}" = true ]; then
  fail "lintian is not installed (scripts/test.sh installs it as root)"
else
  echo "note: lintian is not installed; skipping its check (CI=true makes this a failure)" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Extracted: the packaged binary runs and says what it is.
dpkg-deb -x "$deb" "$work/x"
ver=$("$work/x/usr/bin/voicewall" version)
echo "$ver" | sed 's/^/  /'
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
grep -qx "commit: $commit" <<<"$ver" || fail "packaged binary does not report commit $commit"
[ "$("$work/x/usr/bin/voicewall" --version)" = "$ver" ] || fail "--version differs from version"
"$work/x/usr/bin/voicewall" validate examples/asterisk-udp-trunk >/dev/null 2>&1 || fail "packaged binary cannot validate an example"

# The binary links exactly the modules go.mod gives it: the packaging tool's
# own dependencies (tools/go.mod) never reach it.
packaged=$(go version -m "$work/x/usr/bin/voicewall" | awk '$1 == "dep" {print $2, $3}' | sort)
wanted=$(go list -deps -f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}}{{end}}{{end}}' ./cmd/voicewall | sort -u)
[ "$packaged" = "$wanted" ] || fail "the packaged binary's modules differ from go.mod's:
$(diff <(echo "$wanted") <(echo "$packaged"))"

# 2. Installed with dpkg into an empty root.
root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
# --path-include: a minimal image's dpkg.cfg.d may exclude /usr/share/man
# and /usr/share/doc from installs; this test wants to see every file.
dpkg --root="$root" --log=/dev/null --path-include='/*' -i "$deb" >/dev/null
[ "$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Status}' voicewall)" = "install ok installed" ] || fail "dpkg does not list voicewall installed"
for f in usr/bin/voicewall \
         lib/systemd/system/voicewall-apply.service lib/systemd/system/voicewall-refresh.service lib/systemd/system/voicewall-refresh.timer \
         lib/systemd/system/voicewall-refresh-apply.service \
         lib/systemd/system/voicewall-providers-update.service lib/systemd/system/voicewall-providers-update.timer \
         lib/systemd/system/voicewall-metrics.service lib/systemd/system/voicewall-metrics.timer \
         lib/systemd/system/voicewall-watch.service usr/share/doc/voicewall/examples/fail2ban/action.d/voicewall.conf \
         usr/share/bash-completion/completions/voicewall usr/share/zsh/vendor-completions/_voicewall usr/share/fish/vendor_completions.d/voicewall.fish \
         etc/voicewall/blocklists/feeds.conf usr/share/doc/voicewall/copyright usr/share/doc/voicewall/changelog.gz \
         usr/share/doc/voicewall/monitoring.md usr/share/doc/voicewall/examples/prometheus/voicewall.rules.yml; do
  [ -e "$root/$f" ] || fail "installed package lacks /$f"
done
grep -qx /etc/voicewall/blocklists/feeds.conf "$root/var/lib/dpkg/info/voicewall.conffiles" || fail "feeds.conf is not a conffile"
"$root/usr/bin/voicewall" version >/dev/null

# Every command has a man page, and man reads them without a warning.
for cmd in $("$root/usr/bin/voicewall" __complete "" 2>/dev/null | grep -v '^:' | cut -f1); do
  case "$cmd" in help) continue ;; esac
  page="$root/usr/share/man/man1/voicewall-$cmd.1.gz"
  [ -f "$page" ] || fail "no man page for voicewall $cmd"
done
for page in "$root"/usr/share/man/man1/*.1.gz; do
  warn=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || fail "man cannot read $page"
  [ -z "$warn" ] || fail "man warns on $(basename "$page"): $warn"
done
MANWIDTH=80 man -l "$root/usr/share/man/man1/voicewall-apply.1.gz" 2>/dev/null | grep -q -- '--confirm-timeout' || fail "voicewall-apply(1) lacks --confirm-timeout"

# Bash completion from where bash-completion loads it, against the
# installed binary.
if [ -f /usr/share/bash-completion/bash_completion ]; then
  got=$(PATH="$root/usr/bin:$PATH" bash --norc --noprofile -c '
    source /usr/share/bash-completion/bash_completion
    source "$1/usr/share/bash-completion/completions/voicewall"
    compopt() { :; }   # only meaningful inside a real completion call
    COMP_LINE="voicewall compile --target fortig"; COMP_POINT=${#COMP_LINE}
    COMP_WORDS=(voicewall compile --target fortig); COMP_CWORD=3
    __start_voicewall voicewall fortig --target
    echo "${COMPREPLY[*]}"' _ "$root")
  [ "$got" = fortigate ] || fail "installed bash completion of --target fortig gave '$got'"
fi

# The units name programs the package installs, and systemd reads them
# without a complaint (it checks ExecStart paths on this host, where the
# package is not installed: those lines are what the loop above checks).
for unit in "$root"/lib/systemd/system/voicewall-*.service; do
  for exe in $(sed -n 's/^ExecStart=-\{0,1\}\([^ ]*\).*/\1/p' "$unit"); do
    [ -x "$root$exe" ] || fail "$(basename "$unit") runs $exe, which the package does not install"
  done
done
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify --man=no "$root"/lib/systemd/system/voicewall-* 2>&1 |
    grep -v 'is not executable: No such file or directory' >"$work/verify" || true
  [ ! -s "$work/verify" ] || { cat "$work/verify"; fail "systemd-analyze verify complains about the units"; }
fi

# The installed binary applies a policy and reports on it, in a network
# namespace of its own (root only; nothing outside the namespace changes).
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null 2>&1 && command -v nft >/dev/null 2>&1; then
  ns="vwpkg-$$"
  ip netns add "$ns"
  trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"' EXIT
  ip -n "$ns" link add eth0 type veth peer name peer0
  ip -n "$ns" link add eth1 type veth peer name peer1
  export VOICEWALL_STATE_DIR="$work/state" VOICEWALL_LIB_DIR="$work/lib" # never the machine's /run or /var/lib
  "$root/usr/bin/voicewall" apply examples/smb-blocklist --netns "$ns" --auto-approve >"$work/apply.out" 2>&1 ||
    { cat "$work/apply.out"; fail "the installed binary cannot apply examples/smb-blocklist"; }
  mkdir "$work/textfile"
  "$root/usr/bin/voicewall" status examples/smb-blocklist --netns "$ns" --textfile "$work/textfile" || fail "status --textfile failed"
  grep -q "^voicewall_table_present{netns=\"$ns\"} 1\$" "$work/textfile/voicewall-$ns.prom" || fail "status --textfile did not report the table"
  grep -q "^voicewall_last_apply_success{netns=\"$ns\"} 1\$" "$work/textfile/voicewall-$ns.prom" || fail "status --textfile did not report the apply"
  ip netns del "$ns"
  unset VOICEWALL_STATE_DIR VOICEWALL_LIB_DIR
fi

# 3. Removal keeps the admin's configuration; purge takes it away.
dpkg --root="$root" --log=/dev/null -r voicewall >/dev/null
[ ! -e "$root/usr/bin/voicewall" ] || fail "remove left /usr/bin/voicewall"
[ -e "$root/etc/voicewall/blocklists/feeds.conf" ] || fail "remove deleted the conffile"
dpkg --root="$root" --log=/dev/null -P voicewall >/dev/null
[ ! -e "$root/etc/voicewall/blocklists/feeds.conf" ] || fail "purge left the conffile"
echo "package tests passed"
