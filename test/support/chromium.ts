import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

/** Debian's chromium, driven by playwright-core (which downloads no browser of its own). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
const MISSING = `chromium is not installed at ${CHROMIUM}; the browser tests need it (apt-get install chromium)`;

/** Under CI a missing browser is a failure; elsewhere a loud skip. Returns whether to run. */
export function requireChromium(suite: string): boolean {
  if (hasChromium) return true;
  if (process.env.CI === 'true') {
    describe(suite, () => {
      it('requires chromium under CI', () => {
        throw new Error(MISSING);
      });
    });
  } else {
    process.stderr.write(`\n*** SKIPPED ${suite}: ${MISSING} ***\n\n`);
  }
  return false;
}

/** Flags for a closed network: no background requests, no sandbox (root), no GPU. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage',
];
