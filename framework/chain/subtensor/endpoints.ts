/**
 * Network names as the bittensor SDK spells them (`bittensor/core/settings.py`). `local` is not here:
 * in subnetkit it means the embedded LocalChain; the SDK's `local` is ws://127.0.0.1:9944.
 */
export const SUBTENSOR_NETWORKS = {
  finney: 'wss://entrypoint-finney.opentensor.ai:443',
  test: 'wss://test.finney.opentensor.ai:443',
  archive: 'wss://archive.chain.opentensor.ai:443',
} as const;

export type SubtensorNetwork = keyof typeof SUBTENSOR_NETWORKS;

export function networkEndpoint(name: string): string | null {
  const key = name.trim().toLowerCase();
  return key in SUBTENSOR_NETWORKS ? SUBTENSOR_NETWORKS[key as SubtensorNetwork] : null;
}
