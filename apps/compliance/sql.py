"""The database side of the audit trail: the functions (in the public schema, shared by every
tenant) and the triggers (on each tenant's tables) that make its audit log append-only and chained.

- `compliance_audit_fill` (BEFORE INSERT): an entry with an actor and no actor_email gets the
  actor's e-mail address, so the chain covers who acted even after user ids are remapped by a
  restore (the canonical text names the actor by address, not by id).
- `compliance_audit_seal` (a deferred constraint trigger, AFTER INSERT, run at commit): takes the
  tenant's chain lock, reads the last seal and writes the entry's seal:
  hash = sha256(prev_hash || canonical(entry)). Sealing at commit keeps the lock for the commit
  only (no deadlock with the transaction's other locks) and orders the chain by commit.
- `compliance_append_only` (BEFORE UPDATE OR DELETE, and BEFORE TRUNCATE): refuses any change to
  entries and seals. Only the tables' owner can take the triggers off (ALTER TABLE … DISABLE
  TRIGGER), which a backup restore does while it loads a new schema; run the app as a role that
  does not own the tables for the strongest guarantee (docs/compliance.md).

`compliance_audit_canonical(entry jsonb, ts timestamptz)` is the one definition of an entry's
canonical text: verify_audit reads it from the database too, so the hash is computed the same way.
"""

CANONICAL = r"""
CREATE OR REPLACE FUNCTION public.compliance_audit_canonical(e jsonb, ts timestamptz) RETURNS text
LANGUAGE sql STABLE AS $fn$
  SELECT concat_ws(chr(31),
    coalesce(e->>'id', ''), coalesce(e->>'content_type_id', ''), coalesce(e->>'object_pk', ''),
    coalesce(e->>'object_id', ''), coalesce(e->>'object_repr', ''), coalesce(e->>'action', ''),
    coalesce(e->>'changes_text', ''), coalesce((e->'changes')::text, ''), coalesce(e->>'actor_email', ''),
    coalesce(e->>'remote_addr', ''), coalesce(e->>'remote_port', ''),
    to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    coalesce((e->'additional_data')::text, ''), coalesce(e->>'cid', ''),
    coalesce((e->'serialized_data')::text, ''))
$fn$;
"""

FUNCTIONS = (
    CANONICAL
    + r"""
CREATE OR REPLACE FUNCTION public.compliance_audit_fill() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF NEW.actor_id IS NOT NULL AND coalesce(NEW.actor_email, '') = '' THEN
    SELECT email INTO NEW.actor_email FROM public.identity_user WHERE id = NEW.actor_id;
  END IF;
  RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION public.compliance_audit_seal() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  prev text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(TG_TABLE_SCHEMA || '.compliance_auditseal'));
  EXECUTE format('SELECT hash FROM %I.compliance_auditseal ORDER BY seq DESC LIMIT 1', TG_TABLE_SCHEMA) INTO prev;
  prev := coalesce(prev, repeat('0', 64));
  EXECUTE format('INSERT INTO %I.compliance_auditseal (entry_id, prev_hash, hash, sealed_at) '
                 'VALUES ($1, $2, $3, clock_timestamp())', TG_TABLE_SCHEMA)
    USING NEW.id, prev,
          encode(sha256(convert_to(
            prev || public.compliance_audit_canonical(to_jsonb(NEW), NEW."timestamp"), 'UTF8')), 'hex');
  RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION public.compliance_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only: % on %.% refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$fn$;
"""
)

# Run in a tenant's schema (its search_path): the triggers go on its own tables.
TRIGGERS = r"""
CREATE TRIGGER compliance_audit_fill BEFORE INSERT ON auditlog_logentry
  FOR EACH ROW EXECUTE FUNCTION public.compliance_audit_fill();
CREATE CONSTRAINT TRIGGER compliance_audit_seal AFTER INSERT ON auditlog_logentry
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.compliance_audit_seal();
CREATE TRIGGER compliance_append_only BEFORE UPDATE OR DELETE ON auditlog_logentry
  FOR EACH ROW EXECUTE FUNCTION public.compliance_append_only();
CREATE TRIGGER compliance_append_only_truncate BEFORE TRUNCATE ON auditlog_logentry
  FOR EACH STATEMENT EXECUTE FUNCTION public.compliance_append_only();
CREATE TRIGGER compliance_append_only BEFORE UPDATE OR DELETE ON compliance_auditseal
  FOR EACH ROW EXECUTE FUNCTION public.compliance_append_only();
CREATE TRIGGER compliance_append_only_truncate BEFORE TRUNCATE ON compliance_auditseal
  FOR EACH STATEMENT EXECUTE FUNCTION public.compliance_append_only();
"""

# The entries written before the chain existed, sealed in id order (run once, by the migration).
BACKFILL = r"""
UPDATE auditlog_logentry e SET actor_email = u.email FROM public.identity_user u
  WHERE e.actor_id = u.id AND coalesce(e.actor_email, '') = '';
DO $do$
DECLARE
  prev text := repeat('0', 64);
  next text;
  row record;
BEGIN
  FOR row IN SELECT * FROM auditlog_logentry ORDER BY id LOOP
    next := encode(sha256(convert_to(
      prev || public.compliance_audit_canonical(to_jsonb(row), row."timestamp"), 'UTF8')), 'hex');
    INSERT INTO compliance_auditseal (entry_id, prev_hash, hash, sealed_at)
      VALUES (row.id, prev, next, clock_timestamp());
    prev := next;
  END LOOP;
END
$do$;
"""

DROP_TRIGGERS = r"""
DROP TRIGGER IF EXISTS compliance_audit_fill ON auditlog_logentry;
DROP TRIGGER IF EXISTS compliance_audit_seal ON auditlog_logentry;
DROP TRIGGER IF EXISTS compliance_append_only ON auditlog_logentry;
DROP TRIGGER IF EXISTS compliance_append_only_truncate ON auditlog_logentry;
DROP TRIGGER IF EXISTS compliance_append_only ON compliance_auditseal;
DROP TRIGGER IF EXISTS compliance_append_only_truncate ON compliance_auditseal;
"""
