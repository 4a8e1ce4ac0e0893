import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../framework/errors.ts';
import { startValidator } from '../../framework/validator/index.ts';
import { squareCommodity } from './commodities.ts';
import { makeNet, type TestNet } from './support.ts';

let net: TestNet | null = null;
afterEach(async () => {
  await net?.chain.close();
  net = null;
});

describe('validator start-up file problems (issue 9 #10)', () => {
  it('each is one clear UserError line (exit 2 from the CLI), never an internal error', async () => {
    net = await makeNet({ miners: 0, tag: 'files' });
    const base = { chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: squareCommodity() };
    const cases: Array<[string, () => string, RegExp]> = [
      ['validator.json is a directory', () => { const d = join(net!.dir, 'a'); mkdirSync(join(d, 'validator.json'), { recursive: true }); return d; }, /validator state file .*validator\.json is a directory, not a file/],
      ['the state dir is a file', () => { const f = join(net!.dir, 'b'); writeFileSync(f, 'x'); return f; }, /validator state file .*validator\.json has a path component that is a file, not a directory/],
      ['pending.json is a directory', () => { const d = join(net!.dir, 'c'); mkdirSync(join(d, 'pending.json'), { recursive: true }); return d; }, /pending task file .*pending\.json is a directory, not a file/],
    ];
    for (const [what, make, expected] of cases) {
      const err = await startValidator({ ...base, statePath: make() }).then(
        (h) => h.stop().then(() => new Error('started')),
        (e: unknown) => e,
      );
      console.log(`${what}: ${(err as Error).message}`);
      expect(err, what).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(2);
      expect((err as Error).message).toMatch(expected);
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
