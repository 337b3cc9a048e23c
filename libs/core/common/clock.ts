import { Injectable } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { AirlockConfig } from '../../config';

/**
 * The time as Airlock's rules see it (approval expiry, pending timeouts). In test mode a file may
 * move it forward, so tests drive time instead of sleeping; elsewhere it is the system clock.
 */
@Injectable()
export class Clock {
  constructor(private readonly config: AirlockConfig) {}

  now(): number {
    const file = this.config.AIRLOCK_TEST_CLOCK_FILE;
    if (!file) return Date.now();
    let offset = 0;
    try {
      offset = Number(readFileSync(file, 'utf8').trim()) || 0;
    } catch {
      offset = 0;
    }
    return Date.now() + offset;
  }
}
