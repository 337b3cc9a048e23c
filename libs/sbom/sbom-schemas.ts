// SBOM documents checked against their official JSON schemas, offline, before they are read.
//
// CycloneDX: the schemas bundled with @cyclonedx/cyclonedx-library (res/schema/, the same files and the
// same choice per version as its Validation.JsonStrictValidator: the `-strict` variants for 1.2 and 1.3).
// That validator itself is not used: it is async, takes a JSON string it parses again, and needs
// ajv-formats-draft2019 and its four dependencies for one format (idn-email). The files are read from the
// package's folder on first use of each version.
//
// SPDX: the released SPDX 2.3 and 2.2 (2.2.2) schemas, vendored in ./schemas (no npm package ships
// them), each document against the schema of its `spdxVersion`, plus the rules of the specification that
// the JSON schemas leave out (the form of SPDX identifiers, the mandatory document namespace).
//
// The documents are attacker-influenced even though signed: each schema is compiled once, on first use;
// ajv stops at the first failure (allErrors off), has no $data, no remote schema loading (compile is
// synchronous and every referenced schema is added beforehand), and never coerces or fills in values.
// ajv's `uniqueItems` compares object items pairwise (1.2 s for 2,000 CycloneDX components, about an hour for
// 100,000), so it is replaced by an exact linear-time check with the same meaning.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv, {
  type ErrorObject,
  type Options,
  type SchemaObject,
  type SchemaValidateFunction,
  type ValidateFunction,
} from 'ajv';
import addFormats from 'ajv-formats';
import { jsonShapeProblem } from '../domain';
import { SPDX_2_2_SCHEMA } from './schemas/spdx-2.2.schema';
import { SPDX_2_3_SCHEMA } from './schemas/spdx-2.3.schema';

export type SbomSchemaFormat = 'spdx' | 'cyclonedx';

/** CycloneDX JSON exists from 1.2 on; the `-strict` 1.2 and 1.3 schemas refuse unknown fields, as 1.4+ do. */
const CYCLONEDX_SCHEMA_FILES: Readonly<Record<string, string>> = {
  '1.2': 'bom-1.2-strict.SNAPSHOT.schema.json',
  '1.3': 'bom-1.3-strict.SNAPSHOT.schema.json',
  '1.4': 'bom-1.4.SNAPSHOT.schema.json',
  '1.5': 'bom-1.5.SNAPSHOT.schema.json',
  '1.6': 'bom-1.6.SNAPSHOT.schema.json',
  '1.7': 'bom-1.7.SNAPSHOT.schema.json',
};
/** Schemas the bom schemas refer to, under the ids their `$ref`s resolve to. */
const CYCLONEDX_REFERENCED_FILES: Readonly<Record<string, string>> = {
  'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json': 'spdx.SNAPSHOT.schema.json',
  'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json': 'jsf-0.82.SNAPSHOT.schema.json',
  'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json':
    'cryptography-defs.SNAPSHOT.schema.json',
};
export const CYCLONEDX_SPEC_VERSIONS = Object.keys(CYCLONEDX_SCHEMA_FILES);
const SPDX_SCHEMAS: Readonly<Record<string, SchemaObject>> = {
  'SPDX-2.2': SPDX_2_2_SCHEMA,
  'SPDX-2.3': SPDX_2_3_SCHEMA,
};
export const SPDX_VERSIONS = Object.keys(SPDX_SCHEMAS);

/** Deeper documents are refused before validation, which recurses once per level. */
export const MAX_SBOM_NESTING = 256;
const MAX_ERRORS_SHOWN = 3;
const MAX_MESSAGE = 1000;

const AJV_OPTIONS: Options = {
  // The official schemas use keywords ajv does not know (`meta:enum`, `deprecated`): not an error.
  strict: false,
  allErrors: false,
  $data: false,
  useDefaults: false,
  coerceTypes: false,
  removeAdditional: false,
  addUsedSchema: false,
  validateFormats: true,
  logger: false,
};

/**
 * Structural identities: two JSON values get the same key exactly when they are equal as JSON Schema
 * means it (objects regardless of key order). Each object or array is keyed once, from its children's
 * keys, so keying a whole document is linear in its size.
 */
class StructureKeys {
  private readonly ids = new WeakMap<object, number>();
  private readonly interned = new Map<string, number>();

  key(value: unknown): string {
    if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'undefined';
    let id = this.ids.get(value);
    if (id === undefined) {
      const signature = Array.isArray(value)
        ? `[${value.map((v) => this.key(v)).join(',')}]`
        : `{${Object.keys(value)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${this.key((value as Record<string, unknown>)[k])}`)
            .join(',')}}`;
      id = this.interned.get(signature);
      if (id === undefined) {
        id = this.interned.size;
        this.interned.set(signature, id);
      }
      this.ids.set(value, id);
    }
    return `#${id}`;
  }
}

/** Shared by every `uniqueItems` of one validation, so nested arrays are not keyed again. */
let documentKeys: StructureKeys | undefined;

/**
 * A cheap bucket for an item: its top-level keys and scalar values, in key order. Equal items always
 * share a bucket; items of different buckets differ, so only items sharing one are compared in full.
 */
function shallowBucket(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  if (Array.isArray(value)) return `[${value.length}`;
  const o = value as Record<string, unknown>;
  let bucket = '{';
  for (const k of Object.keys(o).sort()) {
    const c = o[k];
    const scalar = typeof c !== 'object' || c === null ? String(c) : Array.isArray(c) ? `[${c.length}` : '{';
    bucket += `${k}\u0000${scalar}\u0000`;
  }
  return bucket;
}

/** JSON Schema `uniqueItems`, exact, in time linear in the array's size (ajv's is quadratic). */
function uniqueItems(schema: unknown, data: unknown): boolean {
  if (schema !== true || !Array.isArray(data) || data.length < 2) return true;
  const buckets = new Map<string, number[]>();
  let shared = false;
  for (let j = 0; j < data.length; j++) {
    const bucket = shallowBucket(data[j]);
    const members = buckets.get(bucket);
    if (members) {
      members.push(j);
      shared = true;
    } else buckets.set(bucket, [j]);
  }
  if (!shared) return true;
  const keys = documentKeys ?? new StructureKeys();
  for (const members of buckets.values()) {
    if (members.length < 2) continue;
    const seen = new Map<string, number>();
    for (const j of members) {
      const key = keys.key(data[j]);
      const i = seen.get(key);
      if (i !== undefined) {
        (uniqueItems as SchemaValidateFunction).errors = [
          {
            keyword: 'uniqueItems',
            message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)`,
            params: { i, j },
          },
        ];
        return false;
      }
      seen.set(key, j);
    }
  }
  return true;
}

function newAjv(): Ajv {
  const ajv = new Ajv(AJV_OPTIONS);
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword({
    keyword: 'uniqueItems',
    type: 'array',
    schemaType: 'boolean',
    errors: true,
    validate: uniqueItems,
  });
  addFormats(ajv);
  // Formats ajv-formats lacks, as @cyclonedx/cyclonedx-library defines them for its validator (which
  // takes idn-email from ajv-formats-draft2019): a permissive, linear-time check.
  ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
  ajv.addFormat('iri-reference', true);
  return ajv;
}

let cycloneDxAjv: Ajv | undefined;
const cycloneDxValidators = new Map<string, ValidateFunction>();

function cycloneDxSchemaDir(): string {
  return join(dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
}

const readSchema = (dir: string, file: string): SchemaObject =>
  JSON.parse(readFileSync(join(dir, file), 'utf8')) as SchemaObject;

function cycloneDxValidator(specVersion: string): ValidateFunction {
  const cached = cycloneDxValidators.get(specVersion);
  if (cached) return cached;
  const dir = cycloneDxSchemaDir();
  if (!cycloneDxAjv) {
    const ajv = newAjv();
    for (const [id, file] of Object.entries(CYCLONEDX_REFERENCED_FILES))
      ajv.addSchema(readSchema(dir, file), id);
    cycloneDxAjv = ajv;
  }
  const validate = cycloneDxAjv.compile(readSchema(dir, CYCLONEDX_SCHEMA_FILES[specVersion]));
  cycloneDxValidators.set(specVersion, validate);
  return validate;
}

const SPDX_ELEMENT_ID = '^SPDXRef-[A-Za-z0-9.-]+$';
const spdxElements = {
  type: 'array',
  items: { type: 'object', properties: { SPDXID: { type: 'string', pattern: SPDX_ELEMENT_ID } } },
};
/**
 * SPDX 2.2 and 2.3 specification rules their JSON schemas do not encode: the document's identifier is
 * `SPDXRef-DOCUMENT` (2.3: 6.3), its namespace is mandatory (6.5; the 2.2 schema requires it already), and a
 * package's, file's or snippet's identifier is `SPDXRef-` then letters, digits, `.` and `-` (7.2, 8.2, 9.1).
 */
const SPDX_SPEC_RULES: SchemaObject = {
  $id: 'https://airlock.dev/schemas/spdx-2-spec-rules.json',
  type: 'object',
  required: ['documentNamespace'],
  properties: {
    SPDXID: { const: 'SPDXRef-DOCUMENT' },
    packages: spdxElements,
    files: spdxElements,
    snippets: spdxElements,
  },
};

let spdxAjv: Ajv | undefined;
const spdxValidators = new Map<string, ValidateFunction>();

function spdxValidator(spdxVersion: string): ValidateFunction {
  const cached = spdxValidators.get(spdxVersion);
  if (cached) return cached;
  if (!spdxAjv) {
    const ajv = newAjv();
    for (const schema of Object.values(SPDX_SCHEMAS)) ajv.addSchema(schema);
    spdxAjv = ajv.addSchema(SPDX_SPEC_RULES);
  }
  const validate = spdxAjv.compile({
    allOf: [{ $ref: SPDX_SCHEMAS[spdxVersion].$id as string }, { $ref: SPDX_SPEC_RULES.$id as string }],
  });
  spdxValidators.set(spdxVersion, validate);
  return validate;
}

/** Control, format (bidi, zero-width) and line-separator characters from the document are not echoed. */
function clean(text: string, max: number): string {
  const s = text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '?');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function describe(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'additionalProperties') {
    message = `unknown field "${clean(String(params.additionalProperty), 80)}"`;
  } else if (e.keyword === 'const') {
    message = `must be ${JSON.stringify(params.allowedValue)}`;
  } else if (
    e.keyword === 'enum' &&
    Array.isArray(params.allowedValues) &&
    params.allowedValues.length <= 12
  ) {
    message = `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${clean(e.instancePath || '/', 160)}: ${clean(message, 200)}`;
}

function check(label: string, validate: ValidateFunction, doc: object): void {
  // Its names and purls are stored in findings: NULs would be refused there, deep nesting anywhere.
  const shape = jsonShapeProblem(doc, MAX_SBOM_NESTING);
  if (shape) throw new Error(`${label} document ${shape}`);
  documentKeys = new StructureKeys();
  try {
    if (validate(doc)) return;
  } finally {
    documentKeys = undefined;
  }
  const errors = [...new Set((validate.errors ?? []).map(describe))];
  const shown = errors.slice(0, MAX_ERRORS_SHOWN).join('; ');
  const more = errors.length > MAX_ERRORS_SHOWN ? ` (and ${errors.length - MAX_ERRORS_SHOWN} more)` : '';
  const message = `${label} document does not match its schema: ${shown || 'invalid'}${more}`;
  throw new Error(message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message);
}

/**
 * Throws unless the document is valid against the official schema of the version it declares
 * (CycloneDX `specVersion` 1.2–1.7, SPDX `spdxVersion` SPDX-2.2 or SPDX-2.3). The error message names
 * the format and version and the first schema errors (instance path and message), and is bounded.
 */
export function validateSbomSchema(format: SbomSchemaFormat, doc: Record<string, unknown>): void {
  if (format === 'cyclonedx') {
    const v = doc.specVersion;
    if (typeof v !== 'string' || !Object.hasOwn(CYCLONEDX_SCHEMA_FILES, v)) {
      const got = typeof v === 'string' ? `"${clean(v, 40)}"` : 'missing';
      throw new Error(
        `CycloneDX specVersion ${got} is not supported (supported: ${CYCLONEDX_SPEC_VERSIONS.join(', ')})`,
      );
    }
    check(`CycloneDX ${v}`, cycloneDxValidator(v), doc);
    return;
  }
  const v = doc.spdxVersion;
  if (typeof v !== 'string' || !SPDX_VERSIONS.includes(v)) {
    const got = typeof v === 'string' ? `"${clean(v, 40)}"` : 'missing';
    throw new Error(`SPDX spdxVersion ${got} is not supported (supported: ${SPDX_VERSIONS.join(', ')})`);
  }
  check(v, spdxValidator(v), doc);
}
