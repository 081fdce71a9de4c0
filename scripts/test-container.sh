#!/usr/bin/env bash
# Container test for the CPU image (Dockerfile): `npm run test:container`, as root. Not part of `npm test`.
#
# Where no Docker engine and no image registry are available (see docs/design.md, "Containers"), it
#   1. installs podman, runc and debootstrap with apt-get when they are missing;
#   2. points podman at its own containers.conf (runc, nofile=1024:1024, cgroupfs, file logs)
#      through CONTAINERS_CONF, leaving /etc alone;
#   3. makes stand-ins for the official base images the Dockerfile names, once, cached under
#      /var/tmp: `debootstrap --variant=minbase bookworm` (+ python3, make, g++ for the build
#      image), this machine's node, npm and Node headers under /usr/local, a `node` user (uid
#      1000), and this machine's CA bundle with NODE_EXTRA_CA_CERTS so that `npm ci` inside a
#      build step can reach the npm registry. A real official image with the same name, if one
#      is present, is used as it is;
#   4. `podman build --pull=never` of the project's Dockerfile (unchanged);
#   5. runs the image on a named volume (loopback port only): /ready and the HEALTHCHECK,
#      non-root, production dependencies only; creates a collection, ingests, searches; stops it
#      with SIGTERM (exit 0, snapshots written); starts a new container on the same volume: the
#      same count and answer, the index loaded from its snapshot; `mrl backup` in the running
#      container and `mrl restore` into a fresh volume, which serves the same answer;
#   6. removes its containers and volumes, prints PASS or FAIL, and exits non-zero on failure.
#
# Environment: MRL_CONTAINER_CACHE (default /var/tmp/mrl-container-test), MRL_TEST_IMAGE
# (default mrl-server:test), MRL_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# MRL_KEEP_IMAGE=0 to remove the test image at the end (it is kept: a second run reuses its layers).
set -euo pipefail
cd "$(dirname "$0")/.."

T0=$SECONDS
CACHE=${MRL_CONTAINER_CACHE:-/var/tmp/mrl-container-test}
IMAGE=${MRL_TEST_IMAGE:-mrl-server:test}
# The image listens on 0.0.0.0 and so refuses to start without a key: each server gets this one.
ADMIN_KEY=container-test-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
MIRROR=${MRL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SLIM=docker.io/library/node:20-bookworm-slim
FULL=docker.io/library/node:20-bookworm
STANDIN_LABEL=org.mrl-server.test.standin
RUN_ID=$$-$RANDOM
COLL=smoke
DIM=16
N_ITEMS=40
CONTAINERS=()
VOLUMES=()
STEP=setup
BUILD_SECONDS=-
WORK=$(mktemp -d)

say() { printf '[test-container %4ds] %s\n' $((SECONDS - T0)) "$*" >&2; }
fail() {
  printf '[test-container %4ds] error in step "%s": %s\n' $((SECONDS - T0)) "$STEP" "$*" >&2
  exit 1
}
step() {
  STEP=$1
  say "== $1"
}

finish() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if command -v podman >/dev/null 2>&1 && [[ -n ${CONTAINERS_CONF:-} ]]; then
    if ((rc != 0)); then
      for c in "${CONTAINERS[@]}"; do
        podman container exists "$c" 2>/dev/null || continue
        echo "---- last log lines of $c ----" >&2
        podman logs --tail 40 "$c" >&2 2>&1
      done
    fi
    for c in "${CONTAINERS[@]}"; do podman rm -f "$c" >/dev/null 2>&1; done
    for v in "${VOLUMES[@]}"; do podman volume rm -f "$v" >/dev/null 2>&1; done
    if [[ ${MRL_KEEP_IMAGE:-1} == 0 ]]; then podman rmi -f "$IMAGE" >/dev/null 2>&1; fi
  fi
  rm -rf "$WORK"
  if ((rc == 0)); then
    echo "PASS: container test (image $IMAGE; build ${BUILD_SECONDS}s; total $((SECONDS - T0))s)"
  else
    echo "FAIL: container test, step \"$STEP\" (exit $rc; total $((SECONDS - T0))s)"
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers ---------------------------------------------------------------------------------

# jget EXPR: reads JSON on stdin, prints the value of `j<EXPR>` (strings bare, the rest as JSON).
jget() {
  node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const v = new Function("j", "return j" + process.argv[1])(JSON.parse(s));
      process.stdout.write((typeof v === "string" ? v : JSON.stringify(v)) + "\n");
    });' "$1"
}

# http METHOD PATH [BODY] [CONTENT-TYPE]: prints the body; fails unless the status is 2xx.
http() {
  local code
  code=$(curl -sS -m 60 -o "$WORK/body" -w '%{http_code}' -X "$1" -H "authorization: Bearer $ADMIN_KEY" \
    ${3:+-H "content-type: ${4:-application/json}" --data-binary "$3"} "$BASE$2") || fail "curl $1 $2 failed"
  [[ $code == 2?? ]] || fail "$1 $2 answered HTTP $code: $(head -c 600 "$WORK/body")"
  cat "$WORK/body"
}

free_port() {
  node -e 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

state() { podman inspect --format "{{$1}}" "$2" 2>/dev/null || true; }

# start_server NAME VOLUME: runs the image detached on a loopback port; sets BASE.
start_server() {
  local port
  port=$(free_port)
  CONTAINERS+=("$1")
  # stderr to a file: without systemd, podman logs an error about the healthcheck timer it cannot make.
  podman run -d --pull=never --name "$1" -p "127.0.0.1:$port:8080" -v "$2:/data" -e MRL_ADMIN_KEY="$ADMIN_KEY" "$IMAGE" >/dev/null 2>"$WORK/run.err" ||
    fail "podman run: $(cat "$WORK/run.err")"
  BASE=http://127.0.0.1:$port
  say "container $1 on $BASE, volume $2"
}

# wait_ready NAME: polls /ready (up to 180 s) while the container runs, then checks its HEALTHCHECK.
wait_ready() {
  local deadline=$((SECONDS + 180)) t=$SECONDS
  until curl -fsS -m 5 "$BASE/ready" >/dev/null 2>&1; do
    [[ $(state .State.Running "$1") == true ]] || fail "container $1 stopped before /ready (exit $(state .State.ExitCode "$1"))"
    ((SECONDS < deadline)) || fail "/ready not 200 within 180 s"
    sleep 0.5
  done
  say "/ready answered 200 after $((SECONDS - t)) s"
  # Podman schedules HEALTHCHECKs with systemd timers; without systemd nothing runs them, so run
  # the image's check once by hand: it executes the HEALTHCHECK command inside the container and
  # records the result in the container's state.
  local health
  health=$(state .State.Health.Status "$1")
  [[ $health == healthy ]] || podman healthcheck run "$1" >/dev/null || fail "the image's HEALTHCHECK failed in $1"
  health=$(state .State.Health.Status "$1")
  [[ $health == healthy || $health == '<no value>' || -z $health ]] || fail "health status of $1 is '$health'"
  say "HEALTHCHECK: ${health:-no status field}"
}

# stop_server NAME: SIGTERM, up to 30 s; it must exit 0 having written its snapshots.
stop_server() {
  local t=$SECONDS code
  podman stop -t 30 "$1" >/dev/null 2>>"$WORK/podman.err"
  code=$(state .State.ExitCode "$1")
  say "container $1 stopped in $((SECONDS - t)) s, exit code $code"
  [[ $code == 0 ]] || fail "container $1 exited $code on SIGTERM (137 means it was killed after the 30 s grace period)"
  podman logs "$1" 2>&1 | grep -q 'snapshots written' || fail "the logs of $1 do not say that snapshots were written"
}

search_answer() {
  http GET "/search?collection=$COLL&id=item-7&k=5" | jget '.results.map((r) => r.id).join(",")'
}

# ---- 1. tools --------------------------------------------------------------------------------
step tools
[[ $(id -u) == 0 ]] || fail "run as root (podman builds and runs rootful here)"
command -v node >/dev/null || fail "node is needed on the host (its binary goes into the stand-in base images)"
command -v curl >/dev/null || fail "curl is needed on the host"
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || [[ -x /usr/sbin/runc ]] || missing+=(runc)
command -v debootstrap >/dev/null || [[ -x /usr/sbin/debootstrap ]] || missing+=(debootstrap)
if ((${#missing[@]})); then
  say "installing ${missing[*]} with apt-get"
  mkdir -p "$CACHE"
  # containernetworking-plugins + iptables: podman's network stack for -p and for RUN steps.
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    podman runc debootstrap containernetworking-plugins iptables ca-certificates; } >"$CACHE/apt.log" 2>&1 ||
    fail "apt-get failed; the end of $CACHE/apt.log:
$(tail -20 "$CACHE/apt.log")"
fi
export PATH=$PATH:/usr/sbin:/sbin

mkdir -p "$CACHE"
# Podman asks for a container's nofile and nproc limits above the caller's by default; that needs
# CAP_SYS_RESOURCE, which a sandboxed root may lack ("error setting rlimit type 7" for nofile,
# "type 6" for nproc). Ask for limits within what runc inherits instead: nofile 1024, and nproc
# no more than 32768 (podman's conmon was seen running with a hard nproc of 32768 while the
# caller had 96365). RLIMIT_NPROC counts all of the host's root processes, so not much lower.
ULIMITS='"nofile=1024:1024"'
nproc=$(ulimit -Hu)
if [[ $nproc == unlimited ]] || ((nproc > 32768)); then nproc=32768; fi
ULIMITS+=", \"nproc=$nproc:$nproc\""
cat >"$CACHE/containers.conf" <<EOF
# Written by scripts/test-container.sh; used through CONTAINERS_CONF (nothing under /etc changes).
[containers]
default_ulimits = [$ULIMITS]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF=$CACHE/containers.conf
podman info --format '{{.Host.OCIRuntime.Name}} {{.Version.Version}}' >"$WORK/info" 2>"$WORK/info.err" ||
  fail "podman does not work here: $(tail -5 "$WORK/info.err")"
say "podman $(cut -d' ' -f2 "$WORK/info"), runtime $(cut -d' ' -f1 "$WORK/info")"

# ---- 2. stand-in base images -----------------------------------------------------------------
step "base images"
NODE_BIN=$(readlink -f "$(command -v node)")
NODE_PREFIX=$(dirname "$(dirname "$NODE_BIN")")
NPM_DIR=$NODE_PREFIX/lib/node_modules/npm
HEADERS=$NODE_PREFIX/include/node
CA=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
[[ -f $NPM_DIR/bin/npm-cli.js ]] || fail "npm not found beside node ($NPM_DIR)"
[[ -f $HEADERS/node.h ]] || fail "Node headers not found ($HEADERS/node.h)"
[[ -f $CA ]] || fail "CA bundle $CA not found"
NODE_VERSION=$(node --version)
STAMP="${NODE_VERSION}_npm-$(node "$NPM_DIR/bin/npm-cli.js" --version)_ca-$(sha256sum "$CA" | cut -c1-12)"

# ensure_base REF DIR [INCLUDE]: a stand-in for REF unless REF is already there.
ensure_base() {
  local ref=$1 dir=$CACHE/$2 include=${3:-} have
  if podman image exists "$ref"; then
    have=$(podman image inspect --format "{{index .Config.Labels \"$STANDIN_LABEL\"}}" "$ref" 2>/dev/null || true)
    if [[ -z $have || $have == '<no value>' ]]; then
      say "$ref is present and is not a stand-in: using it as it is"
      return
    fi
    if [[ $have == "$STAMP" ]]; then
      say "$ref: cached stand-in ($STAMP)"
      return
    fi
  fi
  if [[ ! -f $dir.debootstrap-ok ]]; then
    say "debootstrap --variant=minbase ${include:+--include=$include }bookworm -> $dir (minutes)"
    rm -rf "$dir"
    mkdir -p "$CACHE/debs"
    debootstrap --variant=minbase ${include:+--include="$include"} --cache-dir="$CACHE/debs" \
      bookworm "$dir" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
      fail "debootstrap failed: $(tail -5 "$WORK/debootstrap.log")"
    touch "$dir.debootstrap-ok"
  fi
  # As the official images lay it out: node, npm and the headers under /usr/local.
  install -D -m 0755 "$NODE_BIN" "$dir/usr/local/bin/node"
  rm -rf "$dir/usr/local/lib/node_modules/npm" "$dir/usr/local/include/node"
  mkdir -p "$dir/usr/local/lib/node_modules" "$dir/usr/local/include"
  cp -a "$NPM_DIR" "$dir/usr/local/lib/node_modules/npm"
  ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
  ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
  cp -a "$HEADERS" "$dir/usr/local/include/node"
  # Trust this machine's CA (the registry is reached through it). Only in the stand-in.
  install -D -m 0644 "$CA" "$dir$CA"
  if ! chroot "$dir" getent passwd node >/dev/null; then
    chroot "$dir" groupadd --gid 1000 node
    chroot "$dir" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  fi
  tar -C "$dir" -c . | podman import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV NODE_VERSION=${NODE_VERSION#v}" \
    --change "ENV NODE_EXTRA_CA_CERTS=$CA" \
    --change "LABEL $STANDIN_LABEL=$STAMP" \
    --change 'CMD ["node"]' \
    --quiet - "$ref" >/dev/null
  say "$ref: stand-in imported ($STAMP)"
}
ensure_base "$SLIM" node-20-bookworm-slim
ensure_base "$FULL" node-20-bookworm python3,make,g++
podman run --rm --pull=never "$FULL" sh -c 'node --version && npm --version && g++ --version | head -1 && id node' >"$WORK/base" 2>&1 ||
  fail "the build base does not run: $(cat "$WORK/base")"
say "build base: $(tr '\n' ' ' <"$WORK/base")"

# ---- 3. build ----------------------------------------------------------------------------------
step build
t=$SECONDS
# --format docker: the OCI image format has no HEALTHCHECK.
podman build --pull=never --format docker -t "$IMAGE" -f Dockerfile . >"$CACHE/build.log" 2>&1 ||
  fail "podman build failed; the end of $CACHE/build.log:
$(tail -40 "$CACHE/build.log")"
BUILD_SECONDS=$((SECONDS - t))
say "built $IMAGE in ${BUILD_SECONDS} s ($(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'); log: $CACHE/build.log)"
podman image inspect --format '{{json .Config.Healthcheck}}' "$IMAGE" | grep -q /ready || fail "the image has no HEALTHCHECK on /ready"

# ---- 4. first container: write -------------------------------------------------------------------
step "first start"
VOL=mrl-test-data-$RUN_ID
podman volume create "$VOL" >/dev/null
VOLUMES+=("$VOL")
C1=mrl-test-1-$RUN_ID
start_server "$C1" "$VOL"
wait_ready "$C1"

step "image checks"
[[ $(podman exec "$C1" id -u) == 1000 ]] || fail "the server does not run as uid 1000"
podman exec "$C1" sh -c 'test ! -e node_modules/typescript && test ! -e node_modules/tsx && test ! -e node_modules/@tensorflow/tfjs-node-gpu && test -d migrations && test -d models && test ! -e src' ||
  fail "the image holds dev or optional dependencies, sources, or lacks migrations/ or models/"
health=$(http GET /health)
say "/health: kernel $(jget .kernel <<<"$health"), fallback $(jget .kernelFallback <<<"$health"), tf $(jget .tfBackend <<<"$health"), models $(jget .models <<<"$health")"
[[ $(jget .kernelFallback <<<"$health") == null ]] || fail "vector kernels fell back to plain JS in the image: $(jget .kernelFallback <<<"$health")"
# The image builds models/*/model.onnx: every shipped encoder is served by onnxruntime, none by the TF.js fallback.
[[ $(jget '.encoders.filter((e) => e.backend !== "onnxruntime").map((e) => e.name + ": " + e.fallbackReason).join("; ")' <<<"$health") == '' ]] ||
  fail "encoders not on onnxruntime in the image: $(jget '.encoders.filter((e) => e.backend !== "onnxruntime").map((e) => e.name + ": " + e.fallbackReason).join("; ")' <<<"$health")"
say "encoders: $(jget '.encoders.map((e) => e.name + " on " + e.backend).join(", ")' <<<"$health")"
http GET / | grep -q '<script type="module" src="/static/app.js">' || fail "GET / does not serve the web page"
http GET /static/app.js >/dev/null
say "web page and its script served"
[[ $(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$BASE/collections") == 401 ]] || fail "GET /collections without a key is not 401"
podman run --rm --pull=never "$IMAGE" >"$WORK/nokey" 2>&1 && fail "the image started on 0.0.0.0 without MRL_ADMIN_KEY"
grep -q 'refusing to listen on 0.0.0.0 with no API key' "$WORK/nokey" || fail "no refusal message without a key: $(head -c 600 "$WORK/nokey")"
say "without a key: 401 from the API, and the image refuses to start without MRL_ADMIN_KEY"

step "create, ingest, search"
http POST /collections "{\"name\":\"$COLL\",\"dim\":$DIM,\"indexDim\":8,\"rerankDim\":$DIM}" >/dev/null
ITEMS=$(node -e '
  const [n, d] = process.argv.slice(1).map(Number);
  const items = [];
  for (let i = 0; i < n; i++) {
    const vector = Array.from({ length: d }, (_, j) => +(Math.sin((i + 1) * (j + 3) * 0.37) + (j < 4 ? (i % 4) * 0.5 : 0)).toFixed(6));
    items.push({ id: `item-${i}`, vector, label: `c${i % 4}`, payload: { n: i } });
  }
  process.stdout.write(JSON.stringify({ collection: "smoke", items }));' "$N_ITEMS" "$DIM")
[[ $(http POST /ingest "$ITEMS" | jget .upserted) == "$N_ITEMS" ]] || fail "ingest did not upsert $N_ITEMS items"
COUNT1=$(http GET "/collections/$COLL" | jget .count)
ANSWER1=$(search_answer)
[[ $COUNT1 == "$N_ITEMS" && -n $ANSWER1 ]] || fail "count $COUNT1, answer '$ANSWER1'"
VEC_ANSWER1=$(http POST /search "{\"collection\":\"$COLL\",\"vector\":$(jget '.items[3].vector' <<<"$ITEMS"),\"k\":3}" | jget '.results.map((r) => r.id).join(",")')
[[ $VEC_ANSWER1 == item-3,* ]] || fail "a search by item-3's vector did not find item-3 first: $VEC_ANSWER1"
say "count $COUNT1; search by item-7 -> $ANSWER1"

step "SIGTERM"
stop_server "$C1"

# ---- 5. second container on the same volume: read -------------------------------------------------
step "restart on the same volume"
C2=mrl-test-2-$RUN_ID
start_server "$C2" "$VOL"
wait_ready "$C2"
DETAIL=$(http GET "/collections/$COLL")
[[ $(jget .count <<<"$DETAIL") == "$COUNT1" ]] || fail "count after restart: $(jget .count <<<"$DETAIL"), expected $COUNT1"
[[ $(search_answer) == "$ANSWER1" ]] || fail "search after restart: $(search_answer), expected $ANSWER1"
[[ $(jget .index.lastOpen.loadedSnapshot <<<"$DETAIL") == true ]] ||
  fail "the index was not loaded from its snapshot: $(jget .index.lastOpen <<<"$DETAIL")"
say "count $COUNT1, same answer, index loaded from its snapshot ($(jget .index.lastOpen.reason <<<"$DETAIL"))"

# ---- 6. backup while running, restore into a fresh volume ---------------------------------------
step "backup and restore"
podman exec "$C2" node dist/src/cli.js backup /data/backup.sqlite >"$WORK/backup" 2>&1 || fail "backup: $(cat "$WORK/backup")"
say "backup while serving: $(jget "" <"$WORK/backup")"
# As docs/deploy.md says: copy the backup out, then restore it into a fresh volume. The backup
# is copied into the volume first: SQLite opens it (a WAL-mode file) only where it may create
# a -shm file beside it, which a read-only mount does not allow.
mkdir -p "$WORK/host" && chmod 0755 "$WORK" "$WORK/host"
podman cp "$C2:/data/backup.sqlite" "$WORK/host/backup.sqlite"
chmod 0644 "$WORK/host/backup.sqlite"
VOL2=mrl-test-restore-$RUN_ID
podman volume create "$VOL2" >/dev/null
VOLUMES+=("$VOL2")
podman run --rm --pull=never -v "$VOL2:/data" -v "$WORK/host:/host:ro" "$IMAGE" \
  sh -c 'cp /host/backup.sqlite /data/restore.sqlite && mrl restore /data/restore.sqlite && rm -f /data/restore.sqlite*' \
  >"$WORK/restore" 2>"$WORK/restore.err" || fail "restore: $(cat "$WORK/restore" "$WORK/restore.err")"
say "restored into a fresh volume: $(jget "" <"$WORK/restore")"
stop_server "$C2"
C3=mrl-test-3-$RUN_ID
start_server "$C3" "$VOL2"
wait_ready "$C3"
[[ $(http GET "/collections/$COLL" | jget .count) == "$COUNT1" ]] || fail "count after restore differs"
[[ $(search_answer) == "$ANSWER1" ]] || fail "search after restore: $(search_answer), expected $ANSWER1"
say "restored volume: count $COUNT1, same answer"
stop_server "$C3"
STEP=done
