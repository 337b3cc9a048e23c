import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Drops the NOTIFY triggers on outbox and audit_pending: Postgres serialises the commits of
 * transactions that NOTIFY, which capped intake at a sixth of a plain insert. Writers now wake the
 * relay through Redis after they commit; the relay and the sealer also poll.
 */
export class WakeAfterCommit1795310000000 implements MigrationInterface {
  name = 'WakeAfterCommit1795310000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS outbox_notify ON outbox`);
    await q.query(`DROP TRIGGER IF EXISTS audit_pending_notify ON audit_pending`);
    await q.query(`DROP FUNCTION IF EXISTS airlock_notify()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION airlock_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify(TG_ARGV[0], '');
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
                   FOR EACH STATEMENT EXECUTE FUNCTION airlock_notify('outbox')`);
    await q.query(`CREATE TRIGGER audit_pending_notify AFTER INSERT ON audit_pending
                   FOR EACH STATEMENT EXECUTE FUNCTION airlock_notify('audit_pending')`);
  }
}
