#!/bin/sh
# Render the server config with the PostgreSQL password and the transit token (kept in
# the container, never in the repository), then run the server.
set -eu
umask 077
sed -e "s|@PG_PASSWORD@|${LAB_PG_PASSWORD}|" -e "s|@TRANSIT_TOKEN@|$(cat /keys/transit-token)|" \
  /srv/lab/config/server.hcl.in > /tmp/server.hcl
exec lab-server server -config=/tmp/server.hcl
