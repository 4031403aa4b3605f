#!/bin/sh
# Container entry point: makes the data folder on first start, then runs the spoke.
# SPOKE_NAME, SPOKE_PUBLIC_ADDR (ip:port for tickets) and SPOKE_PUBLIC_URL are read once.
set -eu
data="${SPOKE_DATA:-/var/lib/spoke}"
if [ ! -f "$data/config.toml" ]; then
  set -- --name "${SPOKE_NAME:-A Spokes spoke}" --http 0.0.0.0:8080 --p2p 0.0.0.0:7080
  [ -n "${SPOKE_PUBLIC_ADDR:-}" ] && set -- "$@" --public-addr "$SPOKE_PUBLIC_ADDR"
  [ -n "${SPOKE_PUBLIC_URL:-}" ] && set -- "$@" --public-url "$SPOKE_PUBLIC_URL"
  spoke --data "$data" init "$@"
fi
exec spoke --data "$data" run
