#!/bin/sh
# One-time setup of a dev subnet on a fresh localnet, as in README's walkthrough: wallets, faucet, subnet 1
# (owner = uid 0), start_call, short epochs, the validator registered and staked. Miners register themselves
# (`subnet miner --register`). Run by docker-compose's `bootstrap` service and by test/deploy/deploy.test.ts.
# Needs BT_WALLET_PATH and SUBNET_CHAIN; SUBNET_CLI is the command that runs `subnet` (default: npx subnet).
set -eu
: "${BT_WALLET_PATH:?set BT_WALLET_PATH}" "${SUBNET_CHAIN:?set SUBNET_CHAIN}"
CLI="${SUBNET_CLI:-npx subnet}"
MARK="$BT_WALLET_PATH/.bootstrapped"
if [ -f "$MARK" ]; then
  echo "bootstrap: already done ($MARK)"
  exit 0
fi
for w in owner validator miner1 miner2; do
  [ -f "$BT_WALLET_PATH/$w/coldkey" ] || $CLI wallet create --name "$w" --no-password
done
# the faucet calls are independent: in parallel, each one's failure still stops the script (wait PID)
pids=""
for w in owner validator miner1 miner2; do
  $CLI faucet --name "$w" &
  pids="$pids $!"
done
for p in $pids; do wait "$p"; done
$CLI subnets create --name owner
$CLI subnets start --name owner --netuid 1
$CLI subnets set --name owner --netuid 1 tempo=20 commitRevealWeightsEnabled=false
$CLI register --name validator --netuid 1
$CLI stake add --name validator --netuid 1 --amount 500
touch "$MARK"
echo "bootstrap: subnet 1 ready"
