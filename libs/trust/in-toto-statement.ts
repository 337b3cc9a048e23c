export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const STATEMENT_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'];

/** An in-toto statement, as far as Airlock reads it. */
export interface InTotoStatement {
  subjects: Array<{ name: string | null; sha256: string | null }>;
  predicateType: string;
  predicate: Record<string, unknown>;
}

/** Parses the payload of a DSSE envelope as an in-toto statement, or says why it is not one. */
export function parseStatement(payloadType: string, payload: Buffer): InTotoStatement | string {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return `payload type ${payloadType.slice(0, 100)} is not an in-toto statement`;
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'the statement is not JSON';
  }
  const s = value as {
    _type?: unknown;
    subject?: unknown;
    predicateType?: unknown;
    predicate?: unknown;
  } | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s._type !== 'string' ||
    !STATEMENT_TYPES.includes(s._type)
  ) {
    return 'not an in-toto statement (_type)';
  }
  if (!Array.isArray(s.subject) || s.subject.length === 0 || typeof s.predicateType !== 'string') {
    return 'the statement has no subject or predicateType';
  }
  const subjects = (s.subject as unknown[]).map((x) => {
    const subject = x as { name?: unknown; digest?: { sha256?: unknown } } | null;
    return {
      name: typeof subject?.name === 'string' ? subject.name : null,
      sha256: typeof subject?.digest?.sha256 === 'string' ? subject.digest.sha256.toLowerCase() : null,
    };
  });
  const predicate =
    typeof s.predicate === 'object' && s.predicate !== null && !Array.isArray(s.predicate)
      ? (s.predicate as Record<string, unknown>)
      : {};
  return { subjects, predicateType: s.predicateType, predicate };
}

/** Whether the statement is about this digest (`sha256:<hex>`). */
export function statementIsAbout(statement: InTotoStatement, digest: string): boolean {
  const hex = digest.slice('sha256:'.length);
  return statement.subjects.some((s) => s.sha256 === hex);
}
