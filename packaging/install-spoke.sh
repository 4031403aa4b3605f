#!/usr/bin/env bash
# Installs a Spokes spoke on a Debian (or Ubuntu) server, from this repository:
#
#   sudo packaging/install-spoke.sh --name "Harbour spoke" --public-addr 203.0.113.5:7080 \
#        --public-url https://spoke.example.org
#
# 1. builds `spoke` (release) unless --binary names one, installing Rust and the build
#    packages with apt-get and rustup when they are missing;
# 2. installs it to PREFIX/bin, creates the `spoke` system user and the data folder, and runs
#    `spoke init` there (an existing data folder keeps its key and blogs);
# 3. installs and starts the systemd unit (packaging/spoke.service), or, with --no-systemd,
#    starts the spoke in the background (pid in DATA/spoke.pid, log in DATA/spoke.log);
# 4. runs `spoke self-test` against the running spoke;
# 5. with --join INVITE, joins the council of that invite (`spoke council join`): the inviting
#    spoke is told this one passed its self-test and lists it as ready for its members'
#    approval; without it, prints a council invite: give it to another spoke's operator, who
#    runs `spoke council join TICKET` (or this script with --join) to join this spoke's council.
#
# Options (defaults in brackets):
#   --name NAME          the spoke's name for readers [the host name]
#   --public-addr IP:PORT  sync address put in tickets (UDP; repeatable)
#   --public-url URL     the reader site's public address, e.g. https://spoke.example.org
#   --http ADDR          reader site [0.0.0.0:8080]    --p2p ADDR  sync endpoint [0.0.0.0:7080]
#   --binary PATH        install this spoke binary instead of building one
#   --prefix DIR         [/usr/local]                  --data DIR  data folder [/var/lib/spoke]
#   --join INVITE        join the council of this invite (`spokescouncil1…`) once the self-test passes
#   --no-systemd         start the spoke in the background instead (containers, tests)
set -euo pipefail

name="$(hostname)"; http="0.0.0.0:8080"; p2p="0.0.0.0:7080"; public_addrs=(); public_url=""
binary=""; prefix="/usr/local"; data="/var/lib/spoke"; systemd=1; join=""
while (($#)); do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    --public-addr) public_addrs+=("$2"); shift 2 ;;
    --public-url) public_url="$2"; shift 2 ;;
    --http) http="$2"; shift 2 ;;
    --p2p) p2p="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --prefix) prefix="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --no-systemd) systemd=0; shift ;;
    --join) join="$2"; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "install-spoke: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "$0")/.." && pwd)"
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
step() { printf '\n== %s\n' "$*"; }

if [ -z "$binary" ]; then
  step "Building the spoke"
  if ! command -v cargo >/dev/null; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl ca-certificates build-essential pkg-config libssl-dev >/dev/null
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
  fi
  (cd "$repo" && cargo build --release --locked -p spoke --bin spoke)
  binary="${CARGO_TARGET_DIR:-$repo/target}/release/spoke"
fi

step "Installing $binary to $prefix/bin/spoke"
run_as=()
if [ "$systemd" -eq 1 ]; then
  as_root install -D -m 0755 "$binary" "$prefix/bin/spoke"
  if ! id spoke >/dev/null 2>&1; then
    as_root useradd --system --home-dir "$data" --shell /usr/sbin/nologin spoke
  fi
  as_root install -d -m 0700 -o spoke -g spoke "$data"
  run_as=(as_root runuser -u spoke --)
else
  install -D -m 0755 "$binary" "$prefix/bin/spoke"
  install -d -m 0700 "$data"
fi
spoke="$prefix/bin/spoke"

if [ ! -f "$data/config.toml" ]; then
  step "Creating the spoke in $data"
  args=(--name "$name" --http "$http" --p2p "$p2p")
  for a in "${public_addrs[@]}"; do args+=(--public-addr "$a"); done
  [ -n "$public_url" ] && args+=(--public-url "$public_url")
  "${run_as[@]}" "$spoke" --data "$data" init "${args[@]}"
else
  step "Keeping the spoke already in $data"
fi

step "Starting it"
if [ "$systemd" -eq 1 ]; then
  sed "s#/usr/local/bin/spoke#$prefix/bin/spoke#; s#/var/lib/spoke#$data#g" "$repo/packaging/spoke.service" | as_root tee /etc/systemd/system/spoke.service >/dev/null
  as_root systemctl daemon-reload
  as_root systemctl enable --now spoke
  as_root systemctl restart spoke
else
  if [ -f "$data/spoke.pid" ] && kill -0 "$(cat "$data/spoke.pid")" 2>/dev/null; then
    kill "$(cat "$data/spoke.pid")"; sleep 1
  fi
  nohup "$spoke" --data "$data" run >>"$data/spoke.log" 2>&1 &
  echo $! >"$data/spoke.pid"
fi

step "Self-test"
ok=0
for _ in $(seq 1 30); do
  if "${run_as[@]}" "$spoke" --data "$data" self-test; then ok=1; break; fi
  sleep 1
done
if [ "$ok" -ne 1 ]; then
  echo "The spoke did not pass its self-test; see $( [ "$systemd" -eq 1 ] && echo 'journalctl -u spoke' || echo "$data/spoke.log")." >&2
  exit 1
fi

if [ -n "$join" ]; then
  step "Joining the council"
  "${run_as[@]}" "$spoke" --data "$data" council join "$join"
else
  step "Council invite"
  echo "Give this to the operator of another spoke; they run \`spoke council join TICKET\`:"
  "${run_as[@]}" "$spoke" --data "$data" council invite
fi
echo
echo "Admit a writer with:  $( [ "$systemd" -eq 1 ] && echo 'sudo -u spoke ' )$spoke --data $data invite"
