#!/usr/bin/env node
// The Airlock CLI (`airlock` in package.json's bin): a thin client of the REST API for CI and
// people. `airlock --help` lists the commands; exit codes are in exit-codes.ts.
import { run } from './cli';
import { closableWriter } from './output';

// The CLI is not the server: its configuration is its flags and the caller's environment
// (AIRLOCK_SERVER, AIRLOCK_TOKEN, AIRLOCK_TOKEN_FILE, the CI's OIDC variables), not libs/config.
const env = process.env;

// `airlock … | head -1` closes the pipe while the CLI still writes: the action has happened (or
// will), so the exit code must be the action's, not an EPIPE crash.
const stdout = closableWriter(process.stdout);
const stderr = closableWriter(process.stderr);

run({ argv: process.argv.slice(2), env, stdout, stderr }).then(
  (code) => {
    // exitCode rather than exit(): stdout is flushed before the process ends.
    process.exitCode = code;
  },
  (error: unknown) => {
    stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
