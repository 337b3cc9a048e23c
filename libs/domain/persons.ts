/**
 * People behind identities. One person may hold several identities (an IdP account, a second
 * admin account, the handle CI claims name them by); an admin links them to one person id.
 * Every four-eyes rule — approvals, break-glass sign-off, policy activation, changes to who is
 * trusted — asks the same question through `isSamePerson`, so linked identities count once
 * everywhere.
 */
export interface PersonNames {
  /** The person id the acting identity resolves to (the identity key itself when unlinked). */
  person: string;
  /** Every name this person goes by: their person id, identity key and handles (`handle:carol`). */
  aliases: readonly string[];
}

/** Whether `other` (a person id, identity key or handle) names the person `names` describes. */
export function isSamePerson(names: PersonNames, other: string): boolean {
  return other === names.person || names.aliases.includes(other);
}

/** `subject@issuer`: the key actorKey() builds from a verified token (issuer: an http(s) URL). */
const IDENTITY_KEY =
  /^[A-Za-z0-9][A-Za-z0-9._:/|+=@-]{0,255}@https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~%/-]*)?$/;
/** `handle:<name>`: how CI claims (`actor`) and provenance name a person, or a token's subject. */
const HANDLE = /^handle:[A-Za-z0-9][A-Za-z0-9._@+-]{0,255}$/;

/**
 * Why a string is not an identity Airlock ever compares, or null when it is one. A link on
 * anything else would never match and silently fail to merge a person's accounts.
 */
export function identityFormProblem(identity: string): string | null {
  if (HANDLE.test(identity) || IDENTITY_KEY.test(identity)) return null;
  if (identity.startsWith('handle:')) {
    return 'identity: a handle must be handle:<name>, the name letters, digits and . _ @ + - (as CI claims name people)';
  }
  return 'identity: must be subject@issuer (an identity key as `whoami` shows it, the issuer an http(s) URL) or handle:<name>';
}
