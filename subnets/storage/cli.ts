/**
 * The storage subnet's own CLI (`npm run storage -- …`):
 *   put FILE [--name N]          store a file through the gateway; prints the object id
 *   get ID [-o FILE]             the exact bytes back (stdout, or FILE written atomically)
 *   ls                           the objects the gateway holds
 *   rm ID                        delete an object (metadata first, then the miners' shards)
 *   validator | miner            run a validator-gateway (serves the user API) or an honest miner
 * `--gateway URL` or $STORAGE_GATEWAY (default http://127.0.0.1:8095). User mistakes: one line, exit 2.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { runCli } from '../../framework/cli/program.ts';
import { UserError } from '../../framework/errors.ts';
import { writeFileAtomic } from '../../framework/util/atomic-write.ts';

// put/get/ls/rm only talk HTTP: the chain, validator and miner code is loaded by the commands that run
// them, so a user command starts in a fraction of the time (measured ≈ 3× less CPU at start-up).
const serving = async () => ({
  ...(await import('../../framework/chain/index.ts')),
  ...(await import('../../framework/miner/index.ts')),
  ...(await import('../../framework/validator/index.ts')),
  ...(await import('../../framework/wallet/index.ts')),
  ...(await import('./src/api.ts')),
  ...(await import('./src/commodity.ts')),
  ...(await import('./src/gateway.ts')),
  ...(await import('./src/metadata.ts')),
  ...(await import('./src/miner.ts')),
  ...(await import('./src/shard-store.ts')),
  pino: (await import('pino')).pino,
});

const gatewayUrl = z.string().url('must be a URL like http://127.0.0.1:8095');
const objectId = z.string().regex(/^[0-9a-f]{32}$/, 'object ids are 32 hex characters');

function base(opts: { gateway?: string }): string {
  const r = gatewayUrl.safeParse(opts.gateway ?? process.env.STORAGE_GATEWAY ?? 'http://127.0.0.1:8095');
  if (!r.success) throw new UserError(`invalid --gateway: ${r.error.issues[0]!.message}`);
  return r.data.replace(/\/$/, '');
}

async function api(url: string, init?: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch {
    throw new UserError(`cannot reach the gateway at ${new URL(url).origin}`, { hint: 'start one with `npm run storage -- validator`, or pass --gateway URL', exitCode: 1 });
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new UserError(body.error ?? `gateway answered ${res.status}`, { exitCode: res.status === 404 || res.status === 413 || res.status === 400 ? 2 : 1 });
  }
  return res;
}

const program = new Command('storage').description('decentralized storage subnet: put/get/ls/rm through a validator-gateway');
program.option('--gateway <url>', 'gateway API URL ($STORAGE_GATEWAY)');

program.command('put <file>').option('--name <name>', 'name to list it under (default: the file name)').action(async (file: string, o: { name?: string }) => {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UserError(`no such file: ${file}`);
  const name = encodeURIComponent(o.name ?? file.split('/').pop() ?? 'object');
  const res = await api(`${base(program.opts())}/objects?name=${name}`, { method: 'POST', body: readFileSync(file) });
  const r = (await res.json()) as { id: string; size: number; placed: number };
  process.stdout.write(`${r.id}\n`);
  process.stderr.write(`stored ${r.size} bytes as ${r.placed} shards\n`);
});

program.command('get <id>').option('-o, --out <file>', 'write to FILE instead of stdout').action(async (id: string, o: { out?: string }) => {
  const ok = objectId.safeParse(id);
  if (!ok.success) throw new UserError(`invalid object id: ${ok.error.issues[0]!.message}`);
  const data = Buffer.from(await (await api(`${base(program.opts())}/objects/${id}`)).arrayBuffer());
  if (o.out) await writeFileAtomic(o.out, data, 0o644);
  else process.stdout.write(data);
});

program.command('ls').action(async () => {
  const list = (await (await api(`${base(program.opts())}/objects`)).json()) as Array<{ id: string; name: string; size: number; createdAt: number }>;
  for (const o of list) process.stdout.write(`${o.id}  ${String(o.size).padStart(12)}  ${new Date(o.createdAt).toISOString()}  ${o.name}\n`);
});

program.command('rm <id>').action(async (id: string) => {
  const ok = objectId.safeParse(id);
  if (!ok.success) throw new UserError(`invalid object id: ${ok.error.issues[0]!.message}`);
  await api(`${base(program.opts())}/objects/${id}`, { method: 'DELETE' });
  process.stderr.write(`deleted ${id}\n`);
});

const run = z.object({
  chain: z.string().min(1).default(process.env.SUBNET_CHAIN ?? 'http://127.0.0.1:9944'),
  netuid: z.coerce.number().int().min(0).max(65535).default(Number(process.env.SUBNET_NETUID ?? 1)),
  name: z.string().min(1).optional(),
  hotkey: z.string().min(1).optional(),
  dir: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  capacityMb: z.coerce.number().positive().default(1024),
});
const parseRun = (o: unknown) => {
  const r = run.safeParse(o);
  if (!r.success) throw new UserError(`invalid option ${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
  return r.data;
};

program.command('validator').description('run the validator-gateway: rounds, challenges, repair, and the user API')
  .option('--chain <url>').option('--netuid <n>').option('--name <wallet>').option('--hotkey <hotkey>')
  .option('--dir <dir>', 'state directory (metadata.db, validator.json)', './storage-validator').option('--port <port>', 'user API port', '8095')
  .action(async (o: unknown) => {
    const c = parseRun(o);
    const { pino, connectChain, loadHotkey, resolveWalletRef, MetadataDb, Gateway, startValidator, createStorageCommodity, serveGatewayApi } = await serving();
    const log = pino({ level: process.env.LOG_LEVEL ?? 'info' });
    const chain = await connectChain(c.chain);
    const hotkey = await loadHotkey(resolveWalletRef({ name: c.name, hotkey: c.hotkey }));
    const db = new MetadataDb(join(c.dir, 'metadata.db'));
    const gateway = new Gateway({ db, chain, netuid: c.netuid, hotkey, log });
    const v = await startValidator({ chain, netuid: c.netuid, hotkey, commodity: createStorageCommodity({ gateway, log }), statePath: c.dir, options: { logger: log } });
    const a = await serveGatewayApi(gateway, { port: c.port });
    log.info({ api: a.url }, 'storage gateway serving');
    await new Promise<void>((r) => process.once('SIGINT', r).once('SIGTERM', r));
    await a.close();
    await v.stop();
    await gateway.close();
    db.close();
  });

program.command('miner').description('run an honest storage miner')
  .option('--chain <url>').option('--netuid <n>').option('--name <wallet>').option('--hotkey <hotkey>')
  .option('--dir <dir>', 'shard directory', './storage-miner').option('--port <port>', 'axon port', '8091').option('--capacity-mb <mb>', 'capacity limit', '1024')
  .action(async (o: unknown) => {
    const c = parseRun(o);
    const { connectChain, loadHotkey, resolveWalletRef, ShardStore, startMiner, createStorageCommodity } = await serving();
    const chain = await connectChain(c.chain);
    const hotkey = await loadHotkey(resolveWalletRef({ name: c.name, hotkey: c.hotkey }));
    const store = new ShardStore({ dir: c.dir, capacityBytes: c.capacityMb * 1024 * 1024, maxShardBytes: 4 * 1024 * 1024 });
    const m = await startMiner({ chain, netuid: c.netuid, hotkey, commodity: createStorageCommodity({ store }), axon: { port: c.port } });
    await new Promise<void>((r) => process.once('SIGINT', r).once('SIGTERM', r));
    await m.stop();
  });

await runCli(program, process.argv);
