import type { Metagraph } from '../../chain/types.ts';
import { renderMetagraph } from './metagraph-view.ts';
import { openChain, requireSubnet } from './shared.ts';

/**
 * `subnet metagraph --watch`: redraw the table on every block. On a terminal the screen is cleared and
 * a status line says what is happening (including a chain that stopped answering); piped, each table
 * is printed after the previous one.
 */
export async function watchMetagraph(spec: string, netuid: number, mechid = 0): Promise<void> {
  const chain = await openChain(spec);
  await requireSubnet(chain, netuid);
  const tty = process.stdout.isTTY === true;
  let reading = false;
  let last: Metagraph | null = null;
  let lastAt = Date.now();
  const draw = (status: string) => {
    if (!last) return;
    const table = renderMetagraph(last, mechid);
    process.stdout.write(tty ? `\x1b[H\x1b[2J${table}\n\n${status}\n` : `${table}\n${status}\n\n`);
  };
  const refresh = async () => {
    if (reading) return; // a slow read must not pile up behind fast blocks
    reading = true;
    try {
      last = await chain.getMetagraph(netuid, mechid ? { mechid } : undefined);
      lastAt = Date.now();
      draw(`watching subnet ${netuid} · block ${last.block} · refreshed every block · Ctrl-C to stop`);
    } catch (e) {
      draw(`chain not answering since ${Math.round((Date.now() - lastAt) / 1000)} s (${(e as Error).message}); retrying every block · Ctrl-C to stop`);
    } finally {
      reading = false;
    }
  };
  await refresh();
  const unsubscribe = chain.subscribeBlocks(() => void refresh());
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      unsubscribe();
      void chain.close().finally(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
