/**
 * Which outside hosts Airlock may be configured to talk to (AIRLOCK_ALLOWED_HOSTS), and which
 * addresses count as private. Pure: the DNS look-up a host name needs is done by the caller.
 *
 * Why: an admin configures registries, token realms, redirect hosts and credential issuers, and
 * Airlock then sends requests (some carrying client secrets) there. Without an operator's list,
 * an admin could point Airlock at any host, including services on its own network.
 */

/** One entry of AIRLOCK_ALLOWED_HOSTS: DNS labels (each may be `*`, one label) and a port rule. */
export interface HostPattern {
  /** As written (lower case), for messages. */
  readonly text: string;
  /** Labels of the host, `*` for any one label; an IPv6 literal is one label with its brackets. */
  readonly labels: readonly string[];
  /** `undefined`: only a host given without a port; `'*'`: any port; else that port. */
  readonly port: number | '*' | undefined;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Whether `text` is an IPv4 address in dotted-quad form (what URL parsing normalises to). */
export function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** Parses an IPv6 literal (no brackets) into 8 groups, or undefined when it is not one. */
function ipv6Groups(text: string): number[] | undefined {
  let body = text.toLowerCase();
  if (body.includes('%')) return undefined; // zone ids are not accepted
  const tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (v4) {
    if (!isIpv4(v4[2])) return undefined;
    const o = v4[2].split('.').map(Number);
    tail.push((o[0] << 8) | o[1], (o[2] << 8) | o[3]);
    body = v4[1].endsWith('::') ? v4[1] : v4[1].slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups = s.split(':');
    if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
    return groups.map((g) => parseInt(g, 16));
  };
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !rest) return undefined;
  const known = head.length + rest.length + tail.length;
  if (halves.length === 1) return known === 8 ? [...head, ...tail] : undefined;
  if (known > 7) return undefined;
  return [...head, ...new Array<number>(8 - known).fill(0), ...rest, ...tail];
}

export function isIpv6(text: string): boolean {
  return ipv6Groups(text) !== undefined;
}

/** Splits `host[:port]` (IPv6 in brackets) into a lower-case host and a port, or undefined. */
export function splitHostPort(value: string): { host: string; port: string | undefined } | undefined {
  const text = value.toLowerCase();
  const bracketed = /^(\[[^\]]+\])(?::([^:]*))?$/.exec(text);
  if (bracketed) return { host: bracketed[1], port: bracketed[2] };
  const parts = text.split(':');
  if (parts.length > 2) return undefined;
  return { host: parts[0], port: parts[1] };
}

/**
 * Parses AIRLOCK_ALLOWED_HOSTS: comma-separated `host[:port]` patterns. Each DNS label may be `*`
 * (exactly one label: `*.example.com` matches `a.example.com`, not `example.com` or
 * `a.b.example.com`); the port may be `*` (any port, the default one included). A pattern without a port matches only hosts
 * given without one (the scheme's default port). IP literals (`127.0.0.1:*`, `[::1]:5000`) are
 * allowed. Throws an Error naming every bad pattern.
 */
export function parseHostPatterns(text: string): HostPattern[] {
  const bad: string[] = [];
  const patterns: HostPattern[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    const split = splitHostPort(entry);
    let port: HostPattern['port'];
    if (split?.port !== undefined) {
      if (split.port === '*') port = '*';
      else if (/^[0-9]{1,5}$/.test(split.port) && Number(split.port) >= 1 && Number(split.port) <= 65535) {
        port = Number(split.port);
      }
    }
    const hostOk =
      split !== undefined &&
      (split.host.startsWith('[')
        ? isIpv6(split.host.slice(1, -1))
        : split.host.length <= 253 && split.host.split('.').every((l) => l === '*' || LABEL.test(l)));
    if (!split || !hostOk || (split.port !== undefined && port === undefined)) {
      bad.push(JSON.stringify(raw.trim()));
      continue;
    }
    const labels = split.host.startsWith('[')
      ? [
          `[${ipv6Groups(split.host.slice(1, -1))!
            .map((g) => g.toString(16))
            .join(':')}]`,
        ]
      : split.host.split('.');
    patterns.push({ text: entry, labels, port });
  }
  if (bad.length > 0) {
    throw new Error(
      `not host[:port] patterns (labels of letters, digits and dashes or *, port 1-65535 or *): ${bad.join(', ')}`,
    );
  }
  return patterns;
}

/** `[::1]` and `[0:0:0:0:0:0:0:1]` compare equal. */
function canonicalHost(host: string): string {
  if (!host.startsWith('[')) return host;
  const groups = ipv6Groups(host.slice(1, -1));
  return groups ? `[${groups.map((g) => g.toString(16)).join(':')}]` : host;
}

/**
 * Whether `hostPort` (`host` or `host:port`, as in a URL's `host`, lower case) matches a pattern.
 * Nothing matches an empty list: the operator names every outside host Airlock may reach.
 */
export function matchingHostPattern(
  patterns: readonly HostPattern[],
  hostPort: string,
): HostPattern | undefined {
  const split = splitHostPort(hostPort);
  if (!split || split.host === '') return undefined;
  const labels = split.host.startsWith('[') ? [canonicalHost(split.host)] : split.host.split('.');
  const port = split.port === undefined || split.port === '' ? undefined : Number(split.port);
  return patterns.find(
    (p) =>
      p.labels.length === labels.length &&
      p.labels.every((l, i) => l === '*' || l === labels[i]) &&
      (p.port === '*' || p.port === port),
  );
}

/**
 * Whether an IP address (v4 dotted quad, or v6 without brackets) is one Airlock must not reach
 * unless the operator allows private hosts: loopback, link-local, private and shared ranges,
 * "this network", multicast and reserved ranges, and IPv6 forms that embed such an IPv4 address.
 */
export function isPrivateAddress(ip: string): boolean {
  if (isIpv4(ip)) {
    const [a, b] = ip.split('.').map(Number);
    return (
      a === 0 || // this network
      a === 10 ||
      (a === 100 && b >= 64 && b <= 127) || // shared address space (CGNAT)
      a === 127 ||
      (a === 169 && b === 254) || // link-local (cloud metadata services live here)
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 0 && ip.split('.')[2] === '0') || // IETF protocol assignments
      (a === 192 && b === 168) ||
      (a === 198 && (b === 18 || b === 19)) || // benchmarking
      a >= 224 // multicast, reserved, broadcast
    );
  }
  const g = ipv6Groups(ip.startsWith('[') ? ip.slice(1, -1) : ip);
  if (!g) return true; // not an address we understand: treat as unsafe
  const embeddedV4 = (): string => `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
  if (g.slice(0, 7).every((x) => x === 0) && (g[7] === 0 || g[7] === 1)) return true; // :: and ::1
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return isPrivateAddress(embeddedV4()); // mapped
  if (g.slice(0, 6).every((x) => x === 0)) return true; // deprecated IPv4-compatible
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    return isPrivateAddress(embeddedV4()); // NAT64
  }
  return (
    (g[0] & 0xfe00) === 0xfc00 || // unique local
    (g[0] & 0xffc0) === 0xfe80 || // link-local
    (g[0] & 0xffc0) === 0xfec0 || // site-local (deprecated)
    (g[0] & 0xff00) === 0xff00 || // multicast
    (g[0] === 0x2001 && g[1] === 0x0db8) // documentation
  );
}

/** What a host (as in a URL's `hostname`, lower case, IPv6 in brackets) is, for the private check. */
export type HostKind =
  | { kind: 'address'; address: string; private: boolean }
  /** `localhost` and its sub-domains always mean this machine (RFC 6761). */
  | { kind: 'local-name' }
  /** A DNS name: it is private when any address it resolves to is. */
  | { kind: 'name'; name: string };

export function classifyHost(hostname: string): HostKind {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('[')) {
    const address = host.slice(1, -1);
    return { kind: 'address', address, private: isPrivateAddress(address) };
  }
  if (isIpv4(host)) return { kind: 'address', address: host, private: isPrivateAddress(host) };
  if (host === 'localhost' || host.endsWith('.localhost')) return { kind: 'local-name' };
  return { kind: 'name', name: host };
}
