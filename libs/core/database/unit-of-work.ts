import { type DataSource, type EntityManager } from 'typeorm';

/**
 * A database transaction that is still open, and what to do once it has committed. Work that
 * others must be told of (a wake-up of the outbox relay) is told only after the commit: told
 * earlier, a worker could look before the rows are visible.
 */
export interface Tx {
  readonly manager: EntityManager;
  /** Runs `fn` after the transaction commits; never if it rolls back. */
  afterCommit(fn: () => void): void;
}

/** Runs `work` in one transaction, then the after-commit hooks it collected. */
export async function inTransaction<T>(db: DataSource, work: (tx: Tx) => Promise<T>): Promise<T> {
  const hooks: Array<() => void> = [];
  const value = await db.transaction((manager) => work({ manager, afterCommit: (fn) => hooks.push(fn) }));
  for (const hook of hooks) hook();
  return value;
}
