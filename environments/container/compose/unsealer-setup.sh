#!/bin/sh
# Initialise (once) and unseal the transit unsealer; leave a transit token for the server.
set -eu
umask 077
i=0
until lab-server status >/dev/null 2>&1 || [ $? -eq 2 ]; do  # 2 = sealed, still answering
  i=$((i + 1)); [ $i -gt 60 ] && { echo "unsealer did not answer" >&2; exit 1; }; sleep 1
done
if [ ! -s /keys/unsealer-init.txt ]; then
  lab-server operator init -key-shares=1 -key-threshold=1 > /keys/unsealer-init.txt
fi
KEY=$(sed -n 's/^Unseal Key 1: //p' /keys/unsealer-init.txt)
ROOT=$(sed -n 's/^Initial Root Token: //p' /keys/unsealer-init.txt)
lab-server operator unseal "$KEY" >/dev/null
export BAO_TOKEN="$ROOT" VAULT_TOKEN="$ROOT"
i=0
until lab-server secrets list >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -gt 60 ] && { echo "unsealer did not become active" >&2; exit 1; }; sleep 1
done
lab-server secrets list | grep -q '^transit/' || lab-server secrets enable transit
lab-server read transit/keys/autounseal >/dev/null 2>&1 || lab-server write -f transit/keys/autounseal
printf 'path "transit/encrypt/autounseal" { capabilities = ["update"] }\npath "transit/decrypt/autounseal" { capabilities = ["update"] }\n' \
  | lab-server policy write autounseal -
lab-server token create -policy=autounseal -orphan -period=24h -field=token > /keys/transit-token
echo "unsealer ready"
