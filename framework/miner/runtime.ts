import { watchForStalls } from '../chain/stall-watch.ts';
import type { Logger } from 'pino';
import { loggerFromEnv } from '../util/log.ts';
import type { Registry } from 'prom-client';
import { createAxon, makeBlacklist } from '../axon/index.ts';
import type { Axon, AxonOptions, BlacklistPolicy, CallerInfoProvider, HandlerContext } from '../axon/types.ts';
import { metagraphCallerProvider } from '../chain/metagraph-provider.ts';
import { ChainError, isDevChain, type Chain } from '../chain/types.ts';
import type { Commodity, MinerSide } from '../commodity/define.ts';
import { UserError } from '../errors.ts';
import { serveMetrics, type MetricsServer, type ServeMetricsOptions } from '../metrics/index.ts';
import { cryptoReady, type Keypair } from '../wallet/keypair.ts';

export interface MinerAxonConfig {
  /** Bind address (default 0.0.0.0). */
  host?: string;
  /** Bind port (0 = ephemeral). */
  port?: number;
  /** Address announced on chain (required behind NAT/containers). */
  externalIp?: string;
  externalPort?: number;
}

export interface StartMinerParams<C extends Commodity> {
  chain: Chain;
  netuid: number;
  hotkey: Keypair;
  /** Needed only to register. */
  coldkey?: Keypair;
  commodity: C;
  axon: MinerAxonConfig;
  /** Register the hotkey if it is not yet (dev chains only: funded from the faucet). */
  register?: boolean;
  /** Overrides `commodity.miner` (e.g. a different strategy for the same commodity). */
  miner?: MinerSide<Record<string, unknown>, Record<string, unknown>>;
  /** Axon-wide caller policy (default: registered callers only). */
  blacklist?: BlacklistPolicy;
  /** Anything else to pass to createAxon (admission, rate limit, …). */
  axonOptions?: Partial<Omit<AxonOptions, 'keypair' | 'callers'>>;
  /** Source of caller registration/stake; default metagraphCallerProvider(chain, netuid). */
  callers?: CallerInfoProvider & { close?: () => void | Promise<void> };
  logger?: Logger;
  metricsRegistry?: Registry;
  /**
   * Serve the axon's metrics on their own port (bind 127.0.0.1 unless `host` says otherwise). Without it the
   * registry is only on `handle.axon.metrics`, and on the axon port if `axonOptions.metricsAllow` names peers.
   */
  metrics?: ServeMetricsOptions;
  /** Check every N blocks that the hotkey still holds its uid (default 10). */
  registrationCheckBlocks?: number;
  /** Say once when no block has arrived for this long, and again when blocks resume (ms; default 60 000). */
  chainStallMs?: number;
  /** Called once when the hotkey lost its uid (pruned: `now` null) or holds another one. */
  onDeregistered?: (change: { uid: number; now: number | null }) => void;
}

export interface MinerHandle {
  readonly uid: number;
  /** False once the registration check found that the hotkey lost its uid. */
  readonly registered: boolean;
  readonly axon: Axon;
  /** Bound port. */
  readonly port: number;
  /** Port of the separate metrics server (null without `metrics`). */
  readonly metricsPort: number | null;
  stop(): Promise<void>;
}

async function ensureRegistered(p: StartMinerParams<Commodity>, log: Logger): Promise<number> {
  const { chain, netuid, hotkey } = p;
  if (!(await chain.subnetExists(netuid))) {
    throw new UserError(`subnet ${netuid} does not exist`, { hint: 'check --netuid, or create it with `subnet subnets create`' });
  }
  const uid = await chain.getUid(netuid, hotkey.ss58Address);
  if (uid !== null) return uid;
  if (!p.register) {
    throw new UserError(`hotkey ${hotkey.ss58Address} is not registered on subnet ${netuid}`, {
      hint: isDevChain(chain) ? 'pass --register to register it from the dev faucet' : 'register it first with a funded coldkey (burned register)',
    });
  }
  if (!isDevChain(chain)) {
    throw new UserError(`automatic registration is only available on a dev chain (this is '${chain.kind}')`, {
      hint: 'register the hotkey yourself with a funded coldkey (burned register), then start the miner',
    });
  }
  if (!p.coldkey) throw new UserError('registering needs a coldkey', { hint: 'pass the wallet name so its coldkey can pay the burn' });
  const hyper = await chain.getHyperparameters(netuid);
  const balance = await chain.getBalance(p.coldkey.ss58Address);
  const need = hyper.burn + 1_000_000_000n; // burn plus a fee margin
  if (balance < need) await chain.faucet(p.coldkey.ss58Address, need - balance);
  const registered = await chain.burnedRegister(p.coldkey, netuid, hotkey.ss58Address);
  log.info({ uid: registered }, 'registered on the dev chain');
  return registered;
}

/**
 * Start a miner: make sure the hotkey is registered, run an axon with the commodity's handler behind
 * the metagraph-backed blacklist and stake priority, and announce it on chain (serve_axon). The caller
 * owns signal handling and calls stop() on SIGTERM/SIGINT.
 */
export async function startMiner<C extends Commodity>(params: StartMinerParams<C>): Promise<MinerHandle> {
  const p = params as unknown as StartMinerParams<Commodity>;
  await cryptoReady();
  const log = (p.logger ?? loggerFromEnv()).child({ role: 'miner', netuid: p.netuid });
  const side = p.miner ?? p.commodity.miner;
  if (!side) throw new UserError(`commodity ${p.commodity.name} has no miner handler`, { hint: 'define `miner.handle` in the commodity or pass `miner`' });
  const uid = await ensureRegistered(p, log);

  const callers =
    p.callers ?? (await metagraphCallerProvider(p.chain, p.netuid, { onError: (e) => log.warn({ err: e.message }, 'metagraph refresh failed; keeping the last snapshot') }));
  const policy = p.blacklist ?? {};
  const base = makeBlacklist(policy);
  const axon: Axon = createAxon({
    ...p.axonOptions,
    keypair: p.hotkey,
    callers,
    host: p.axon.host,
    port: p.axon.port,
    externalIp: p.axon.externalIp,
    externalPort: p.axon.externalPort,
    blacklist: policy,
    logger: p.axonOptions?.logger ?? log,
    metricsRegistry: p.metricsRegistry,
  });
  // A per-synapse blacklist replaces the axon-wide one, so the registration policy runs first here.
  const blacklist = side.blacklist
    ? async (ctx: HandlerContext) => base(ctx.caller.hotkey, callers.lookup(ctx.caller.hotkey)) ?? (await side.blacklist!(ctx))
    : undefined;
  axon.attach(p.commodity.synapse, (request, ctx) => side.handle(request as Record<string, unknown>, ctx) as never, {
    blacklist,
    priority: side.priority ? (ctx) => side.priority!(ctx) : undefined,
    // btauth/1 route and deadline (the v10 wire keeps /<name> and the caller's timeout header)
    path: p.commodity.wire.path,
    timeoutMs: p.commodity.timeoutMs,
    streamFraming: p.commodity.streamFraming,
  });
  await axon.start();
  let metricsServer: MetricsServer | null = null;
  try {
    if (p.metrics) metricsServer = await serveMetrics(axon.metrics, p.metrics);
  } catch (e) {
    await axon.stop();
    await callers.close?.();
    throw e;
  }
  if (metricsServer) log.info({ host: p.metrics?.host ?? '127.0.0.1', port: metricsServer.port }, 'metrics on /metrics');

  const info = axon.info();
  try {
    const mg = await p.chain.getMetagraph(p.netuid);
    const current = mg.axons[uid];
    // serve_axon is rate limited: only announce when something changed
    if (!current || current.ip !== info.ip || current.port !== info.port || current.version !== info.version || current.protocol !== info.protocol) {
      await p.chain.serveAxon(p.hotkey, p.netuid, info);
      log.info({ ip: info.ip, port: info.port }, 'axon announced on chain');
    }
  } catch (e) {
    if (e instanceof ChainError && e.code === 'ServingRateLimitExceeded') log.warn('serve_axon rate limited; keeping the previous announcement');
    else {
      await metricsServer?.close();
      await axon.stop();
      await callers.close?.();
      throw e;
    }
  }
  log.info({ uid, port: axon.port }, 'miner started');

  // A full subnet prunes its weakest uid: notice when our hotkey lost its uid instead of serving silently.
  let registered = true;
  let checking = false;
  const every = Math.max(1, p.registrationCheckBlocks ?? 10);
  const stalls = watchForStalls(p.chainStallMs ?? 60_000, log, 'the axon keeps serving on the last metagraph snapshot');
  const unsubscribe = p.chain.subscribeBlocks((b) => {
    stalls.beat(b.number);
    if (!registered || checking || b.number % every !== 0) return;
    checking = true;
    p.chain
      .getUid(p.netuid, p.hotkey.ss58Address)
      .then((now) => {
        if (now === uid) return;
        registered = false;
        log.error({ uid, now }, now === null ? 'hotkey is no longer registered (pruned); validators will stop querying this miner' : `hotkey moved from uid ${uid} to ${now}`);
        p.onDeregistered?.({ uid, now });
      })
      .catch((e: unknown) => log.warn({ err: e instanceof Error ? e.message : String(e) }, 'registration check failed; retrying later'))
      .finally(() => {
        checking = false;
      });
  });

  let stopped = false;
  return {
    uid,
    axon,
    port: axon.port,
    metricsPort: metricsServer?.port ?? null,
    get registered() {
      return registered;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      stalls.stop();
      await metricsServer?.close();
      await axon.stop();
      await callers.close?.();
      log.info('miner stopped');
    },
  };
}
