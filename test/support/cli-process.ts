// The built CLI (or another command) as a child process with only the environment given, never
// the test process's own: what a CI job or a person running `airlock` sees.
import { spawn } from 'node:child_process';
import { builtScript } from '../../apps/devstack/processes';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** dist/apps/cli/main.js: `npm run build` first. */
export const CLI_MAIN = builtScript('apps/cli/main.js');

/**
 * Runs `command` to its end. Output is decoded once at the end: a pipe chunk may end inside a
 * UTF-8 character (audit exports and tables hold some), and decoding chunk by chunk would turn it
 * into replacement characters.
 */
export function runProcess(command: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.on('error', fail);
    child.on('close', (code) =>
      done({ code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }),
    );
  });
}

/** `airlock <args>` from the build, with PATH and `env` only. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return runProcess(process.execPath, [CLI_MAIN, ...args], env);
}
