import { Injectable } from '@nestjs/common';
import { AirlockConfig } from '../../config';
import { classifyHost, DomainError, ErrorCode, matchingHostPattern } from '../../domain';
import { HostResolver } from './host-resolver';

const refuse = (field: string, host: string, message: string): DomainError =>
  new DomainError(ErrorCode.HostNotAllowed, `${field}: ${message}`, { field, host });

/**
 * Whether Airlock may reach an outside host an admin configured: it must match
 * AIRLOCK_ALLOWED_HOSTS, and plain http or a loopback, link-local or private address (an IP
 * literal, `localhost`, or a name that resolves to one) is allowed only in development and test
 * mode or with AIRLOCK_ALLOW_PRIVATE_HOSTS. Refusals are host_not_allowed naming the field.
 *
 * Checked when an environment is defined and again where a secret is about to be sent (the
 * credential issuer and its token endpoint). A name is resolved when it is checked; the client
 * resolves it again when it connects, so a DNS answer that changes in between is not caught here.
 */
@Injectable()
export class HostGuard {
  constructor(
    private readonly config: AirlockConfig,
    private readonly resolver: HostResolver,
  ) {}

  /** A registry or redirect host (`host[:port]`), reached over https or (insecure) plain http. */
  async checkHost(field: string, hostPort: string, plainHttp: boolean): Promise<void> {
    const scheme = plainHttp ? 'http' : 'https';
    if (!URL.canParse(`${scheme}://${hostPort}`)) {
      throw refuse(field, hostPort, `${hostPort} is not host[:port]`);
    }
    await this.check(field, new URL(`${scheme}://${hostPort}`));
  }

  /** An http(s) URL: a credential issuer, a token realm, a token endpoint. */
  async checkUrl(field: string, url: string): Promise<void> {
    if (!URL.canParse(url)) throw refuse(field, url, `${url} is not a URL`);
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw refuse(field, parsed.host, `only https URLs may be configured`);
    }
    if (parsed.username !== '' || parsed.password !== '') {
      throw refuse(field, parsed.host, `URLs must not carry user info`);
    }
    await this.check(field, parsed);
  }

  /**
   * An http(s) URL about to be connected to at `addresses` (resolved once by the caller, who then
   * connects to one of them): the same rules as checkUrl, applied to the addresses the connection
   * will use, so a DNS answer that changes between the check and the connection is not a way in.
   */
  async checkUrlAt(field: string, url: string, addresses: readonly string[]): Promise<void> {
    if (!URL.canParse(url)) throw refuse(field, url, `${url} is not a URL`);
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw refuse(field, parsed.host, `only https URLs may be configured`);
    }
    await this.check(field, parsed, async () => [...addresses]);
  }

  private async check(
    field: string,
    url: URL,
    resolve: (name: string) => Promise<string[]> = (name) => this.resolver.addresses(name),
  ): Promise<void> {
    // URL parsing canonicalises the host (`0x7f.1` and `2130706433` are 127.0.0.1), so the checks
    // see the address the client will connect to.
    const host = url.host;
    if (!matchingHostPattern(this.config.allowedHosts, host)) {
      throw refuse(
        field,
        host,
        `${host} is not an allowed host (the operator lists the hosts Airlock may reach in AIRLOCK_ALLOWED_HOSTS)`,
      );
    }
    if (this.config.privateHostsAllowed) return;
    if (url.protocol === 'http:') {
      throw refuse(
        field,
        host,
        `plain http (${host}) is allowed only in development mode or with AIRLOCK_ALLOW_PRIVATE_HOSTS`,
      );
    }
    const kind = classifyHost(url.hostname);
    const privateOnly = `is allowed only in development mode or with AIRLOCK_ALLOW_PRIVATE_HOSTS`;
    switch (kind.kind) {
      case 'local-name':
        throw refuse(field, host, `${host} names this machine, which ${privateOnly}`);
      case 'address':
        if (kind.private)
          throw refuse(field, host, `${host} is a private or loopback address, which ${privateOnly}`);
        return;
      case 'name': {
        const addresses = await resolve(kind.name).catch(() => undefined);
        if (addresses === undefined || addresses.length === 0) {
          throw refuse(
            field,
            host,
            `${url.hostname} could not be resolved, so it cannot be checked for private addresses`,
          );
        }
        const inside = addresses.find(isPrivate);
        if (inside !== undefined) {
          throw refuse(
            field,
            host,
            `${url.hostname} resolves to the private or loopback address ${inside}, which ${privateOnly}`,
          );
        }
        return;
      }
    }
  }
}

/** A resolved address: anything that is not a plain public IP address counts as private. */
function isPrivate(address: string): boolean {
  const kind = classifyHost(address.includes(':') ? `[${address}]` : address);
  return kind.kind !== 'address' || kind.private;
}
