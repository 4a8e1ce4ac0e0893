/**
 * Validator-side stall detector. A timer that should fire every `periodMs` records how late it fired;
 * a task whose answers were awaited while this process was stalled (event loop blocked, or the process
 * descheduled on a loaded machine) cannot blame a miner for a timeout: the late answer may be ours.
 * One sampler per process, unref'd, started on first use.
 */
const periodMs = 50;
const keepMs = 120_000;
const samples: Array<{ at: number; lateMs: number }> = [];
let timer: NodeJS.Timeout | null = null;
let expected = 0;

function start(): void {
  if (timer) return;
  expected = Date.now() + periodMs;
  timer = setInterval(() => {
    const now = Date.now();
    const late = now - expected;
    expected = now + periodMs;
    if (late > 0) samples.push({ at: now, lateMs: late });
    while (samples.length > 0 && samples[0].at < now - keepMs) samples.shift();
  }, periodMs);
  timer.unref();
}

/** Start sampling (idempotent). */
export function watchStalls(): void {
  start();
}

/**
 * The longest stall of this process between `from` and `to` (ms since epoch). A stall that ended shortly
 * after `to` is counted too, since it delayed what was received before it ended.
 */
export function longestStallMs(from: number, to: number): number {
  let worst = 0;
  for (const s of samples) if (s.at >= from && s.at - s.lateMs <= to) worst = Math.max(worst, s.lateMs);
  return worst;
}
