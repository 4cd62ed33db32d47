#!/usr/bin/env bash
# The steps of the voicewall GitHub Action (action.yml at the repository
# root), one subcommand each, so that they run the same on a runner and in
# the local test that drives them (internal/cli/action_test.go):
#
#   action.sh install    put voicewall on PATH: a release .deb when VERSION is
#                        set, else built from the action's own checkout
#   action.sh validate   voicewall validate --format sarif into $SARIF
#   action.sh test       voicewall test, its report into the job summary
#   action.sh diff       on pull requests: voicewall diff --base against the
#                        base branch, markdown into the job summary
#   action.sh comment    the diff as one pull-request comment, updated in place
#   action.sh verdict    fail the job when validate or test failed
#
# Inputs come from the environment the step sets (POLICY, VERSION, BASE,
# TOKEN, ...) and GitHub's own (GITHUB_ACTION_PATH, GITHUB_OUTPUT,
# GITHUB_STEP_SUMMARY, GITHUB_PATH, RUNNER_TEMP, GITHUB_BASE_REF, ...).
set -euo pipefail

step=${1:?usage: action.sh install|validate|test|diff|comment|verdict}
tmp=${RUNNER_TEMP:?RUNNER_TEMP is not set}
policy=${POLICY:-.}
marker='<!-- voicewall-diff -->'

out() { printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; }

case "$step" in
install)
  bin="$tmp/voicewall-bin"
  mkdir -p "$bin"
  if [ -n "${VERSION:-}" ]; then
    # A release: the .deb scripts/package.sh builds, unpacked (no root needed).
    v=${VERSION#v}
    arch=$(dpkg --print-architecture)
    url="https://github.com/voicewall/voicewall/releases/download/v${v}/voicewall_${v}_${arch}.deb"
    echo "downloading $url"
    curl -fsSL --proto '=https' -o "$tmp/voicewall.deb" "$url"
    rm -rf "$tmp/voicewall-deb"
    dpkg-deb -x "$tmp/voicewall.deb" "$tmp/voicewall-deb"
    install -m 0755 "$tmp/voicewall-deb/usr/bin/voicewall" "$bin/voicewall"
  else
    # The action's own source at the ref the workflow names (uses: ...@ref):
    # the same code as `go install github.com/voicewall/voicewall/cmd/voicewall@ref`,
    # without fetching it a second time.
    src=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}
    (cd "$src" && go build -o "$bin/voicewall" ./cmd/voicewall)
  fi
  echo "$bin" >>"$GITHUB_PATH"
  "$bin/voicewall" version
  ;;
validate)
  # The SARIF is uploaded even when the policy is invalid: that is when the
  # annotations matter. The verdict step fails the job afterwards.
  rc=0
  voicewall validate "$policy" --format sarif >"$SARIF" || rc=$?
  out validate "$rc"
  if [ "$rc" -ne 0 ]; then
    {
      echo "### voicewall validate: the policy is invalid"
      echo
      echo '```'
      voicewall validate "$policy" 2>&1 | head -200 || true
      echo '```'
    } >>"$GITHUB_STEP_SUMMARY"
  fi
  ;;
test)
  rc=0
  voicewall test "$policy" >"$tmp/voicewall-test.txt" 2>&1 || rc=$?
  out test "$rc"
  {
    if [ "$rc" -eq 0 ]; then echo "### voicewall test: every expectation holds"; else echo "### voicewall test: expectations fail"; fi
    echo
    echo '```'
    head -400 "$tmp/voicewall-test.txt"
    echo '```'
  } >>"$GITHUB_STEP_SUMMARY"
  cat "$tmp/voicewall-test.txt"
  ;;
diff)
  base=${BASE:-}
  if [ -z "$base" ]; then
    base="origin/${GITHUB_BASE_REF:?not a pull request: set the base input}"
  fi
  # actions/checkout fetches only the pull request's merge commit: fetch the
  # base branch when the revision is not there.
  if ! git rev-parse --verify --quiet "${base}^{commit}" >/dev/null; then
    git fetch --no-tags --depth=1 origin "+refs/heads/${GITHUB_BASE_REF}:refs/remotes/origin/${GITHUB_BASE_REF}"
  fi
  rc=0
  voicewall diff --base "$base" "$policy" --format markdown >"$DIFF" || rc=$?
  case "$rc" in
  0) out changes false ;;
  2) out changes true ;;
  *) echo "voicewall diff failed (exit $rc)" >&2; exit "$rc" ;;
  esac
  cat "$DIFF" >>"$GITHUB_STEP_SUMMARY"
  cat "$DIFF"
  ;;
comment)
  # One comment per pull request, found again by its marker and edited, so
  # that a pull request with ten pushes has one diff, the current one.
  : "${PR_NUMBER:?not a pull request}" "${GITHUB_REPOSITORY:?}"
  body="$tmp/voicewall-comment.md"
  { echo "$marker"; cat "$DIFF"; } >"$body"
  export GH_TOKEN=$TOKEN
  id=$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" \
    --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -1)
  if [ -n "$id" ]; then
    gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" -F "body=@$body" >/dev/null
  else
    gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" -F "body=@$body" >/dev/null
  fi
  ;;
verdict)
  if [ "${VALIDATE_RC:-0}" != 0 ]; then echo "voicewall validate: the policy is invalid (see the annotations)" >&2; fi
  if [ "${TEST_RC:-0}" != 0 ]; then echo "voicewall test: expectations fail (see the job summary)" >&2; fi
  [ "${VALIDATE_RC:-0}" = 0 ] && [ "${TEST_RC:-0}" = 0 ]
  ;;
*)
  echo "action.sh: unknown step $step" >&2
  exit 1
  ;;
esac
