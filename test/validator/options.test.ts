import { afterEach, describe, expect, it } from 'vitest';
import { startValidator } from '../../framework/validator/index.ts';
import { keypairFromUri } from '../../framework/wallet/keypair.ts';
import { squareCommodity } from './commodities.ts';
import { makeNet, type TestNet } from './support.ts';

let net: TestNet | null = null;
afterEach(async () => {
  await net?.chain.close();
  net = null;
});

describe('startValidator option checks', () => {
  it('rejects bad options with a one-line UserError before touching the chain', async () => {
    net = await makeNet({ miners: 0, tag: 'opts' });
    const base = { chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: squareCommodity(), statePath: net.dir };
    await expect(startValidator({ ...base, options: { alpha: 0 } })).rejects.toThrow(/validator options: alpha/);
    await expect(startValidator({ ...base, options: { concurrency: 0 } })).rejects.toThrow(/concurrency/);
    // a JS caller can pass any string; the runtime check names the option
    await expect(startValidator({ ...base, options: { weightsSemantics: 'v12' as 'v10' } })).rejects.toThrow(/weightsSemantics/);
    await expect(startValidator({ ...base, netuid: 77 })).rejects.toThrow(/subnet 77 does not exist/);
    await expect(startValidator({ ...base, hotkey: keypairFromUri('//Nobody') })).rejects.toThrow(/not registered on subnet/);
  });
});
