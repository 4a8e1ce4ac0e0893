import { ChainError } from '../chain/types.ts';
import { formatTao } from './config.ts';

/** What a person can do about a chain rejection, by subtensor's error name. */
const HINTS: Record<string, string> = {
  NotEnoughBalanceToStake: 'the coldkey cannot pay this: check `subnet wallet balance`; on localnet top it up with `subnet faucet`',
  NotEnoughStakeToWithdraw: 'see what is staked with `subnet stake list`',
  CannotAffordLockCost: 'creating a subnet locks TAO: check `subnet wallet balance`; on localnet top it up with `subnet faucet`',
  HotKeyNotRegisteredInSubNet: 'register the hotkey first with `subnet register`',
  HotKeyAlreadyRegisteredInSubNet: 'nothing to do: see its uid with `subnet metagraph`',
  HotKeyAccountNotExists: 'the hotkey has never been registered anywhere: `subnet register` first',
  NonAssociatedColdKey: "this coldkey does not own the hotkey: use the hotkey's own wallet (--name)",
  NeuronNoValidatorPermit: 'only permit holders set weights: stake to the hotkey (`subnet stake add`) and wait for the next epoch',
  SettingWeightsTooFast: "the subnet's weightsSetRateLimit has not passed since this hotkey's last update (see `subnet subnets show`)",
  CommitRevealEnabled: 'this subnet takes weights by commit-reveal: `subnet weights commit`, then `subnet weights reveal`, or run `subnet validator`',
  SubnetNotExists: 'list the subnets with `subnet subnets list`',
  BadOrigin: 'this signer may not do this: a coldkey call needs the coldkey; on subtensor, hyperparameters that are not owner-settable need root (dev chains: `subnet subnets set --as-sudo` with the sudo key\'s wallet)',
  RequireSudo: 'this needs the chain\'s sudo key: on a dev chain `--as-sudo` with the sudo key\'s wallet',
  NotSubnetOwner: "only the subnet owner's coldkey may do this (--name of the owner wallet)",
  ServingRateLimitExceeded: "the subnet's servingRateLimit blocks must pass between two serve_axon calls",
  InvalidIpAddress: 'announce an IP address other miners and validators can reach (--external-ip)',
  NoNeuronIdAvailable: 'the subnet is full and nobody can be pruned yet (immunity period)',
};

/** `… 170776203 RAO` in a chain message → `… 0.170776203 TAO`, as every other amount the CLI prints. */
export function raoToTaoInText(message: string): string {
  return message.replace(/\b(\d+) RAO\b/g, (_m, rao: string) => `${formatTao(BigInt(rao))} TAO`);
}

export function describeChainError(e: ChainError): { message: string; hint?: string } {
  return { message: raoToTaoInText(e.message), hint: HINTS[e.code] };
}
