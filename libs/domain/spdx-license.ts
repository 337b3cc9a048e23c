import parseSpdx from 'spdx-expression-parse';

/** A single SPDX license id, optionally `+` or `WITH <exception>`, as policies list them. */
export function isSpdxLicense(id: string): boolean {
  try {
    const node = parseSpdx(id);
    return 'license' in node;
  } catch {
    return false;
  }
}
