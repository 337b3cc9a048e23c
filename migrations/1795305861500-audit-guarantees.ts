import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * What the entities cannot express: the audit chain is append-only by the database's own rules,
 * new outbox rows and audit events wake the relay and the sealer (NOTIFY), and an application role
 * that may only insert and read the chain.
 */
export class AuditGuarantees1795305861500 implements MigrationInterface {
  name = 'AuditGuarantees1795305861500';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION airlock_refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
                   FOR EACH ROW EXECUTE FUNCTION airlock_refuse_audit_change()`);
    await q.query(`CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
                   FOR EACH STATEMENT EXECUTE FUNCTION airlock_refuse_audit_change()`);

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

    // The role the API and worker should log in as (GRANT airlock_app TO <login>): everything it
    // needs, and on the chain only INSERT and SELECT.
    await q.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'airlock_app') THEN
          CREATE ROLE airlock_app NOLOGIN;
        END IF;
      END $$`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO airlock_app`);
    await q.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO airlock_app`);
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM airlock_app`);
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM PUBLIC`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM airlock_app`);
    await q.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM airlock_app`);
    await q.query(`DROP TRIGGER audit_pending_notify ON audit_pending`);
    await q.query(`DROP TRIGGER outbox_notify ON outbox`);
    await q.query(`DROP FUNCTION airlock_notify()`);
    await q.query(`DROP TRIGGER audit_event_no_truncate ON audit_event`);
    await q.query(`DROP TRIGGER audit_event_no_update ON audit_event`);
    await q.query(`DROP FUNCTION airlock_refuse_audit_change()`);
  }
}
