import Database from 'better-sqlite3';
import { pendingTaskSchema, type PendingStore, type PendingTask, type ResolveAt } from './pending.ts';

/**
 * Pending tasks in one SQLite file (better-sqlite3, WAL): every add/complete/reschedule is one small
 * transaction, so a completion costs O(log n) instead of rewriting the whole queue as
 * `FilePendingStore` does (O(n) per change, O(n²) to drain a backlog). `due()` reads an index on the
 * readiness columns. Durability: WAL with `synchronous=NORMAL` survives a killed process (the data is
 * in the OS before the call returns); only a power loss can drop the last transactions, never corrupt
 * the file. Rows that fail the task schema on the way out are deleted (a stored task is not trusted).
 */
export class SqlitePendingStore implements PendingStore {
  private readonly db: Database.Database;
  private readonly put: Database.Statement;
  private readonly del: Database.Statement;
  private readonly get: Database.Statement;
  private readonly move: Database.Statement;
  private readonly dueStmt: Database.Statement;
  private readonly count: Database.Statement;
  private closed = false;

  private constructor(readonly path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS pending (
      id TEXT PRIMARY KEY, created_at REAL NOT NULL, due_block INTEGER, due_time REAL, body TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS pending_created ON pending (created_at)`);
    this.put = this.db.prepare('INSERT OR REPLACE INTO pending (id, created_at, due_block, due_time, body) VALUES (?, ?, ?, ?, ?)');
    this.del = this.db.prepare('DELETE FROM pending WHERE id = ?');
    this.get = this.db.prepare('SELECT body FROM pending WHERE id = ?');
    this.move = this.db.prepare('UPDATE pending SET due_block = ?, due_time = ?, body = ? WHERE id = ?');
    this.dueStmt = this.db.prepare(
      'SELECT id, body FROM pending WHERE (due_block IS NULL OR due_block <= ?) AND (due_time IS NULL OR due_time <= ?) ORDER BY created_at LIMIT ?',
    );
    this.count = this.db.prepare('SELECT COUNT(*) AS n FROM pending');
  }

  static async open(path: string): Promise<SqlitePendingStore> {
    return new SqlitePendingStore(path);
  }

  async add(task: PendingTask): Promise<void> {
    const t = pendingTaskSchema.parse(task);
    this.put.run(t.id, t.createdAt, t.resolveAt.block ?? null, t.resolveAt.time ?? null, JSON.stringify(t));
  }

  async due(block: number, now: number, limit = Infinity): Promise<PendingTask[]> {
    const rows = this.dueStmt.all(block, now, Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : -1) as Array<{ id: string; body: string }>;
    const out: PendingTask[] = [];
    for (const r of rows) {
      const t = this.parse(r.body);
      if (t) out.push(t);
      else this.del.run(r.id);
    }
    return out;
  }

  private parse(body: string): PendingTask | null {
    try {
      const r = pendingTaskSchema.safeParse(JSON.parse(body));
      return r.success ? r.data : null;
    } catch {
      return null;
    }
  }

  async complete(id: string): Promise<void> {
    this.del.run(id);
  }

  async reschedule(id: string, resolveAt: ResolveAt, attempts: number): Promise<void> {
    const row = this.get.get(id) as { body: string } | undefined;
    const t = row ? this.parse(row.body) : null;
    if (!t) return;
    const next = { ...t, resolveAt, attempts };
    this.move.run(resolveAt.block ?? null, resolveAt.time ?? null, JSON.stringify(next), id);
  }

  async size(): Promise<number> {
    return (this.count.get() as { n: number }).n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
