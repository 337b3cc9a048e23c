import { type LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs for Nest. Messages may be strings or objects; fields that could carry
 * credentials are redacted wherever they appear.
 */
export class JsonLogger implements LoggerService {
  readonly pino: Logger;

  constructor(level: string, name: string) {
    this.pino = pino({
      level,
      name,
      base: { pid: process.pid },
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers.authorization',
          'token',
          '*.token',
          'password',
          '*.password',
          'secret',
          '*.secret',
          'access_token',
          '*.access_token',
        ],
        censor: '[redacted]',
      },
    });
  }

  private write(
    level: 'info' | 'warn' | 'error' | 'debug' | 'trace',
    message: unknown,
    rest: unknown[],
  ): void {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    // An Error's message is not an own enumerable property: log it (and the stack) explicitly, or a
    // failure at start (a bad key file) would be logged as a bare class name.
    if (message instanceof Error) this.pino[level]({ context, err: message }, message.message);
    else if (message !== null && typeof message === 'object') this.pino[level]({ context, ...message });
    else this.pino[level]({ context }, String(message));
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    // Nest passes (message, stack, context); keep the stack in the log, never in a response.
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
}
