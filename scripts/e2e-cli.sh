#!/usr/bin/env bash
# End-to-end test of Berth with the clients people use with Amazon ECR: the
# AWS CLI, a real docker engine, crane and boto3, run the way the ECR user
# guide runs them.
#
#   bash scripts/e2e-cli.sh
#
# It builds berth and starts it on a free loopback port with a temporary data
# directory; installs Debian's docker.io if there is no dockerd (as root) and
# starts a private dockerd (vfs storage, no iptables, no bridge) on a socket
# in a temporary directory; installs crane with `go install` if it is
# missing. Then: STS and ECR calls with `aws`, docker login / build / push /
# pull, the legacy `aws ecr get-login`, crane push / copy / pull, a pull
# through cache from a Basic-auth CNCF Distribution upstream on loopback
# (installed with `go install` if missing), Berth's client tools (berth
# login, docker-credential-berth, berth doctor), boto3 (scripts/e2e_boto3.py),
# the error messages docker prints, and ECR Public: its API with the AWS
# CLI, and its public host with docker, crane and skopeo (Debian's skopeo
# is installed when missing; public.ecr.localhost is added to /etc/hosts
# when the machine does not resolve it to loopback). Everything
# it started is stopped and every temporary file removed on exit.
#
# Every check is one line, "ok  …" or "FAIL …" with what differed and the
# tail of berth's log; the last line is "e2e-cli: N passed, M failed", and
# the exit status is non-zero if any check failed.
# E2E_VERBOSE=1 prints every command's output.
#
# Several nodes: with E2E_NODES=N (N > 1), E2E_META (a postgres:// URL of an
# empty database), E2E_BLOBS (an s3:// URL of an empty bucket) and
# E2E_S3_ACCESS_KEY_ID / E2E_S3_SECRET_ACCESS_KEY, it starts N nodes on those
# stores behind a round-robin proxy (e2e/rrproxy) and runs every check
# through the proxy: each request may reach another node than the one
# before. e2e/nodes_test.go's TestCLIWorkflowThreeNodes does this.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT=$PWD

TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-e2e-cli.XXXXXX")
PASSED=0
FAILED=0
FAILED_NAMES=()
BERTH_PID=""
BERTH_PIDS=()
PROXY_PID=""
UPSTREAM_PID=""
NODES=${E2E_NODES:-1}
E2E_META=${E2E_META:-}
E2E_BLOBS=${E2E_BLOBS:-}
E2E_S3_ACCESS_KEY_ID=${E2E_S3_ACCESS_KEY_ID:-}
E2E_S3_SECRET_ACCESS_KEY=${E2E_S3_SECRET_ACCESS_KEY:-}
DOCKERD_PID=""
CHECK_PID=""
WATCHDOG_PID=""
START_SECONDS=$SECONDS
CHECK_TIMEOUT=${E2E_CHECK_TIMEOUT:-180}

# Fixed test identity: the root keys of account 000000000000, and a fixed
# login-token key, so that the script can make an expired token (check 5c).
ACCOUNT=000000000000
REGION=us-east-1
TEST_ACCESS_KEY_ID=AKIAE2ECLITESTKEY001
TEST_SECRET_ACCESS_KEY=e2eCliTestSecretAccessKey000000000000000
TEST_TOKEN_KEY=$(printf 'berth-e2e-cli-token-key-32-bytes!' | base64 -w0)

log() { printf '\n== %s\n' "$*"; }

# kill_tree PID: SIGTERM to a process and all its descendants.
kill_tree() {
  local kids child
  kids=$(pgrep -P "$1" 2>/dev/null || true)
  kill -TERM "$1" 2>/dev/null || true
  for child in $kids; do kill_tree "$child"; done
}

# alive PID: the process exists and is not a zombie.
alive() {
  local s
  s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $s != Z* ]]
}

# stop_pid PID NAME SECONDS: SIGTERM, then SIGKILL if it lingers.
stop_pid() {
  local pid=$1 name=$2 secs=$3 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < secs * 10; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    echo "e2e-cli: $name (pid $pid) did not stop in ${secs}s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

BERTH_LOG_MARK=0
# berth's log lines since the current check started (the last 20).
berth_log_since_mark() {
  local n
  n=$(tail -n +"$((BERTH_LOG_MARK + 1))" "$TMP/berth.log" | wc -l)
  [ "$n" -gt 0 ] || return 0
  echo "     --- berth log during this check ($n lines$([ "$n" -gt 20 ] && echo ', the last 20')) ---"
  tail -n +"$((BERTH_LOG_MARK + 1))" "$TMP/berth.log" | tail -n 20 | sed 's/^/     | /'
}

berth_log_tail() {
  if [ -s "$TMP/berth.log" ]; then
    echo "     --- berth log (last ${1:-20} lines) ---"
    tail -n "${1:-20}" "$TMP/berth.log" | sed 's/^/     | /'
  fi
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$WATCHDOG_PID" ]; then kill_tree "$WATCHDOG_PID"; fi
  if [ -n "$CHECK_PID" ]; then kill_tree "$CHECK_PID"; fi
  if [ -n "$PROXY_PID" ]; then
    stop_pid "$PROXY_PID" rrproxy 5
  fi
  if [ -n "$UPSTREAM_PID" ]; then
    stop_pid "$UPSTREAM_PID" registry 10
  fi
  local bp
  for bp in "${BERTH_PIDS[@]}"; do
    stop_pid "$bp" berth 15
  done
  if [ -n "$DOCKERD_PID" ]; then
    stop_pid "$DOCKERD_PID" dockerd 30
    # dockerd stops the containerd it started; make sure, if it was killed.
    local cpid
    cpid=$(cat "$TMP/docker-exec/containerd/containerd.pid" 2>/dev/null)
    if [ -n "$cpid" ] && alive "$cpid"; then
      stop_pid "$cpid" containerd 10
    fi
  fi
  # Anything dockerd left mounted under the temp dir, innermost first.
  if [ -r /proc/self/mounts ]; then
    awk -v t="$TMP" 'index($2, t) == 1 { print $2 }' /proc/self/mounts | sort -r |
      while read -r m; do umount -l "$m" 2>/dev/null; done
  fi
  rm -rf "$TMP" 2>/dev/null || rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
  printf '\ne2e-cli: FATAL: %s\n' "$*" >&2
  berth_log_tail 40 >&2
  if [ -s "$TMP/dockerd.log" ]; then
    echo "     --- dockerd log (last 20 lines) ---" >&2
    tail -n 20 "$TMP/dockerd.log" | sed 's/^/     | /' >&2
  fi
  printf 'e2e-cli: %d passed, %d failed\n' "$PASSED" "$((FAILED + 1))"
  exit 1
}

# check DESCRIPTION COMMAND [ARGS…]: runs the command (usually a function
# below) in a subshell with `set -e`, and records ok or FAIL.
check() {
  local desc=$1 rc
  shift
  BERTH_LOG_MARK=$(wc -l <"$TMP/berth.log")
  : >"$TMP/check.out"
  set +e
  (
    set -e
    "$@"
  ) >>"$TMP/check.out" 2>&1 &
  local pid=$!
  CHECK_PID=$pid
  # A hung client or server fails the check instead of the whole CI run.
  (
    sleep "$CHECK_TIMEOUT"
    echo "TIMEOUT: still running after ${CHECK_TIMEOUT}s; stopped" >>"$TMP/check.out"
    kill_tree "$pid"
  ) &
  WATCHDOG_PID=$!
  wait "$pid"
  rc=$?
  kill_tree "$WATCHDOG_PID"
  wait "$WATCHDOG_PID" 2>/dev/null
  CHECK_PID=""
  WATCHDOG_PID=""
  set -e
  if [ "$rc" -eq 0 ]; then
    PASSED=$((PASSED + 1))
    printf 'ok   %s\n' "$desc"
    if [ "${E2E_VERBOSE:-}" = 1 ]; then sed 's/^/     | /' "$TMP/check.out"; fi
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$desc")
    printf 'FAIL %s (exit %d)\n' "$desc" "$rc"
    tail -n 40 "$TMP/check.out" | sed 's/^/     | /'
    berth_log_since_mark
  fi
}

# show COMMAND…: runs the command with its stdout both logged for the check
# and passed on (for $(…)); its stderr goes to the log only. The command's
# exit status is show's. show_all passes stderr on too.
show() {
  "$@" | tee -a "$TMP/check.out"
}
show_all() {
  "$@" 2>&1 | tee -a "$TMP/check.out"
}

# skip DESCRIPTION REASON: a check that cannot run here, said out loud.
skip() {
  printf 'skip %s: %s\n' "$1" "$2"
}

# --- assertions, for use inside checks --------------------------------------

# expect_eq WHAT GOT WANT
expect_eq() {
  if [ "$2" != "$3" ]; then
    printf '%s:\n  want: %s\n  got:  %s\n' "$1" "$3" "$2"
    return 1
  fi
}

# expect_contains WHAT TEXT NEEDLE
expect_contains() {
  case $2 in
    *"$3"*) return 0 ;;
  esac
  printf '%s: want output containing\n  %s\ngot:\n%s\n' "$1" "$3" "$2"
  return 1
}

# must_fail COMMAND…: succeeds when the command fails (its output passes through).
must_fail() {
  if "$@"; then
    echo "expected this to fail, but it succeeded: $*"
    return 1
  fi
}

# json EXPR: evaluates a Python expression over the JSON on stdin, bound to d.
json() {
  python3 -c 'import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# Values handed from one check to later ones (checks run in subshells).
put() { printf '%s' "$2" >"$TMP/state/$1"; }
get() {
  if [ ! -f "$TMP/state/$1" ]; then
    echo "no $1: an earlier check that records it failed" >&2
    return 1
  fi
  cat "$TMP/state/$1"
}
mkdir -p "$TMP/state"

# ---------------------------------------------------------------------------
log "1. build and start berth"
command -v go >/dev/null || die "go is not installed"
command -v python3 >/dev/null || die "python3 is not installed"
mkdir -p "$TMP/bin"
# As release builds do (docs/scanning.md, "What it costs").
go build -tags grpcnotrace -o "$TMP/bin/berth" ./cmd/berth || die "go build ./cmd/berth failed"

# Nothing from the caller's environment configures this berth but the script.
for v in $(compgen -e | grep '^BERTH_' || true); do unset "$v"; done
# Loopback traffic never goes through a proxy.
export NO_PROXY=127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY} no_proxy=127.0.0.1,localhost${no_proxy:+,$no_proxy}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
backends=()
# Short IAM Identity Center lifetimes, so that block 7 sees a token refresh
# and expired role credentials within seconds.
SSO_FLAGS="--sso-access-token-ttl 15s --sso-role-session-limit 20s"
REG=127.0.0.1:$PORT
ENDPOINT=http://$REG
: >"$TMP/berth.log"
if [ "$NODES" -gt 1 ]; then
  [ -n "$E2E_META" ] && [ -n "$E2E_BLOBS" ] || die "E2E_NODES=$NODES needs E2E_META and E2E_BLOBS"
  go build -o "$TMP/bin/rrproxy" ./e2e/rrproxy || die "go build ./e2e/rrproxy failed"
  for ((n = 1; n <= NODES; n++)); do
    node=127.0.0.1:$(free_port)
    backends+=("http://$node")
    # Every node logs to one file, as a log collector would gather them.
    BERTH_ACCESS_KEY_ID=$TEST_ACCESS_KEY_ID BERTH_SECRET_ACCESS_KEY=$TEST_SECRET_ACCESS_KEY BERTH_TOKEN_KEY=$TEST_TOKEN_KEY \
      BERTH_S3_ACCESS_KEY_ID=$E2E_S3_ACCESS_KEY_ID BERTH_S3_SECRET_ACCESS_KEY=$E2E_S3_SECRET_ACCESS_KEY \
      "$TMP/bin/berth" serve --listen "$node" --public-url "$ENDPOINT" --data "$TMP/berth-data-$n" \
      --meta "$E2E_META" --blobs "$E2E_BLOBS" --log-level debug $SSO_FLAGS >>"$TMP/berth.log" 2>&1 &
    BERTH_PIDS+=($!)
  done
  BERTH_PID=${BERTH_PIDS[0]}
  "$TMP/bin/rrproxy" -listen "$REG" "${backends[@]}" >>"$TMP/berth.log" 2>&1 &
  PROXY_PID=$!
  echo "$NODES nodes behind a round-robin proxy at $REG: ${backends[*]}"
else
  BERTH_ACCESS_KEY_ID=$TEST_ACCESS_KEY_ID BERTH_SECRET_ACCESS_KEY=$TEST_SECRET_ACCESS_KEY BERTH_TOKEN_KEY=$TEST_TOKEN_KEY \
    "$TMP/bin/berth" serve --listen "$REG" --data "$TMP/berth-data" --log-level debug $SSO_FLAGS >"$TMP/berth.log" 2>&1 &
  BERTH_PIDS+=($!)
  BERTH_PID=$!
fi
# Every node, then the address clients use, must answer.
for url in "${backends[@]}" "$ENDPOINT"; do
  for ((i = 0; ; i++)); do
    code=$(python3 -c 'import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print(0)' "$url/v2/")
    case $code in 200 | 401) break ;; esac
    for bp in "${BERTH_PIDS[@]}"; do alive "$bp" || die "berth exited while starting"; done
    [ "$i" -lt 300 ] || die "berth did not answer $url/v2/ in 60s"
    sleep 0.2
  done
done
echo "berth is serving at $ENDPOINT (GET /v2/ answers $code)"

# ---------------------------------------------------------------------------
log "2. docker engine and crane"
if ! command -v dockerd >/dev/null; then
  [ "$(id -u)" = 0 ] || die "dockerd is missing and only root can install docker.io"
  echo "installing Debian's docker.io"
  apt-get update >"$TMP/apt.log" 2>&1 || { cat "$TMP/apt.log"; die "apt-get update failed"; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io >>"$TMP/apt.log" 2>&1 ||
    { tail -n 30 "$TMP/apt.log"; die "apt-get install docker.io failed"; }
fi
command -v docker >/dev/null || die "docker.io is installed but there is no docker client"
export DOCKER_CONFIG=$TMP/docker-config
mkdir -p "$DOCKER_CONFIG"
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
echo '{}' >"$TMP/daemon.json" # not the machine's /etc/docker/daemon.json
dockerd --config-file "$TMP/daemon.json" --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
  --data-root "$TMP/docker" --exec-root "$TMP/docker-exec" --pidfile "$TMP/docker.pid" \
  -H "unix://$TMP/docker.sock" >"$TMP/dockerd.log" 2>&1 &
DOCKERD_PID=$!
export DOCKER_HOST=unix://$TMP/docker.sock
for ((i = 0; ; i++)); do
  docker info >/dev/null 2>&1 && break
  alive "$DOCKERD_PID" || die "dockerd exited while starting"
  [ "$i" -lt 120 ] || die "dockerd did not answer docker info in 60s"
  sleep 0.5
done
docker version --format 'docker client {{.Client.Version}}, engine {{.Server.Version}}'
# Without the buildx plugin, `docker build` needs the legacy builder.
if ! docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=0
  echo "no buildx plugin: docker build uses the legacy builder (DOCKER_BUILDKIT=0)"
fi

if ! command -v crane >/dev/null; then
  echo "installing crane"
  (cd "$TMP" && GOBIN="$TMP/bin" GOFLAGS='' go install github.com/google/go-containerregistry/cmd/crane@v0.22.1) ||
    die "go install crane failed"
  export PATH=$TMP/bin:$PATH
fi
echo "crane $(crane version)"

# ---------------------------------------------------------------------------
log "3. the ECR workflow with the AWS CLI and docker"
export AWS_ACCESS_KEY_ID=$TEST_ACCESS_KEY_ID
export AWS_SECRET_ACCESS_KEY=$TEST_SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=$REGION
export AWS_ENDPOINT_URL=$ENDPOINT
export AWS_CONFIG_FILE=$TMP/aws-config AWS_SHARED_CREDENTIALS_FILE=$TMP/aws-credentials
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_REGION AWS_ENDPOINT_URL_ECR AWS_ENDPOINT_URL_STS
command aws --version 2>&1
# The AWS CLI takes AWS_ENDPOINT_URL from botocore 1.31 on (late 2023). Ask
# the installed one: pointed at a closed port, does it try that port?
probe=$(AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_MAX_ATTEMPTS=1 command aws sts get-caller-identity --cli-connect-timeout 2 2>&1 || true)
if [[ $probe == *"127.0.0.1:9"* ]]; then
  echo "the AWS CLI reads AWS_ENDPOINT_URL"
else
  echo "the AWS CLI ignores AWS_ENDPOINT_URL: every aws call gets --endpoint-url $ENDPOINT"
  aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
fi

t_sts() {
  local out
  out=$(show aws sts get-caller-identity --output json)
  expect_eq Account "$(json 'd["Account"]' <<<"$out")" "$ACCOUNT"
  expect_eq Arn "$(json 'd["Arn"]' <<<"$out")" "arn:aws:iam::$ACCOUNT:root"
}
check "aws sts get-caller-identity: Account and Arn of the root keys" t_sts

t_ecr_public() {
  local out
  out=$(show aws ecr-public create-repository --repository-name gallery --region us-east-1 \
    --catalog-data '{"description":"a gallery","architectures":["x86-64"]}')
  expect_contains "repositoryUri" "$(json 'd["repository"]["repositoryUri"]' <<<"$out")" "/gallery"
  out=$(show aws ecr-public describe-registries --region us-east-1)
  expect_contains "registryUri" "$(json 'd["registries"][0]["registryUri"]' <<<"$out")" "public.ecr.localhost/"
  out=$(show aws ecr-public get-repository-catalog-data --repository-name gallery --region us-east-1)
  expect_eq "catalog description" "$(json 'd["catalogData"]["description"]' <<<"$out")" "a gallery"
  out=$(show aws ecr-public initiate-layer-upload --repository-name gallery --region us-east-1)
  expect_contains "aws ecr-public initiate-layer-upload: partSize" "$out" '"partSize": 10485760'
  show aws ecr-public delete-repository --repository-name gallery --region us-east-1 >/dev/null
}
check "aws ecr-public create-repository with catalog data, describe-registries, get-repository-catalog-data, initiate-layer-upload" t_ecr_public

t_create_repo() {
  local out
  out=$(show aws ecr create-repository --repository-name my-repo --region us-east-1 --output json)
  expect_eq repositoryUri "$(json 'd["repository"]["repositoryUri"]' <<<"$out")" "$REG/my-repo"
  expect_eq repositoryArn "$(json 'd["repository"]["repositoryArn"]' <<<"$out")" "arn:aws:ecr:$REGION:$ACCOUNT:repository/my-repo"
  expect_eq registryId "$(json 'd["repository"]["registryId"]' <<<"$out")" "$ACCOUNT"
  expect_eq imageTagMutability "$(json 'd["repository"]["imageTagMutability"]' <<<"$out")" "MUTABLE"
}
check "aws ecr create-repository --repository-name my-repo: repositoryUri $REG/my-repo" t_create_repo

t_describe_repo() {
  local out
  out=$(show aws ecr describe-repositories --output json)
  expect_contains "repositories" "$(json '[r["repositoryName"] for r in d["repositories"]]' <<<"$out")" '"my-repo"'
  out=$(show aws ecr describe-repositories --repository-names my-repo --query 'repositories[0].repositoryUri' --output text)
  expect_eq "repositoryUri" "$out" "$REG/my-repo"
}
check "aws ecr describe-repositories: my-repo is listed" t_describe_repo

t_login() {
  local out
  out=$(aws ecr get-login-password --region us-east-1 | show_all docker login --username AWS --password-stdin "$REG")
  expect_contains "docker login" "$out" "Login Succeeded"
}
check "aws ecr get-login-password | docker login --username AWS --password-stdin $REG" t_login

# build_image TAG CONTENT: a FROM scratch image with one file.
build_image() {
  local ctx
  ctx=$(mktemp -d "$TMP/ctx.XXXXXX")
  printf '%s\n' "$2" >"$ctx/hello.txt"
  printf 'FROM scratch\nCOPY hello.txt /hello.txt\n' >"$ctx/Dockerfile"
  docker build -t "$1" "$ctx"
}

# push_digest OUTPUT: the digest `docker push` reports.
push_digest() {
  sed -n 's/.*: digest: \(sha256:[0-9a-f]\{64\}\) size: .*/\1/p' <<<"$1" | tail -n 1
}

t_build() {
  build_image e2e-app:latest "hello from berth e2e-cli $$ $RANDOM"
  docker image inspect e2e-app:latest >/dev/null
}
check "docker build (FROM scratch + COPY)" t_build

t_push() {
  local out digest
  docker tag e2e-app:latest "$REG/my-repo:latest"
  docker tag e2e-app:latest "$REG/my-repo:keep"
  out=$(show_all docker push "$REG/my-repo:latest")
  digest=$(push_digest "$out")
  [ -n "$digest" ] || { echo "docker push printed no digest"; return 1; }
  put pushed_digest "$digest"
  out=$(show_all docker push "$REG/my-repo:keep")
  expect_eq "digest of the second tag" "$(push_digest "$out")" "$digest"
}
check "docker tag + docker push $REG/my-repo:latest (and :keep)" t_push

t_pull() {
  local out digest
  digest=$(get pushed_digest)
  docker rmi "$REG/my-repo:latest" "$REG/my-repo:keep" e2e-app:latest
  if docker image inspect "$REG/my-repo:latest" >/dev/null 2>&1; then
    echo "the image is still there after docker rmi"
    return 1
  fi
  out=$(show_all docker pull "$REG/my-repo:latest")
  expect_contains "docker pull" "$out" "Digest: $digest"
  expect_contains "RepoDigests" "$(docker image inspect --format '{{json .RepoDigests}}' "$REG/my-repo:latest")" "$REG/my-repo@$digest"
}
check "docker rmi, then docker pull $REG/my-repo:latest: same digest" t_pull

t_describe_images() {
  local out digest
  digest=$(get pushed_digest)
  out=$(show aws ecr describe-images --repository-name my-repo --output json)
  expect_eq "number of images" "$(json 'len(d["imageDetails"])' <<<"$out")" 1
  expect_eq imageDigest "$(json 'd["imageDetails"][0]["imageDigest"]' <<<"$out")" "$digest"
  expect_eq imageTags "$(json 'sorted(d["imageDetails"][0].get("imageTags", []))' <<<"$out")" '["keep", "latest"]'
  expect_eq "imageSizeInBytes > 0" "$(json 'd["imageDetails"][0].get("imageSizeInBytes", 0) > 0' <<<"$out")" true
  expect_eq imageManifestMediaType "$(json 'd["imageDetails"][0].get("imageManifestMediaType")' <<<"$out")" \
    application/vnd.docker.distribution.manifest.v2+json
  expect_eq repositoryName "$(json 'd["imageDetails"][0]["repositoryName"]' <<<"$out")" my-repo
  expect_eq registryId "$(json 'd["imageDetails"][0]["registryId"]' <<<"$out")" "$ACCOUNT"
  expect_eq "imagePushedAt is set" "$(json '"imagePushedAt" in d["imageDetails"][0]' <<<"$out")" true
}
check "aws ecr describe-images --repository-name my-repo: tags, size, media type" t_describe_images

# The push's image event went through the outbox to the log (--image-events
# log), as ECR's "ECR Image Action" event.
t_image_event() {
  local digest want i
  digest=$(get pushed_digest)
  want="msg=\"ECR Image Action\" action=PUSH repository=my-repo digest=$digest tag=latest"
  for i in $(seq 50); do
    if grep -qF "$want" "$TMP/berth.log"; then
      return 0
    fi
    sleep 0.2
  done
  echo "no line in berth's log contains: $want"
  return 1
}
check "berth's log: an \"ECR Image Action\" PUSH event for $REG/my-repo:latest" t_image_event

# Image scanning as ECR's users script it: a registry rule that scans some
# repositories on push, docker push, `aws ecr wait image-scan-complete`,
# the findings, the summary in describe-images, boto3's waiter and
# paginator, and StartImageScan's once-a-day limit. The vulnerability data
# is the hand-written OSV records of package vulndb's tests, loaded with
# berth vulndb import into the running deployment's store.
t_vulndb_import() {
  show "$TMP/bin/berth" vulndb import --data "$TMP/berth-data" ${E2E_META:+--meta "$E2E_META"} \
    "$REPO_ROOT/internal/vulndb/testdata/osv/handwritten"
  out=$(show "$TMP/bin/berth" vulndb status --data "$TMP/berth-data" ${E2E_META:+--meta "$E2E_META"})
  expect_contains "berth vulndb status" "$out" PyPI
}
check "berth vulndb import (OSV records) beside the running server" t_vulndb_import

t_scan_config() {
  show aws ecr put-registry-scanning-configuration --scan-type BASIC \
    --rules '[{"scanFrequency":"SCAN_ON_PUSH","repositoryFilters":[{"filter":"scan-*","filterType":"WILDCARD"}]}]' >/dev/null
  out=$(show aws ecr get-registry-scanning-configuration --output json)
  expect_eq "rules[0].scanFrequency" "$(json 'd["scanningConfiguration"]["rules"][0]["scanFrequency"]' <<<"$out")" SCAN_ON_PUSH
  show aws ecr create-repository --repository-name scan-app >/dev/null
  out=$(show aws ecr batch-get-repository-scanning-configuration --repository-names scan-app --output json)
  expect_eq "scan-app's scanFrequency" "$(json 'd["scanningConfigurations"][0]["scanFrequency"]' <<<"$out")" SCAN_ON_PUSH
  expect_eq "scan-app's appliedScanFilters" "$(json 'd["scanningConfigurations"][0]["appliedScanFilters"][0]["filter"]' <<<"$out")" 'scan-*'
}
check "aws ecr put-registry-scanning-configuration (SCAN_ON_PUSH for scan-*), batch-get-repository-scanning-configuration" t_scan_config

t_scan_push() {
  local ctx
  ctx=$(mktemp -d "$TMP/ctx.XXXXXX")
  mkdir -p "$ctx/site/requests-2.19.0.dist-info"
  printf 'Metadata-Version: 2.1\nName: requests\nVersion: 2.19.0\n' >"$ctx/site/requests-2.19.0.dist-info/METADATA"
  printf 'FROM scratch\nCOPY site /usr/lib/python3/dist-packages\n' >"$ctx/Dockerfile"
  docker build -t "$REG/scan-app:v1" "$ctx"
  show_all docker push "$REG/scan-app:v1" >/dev/null
  show aws ecr wait image-scan-complete --repository-name scan-app --image-id imageTag=v1
  out=$(show aws ecr describe-image-scan-findings --repository-name scan-app --image-id imageTag=v1 --output json)
  expect_eq status "$(json 'd["imageScanStatus"]["status"]' <<<"$out")" COMPLETE
  expect_eq "finding names" "$(json 'sorted(f["name"] for f in d["imageScanFindings"]["findings"])' <<<"$out")" '["CVE-2023-32681"]'
  expect_eq "package attributes" "$(json 'sorted((a["key"], a.get("value")) for a in d["imageScanFindings"]["findings"][0]["attributes"] if a["key"].startswith("package_"))' <<<"$out")" \
    '[["package_name", "requests"], ["package_version", "2.19.0"]]'
  out=$(show aws ecr describe-images --repository-name scan-app --output json)
  expect_eq "describe-images findingSeverityCounts" "$(json 'd["imageDetails"][0]["imageScanFindingsSummary"]["findingSeverityCounts"]' <<<"$out")" '{"MEDIUM": 1}'
  out=$(show_all aws ecr start-image-scan --repository-name scan-app --image-id imageTag=v1 || true)
  expect_contains "start-image-scan within a day of the scan on push" "$out" LimitExceededException
}
check "docker push to scan-app, aws ecr wait image-scan-complete, describe-image-scan-findings, the daily limit" t_scan_push

t_scan_boto3() {
  show python3 - "$ENDPOINT" <<'PY'
import sys, boto3
ecr = boto3.client("ecr", endpoint_url=sys.argv[1], region_name="us-east-1")
ecr.get_waiter("image_scan_complete").wait(repositoryName="scan-app", imageId={"imageTag": "v1"},
                                            WaiterConfig={"Delay": 1, "MaxAttempts": 60})
names = []
for page in ecr.get_paginator("describe_image_scan_findings").paginate(
        repositoryName="scan-app", imageId={"imageTag": "v1"}, PaginationConfig={"PageSize": 1}):
    names += [f["name"] for f in page["imageScanFindings"]["findings"]]
assert names == ["CVE-2023-32681"], names
print("boto3 waiter and paginator:", names)
PY
}
check "boto3: image_scan_complete waiter, describe_image_scan_findings paginator" t_scan_boto3

t_batch_get() {
  local out digest
  digest=$(get pushed_digest)
  out=$(show aws ecr batch-get-image --repository-name my-repo --image-ids imageTag=latest --output json)
  expect_eq failures "$(json 'd.get("failures", [])' <<<"$out")" '[]'
  expect_eq "imageId.imageDigest" "$(json 'd["images"][0]["imageId"]["imageDigest"]' <<<"$out")" "$digest"
  expect_eq "sha256 of imageManifest" \
    "$(json '"sha256:" + __import__("hashlib").sha256(d["images"][0]["imageManifest"].encode()).hexdigest()' <<<"$out")" "$digest"
  expect_eq imageManifestMediaType "$(json 'd["images"][0].get("imageManifestMediaType")' <<<"$out")" \
    application/vnd.docker.distribution.manifest.v2+json
  out=$(show aws ecr batch-get-image --repository-name my-repo --image-ids imageTag=no-such-tag --output json)
  expect_eq "failure for a missing tag" "$(json 'd["failures"][0]["failureCode"]' <<<"$out")" ImageNotFound
}
check "aws ecr batch-get-image: the manifest's digest is the pushed digest" t_batch_get

# The ECR user guide's way to retag an image without pulling it.
t_retag() {
  local manifest out digest
  digest=$(get pushed_digest)
  manifest=$(show aws ecr batch-get-image --repository-name my-repo --image-ids imageTag=latest --output text --query 'images[].imageManifest')
  out=$(show aws ecr put-image --repository-name my-repo --image-tag retagged --image-manifest "$manifest" --output json)
  expect_eq "put-image imageId.imageDigest" "$(json 'd["image"]["imageId"]["imageDigest"]' <<<"$out")" "$digest"
  expect_eq "put-image imageId.imageTag" "$(json 'd["image"]["imageId"]["imageTag"]' <<<"$out")" retagged
  out=$(show aws ecr list-images --repository-name my-repo --output json)
  expect_eq "list-images" "$(json 'sorted((i.get("imageTag", ""), i["imageDigest"]) for i in d["imageIds"])' <<<"$out")" \
    "$(printf '[["keep", "%s"], ["latest", "%s"], ["retagged", "%s"]]' "$digest" "$digest" "$digest")"
  out=$(show_all docker pull "$REG/my-repo:retagged")
  expect_contains "docker pull of the new tag" "$out" "Digest: $digest"
}
check "aws ecr put-image --image-tag retagged (batch-get-image's manifest), list-images" t_retag

t_batch_delete() {
  local out digest
  digest=$(get pushed_digest)
  out=$(show aws ecr batch-delete-image --repository-name my-repo --image-ids imageTag=latest --output json)
  expect_eq failures "$(json 'd.get("failures", [])' <<<"$out")" '[]'
  expect_eq "deleted imageDigest" "$(json 'd["imageIds"][0]["imageDigest"]' <<<"$out")" "$digest"
  expect_eq "deleted imageTag" "$(json 'd["imageIds"][0]["imageTag"]' <<<"$out")" latest
  out=$(show aws ecr describe-images --repository-name my-repo --output json)
  expect_eq "tags left" "$(json 'sorted(t for i in d["imageDetails"] for t in i.get("imageTags", []))' <<<"$out")" '["keep", "retagged"]'
  out=$(show_all must_fail docker pull "$REG/my-repo:latest")
  expect_contains "docker pull of the deleted tag" "$out" "manifest unknown"
}
check "aws ecr batch-delete-image --image-ids imageTag=latest: tag gone, the others stay" t_batch_delete

t_delete_repo() {
  local out
  out=$(show_all must_fail aws ecr delete-repository --repository-name my-repo)
  expect_contains "delete-repository without --force" "$out" "RepositoryNotEmptyException"
  out=$(show aws ecr delete-repository --repository-name my-repo --force --output json)
  expect_eq repositoryName "$(json 'd["repository"]["repositoryName"]' <<<"$out")" my-repo
  out=$(show_all must_fail aws ecr describe-repositories --repository-names my-repo)
  expect_contains "describe-repositories after the delete" "$out" "RepositoryNotFoundException"
}
check "aws ecr delete-repository --repository-name my-repo --force (refused without --force)" t_delete_repo

if command aws ecr get-login help >/dev/null 2>&1; then
  t_get_login() {
    local cmd out
    docker logout "$REG"
    cmd=$(aws ecr get-login --no-include-email --region us-east-1)
    read -r -a words <<<"$cmd"
    echo "${words[*]:0:5} <password> ${words[*]:6}"
    expect_eq "printed command" "${words[*]:0:5}" "docker login -u AWS -p"
    expect_eq "words in the printed command" "${#words[@]}" 7
    expect_eq "registry in the printed command" "${words[6]}" "$ENDPOINT"
    out=$(show_all "${words[@]}")
    expect_contains "the printed docker login" "$out" "Login Succeeded"
  }
  check "aws ecr get-login --no-include-email: the printed docker login succeeds" t_get_login
else
  skip "aws ecr get-login" "this AWS CLI has no get-login (removed in v2)"
fi

log "3b. push and pull with crane"
t_crane_login() {
  local out
  aws ecr create-repository --repository-name crane-repo >/dev/null
  aws ecr create-repository --repository-name crane-copy >/dev/null
  out=$(show_all crane auth login "$REG" -u AWS -p "$(aws ecr get-login-password)")
  expect_contains "crane auth login" "$out" "logged in via"
}
check "crane auth login $REG -u AWS -p \"\$(aws ecr get-login-password)\"" t_crane_login

t_crane_push() {
  local ref digest
  build_image e2e-crane:latest "pushed by crane $$ $RANDOM"
  docker save e2e-crane:latest -o "$TMP/crane-in.tar"
  ref=$(crane push "$TMP/crane-in.tar" "$REG/crane-repo:v1")
  echo "$ref"
  digest=${ref##*@}
  expect_eq "crane push printed" "$ref" "$REG/crane-repo@$digest"
  expect_eq "crane digest" "$(crane digest "$REG/crane-repo:v1")" "$digest"
  put crane_digest "$digest"
}
check "crane push (a docker save tarball) to $REG/crane-repo:v1" t_crane_push

t_crane_copy() {
  local digest
  digest=$(get crane_digest)
  crane copy "$REG/crane-repo:v1" "$REG/crane-copy:v1"
  expect_eq "digest of the copy" "$(crane digest "$REG/crane-copy:v1")" "$digest"
  expect_eq "crane ls crane-copy" "$(crane ls "$REG/crane-copy")" v1
}
check "crane copy $REG/crane-repo:v1 $REG/crane-copy:v1" t_crane_copy

t_crane_pull() {
  local digest files
  digest=$(get crane_digest)
  crane pull "$REG/crane-copy:v1" "$TMP/crane-out.tar"
  expect_eq "digest of the pulled tarball" "$(crane digest --tarball "$TMP/crane-out.tar")" "$digest"
  files=$(crane export "$REG/crane-copy:v1" - | tar -t)
  expect_eq "files in the image" "$files" hello.txt
}
check "crane pull $REG/crane-copy:v1: same digest, same files" t_crane_pull

# --- replication (issue #14) -------------------------------------------------
log "3b. replication"
REPL_ACCOUNT=222222222222

t_repl_config() {
  local cfg out
  cfg='{"rules":[{"destinations":[{"region":"us-west-2","registryId":"'$ACCOUNT'"},{"region":"'$REGION'","registryId":"'$REPL_ACCOUNT'"}],"repositoryFilters":[{"filter":"repl/","filterType":"PREFIX_MATCH"}]}]}'
  show aws ecr put-replication-configuration --replication-configuration "$cfg" >/dev/null
  out=$(show aws ecr describe-registry)
  expect_eq "destinations" "$(json 'len(d["replicationConfiguration"]["rules"][0]["destinations"])' <<<"$out")" 2
  expect_eq "filter" "$(json 'd["replicationConfiguration"]["rules"][0]["repositoryFilters"][0]["filter"]' <<<"$out")" repl/
  out=$(show_all must_fail aws ecr put-replication-configuration --replication-configuration \
    '{"rules":[{"destinations":[{"region":"'$REGION'","registryId":"'$ACCOUNT'"}]}]}')
  expect_contains "replicating to itself" "$out" "InvalidParameterException"
  # The other account, for cross-account replication.
  show "$TMP/bin/berth" admin create-account --data "$TMP/berth-data" ${E2E_META:+--meta "$E2E_META"} \
    --account-id "$REPL_ACCOUNT" --output json >"$TMP/repl-account.json"
}
check "aws ecr put-replication-configuration (us-west-2, account $REPL_ACCOUNT), describe-registry, replicating to itself refused" t_repl_config

# repl_status REGION ACCOUNT: the status of repl/app:v1's replication there.
repl_status() {
  aws ecr describe-image-replication-status --repository-name repl/app --image-id imageTag=v1 |
    json '[s["status"] + " " + s.get("failureCode", "") for s in d["replicationStatuses"] if s["region"] == "'$1'" and s["registryId"] == "'$2'"][0]'
}

# wait_repl REGION ACCOUNT STATUS: waits up to 60s for the status.
wait_repl() {
  local st i
  for i in $(seq 1 120); do
    st=$(repl_status "$1" "$2" 2>/dev/null || true)
    case $st in "$3"*) echo "$st"; return 0 ;; esac
    sleep 0.5
  done
  echo "replication to $2 in $1: $st, want $3"
  return 1
}

t_repl_push() {
  local digest out
  aws ecr create-repository --repository-name repl/app >/dev/null
  crane copy "$REG/crane-repo:v1" "$REG/repl/app:v1"
  digest=$(crane digest "$REG/repl/app:v1")
  put repl_digest "$digest"
  wait_repl us-west-2 "$ACCOUNT" COMPLETE
  out=$(show aws ecr describe-images --region us-west-2 --repository-name repl/app)
  expect_eq "the replica in us-west-2" "$(json 'd["imageDetails"][0]["imageDigest"] + " " + d["imageDetails"][0]["imageTags"][0]' <<<"$out")" "$digest v1"
}
check "crane copy to repl/app:v1 replicates it to us-west-2: describe-image-replication-status COMPLETE, describe-images there" t_repl_push

t_repl_cross_account() {
  local st out akid secret
  st=$(wait_repl "$REGION" "$REPL_ACCOUNT" FAILED)
  expect_contains "failureCode without the destination's registry policy" "$st" "REGISTRY_POLICY_DENIED"
  expect_contains "failureCode without the destination's registry policy" "$st" "ecr:ReplicateImage"
  akid=$(json 'd["accessKeyId"]' <"$TMP/repl-account.json")
  secret=$(json 'd["secretAccessKey"]' <"$TMP/repl-account.json")
  AWS_ACCESS_KEY_ID=$akid AWS_SECRET_ACCESS_KEY=$secret show aws ecr put-registry-policy --policy-text \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::'$ACCOUNT':root"},"Action":["ecr:ReplicateImage","ecr:CreateRepository"],"Resource":"arn:aws:ecr:'$REGION':'$REPL_ACCOUNT':repository/*"}]}' >/dev/null
  wait_repl "$REGION" "$REPL_ACCOUNT" COMPLETE
  out=$(AWS_ACCESS_KEY_ID=$akid AWS_SECRET_ACCESS_KEY=$secret show aws ecr describe-images --repository-name repl/app)
  expect_eq "the replica in account $REPL_ACCOUNT" "$(json 'd["imageDetails"][0]["imageDigest"]' <<<"$out")" "$(get repl_digest)"
}
check "replication to account $REPL_ACCOUNT: FAILED (registry policy), put-registry-policy there, then COMPLETE" t_repl_cross_account
# --- end of replication ------------------------------------------------------
# --- repository creation templates (issue 14: templates) ----------------------
log "3c. repository creation templates: CREATE_ON_PUSH"
RCT_LIFECYCLE='{"rules":[{"rulePriority":1,"description":"keep 10","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":10},"action":{"type":"expire"}}]}'

t_rct_create() {
  local out
  out=$(show aws ecr create-repository-creation-template --prefix tmpl --applied-for CREATE_ON_PUSH \
    --description "created by e2e-cli" \
    --image-tag-mutability IMMUTABLE_WITH_EXCLUSION \
    --image-tag-mutability-exclusion-filters filterType=WILDCARD,filter=latest \
    --lifecycle-policy "$RCT_LIFECYCLE" --resource-tags Key=team,Value=cli --output json)
  expect_eq registryId "$(json 'd["registryId"]' <<<"$out")" "$ACCOUNT"
  expect_eq prefix "$(json 'd["repositoryCreationTemplate"]["prefix"]' <<<"$out")" tmpl
  expect_eq appliedFor "$(json 'd["repositoryCreationTemplate"]["appliedFor"]' <<<"$out")" '["CREATE_ON_PUSH"]'
  expect_eq imageTagMutability "$(json 'd["repositoryCreationTemplate"]["imageTagMutability"]' <<<"$out")" IMMUTABLE_WITH_EXCLUSION
  expect_eq encryptionType "$(json 'd["repositoryCreationTemplate"]["encryptionConfiguration"]["encryptionType"]' <<<"$out")" AES256
  out=$(show_all must_fail aws ecr create-repository-creation-template --prefix tmpl/ --applied-for REPLICATION)
  expect_contains "a second template of the namespace" "$out" \
    "TemplateAlreadyExistsException) when calling the CreateRepositoryCreationTemplate operation: A repository creation template with prefix 'tmpl/' already exists"
}
check "aws ecr create-repository-creation-template --prefix tmpl --applied-for CREATE_ON_PUSH (and not twice)" t_rct_create

t_rct_bad_input() {
  local out
  out=$(show_all must_fail aws ecr create-repository-creation-template --prefix Bad/Prefix --applied-for CREATE_ON_PUSH)
  expect_contains "an invalid prefix" "$out" "InvalidParameterException) when calling the CreateRepositoryCreationTemplate operation: Invalid parameter at 'prefix'"
  out=$(show_all must_fail aws ecr create-repository-creation-template --prefix ok --applied-for ON_PULL)
  expect_contains "an unknown appliedFor" "$out" "Member must satisfy enum value set"
  out=$(show_all must_fail aws ecr create-repository-creation-template --prefix ok --applied-for CREATE_ON_PUSH --lifecycle-policy '{"rules":[]}')
  expect_contains "a bad lifecycle policy" "$out" "Invalid parameter at 'lifecyclePolicy'"
  out=$(show_all must_fail aws ecr create-repository-creation-template --prefix ok --applied-for CREATE_ON_PUSH --repository-policy '{"Statement":1}')
  expect_contains "a bad repository policy" "$out" "Invalid parameter at 'repositoryPolicy' failed to satisfy constraint: 'Invalid repository policy provided'"
}
check "aws ecr create-repository-creation-template with bad input: ECR's exceptions" t_rct_bad_input

t_rct_describe_update() {
  local out
  out=$(show aws ecr describe-repository-creation-templates --prefixes tmpl --output json)
  expect_eq "templates of tmpl" "$(json '[t["prefix"] for t in d["repositoryCreationTemplates"]]' <<<"$out")" '["tmpl"]'
  expect_eq "its lifecycle policy" "$(json 'd["repositoryCreationTemplates"][0]["lifecyclePolicy"]' <<<"$out")" "$RCT_LIFECYCLE"
  out=$(show aws ecr update-repository-creation-template --prefix tmpl --description "updated by e2e-cli" --output json)
  expect_eq "updated description" "$(json 'd["repositoryCreationTemplate"]["description"]' <<<"$out")" "updated by e2e-cli"
  expect_eq "mutability kept" "$(json 'd["repositoryCreationTemplate"]["imageTagMutability"]' <<<"$out")" IMMUTABLE_WITH_EXCLUSION
  out=$(show_all must_fail aws ecr update-repository-creation-template --prefix nope --description x)
  expect_contains "update of a missing template" "$out" "TemplateNotFoundException"
}
check "aws ecr describe-repository-creation-templates / update-repository-creation-template" t_rct_describe_update

t_rct_push() {
  local out
  aws ecr get-login-password | docker login --username AWS --password-stdin "$REG" >/dev/null
  build_image e2e-rct:one "created on push $$ $RANDOM"
  docker tag e2e-rct:one "$REG/tmpl/app:v1"
  show_all docker push "$REG/tmpl/app:v1"
  out=$(show aws ecr describe-repositories --repository-names tmpl/app --output json)
  expect_eq "tmpl/app's mutability" "$(json 'd["repositories"][0]["imageTagMutability"]' <<<"$out")" IMMUTABLE_WITH_EXCLUSION
  expect_eq "tmpl/app's exclusions" "$(json 'd["repositories"][0]["imageTagMutabilityExclusionFilters"]' <<<"$out")" '[{"filterType": "WILDCARD", "filter": "latest"}]'
  out=$(show aws ecr get-lifecycle-policy --repository-name tmpl/app --query lifecyclePolicyText --output text)
  expect_eq "tmpl/app's lifecycle policy" "$out" "$RCT_LIFECYCLE"
  out=$(show aws ecr list-tags-for-resource --resource-arn "arn:aws:ecr:$REGION:$ACCOUNT:repository/tmpl/app" --output json)
  expect_eq "tmpl/app's tags" "$(json 'd["tags"]' <<<"$out")" '[{"Key": "team", "Value": "cli"}]'
  build_image e2e-rct:two "created on push, again $$ $RANDOM"
  docker tag e2e-rct:two "$REG/tmpl/app:v1"
  out=$(show_all must_fail docker push "$REG/tmpl/app:v1")
  expect_contains "moving an immutable tag of tmpl/app" "$out" "cannot be overwritten because the repository is immutable"
  docker tag e2e-rct:two "$REG/untempl/app:v1"
  out=$(show_all must_fail docker push "$REG/untempl/app:v1")
  expect_contains "docker push outside every template" "$out" \
    "The repository with name 'untempl/app' does not exist in the registry with id '$ACCOUNT'"
}
check "docker push $REG/tmpl/app:v1 creates it with the template's settings; untempl/app stays NAME_UNKNOWN" t_rct_push

t_rct_delete() {
  local out
  out=$(show aws ecr delete-repository-creation-template --prefix tmpl --output json)
  expect_eq "deleted prefix" "$(json 'd["repositoryCreationTemplate"]["prefix"]' <<<"$out")" tmpl
  out=$(show aws ecr describe-repository-creation-templates --output json)
  expect_eq "templates left" "$(json 'd["repositoryCreationTemplates"]' <<<"$out")" '[]'
  out=$(show_all must_fail aws ecr delete-repository-creation-template --prefix tmpl)
  expect_contains "a second delete" "$out" "TemplateNotFoundException"
  docker tag e2e-rct:two "$REG/tmpl/other:v1"
  out=$(show_all must_fail docker push "$REG/tmpl/other:v1")
  expect_contains "docker push once the template is gone" "$out" "The repository with name 'tmpl/other' does not exist"
}
check "aws ecr delete-repository-creation-template --prefix tmpl: pushes create nothing more" t_rct_delete
# --- end of repository creation templates -----------------------------------

# --- pull through cache (issue 14) ----------------------------------------------
# A CNCF Distribution registry on loopback with htpasswd Basic auth is the
# upstream; its login lives in a Secrets Manager secret the rule names.
log "3d. pull through cache from a Basic-auth CNCF Distribution upstream"
PTC_USER=berth
PTC_PASSWORD=upstream-pass-1
# Distribution takes bcrypt hashes only: bcrypt (cost 4) of $PTC_PASSWORD,
# fixed so that the script needs no htpasswd tool.
PTC_HTPASSWD="$PTC_USER:\$2a\$04\$8bgK9ksRdTRDdGHa8Gdfj.gRzV9myXmvztxgLzgZITbC5nm/ReYye"
PTC_SECRET='{"username":"'$PTC_USER'","accessToken":"'$PTC_PASSWORD'"}'
PTC_DIST=""
if command -v registry >/dev/null; then
  PTC_DIST=$(command -v registry)
else
  echo "installing CNCF Distribution's registry"
  (cd "$TMP" && GOBIN="$TMP/bin" GOFLAGS='' go install github.com/distribution/distribution/v3/cmd/registry@v3.1.2) &&
    PTC_DIST=$TMP/bin/registry
fi
if [ -n "$PTC_DIST" ]; then
  mkdir -p "$TMP/upstream"
  printf '%s\n' "$PTC_HTPASSWD" >"$TMP/upstream/htpasswd"
  UPSTREAM=127.0.0.1:$(free_port)
  cat >"$TMP/upstream/config.yml" <<EOF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $TMP/upstream/data}}
http: {addr: $UPSTREAM, secret: berth-e2e-cli-local-only}
auth: {htpasswd: {realm: e2e-upstream, path: $TMP/upstream/htpasswd}}
EOF
  OTEL_TRACES_EXPORTER=none "$PTC_DIST" serve "$TMP/upstream/config.yml" >"$TMP/upstream.log" 2>&1 &
  UPSTREAM_PID=$!
  for ((i = 0; ; i++)); do
    code=$(python3 -c 'import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print(0)' "http://$UPSTREAM/v2/")
    [ "$code" = 401 ] && break
    alive "$UPSTREAM_PID" || { cat "$TMP/upstream.log"; die "Distribution exited while starting"; }
    [ "$i" -lt 150 ] || die "Distribution did not answer http://$UPSTREAM/v2/ in 30s"
    sleep 0.2
  done
  echo "Distribution $("$PTC_DIST" --version 2>/dev/null | awk '{print $NF}') at http://$UPSTREAM (Basic auth)"

  t_ptc_upstream() {
    local out ref
    out=$(show_all must_fail crane digest --insecure "$UPSTREAM/team/app:v1")
    expect_contains "anonymous crane digest at the upstream" "$out" "UNAUTHORIZED"
    show_all crane auth login "$UPSTREAM" -u "$PTC_USER" -p "$PTC_PASSWORD" >/dev/null
    mkdir -p "$TMP/ptc-layer"
    printf 'pulled through berth %s %s\n' "$$" "$RANDOM" >"$TMP/ptc-layer/hello.txt"
    tar -C "$TMP/ptc-layer" -cf "$TMP/ptc-layer.tar" hello.txt
    for ref in team/app:v1 team/web:v1; do
      crane append --insecure -f "$TMP/ptc-layer.tar" -t "$UPSTREAM/$ref" >/dev/null
      printf 'another %s\n' "$RANDOM" >"$TMP/ptc-layer/hello.txt"
      tar -C "$TMP/ptc-layer" -cf "$TMP/ptc-layer.tar" hello.txt
    done
    put ptc_digest "$(crane digest --insecure "$UPSTREAM/team/app:v1")"
    put ptc_web_digest "$(crane digest --insecure "$UPSTREAM/team/web:v1")"
  }
  check "crane append to the Basic-auth upstream (anonymous access refused)" t_ptc_upstream

  t_ptc_rule() {
    local out arn
    arn=$(show aws secretsmanager create-secret --name ecr-pullthroughcache/e2e-upstream --secret-string "$PTC_SECRET" --query ARN --output text)
    put ptc_arn "$arn"
    show aws ecr create-repository-creation-template --prefix e2e-up --applied-for PULL_THROUGH_CACHE \
      --image-tag-mutability IMMUTABLE --resource-tags Key=source,Value=upstream >/dev/null
    # AWS CLI v1 would fetch an http:// parameter value: the URL goes in JSON.
    out=$(show aws ecr create-pull-through-cache-rule --cli-input-json \
      '{"ecrRepositoryPrefix":"e2e-up","upstreamRegistryUrl":"http://'$UPSTREAM'","credentialArn":"'$arn'"}' --output json)
    expect_eq "created rule" "$(json '[d["ecrRepositoryPrefix"], d["upstreamRegistryUrl"], d["credentialArn"], d["registryId"]]' <<<"$out")" \
      '["e2e-up", "http://'$UPSTREAM'", "'$arn'", "'$ACCOUNT'"]'
    out=$(show aws ecr describe-pull-through-cache-rules --ecr-repository-prefixes e2e-up --output json)
    expect_eq "described rule" "$(json '[(r["ecrRepositoryPrefix"], r["upstreamRegistryUrl"], r["credentialArn"], r["upstreamRepositoryPrefix"]) for r in d["pullThroughCacheRules"]]' <<<"$out")" \
      '[["e2e-up", "http://'$UPSTREAM'", "'$arn'", "ROOT"]]'
    out=$(show aws ecr validate-pull-through-cache-rule --ecr-repository-prefix e2e-up --output json)
    expect_eq isValid "$(json 'd["isValid"]' <<<"$out")" true
  }
  check "aws secretsmanager create-secret, aws ecr create-pull-through-cache-rule --cli-input-json, describe-…, validate-…: isValid" t_ptc_rule

  t_ptc_crane_pull() {
    local digest files
    digest=$(get ptc_digest)
    show_all crane auth login "$REG" -u AWS -p "$(aws ecr get-login-password)" >/dev/null
    crane pull "$REG/e2e-up/team/app:v1" "$TMP/ptc-out.tar"
    expect_eq "digest of the tarball pulled through berth" "$(crane digest --tarball "$TMP/ptc-out.tar")" "$digest"
    files=$(crane export "$REG/e2e-up/team/app:v1" - | tar -t)
    expect_eq "files in the image" "$files" hello.txt
  }
  check "crane pull $REG/e2e-up/team/app:v1: the upstream's image, through berth" t_ptc_crane_pull

  t_ptc_describe() {
    local out i digest
    digest=$(get ptc_digest)
    # The rest of the image is stored by a background job (docs/pull-through.md).
    for i in $(seq 1 120); do
      out=$(aws ecr describe-images --repository-name e2e-up/team/app --image-ids imageTag=v1 --output json 2>/dev/null || true)
      [[ $out == *"$digest"* ]] && break
      sleep 0.5
    done
    show printf '%s\n' "$out" >/dev/null
    expect_eq "describe-images e2e-up/team/app" "$(json '[d["imageDetails"][0]["imageDigest"], d["imageDetails"][0]["imageTags"]]' <<<"$out")" "[\"$digest\", [\"v1\"]]"
    out=$(show aws ecr describe-repositories --repository-names e2e-up/team/app --query 'repositories[0].imageTagMutability' --output text)
    expect_eq "the template's mutability" "$out" IMMUTABLE
    out=$(show aws ecr list-tags-for-resource --resource-arn "arn:aws:ecr:$REGION:$ACCOUNT:repository/e2e-up/team/app" --output json)
    expect_eq "the template's tags" "$(json 'd["tags"]' <<<"$out")" '[{"Key": "source", "Value": "upstream"}]'
  }
  check "aws ecr describe-images in e2e-up/team/app: the cached image; PULL_THROUGH_CACHE template applied" t_ptc_describe

  t_ptc_docker_pull() {
    local out
    aws ecr get-login-password | docker login --username AWS --password-stdin "$REG" >/dev/null
    out=$(show_all docker pull "$REG/e2e-up/team/web:v1")
    expect_contains "docker pull through berth" "$out" "Digest: $(get ptc_web_digest)"
  }
  check "docker pull $REG/e2e-up/team/web:v1: a first pull with docker" t_ptc_docker_pull

  t_ptc_rotate() {
    local out
    aws secretsmanager put-secret-value --secret-id ecr-pullthroughcache/e2e-upstream \
      --secret-string '{"username":"'$PTC_USER'","accessToken":"wrong"}' >/dev/null
    out=$(show aws ecr validate-pull-through-cache-rule --ecr-repository-prefix e2e-up --output json)
    expect_eq "isValid with a wrong password" "$(json 'd["isValid"]' <<<"$out")" false
    expect_contains "failure with a wrong password" "$(json 'd["failure"]' <<<"$out")" "Could not authenticate to the upstream registry http://$UPSTREAM: upstream answered 401"
    out=$(show_all must_fail crane digest "$REG/e2e-up/team/new:v1")
    expect_contains "a first pull with a wrong password" "$out" "refused the pull through cache rule's credentials"
    aws secretsmanager put-secret-value --secret-id ecr-pullthroughcache/e2e-upstream --secret-string "$PTC_SECRET" >/dev/null
    out=$(show aws ecr validate-pull-through-cache-rule --ecr-repository-prefix e2e-up --query isValid --output text)
    expect_eq "isValid once the secret is right again" "$out" True
  }
  check "aws secretsmanager put-secret-value with a wrong password: validate says why, a pull answers DENIED; put back: valid" t_ptc_rotate

  # Last, so that the Secrets Manager checks below find only their own secrets.
  t_ptc_delete() {
    local out
    out=$(show aws ecr delete-pull-through-cache-rule --ecr-repository-prefix e2e-up --output json)
    expect_eq "deleted rule" "$(json 'd["ecrRepositoryPrefix"]' <<<"$out")" e2e-up
    out=$(show_all must_fail aws ecr describe-pull-through-cache-rules --ecr-repository-prefixes e2e-up)
    expect_contains "describe of the deleted rule" "$out" "PullThroughCacheRuleNotFoundException"
    out=$(show aws ecr describe-images --repository-name e2e-up/team/app --query 'imageDetails[0].imageDigest' --output text)
    expect_eq "the cached image, kept" "$out" "$(get ptc_digest)"
    aws ecr delete-repository-creation-template --prefix e2e-up >/dev/null
    aws secretsmanager delete-secret --secret-id ecr-pullthroughcache/e2e-upstream --force-delete-without-recovery >/dev/null
  }
  check "aws ecr delete-pull-through-cache-rule: the rule goes, the repositories it filled stay" t_ptc_delete
else
  skip "pull through cache" "CNCF Distribution could not be installed"
fi
# --- end of pull through cache ------------------------------------------------

# --- client tools: berth login, docker-credential-berth, berth doctor ---------
# No `docker login` here: each check starts from an empty docker config of its
# own, and only Berth's client tools put a credential in it.
log "3e. client tools: berth login, docker-credential-berth, berth doctor"
go build -o "$TMP/bin/docker-credential-berth" ./cmd/docker-credential-berth || die "go build ./cmd/docker-credential-berth failed"

t_berth_login() {
  local out cfg=$TMP/login-config
  mkdir -p "$cfg"
  aws ecr create-repository --repository-name login-repo >/dev/null
  out=$(DOCKER_CONFIG=$cfg show_all "$TMP/bin/berth" login)
  expect_contains "berth login" "$out" "Logged in to $REG (registry $ACCOUNT, region $REGION)"
  build_image e2e-login:latest "pushed after berth login $$ $RANDOM" >/dev/null
  docker tag e2e-login:latest "$REG/login-repo:v1"
  out=$(DOCKER_CONFIG=$cfg show_all docker push "$REG/login-repo:v1")
  expect_eq "digest in describe-images" \
    "$(aws ecr describe-images --repository-name login-repo --image-ids imageTag=v1 --query 'imageDetails[0].imageDigest' --output text)" \
    "$(push_digest "$out")"
}
check "berth login (writes the docker config), then docker push $REG/login-repo:v1 without docker login" t_berth_login

t_cred_helper() {
  local out cfg=$TMP/helper-config alias=localhost:${REG##*:}
  mkdir -p "$cfg"
  aws ecr create-repository --repository-name helper-repo >/dev/null
  printf '{"credHelpers": {"%s": "berth"}}\n' "$alias" >"$cfg/config.json"
  printf '{"registries": {"%s": {"endpoint": "%s"}}}\n' "$alias" "$ENDPOINT" >"$TMP/credential-helper.json"
  export DOCKER_CONFIG=$cfg BERTH_CREDENTIAL_HELPER_CONFIG=$TMP/credential-helper.json XDG_CACHE_HOME=$TMP/xdg-cache PATH=$TMP/bin:$PATH
  build_image e2e-helper:latest "pushed through docker-credential-berth $$ $RANDOM" >/dev/null
  docker tag e2e-helper:latest "$alias/helper-repo:v1"
  out=$(show_all docker push "$alias/helper-repo:v1")
  digest=$(push_digest "$out")
  expect_eq "crane digest through the helper" "$(crane digest "$alias/helper-repo:v1")" "$digest"
  crane copy "$alias/helper-repo:v1" "$alias/helper-repo:crane"
  expect_eq "crane ls helper-repo" "$(crane ls "$alias/helper-repo" | sort | tr '\n' ' ')" "crane v1 "
}
check "docker-credential-berth as credHelpers for localhost:PORT: docker push, crane digest / copy" t_cred_helper

t_doctor() {
  local out key cfg=$TMP/doctor-config
  mkdir -p "$cfg"
  out=$(DOCKER_CONFIG=$cfg show_all must_fail "$TMP/bin/berth" doctor --repository login-repo)
  expect_contains "berth doctor without a login" "$out" "no basic auth credentials"
  expect_contains "berth doctor without a login" "$out" "fix: berth login"
  out=$(DOCKER_CONFIG=$TMP/login-config show_all must_fail "$TMP/bin/berth" doctor --repository no-such-repo)
  expect_contains "berth doctor, missing repository" "$out" \
    "The repository with name 'no-such-repo' does not exist in the registry with id '$ACCOUNT'"
  expect_contains "berth doctor, missing repository" "$out" "fix: aws ecr create-repository --repository-name no-such-repo"
  out=$(DOCKER_CONFIG=$TMP/login-config show_all "$TMP/bin/berth" doctor --repository login-repo)
  expect_contains "berth doctor, all well" "$out" "ok    push"
  expect_contains "berth doctor, all well" "$out" "ecr:PutImage allowed on arn:aws:ecr:$REGION:$ACCOUNT:repository/login-repo (IAM's policy simulator)"
  # A user who may only pull, and simulate its own policies (which IAM
  # requires of berth doctor): IAM's policy simulator finds the push refused.
  aws iam create-user --user-name doctor-reader >/dev/null
  aws iam attach-user-policy --user-name doctor-reader --policy-arn arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly
  aws iam put-user-policy --user-name doctor-reader --policy-name simulate-self --policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:SimulatePrincipalPolicy","Resource":"arn:aws:iam::*:user/${aws:username}"}]}'
  key=$(aws iam create-access-key --user-name doctor-reader --output json)
  out=$(AWS_ACCESS_KEY_ID=$(json 'd["AccessKey"]["AccessKeyId"]' <<<"$key") AWS_SECRET_ACCESS_KEY=$(json 'd["AccessKey"]["SecretAccessKey"]' <<<"$key") \
    DOCKER_CONFIG=$TMP/login-config show_all must_fail "$TMP/bin/berth" doctor --repository login-repo)
  expect_contains "berth doctor, pull-only user" "$out" \
    "arn:aws:iam::$ACCOUNT:user/doctor-reader is not authorized to perform: ecr:InitiateLayerUpload on resource: arn:aws:ecr:$REGION:$ACCOUNT:repository/login-repo (IAM's policy simulator)"
  expect_contains "berth doctor, pull-only user" "$out" \
    "fix: aws iam attach-user-policy --user-name doctor-reader --policy-arn arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
  out=$(show aws iam simulate-principal-policy --policy-source-arn "arn:aws:iam::$ACCOUNT:user/doctor-reader" \
    --action-names ecr:BatchGetImage ecr:PutImage --resource-arns "arn:aws:ecr:$REGION:$ACCOUNT:repository/login-repo" \
    --query 'EvaluationResults[].EvalDecision' --output text)
  expect_eq "aws iam simulate-principal-policy" "$out" "allowed	implicitDeny"
}
check "berth doctor: no basic auth credentials, repository does not exist, all well, then a pull-only user found by IAM's policy simulator" t_doctor
# --- end of client tools ------------------------------------------------------

# ---------------------------------------------------------------------------
log "4. boto3"
t_boto3() {
  E2E_REGISTRY=$REG E2E_ACCOUNT=$ACCOUNT python3 "$REPO_ROOT/scripts/e2e_boto3.py"
}
set +e
t_boto3 >"$TMP/boto3.out" 2>&1
boto3_rc=$?
set -e
boto3_ok=$(grep -c '^ok ' "$TMP/boto3.out" || true)
boto3_fail=$(grep -c '^FAIL ' "$TMP/boto3.out" || true)
cat "$TMP/boto3.out"
PASSED=$((PASSED + boto3_ok))
FAILED=$((FAILED + boto3_fail))
while read -r line; do FAILED_NAMES+=("${line#FAIL }"); done < <(grep '^FAIL ' "$TMP/boto3.out" || true)
if [ "$boto3_rc" -ne 0 ] && [ "$boto3_fail" -eq 0 ]; then
  FAILED=$((FAILED + 1))
  FAILED_NAMES+=("scripts/e2e_boto3.py ran (exit $boto3_rc)")
  echo "FAIL scripts/e2e_boto3.py exited $boto3_rc"
fi
if [ "$boto3_fail" -gt 0 ]; then berth_log_tail 15; fi

# ---------------------------------------------------------------------------
log "5. the errors docker prints"
aws ecr get-login-password | docker login --username AWS --password-stdin "$REG" >/dev/null 2>&1 || true

t_no_repo() {
  local out
  build_image e2e-err:latest "error paths $$ $RANDOM"
  docker tag e2e-err:latest "$REG/nope:latest"
  out=$(show_all must_fail docker push "$REG/nope:latest")
  expect_contains "docker push to a missing repository" "$out" \
    "The repository with name 'nope' does not exist in the registry with id '$ACCOUNT'"
}
check "(b) docker push to a repository that does not exist: ECR's message" t_no_repo

t_immutable() {
  local out first
  aws ecr create-repository --repository-name immutable-repo --image-tag-mutability IMMUTABLE >/dev/null
  build_image e2e-imm:one "immutable one $$ $RANDOM"
  docker tag e2e-imm:one "$REG/immutable-repo:v1"
  out=$(show_all docker push "$REG/immutable-repo:v1")
  first=$(push_digest "$out")
  build_image e2e-imm:two "immutable two $$ $RANDOM"
  docker tag e2e-imm:two "$REG/immutable-repo:v1"
  out=$(show_all must_fail docker push "$REG/immutable-repo:v1")
  expect_contains "second docker push of v1" "$out" \
    "The image tag 'v1' already exists in the 'immutable-repo' repository and cannot be overwritten because the repository is immutable"
  out=$(show aws ecr describe-images --repository-name immutable-repo --image-ids imageTag=v1 --query 'imageDetails[0].imageDigest' --output text)
  expect_eq "v1 after the refused push" "$out" "$first"
}
check "(d) docker push of another image to an IMMUTABLE repository's tag: refused" t_immutable

# An expired login. Tokens say when they expire and are signed with the
# server's token key, so the only way to hold an expired one without waiting
# 12 hours is to make it: the server runs with a known --token-key
# (BERTH_TOKEN_KEY above), and this signs a token in the format of
# internal/authn/token.go that expired an hour ago. docker finds it in its
# config, as a login from yesterday would be.
t_expired() {
  local token out
  token=$(python3 - "$TEST_TOKEN_KEY" "$TEST_ACCESS_KEY_ID" "$REGION" <<'EOF'
import base64, hashlib, hmac, json, sys, time
key, akid, region = base64.b64decode(sys.argv[1]), sys.argv[2], sys.argv[3]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
claims = json.dumps({"k": akid, "r": region, "e": int(time.time()) - 3600}, separators=(",", ":")).encode()
body = "berth1." + b64(claims)
print(body + "." + b64(hmac.new(key, body.encode(), hashlib.sha256).digest()))
EOF
)
  python3 - "$DOCKER_CONFIG/config.json" "$REG" "AWS:$token" <<'EOF'
import base64, json, sys
path, reg, cred = sys.argv[1:]
try:
    cfg = json.load(open(path))
except FileNotFoundError:
    cfg = {}
cfg.setdefault("auths", {})[reg] = {"auth": base64.b64encode(cred.encode()).decode()}
json.dump(cfg, open(path, "w"))
EOF
  aws ecr create-repository --repository-name expired-repo >/dev/null
  docker tag e2e-err:latest "$REG/expired-repo:latest"
  out=$(show_all must_fail docker push "$REG/expired-repo:latest")
  expect_contains "docker push with an expired login" "$out" "Your authorization token has expired. Reauthenticate and try again."
  # As the message says: log in again and the push goes through.
  aws ecr get-login-password | show_all docker login --username AWS --password-stdin "$REG"
  show_all docker push "$REG/expired-repo:latest"
}
check "(c) docker push with an expired login token: ECR's message; a new login works" t_expired

t_no_login() {
  local out
  aws ecr create-repository --repository-name noauth-repo >/dev/null
  docker logout "$REG"
  docker tag e2e-err:latest "$REG/noauth-repo:latest"
  out=$(show_all must_fail docker push "$REG/noauth-repo:latest")
  # The docker engine answers a Basic challenge it holds no credentials for
  # with this, whatever message the registry sent with the 401.
  expect_contains "docker push without a login" "$out" "no basic auth credentials"
}
check "(a) docker push without docker login: no basic auth credentials" t_no_login

# ---------------------------------------------------------------------------
# BEGIN Secrets Manager (issue 14: the pull-through cache's credentials)
log "6. Secrets Manager with the AWS CLI"

t_sm_create_get() {
  local out arn
  out=$(show aws secretsmanager create-secret --name ecr-pullthroughcache/docker-hub \
    --secret-string '{"username":"e2e","accessToken":"t1"}' --tags Key=team,Value=build)
  arn=$(printf '%s' "$out" | json 'd["ARN"]')
  case $arn in
    arn:aws:secretsmanager:$REGION:$ACCOUNT:secret:ecr-pullthroughcache/docker-hub-??????) ;;
    *) echo "ARN $arn is not Secrets Manager's shape"; return 1 ;;
  esac
  put sm_arn "$arn"
  out=$(show aws secretsmanager get-secret-value --secret-id ecr-pullthroughcache/docker-hub --query SecretString --output text)
  expect_eq "the value by name" "$out" '{"username":"e2e","accessToken":"t1"}'
  out=$(show aws secretsmanager get-secret-value --secret-id "$arn" --query 'VersionStages[0]' --output text)
  expect_eq "the label by ARN" "$out" AWSCURRENT
}
check "aws secretsmanager create-secret / get-secret-value, by name and by ARN" t_sm_create_get

t_sm_versions() {
  local out
  aws secretsmanager put-secret-value --secret-id ecr-pullthroughcache/docker-hub --secret-string second >/dev/null
  out=$(show aws secretsmanager get-secret-value --secret-id ecr-pullthroughcache/docker-hub --version-stage AWSPREVIOUS --query SecretString --output text)
  expect_eq "AWSPREVIOUS after put-secret-value" "$out" '{"username":"e2e","accessToken":"t1"}'
  out=$(show aws secretsmanager describe-secret --secret-id ecr-pullthroughcache/docker-hub)
  expect_eq "labels" "$(printf '%s' "$out" | json 'sorted(sum(d["VersionIdsToStages"].values(), []))')" '["AWSCURRENT", "AWSPREVIOUS"]'
  expect_eq "tags" "$(printf '%s' "$out" | json 'd["Tags"]')" '[{"Key": "team", "Value": "build"}]'
}
check "aws secretsmanager put-secret-value moves AWSCURRENT and AWSPREVIOUS" t_sm_versions

t_sm_list() {
  local out
  aws secretsmanager create-secret --name unrelated --secret-string x >/dev/null
  out=$(show aws secretsmanager list-secrets --filters Key=name,Values=ecr-pullthroughcache/ --query 'SecretList[].Name' --output text)
  expect_eq "list-secrets by name prefix" "$out" ecr-pullthroughcache/docker-hub
  out=$(show aws secretsmanager list-secrets --filters Key=name,Values='!ecr-pullthroughcache/' --query 'SecretList[].Name' --output text)
  expect_eq "list-secrets by a negated prefix" "$out" unrelated
}
check "aws secretsmanager list-secrets --filters" t_sm_list

t_sm_delete() {
  local out
  show aws secretsmanager delete-secret --secret-id ecr-pullthroughcache/docker-hub --recovery-window-in-days 7 >/dev/null
  out=$(show_all must_fail aws secretsmanager get-secret-value --secret-id ecr-pullthroughcache/docker-hub)
  expect_contains "get-secret-value of a deleted secret" "$out" \
    "(InvalidRequestException) when calling the GetSecretValue operation: You can't perform this operation on the secret because it was marked for deletion."
  aws secretsmanager restore-secret --secret-id ecr-pullthroughcache/docker-hub >/dev/null
  out=$(show aws secretsmanager get-secret-value --secret-id ecr-pullthroughcache/docker-hub --query SecretString --output text)
  expect_eq "the value after restore-secret" "$out" second
  aws secretsmanager delete-secret --secret-id unrelated --force-delete-without-recovery >/dev/null
  out=$(show_all must_fail aws secretsmanager describe-secret --secret-id unrelated)
  expect_contains "describe-secret after a forced deletion" "$out" \
    "(ResourceNotFoundException) when calling the DescribeSecret operation: Secrets Manager can't find the specified secret."
}
check "aws secretsmanager delete-secret / restore-secret / --force-delete-without-recovery" t_sm_delete

t_sm_bad_input() {
  local out
  out=$(show_all must_fail aws secretsmanager delete-secret --secret-id ecr-pullthroughcache/docker-hub --recovery-window-in-days 3)
  expect_contains "a 3-day recovery window" "$out" "(InvalidParameterException)"
  out=$(show_all must_fail aws secretsmanager create-secret --name 'bad name' --secret-string x)
  expect_contains "a name with a space" "$out" \
    "(ValidationException) when calling the CreateSecret operation: Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"
}
check "aws secretsmanager: bad input answers Secrets Manager's exceptions" t_sm_bad_input
# END Secrets Manager

# ---------------------------------------------------------------------------
# BEGIN ECR Public (issue 15)
log "7. ECR Public: the AWS CLI, docker, crane and skopeo on the public host"
# The public registries' host is berth serve's default --public-registry-host
# with berth's port. *.localhost names are loopback (RFC 6761), but neither
# Go programs (dockerd, crane, skopeo) nor glibc resolve them by themselves
# unless the machine's resolver does: then /etc/hosts names it, once, for
# good. dockerd treats a registry whose name resolves to loopback as
# insecure (plain HTTP) without --insecure-registry.
PUBLIC_HOST=public.ecr.localhost
PUB=$PUBLIC_HOST:${REG##*:}
PUB_ALIAS=b$ACCOUNT
PUB_REPO=$PUB/$PUB_ALIAS/e2e-public
public_resolves=yes
if ! getent hosts "$PUBLIC_HOST" | grep -q '^127\.'; then
  if [ -w /etc/hosts ]; then
    printf '127.0.0.1 %s # Berth e2e-cli: *.localhost is loopback (RFC 6761)\n' "$PUBLIC_HOST" >>/etc/hosts
    echo "added $PUBLIC_HOST to /etc/hosts"
  else
    public_resolves=no
  fi
fi
if ! command -v skopeo >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing Debian's skopeo"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends skopeo >>"$TMP/apt.log" 2>&1 ||
    { apt-get update >>"$TMP/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends skopeo >>"$TMP/apt.log" 2>&1; } ||
    echo "apt-get install skopeo failed (see below); the skopeo check is skipped"
fi
# A docker config with nothing in it: an anonymous client.
ANON_CONFIG=$TMP/public-anon-config
mkdir -p "$ANON_CONFIG"
echo '{}' >"$ANON_CONFIG/config.json"

t_pub_create() {
  local out
  out=$(show aws ecr-public create-repository --repository-name e2e-public --region us-east-1)
  expect_eq repositoryUri "$(json 'd["repository"]["repositoryUri"]' <<<"$out")" "$PUBLIC_HOST/$PUB_ALIAS/e2e-public"
  expect_eq repositoryArn "$(json 'd["repository"]["repositoryArn"]' <<<"$out")" "arn:aws:ecr-public::$ACCOUNT:repository/e2e-public"
  out=$(show aws ecr-public describe-registries --region us-east-1)
  expect_eq "registryUri" "$(json 'd["registries"][0]["registryUri"]' <<<"$out")" "$PUBLIC_HOST/$PUB_ALIAS"
  expect_eq "default alias" "$(json '[a["name"] for a in d["registries"][0]["aliases"] if a["defaultRegistryAlias"]]' <<<"$out")" "[\"$PUB_ALIAS\"]"
  # A private repository of the same name holds another image (isolation).
  aws ecr create-repository --repository-name e2e-public >/dev/null
}
check "aws ecr-public create-repository --repository-name e2e-public --region us-east-1; describe-registries" t_pub_create

if [ "$public_resolves" = no ]; then
  skip "ECR Public's data plane with docker, crane and skopeo" "$PUBLIC_HOST does not resolve to loopback and /etc/hosts is not writable"
else
  t_pub_login() {
    local out
    out=$(aws ecr-public get-login-password --region us-east-1 | show_all docker login --username AWS --password-stdin "$PUB")
    expect_contains "docker login $PUB" "$out" "Login Succeeded"
  }
  check "aws ecr-public get-login-password --region us-east-1 | docker login --username AWS --password-stdin $PUB" t_pub_login

  t_pub_push() {
    local out digest
    build_image e2e-pub:latest "public image $$ $RANDOM" >/dev/null
    docker tag e2e-pub:latest "$PUB_REPO:latest"
    out=$(show_all docker push "$PUB_REPO:latest")
    digest=$(push_digest "$out")
    [ -n "$digest" ] || { echo "docker push printed no digest"; return 1; }
    put pub_digest "$digest"
    out=$(show aws ecr-public describe-image-tags --repository-name e2e-public --region us-east-1)
    expect_eq "describe-image-tags" "$(json '[(t["imageTag"], t["imageDetail"]["imageDigest"]) for t in d["imageTagDetails"]]' <<<"$out")" "[[\"latest\", \"$digest\"]]"
  }
  check "docker tag + docker push $PUB_REPO:latest after the ecr-public login" t_pub_push

  t_pub_pull_anon() {
    local out digest
    digest=$(get pub_digest)
    docker rmi "$PUB_REPO:latest" e2e-pub:latest >/dev/null
    out=$(DOCKER_CONFIG=$ANON_CONFIG show_all docker pull "$PUB_REPO:latest")
    expect_contains "anonymous docker pull" "$out" "Digest: $digest"
  }
  check "docker pull $PUB_REPO:latest with an empty docker config (anonymous)" t_pub_pull_anon

  t_pub_crane() {
    local digest
    digest=$(get pub_digest)
    expect_eq "crane digest, anonymous" "$(DOCKER_CONFIG=$ANON_CONFIG show crane digest --insecure "$PUB_REPO:latest")" "$digest"
    DOCKER_CONFIG=$ANON_CONFIG crane pull --insecure "$PUB_REPO:latest" "$TMP/public-crane.tar"
    [ -s "$TMP/public-crane.tar" ]
  }
  check "crane digest / crane pull $PUB_REPO:latest, anonymous" t_pub_crane

  if command -v skopeo >/dev/null; then
    t_pub_skopeo() {
      local out digest
      digest=$(get pub_digest)
      out=$(show skopeo inspect --tls-verify=false --no-creds "docker://$PUB_REPO:latest")
      expect_eq "skopeo inspect Digest" "$(json 'd["Digest"]' <<<"$out")" "$digest"
      show_all skopeo copy --src-tls-verify=false --src-no-creds "docker://$PUB_REPO:latest" "oci:$TMP/public-skopeo:latest"
      [ -s "$TMP/public-skopeo/index.json" ]
    }
    check "skopeo inspect / skopeo copy docker://$PUB_REPO:latest, anonymous" t_pub_skopeo
  else
    skip "skopeo pulls $PUB_REPO:latest anonymously" "no skopeo, and it could not be installed"
  fi

  t_pub_push_no_login() {
    local out
    build_image e2e-pub-anon:latest "anonymous push $$ $RANDOM" >/dev/null
    docker tag e2e-pub-anon:latest "$PUB_REPO:anon"
    out=$(DOCKER_CONFIG=$ANON_CONFIG show_all must_fail docker push "$PUB_REPO:anon")
    expect_contains "docker push without a login" "$out" \
      "denied: Pushing to a public repository requires a login: aws ecr-public get-login-password --region us-east-1 | docker login --username AWS --password-stdin $PUB"
  }
  check "docker push to $PUB without a login: refused, saying how to log in" t_pub_push_no_login

  t_pub_isolation() {
    local out
    # A private image is not on the public host...
    out=$(DOCKER_CONFIG=$ANON_CONFIG show_all must_fail crane manifest --insecure "$PUB/$PUB_ALIAS/my-repo:latest")
    expect_contains "the private my-repo through the public host" "$out" "NAME_UNKNOWN"
    # ...and the public image not on the private host, logged in there.
    export DOCKER_CONFIG=$TMP/public-private-config
    aws ecr get-login-password | docker login --username AWS --password-stdin "$REG" >/dev/null
    out=$(show_all must_fail crane manifest "$REG/e2e-public:latest")
    expect_contains "the public e2e-public through the private host" "$out" "MANIFEST_UNKNOWN"
    out=$(show_all must_fail crane manifest "$REG/e2e-public@$(get pub_digest)")
    expect_contains "the public image's digest through the private host" "$out" "MANIFEST_UNKNOWN"
  }
  check "isolation: private images are not on $PUB, public ones not on $REG" t_pub_isolation
fi

t_pub_denied() {
  local out key
  aws iam create-user --user-name e2e-pub-denied >/dev/null
  key=$(aws iam create-access-key --user-name e2e-pub-denied --output json)
  out=$(AWS_ACCESS_KEY_ID=$(json 'd["AccessKey"]["AccessKeyId"]' <<<"$key") AWS_SECRET_ACCESS_KEY=$(json 'd["AccessKey"]["SecretAccessKey"]' <<<"$key") \
    show_all must_fail aws ecr-public create-repository --repository-name denied-repo --region us-east-1)
  expect_contains "ecr-public create-repository without permissions" "$out" \
    "An error occurred (AccessDeniedException) when calling the CreateRepository operation: User: arn:aws:iam::$ACCOUNT:user/e2e-pub-denied is not authorized to perform: ecr-public:CreateRepository on resource: arn:aws:ecr-public::$ACCOUNT:repository/denied-repo"
}
check "an IAM user without ecr-public permissions: AccessDeniedException in AWS's words" t_pub_denied

t_pub_bad_input() {
  local out
  out=$(show_all must_fail aws ecr-public describe-repositories --region eu-west-1)
  expect_contains "another region" "$out" "(UnsupportedCommandException) when calling the DescribeRepositories operation: DescribeRepositories command is only supported in us-east-1."
  out=$(show_all must_fail aws ecr-public put-repository-catalog-data --repository-name e2e-public --region us-east-1 \
    --catalog-data "{\"description\":\"$(printf 'd%.0s' $(seq 1025))\"}")
  expect_contains "a 1025-character description" "$out" "(InvalidParameterException)"
  out=$(show_all must_fail aws ecr-public put-repository-catalog-data --repository-name e2e-public --region us-east-1 \
    --catalog-data '{"logoImageBlob":"aGVsbG8="}')
  expect_contains "a logo that is not an image" "$out" "(InvalidParameterException)"
  expect_contains "a logo that is not an image" "$out" "PNG or JPEG"
}
check "aws ecr-public bad input: another region, oversize catalog text, a logo that is not an image" t_pub_bad_input
# END ECR Public

# ---------------------------------------------------------------------------
# BEGIN SSO (issue 16)
log "8. IAM Identity Center (SSO) profiles with the AWS CLI"
# An admin makes a user, an ECR power user permission set and its
# assignment; a developer signs in with an sso_session profile through the
# device flow (the browser's part, the sign-in page, is e2e/ssoweb_test.go:
# here berth admin sso approve stands in for it) and uses the profile. The
# server runs with a 15s access token (--sso-access-token-ttl), so botocore
# refreshes it on every use (it refreshes within 15 minutes of expiry), and
# 20s role credentials
# (--sso-role-session-limit), so they can be seen to expire.
SSO_DIR=$TMP/sso
mkdir -p "$SSO_DIR/home"
if [ "$NODES" -gt 1 ]; then SSO_STORE=(--meta "$E2E_META"); else SSO_STORE=(--data "$TMP/berth-data"); fi

# sso_aws runs the CLI as a developer whose only credentials are the SSO
# profile: its own home (the SSO token cache) and config file.
sso_aws() {
  (
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    export HOME=$SSO_DIR/home AWS_CONFIG_FILE=$SSO_DIR/config AWS_SHARED_CREDENTIALS_FILE=$SSO_DIR/credentials
    aws "$@"
  )
}

t_sso_admin() {
  local out inst store user ps
  out=$(show aws sso-admin list-instances)
  inst=$(printf '%s' "$out" | json 'd["Instances"][0]["InstanceArn"]')
  store=$(printf '%s' "$out" | json 'd["Instances"][0]["IdentityStoreId"]')
  user=$(show aws identitystore create-user --identity-store-id "$store" --user-name alice --display-name "Alice Dev" \
    --name GivenName=Alice,FamilyName=Dev --emails Value=alice@example.com,Type=work,Primary=true --query UserId --output text)
  ps=$(show aws sso-admin create-permission-set --instance-arn "$inst" --name EcrPower --session-duration PT1H \
    --query PermissionSet.PermissionSetArn --output text)
  aws sso-admin attach-managed-policy-to-permission-set --instance-arn "$inst" --permission-set-arn "$ps" \
    --managed-policy-arn arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser
  out=$(show aws sso-admin create-account-assignment --instance-arn "$inst" --permission-set-arn "$ps" \
    --target-id "$ACCOUNT" --target-type AWS_ACCOUNT --principal-type USER --principal-id "$user" \
    --query AccountAssignmentCreationStatus.Status --output text)
  expect_eq "assignment status" "$out" SUCCEEDED
  out=$(show aws sso-admin list-account-assignments --instance-arn "$inst" --account-id "$ACCOUNT" --permission-set-arn "$ps" \
    --query 'AccountAssignments[0].PrincipalId' --output text)
  expect_eq "list-account-assignments" "$out" "$user"
  out=$(show aws iam list-roles --path-prefix /aws-reserved/sso.amazonaws.com/ --query 'Roles[0].RoleName' --output text)
  expect_contains "the permission set's role" "$out" AWSReservedSSO_EcrPower_
  printf 'correct horse battery\n' | "$TMP/bin/berth" admin sso set-password "${SSO_STORE[@]}" --user alice --password-stdin
  out=$(show_all must_fail aws sso-admin describe-permission-set --instance-arn "$inst" --permission-set-arn "${ps%/*}/ps-0000000000000000")
  expect_contains "a permission set that does not exist" "$out" "(ResourceNotFoundException)"
  aws ecr create-repository --repository-name sso-repo >/dev/null
}
check "aws sso-admin / identitystore: user, EcrPower permission set (AmazonEC2ContainerRegistryPowerUser), assignment SUCCEEDED; berth admin sso set-password" t_sso_admin

t_sso_sign_in() {
  local out client secret dev device code tok
  cat >"$SSO_DIR/config" <<EOF
[default]
# The CLI would otherwise fetch an http:// parameter (the start URL).
cli_follow_urlparam = false

[profile dev]
sso_session = berth
sso_account_id = $ACCOUNT
sso_role_name = EcrPower
region = $REGION

[sso-session berth]
sso_start_url = $ENDPOINT/start
sso_region = $REGION
sso_registration_scopes = sso:account:access
EOF
  out=$(show sso_aws sso-oidc register-client --client-name e2e-cli --client-type public)
  client=$(printf '%s' "$out" | json 'd["clientId"]')
  secret=$(printf '%s' "$out" | json 'd["clientSecret"]')
  printf '%s' "$out" >"$SSO_DIR/client.json"
  dev=$(show sso_aws sso-oidc start-device-authorization --client-id "$client" --client-secret "$secret" --start-url "$ENDPOINT/start")
  device=$(printf '%s' "$dev" | json 'd["deviceCode"]')
  code=$(printf '%s' "$dev" | json 'd["userCode"]')
  expect_eq "verificationUriComplete" "$(printf '%s' "$dev" | json 'd["verificationUriComplete"]')" "$ENDPOINT/device?user_code=$code"
  out=$(show_all must_fail sso_aws sso-oidc create-token --client-id "$client" --client-secret "$secret" \
    --grant-type urn:ietf:params:oauth:grant-type:device_code --device-code "$device")
  expect_contains "create-token before approval" "$out" "(AuthorizationPendingException) when calling the CreateToken operation"
  "$TMP/bin/berth" admin sso approve "${SSO_STORE[@]}" --user-code "$code" --user alice
  sleep 1.1 # the polling interval
  tok=$(show sso_aws sso-oidc create-token --client-id "$client" --client-secret "$secret" \
    --grant-type urn:ietf:params:oauth:grant-type:device_code --device-code "$device")
  printf '%s' "$tok" >"$SSO_DIR/token.json"
  out=$(show_all must_fail sso_aws sso-oidc create-token --client-id "$client" --client-secret "$secret" \
    --grant-type urn:ietf:params:oauth:grant-type:device_code --device-code "$device")
  expect_contains "a device code is redeemed once" "$out" "(InvalidGrantException)"
  # The token cache entry, as botocore's SSO login writes it:
  # ~/.aws/sso/cache/<sha1 of the session name>.json.
  HOME="$SSO_DIR/home" python3 - "$SSO_DIR/client.json" "$SSO_DIR/token.json" "$ENDPOINT/start" "$REGION" <<'EOF'
import datetime, hashlib, json, os, sys
client, token = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
now = datetime.datetime.now(datetime.timezone.utc)
iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
entry = {
    "startUrl": sys.argv[3], "region": sys.argv[4], "accessToken": token["accessToken"],
    "expiresAt": iso(now + datetime.timedelta(seconds=token["expiresIn"])),
    "clientId": client["clientId"], "clientSecret": client["clientSecret"],
    "registrationExpiresAt": iso(datetime.datetime.fromtimestamp(client["clientSecretExpiresAt"], datetime.timezone.utc)),
    "refreshToken": token["refreshToken"],
}
d = os.path.expanduser("~/.aws/sso/cache")
os.makedirs(d, exist_ok=True)
with open(os.path.join(d, hashlib.sha1(b"berth").hexdigest() + ".json"), "w") as f:
    json.dump(entry, f)
EOF
}
check "aws sso-oidc register-client / start-device-authorization / create-token (pending, approved, once); the SSO token cache" t_sso_sign_in

sso_cache() { cat "$SSO_DIR/home/.aws/sso/cache/$(printf berth | sha1sum | cut -d' ' -f1).json"; }

t_sso_profile() {
  local out
  out=$(show sso_aws sts get-caller-identity --profile dev --query Arn --output text)
  case $out in
    "arn:aws:sts::$ACCOUNT:assumed-role/AWSReservedSSO_EcrPower_"????????????????"/alice") ;;
    *) echo "get-caller-identity --profile dev: $out"; return 1 ;;
  esac
  out=$(show sso_aws ecr describe-repositories --profile dev --query 'repositories[].repositoryName' --output text)
  expect_contains "describe-repositories --profile dev" "$out" sso-repo
  out=$(show_all must_fail sso_aws ecr delete-repository --profile dev --repository-name sso-repo)
  expect_contains "the power user may not delete repositories" "$out" "(AccessDeniedException)"
}
check "aws sts get-caller-identity --profile dev: assumed-role/AWSReservedSSO_EcrPower_<id>/alice; ecr with the permission set's policy" t_sso_profile

t_sso_refresh() {
  local before after out old_refresh client secret
  before=$(sso_cache)
  old_refresh=$(printf '%s' "$before" | json 'd["refreshToken"]')
  sleep 16 # past the access token's 15s
  rm -rf "$SSO_DIR/home/.aws/cli/cache"
  sso_aws sts get-caller-identity --profile dev >/dev/null
  after=$(sso_cache)
  if [ "$(printf '%s' "$before" | json 'd["accessToken"]')" = "$(printf '%s' "$after" | json 'd["accessToken"]')" ]; then
    echo "botocore did not refresh the access token"; return 1
  fi
  if [ "$old_refresh" = "$(printf '%s' "$after" | json 'd["refreshToken"]')" ]; then
    echo "the refresh token was not rotated"; return 1
  fi
  # The new access token opens the portal (within its 15s), the old one
  # no longer does, and the used refresh token is refused.
  out=$(show sso_aws sso list-account-roles --access-token "$(printf '%s' "$after" | json 'd["accessToken"]')" --account-id "$ACCOUNT" \
    --query 'roleList[].roleName' --output text)
  expect_eq "aws sso list-account-roles" "$out" EcrPower
  out=$(show_all must_fail sso_aws sso list-accounts --access-token "$(printf '%s' "$before" | json 'd["accessToken"]')")
  expect_contains "the expired access token" "$out" "(UnauthorizedException)"
  client=$(json 'd["clientId"]' <"$SSO_DIR/client.json")
  secret=$(json 'd["clientSecret"]' <"$SSO_DIR/client.json")
  out=$(show_all must_fail sso_aws sso-oidc create-token --client-id "$client" --client-secret "$secret" \
    --grant-type refresh_token --refresh-token "$old_refresh")
  expect_contains "a used refresh token" "$out" "(InvalidGrantException)"
}
check "the expired access token refreshes itself (botocore's SSO token provider, refresh_token grant, rotated once)" t_sso_refresh

t_sso_expired() {
  local out creds
  creds=$(HOME="$SSO_DIR/home" AWS_CONFIG_FILE="$SSO_DIR/config" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY python3 -c '
import botocore.session, json
c = botocore.session.Session(profile="dev").get_credentials().get_frozen_credentials()
print(json.dumps([c.access_key, c.secret_key, c.token]))')
  sleep 21 # past the role credentials' 20s
  out=$(
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
    AWS_ACCESS_KEY_ID=$(printf '%s' "$creds" | json 'd[0]')
    AWS_SECRET_ACCESS_KEY=$(printf '%s' "$creds" | json 'd[1]')
    AWS_SESSION_TOKEN=$(printf '%s' "$creds" | json 'd[2]')
    show_all must_fail aws sts get-caller-identity
  )
  expect_contains "expired SSO role credentials" "$out" \
    "An error occurred (ExpiredToken) when calling the GetCallerIdentity operation: The security token included in the request is expired"
  # The profile itself fetches fresh ones.
  sso_aws sts get-caller-identity --profile dev >/dev/null
  local access refresh client secret
  access=$(sso_cache | json 'd["accessToken"]')
  refresh=$(sso_cache | json 'd["refreshToken"]')
  sso_aws sso logout --access-token "$access"
  out=$(show_all must_fail sso_aws sso list-accounts --access-token "$access")
  expect_contains "after aws sso logout" "$out" "(UnauthorizedException) when calling the ListAccounts operation: Session token not found or invalid"
  # The logout ended the sign-in: its refresh token cannot revive it.
  client=$(json 'd["clientId"]' <"$SSO_DIR/client.json")
  secret=$(json 'd["clientSecret"]' <"$SSO_DIR/client.json")
  out=$(show_all must_fail sso_aws sso-oidc create-token --client-id "$client" --client-secret "$secret" \
    --grant-type refresh_token --refresh-token "$refresh")
  expect_contains "the refresh token after aws sso logout" "$out" "(InvalidGrantException)"
}
check "after the session ends: ExpiredToken, The security token included in the request is expired; aws sso logout ends the sign-in" t_sso_expired
# END SSO

# ---------------------------------------------------------------------------
echo
echo "ran in $((SECONDS - START_SECONDS))s"
if [ "$FAILED" -gt 0 ]; then
  echo "failed checks:"
  printf '  - %s\n' "${FAILED_NAMES[@]}"
  berth_log_tail 40
fi
echo "e2e-cli: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
