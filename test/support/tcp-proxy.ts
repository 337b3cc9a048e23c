import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket, connect } from 'node:net';

/**
 * A TCP proxy on loopback between an Airlock process and Postgres or Redis, so a test can take the
 * dependency away from that process alone (the shared servers keep running for everyone else).
 * `cut()` drops every open connection and stops listening, as a stopped server would (new
 * connections are refused); `restore()` listens on the same port again. `stall()` keeps every
 * connection open but moves no byte (a server that hangs), until `resume()`.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private stalled = false;
  port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** A proxy in front of the host and port of a URL (postgres://…, redis://…). */
  static async for(url: string): Promise<TcpProxy> {
    const u = new URL(url);
    const proxy = new TcpProxy(u.hostname, Number(u.port));
    await proxy.listen();
    return proxy;
  }

  /** The same URL, through the proxy. */
  url(original: string): string {
    const u = new URL(original);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  private async listen(): Promise<void> {
    const server = createServer((client) => this.pipe(client));
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.targetPort, this.targetHost);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).on('close', () => client.destroy());
    upstream.pipe(client).on('close', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    // After pipe(), which sets both flowing.
    if (this.stalled) for (const s of [client, upstream]) s.pause();
  }

  /** Drops every connection and refuses new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) {
      server.close();
      await once(server, 'close');
    }
  }

  /** Moves no more bytes either way, on open connections and new ones, until `resume()`. */
  stall(): void {
    this.stalled = true;
    for (const s of this.sockets) s.pause();
  }

  resume(): void {
    this.stalled = false;
    for (const s of this.sockets) s.resume();
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    if (!this.server) await this.listen();
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}
