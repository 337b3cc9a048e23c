import { type ParseArgsOptionsConfig } from 'node:util';
import { type RegistryConfig } from '../../libs/oci/registry-config';
import { type ApiClient } from './api-client';
import { type ParsedValues } from './args';
import { type Env } from './config';
import { type ExitCode } from './exit-codes';
import { type AttestationRegistry } from './image-attestation';
import { type Output } from './output';

/** What a command gets to work with; injectable so that commands can be tested without a server. */
export interface CommandContext {
  out: Output;
  /** --json was given. */
  json: boolean;
  env: Env;
  /** The API client (built on first use: commands that need no server never need a token). */
  api(): ApiClient;
  /** A client that sends no token, for the API's public routes (GET /v1/keys). */
  publicApi(): ApiClient;
  /** A client for one registry (verify-attestation); the caller closes it. */
  registry(config: RegistryConfig): AttestationRegistry;
  sleep(ms: number): Promise<void>;
  now(): number;
  randomId(): string;
}

export interface CommandInput {
  values: ParsedValues;
  positionals: string[];
}

export interface CommandSpec {
  /** The command words: `promote`, `promotions list`. */
  name: string;
  summary: string;
  /** Arguments after the command words, for the usage line: `<id> [--reason r]`. */
  usage: string;
  /** Required positionals by name (their count is checked before run). */
  positionals: readonly string[];
  options: ParseArgsOptionsConfig;
  optionHelp: ReadonlyArray<[string, string]>;
  /** Extra paragraphs for --help. */
  details?: readonly string[];
  run(ctx: CommandContext, input: CommandInput): Promise<ExitCode>;
}
