#!/usr/bin/env node
// The Airlock CLI (`airlock` in package.json's bin): a thin client of the REST API for CI and
// people. `airlock --help` lists the commands; exit codes are in exit-codes.ts.
import { run } from './cli';

// The CLI is not the server: its configuration is its flags and the caller's environment
// (AIRLOCK_SERVER, AIRLOCK_TOKEN, AIRLOCK_TOKEN_FILE), not libs/config.
const env = process.env;

run({ argv: process.argv.slice(2), env, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    // exitCode rather than exit(): stdout is flushed before the process ends.
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
