/**
 * @polkadot/api's loggers print their own lines to stderr (e.g. `2026-12-02 04:10:00 RPC-CORE: submitExtrinsic(…)
 * :: 1010: Invalid Transaction`) before the same failure reaches our code, which reports it as one line with a
 * hint. On the CLI those lines are noise ahead of the real message, so the CLI drops them unless
 * SUBNET_POLKADOT_LOG=1 asks for them (debugging the node connection).
 */
type ConsoleMethod = (...args: unknown[]) => void;

const DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const TAG = /^ *[A-Z0-9/_-]+:$/; // padded to a fixed width

/** A call shaped like @polkadot/util's logger: console.x(formatDate(now), 'TAG:', …). */
export function isPolkadotLogLine(args: readonly unknown[]): boolean {
  return args.length >= 2 && typeof args[0] === 'string' && DATE.test(args[0]) && typeof args[1] === 'string' && TAG.test(args[1]);
}

/** Filters @polkadot logger lines out of console.error/warn/log; returns a function that restores them. */
let installed = false;

export function quietPolkadotLogs(env: NodeJS.ProcessEnv = process.env): () => void {
  if (env.SUBNET_POLKADOT_LOG === '1' || installed) return () => {};
  installed = true;
  const saved: Array<[keyof Console & ('error' | 'warn' | 'log'), ConsoleMethod]> = [];
  for (const name of ['error', 'warn', 'log'] as const) {
    const original = console[name] as ConsoleMethod;
    saved.push([name, original]);
    console[name] = ((...args: unknown[]) => {
      if (!isPolkadotLogLine(args)) original.apply(console, args);
    }) as Console[typeof name];
  }
  return () => {
    for (const [name, original] of saved) console[name] = original as Console[typeof name];
    installed = false;
  };
}
