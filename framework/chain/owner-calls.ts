import { ChainError } from './types.ts';
import type { ChainState } from './state.ts';
import type { ChainCall, ChainEvent } from './codec.ts';
import { getSubnet } from './state-ops.ts';
import { checkMechanismParams, mechanismCount, resizeMechanisms } from './mechanisms.ts';
import { ensureAdminWindowOpen, ensureOwnerRateLimit, setTempo, startCall, triggerEpoch } from './schedule.ts';

type OwnerCall = Extract<ChainCall, { call: 'startCall' | 'setTempo' | 'triggerEpoch' | 'setMechanismCount' | 'setMechanismEmissionSplit' }>;

/**
 * The subnet owner's 2026 calls, with subtensor's checks in its order: `start_call`, `set_tempo`,
 * `trigger_epoch`, and AdminUtils' `sudo_set_mechanism_count` / `sudo_set_mechanism_emission_split`
 * as the owner calls them (freeze window and per-owner rate limit; the dev-chain sudo path is
 * `setHyperparameters`). Every check runs before the first write.
 */
export function applyOwnerCall(state: ChainState, origin: string, call: OwnerCall, block: number): { result: number | null; events: ChainEvent[] } {
  const subnet = getSubnet(state, call.args.netuid);
  if (subnet.ownerColdkey !== origin) throw new ChainError('NotSubnetOwner');
  const netuid = subnet.netuid;
  switch (call.call) {
    case 'startCall': {
      const first = startCall(subnet, block, state.startCallDelay);
      return { result: null, events: [{ name: 'FirstEmissionBlockNumberSet', block, netuid, data: { firstEmissionBlock: first } }] };
    }
    case 'setTempo': {
      setTempo(subnet, call.args.tempo, block);
      return { result: null, events: [{ name: 'TempoSet', block, netuid, data: { tempo: call.args.tempo } }] };
    }
    case 'triggerEpoch': {
      const firesAt = triggerEpoch(subnet, block);
      return { result: null, events: [{ name: 'EpochTriggered', block, netuid, data: { firesAt } }] };
    }
    case 'setMechanismCount': {
      ensureOwnerRateLimit(subnet, 'setMechanismCount', block);
      ensureAdminWindowOpen(subnet, block);
      const previous = mechanismCount(subnet.hp);
      const next = { ...subnet.hp, mechanismCount: call.args.count };
      if (previous !== call.args.count) delete next.mechanismEmissionSplit; // a count change resets the split to even
      checkMechanismParams(next);
      subnet.hp = next;
      resizeMechanisms(subnet, previous);
      subnet.ownerLastBlock.setMechanismCount = block;
      return { result: null, events: [{ name: 'MechanismCountSet', block, netuid, data: { count: call.args.count } }] };
    }
    case 'setMechanismEmissionSplit': {
      ensureOwnerRateLimit(subnet, 'setMechanismEmissionSplit', block);
      ensureAdminWindowOpen(subnet, block);
      const next = { ...subnet.hp };
      if (call.args.split === null) delete next.mechanismEmissionSplit;
      else next.mechanismEmissionSplit = [...call.args.split];
      checkMechanismParams(next);
      subnet.hp = next;
      subnet.ownerLastBlock.setMechanismEmissionSplit = block;
      return { result: null, events: [{ name: 'MechanismEmissionSplitSet', block, netuid, data: { split: call.args.split?.join(',') ?? 'even' } }] };
    }
  }
}
