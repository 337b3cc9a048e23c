// Vulnerability matching: OSV advisories, each ecosystem's version order, CVSS ratings. Pure code
// (no Nest), so the CLI, benchmarks and unit tests use it directly.
export * from './osv';
export * from './severity';
export * from './affected';
export * from './match';
export * from './versions';
export * from './osv-upload';
