import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../framework/chain/local-chain.ts';
import { LocalnetClient } from '../../framework/chain/localnet-client.ts';
import { startLocalnetServer, type LocalnetServer } from '../../framework/chain/localnet-server.ts';
import { mountExplorer, startExplorer, type ExplorerServer } from '../../framework/explorer/index.ts';
import { cryptoReady, keypairFromUri } from '../../framework/wallet/keypair.ts';
import { CHROMIUM, CHROMIUM_ARGS, requireChromium } from '../support/chromium.ts';

const SHOTS = join(process.cwd(), '.tmp', 'screenshots');
const TEMPO = 5;
const MINERS = 4;

const run = requireChromium('explorer in a real browser');

describe.runIf(run)('explorer in a real browser', () => {
  let chain: LocalChain;
  let localnet: LocalnetServer;
  let client: LocalnetClient;
  let standalone: ExplorerServer;
  let browser: Browser;
  let page: Page;
  let netuid: number;

  beforeAll(async () => {
    await cryptoReady();
    chain = await LocalChain.create({ blockTimeMs: 0, genesisSeed: 'explorer' });
    const alice = keypairFromUri('//Alice');
    const bob = keypairFromUri('//Bob');
    const ownerHot = keypairFromUri('//Alice//owner');
    netuid = await chain.registerNetwork(alice, ownerHot.ss58Address, { tempo: TEMPO, commitRevealWeightsEnabled: false, weightsSetRateLimit: 0 });
    await chain.startCall(alice, netuid);
    await chain.registerNetwork(bob, keypairFromUri('//Bob//owner').ss58Address); // a second subnet for the list
    for (let i = 1; i <= MINERS; i++) await chain.burnedRegister(bob, netuid, keypairFromUri(`//Bob//m${i}`).ss58Address);
    await chain.produceBlocks(1);
    // weights proportional to uid: incentive must come out ordered the same way
    await chain.setWeights(ownerHot, netuid, [1, 2, 3, 4], [16384, 32768, 49151, 65535], 0n);
    await chain.produceBlocks(2 * TEMPO);
    localnet = await startLocalnetServer({ chain, port: 0, mount: (app) => mountExplorer(app, { chain }) });
    client = await LocalnetClient.connect(localnet.url);
    standalone = await startExplorer({ chain: client, port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    mkdirSync(SHOTS, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await standalone?.close();
    await client?.close();
    await localnet?.close();
    await chain?.close();
  });

  it('lists the subnets with their neuron counts (localnet serves it at /)', async () => {
    await page.goto(`${localnet.url}/`);
    await page.waitForSelector('#subnets tbody tr[data-netuid]');
    const rows = await page.$$eval('#subnets tbody tr[data-netuid]', (trs) => trs.map((tr) => [tr.getAttribute('data-netuid'), tr.querySelector('.n')?.textContent]));
    const netuids = await chain.listSubnets();
    expect(rows.map((r) => Number(r[0]))).toEqual(netuids);
    const mg = await chain.getMetagraph(netuid);
    const hp = await chain.getHyperparameters(netuid);
    expect(rows.find((r) => Number(r[0]) === netuid)?.[1]).toBe(`${mg.n} / ${hp.maxAllowedUids}`);
    await page.screenshot({ path: join(SHOTS, 'explorer-subnets.png') });
  });

  it("shows a subnet's metagraph as the chain holds it, sortable, with the weights heatmap", async () => {
    await page.click(`#subnets a[href="#/subnet/${netuid}"]`);
    await page.waitForSelector('#metagraph tbody tr');
    const mg = await chain.getMetagraph(netuid);
    const cells = await page.$$eval('#metagraph tbody tr', (trs) =>
      trs.map((tr) => {
        const tds = [...tr.querySelectorAll('td')];
        return { uid: Number(tr.getAttribute('data-uid')), hotkey: tds[1]?.getAttribute('data-hotkey'), coldkey: tds[2]?.getAttribute('data-coldkey'), incentive: tds[6]?.textContent, dividends: tds[7]?.textContent };
      }),
    );
    expect(cells).toHaveLength(mg.n);
    for (const c of cells) {
      expect(c.hotkey).toBe(mg.hotkeys[c.uid]);
      expect(c.coldkey).toBe(mg.coldkeys[c.uid]);
      expect(c.incentive).toBe((mg.incentive[c.uid]! / 65535).toFixed(4));
      expect(c.dividends).toBe((mg.dividends[c.uid]! / 65535).toFixed(4));
    }
    expect(mg.incentive[4]).toBeGreaterThan(mg.incentive[1]!); // the chain really ran epochs

    // sort by incentive (descending first): uid 4 holds the most
    await page.click('#metagraph th[data-key="incentive"]');
    await page.waitForSelector('#metagraph th.sorted[data-key="incentive"]');
    const order = await page.$$eval('#metagraph tbody tr', (trs) => trs.map((tr) => Number(tr.getAttribute('data-uid'))));
    const expected = [...mg.incentive.keys()].sort((a, b) => mg.incentive[b]! - mg.incentive[a]! || a - b);
    expect(order).toEqual(expected);

    // heatmap: the owner's row, normalised to sum 1
    const row = await chain.getWeights(netuid, 0);
    const total = row.reduce((a, [, v]) => a + v, 0);
    const shown = await page.$$eval('#weights tr[data-uid="0"] td[data-dest]', (tds) => tds.map((td) => [Number(td.getAttribute('data-dest')), Number(td.getAttribute('data-w'))]));
    expect(shown).toHaveLength(mg.n);
    for (const [dest, v] of row) expect(shown[dest]![1]).toBeCloseTo(v / total, 5);
    await page.screenshot({ path: join(SHOTS, 'explorer-metagraph.png'), fullPage: true });
  });

  it('updates live over WebSocket as blocks arrive', async () => {
    await page.waitForSelector('#live.on');
    const head = await chain.produceBlocks(3);
    await page.waitForFunction(`document.getElementById('block')?.textContent === '${head.number}'`, undefined, { timeout: 10_000 });
    // the table re-reads too: its heading names the new block
    await page.waitForFunction(`document.querySelector('h2')?.textContent?.includes('block ${head.number}')`, undefined, { timeout: 10_000 });
  });

  it('charts a uid over blocks', async () => {
    await page.goto(`${localnet.url}/#/subnet/${netuid}/uid/4`);
    await chain.produceBlocks(TEMPO);
    await page.waitForFunction(`Number((/(\\d+) samples/.exec(document.getElementById('uid-summary')?.textContent ?? '') ?? [])[1] ?? 0) >= 3`, undefined, { timeout: 15_000 });
    expect(await page.$$eval('.chart canvas', (c) => c.length)).toBe(4);
    const mg = await chain.getMetagraph(netuid);
    expect(await page.textContent('#uid-hotkey')).toBe(mg.hotkeys[4]);
    await page.screenshot({ path: join(SHOTS, 'explorer-uid.png'), fullPage: true });
  });

  it('serves any chain alone (`subnet explorer`): same subnets through the localnet client', async () => {
    await page.goto(`${standalone.url}/`);
    await page.waitForSelector('#subnets tbody tr[data-netuid]');
    expect(await page.textContent('#chain-kind')).toBe('localnet');
    const netuids = await page.$$eval('#subnets tbody tr[data-netuid]', (trs) => trs.map((tr) => Number(tr.getAttribute('data-netuid'))));
    expect(netuids).toEqual(await chain.listSubnets());
  });

  it('answers bad paths with 400/404 JSON, not a crash', async () => {
    const bad = await fetch(`${standalone.url}/api/explorer/subnets/abc`);
    expect(bad.status).toBe(400);
    const missing = await fetch(`${standalone.url}/api/explorer/subnets/999`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('SubnetNotExists');
    expect((await fetch(`${standalone.url}/api/explorer/subnets`)).status).toBe(200);
  });
});
