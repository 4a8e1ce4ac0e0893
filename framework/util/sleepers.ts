/** Sleeps that a shutdown can cut short: `sleep(ms)` resolves after `ms` or at `wakeAll()`, whichever is first. */
export class Sleepers {
  private readonly waiting = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiting.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.waiting.add(done);
    });
  }

  wakeAll(): void {
    for (const wake of this.waiting) wake();
  }
}
