import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { AirlockConfig } from '../../config';

type Handler = () => void;

/**
 * One dedicated connection that LISTENs for the channels the migrations NOTIFY on (new outbox
 * rows, new audit events). Reconnects with backoff; handlers are also driven by their own polls,
 * so a lost notification only delays work.
 */
@Injectable()
export class PgListener implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PgListener.name);
  private readonly handlers = new Map<string, Handler[]>();
  private client: Client | undefined;
  private closed = false;
  private retryMs = 250;

  constructor(private readonly config: AirlockConfig) {}

  on(channel: string, handler: Handler): void {
    const known = this.handlers.has(channel);
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), handler]);
    if (!known && this.client) {
      this.client.query(`LISTEN "${channel}"`).catch(() => this.client?.end().catch(() => undefined));
    }
  }

  async onModuleInit(): Promise<void> {
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client({
      connectionString: this.config.DATABASE_URL,
      application_name: 'airlock-listener',
      // A Postgres that accepts the socket but never answers must not stall reconnection.
      connectionTimeoutMillis: this.config.DEPENDENCY_TIMEOUT_MS,
    });
    client.on('error', () => undefined);
    client.on('end', () => {
      if (!this.closed) this.reconnectLater();
    });
    client.on('notification', (n) => {
      for (const h of this.handlers.get(n.channel) ?? []) h();
    });
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) await client.query(`LISTEN "${channel}"`);
      this.client = client;
      this.retryMs = 250;
      // Anything that arrived while disconnected is picked up now.
      for (const hs of this.handlers.values()) hs.forEach((h) => h());
    } catch (e) {
      this.logger.warn({ msg: 'LISTEN connection failed; retrying', error: String(e) });
      await client.end().catch(() => undefined);
      this.reconnectLater();
    }
  }

  private reconnectLater(): void {
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 10_000);
    setTimeout(() => void this.connect(), wait).unref();
  }
}
