import { Injectable } from '@nestjs/common';
import { lookup } from 'node:dns/promises';

/** The door to DNS, so the host checks unit-test with a fake. */
@Injectable()
export class HostResolver {
  /** Every address `name` resolves to (what the system resolver, and so our clients, would use). */
  async addresses(name: string): Promise<string[]> {
    return (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);
  }
}
