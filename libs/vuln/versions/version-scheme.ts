/** How one ecosystem's versions are recognised and ordered. */
export interface VersionScheme {
  /** OSV ecosystem family this scheme serves, e.g. 'npm'. */
  readonly name: string;
  /** true when the string is a version this scheme can order. */
  valid(version: string): boolean;
  /** <0, 0, >0 like Array.sort; only called with valid versions. */
  compare(a: string, b: string): number;
}
