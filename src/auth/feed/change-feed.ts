import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Client, type ClientConfig } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
import { KEYS_CHANNEL, REVOCATION_CHANNEL } from '../auth.constants';
import { SigningKeysService } from '../keys/signing-keys.service';
import { RevokedSessions } from '../sessions/revoked-sessions';

const MAX_RECONNECT_DELAY_MS = 5000;

/**
 * Keeps every instance's in-memory state current: a dedicated PostgreSQL connection LISTENs on
 * the revocation channel (a session ended on any instance is refused here within milliseconds)
 * and on the keys channel (a rotated or retired key is reloaded at once). When the connection
 * drops it reconnects with backoff and reloads both, so nothing announced meanwhile is missed.
 * The embedded database (PGlite) lives in one process, where the instance that changes
 * something is the only one: there the state is only loaded at start.
 */
@Injectable()
export class ChangeFeed implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ChangeFeed.name);
  private client?: Client;
  private stopped = false;
  private reconnectDelayMs = 250;
  private reconnectTimer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly revokedSessions: RevokedSessions,
    private readonly keys: SigningKeysService,
  ) {}

  async onModuleInit(): Promise<void> {
    const config = listenerConfig(this.dataSource.options as PostgresDataSourceOptions);
    if (config) await this.connect(config);
    await this.revokedSessions.reload();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(config: ClientConfig): Promise<void> {
    const client = new Client(config);
    client.on('notification', (message) => {
      if (message.channel === REVOCATION_CHANNEL && message.payload) {
        this.revokedSessions.add(message.payload, new Date());
      } else if (message.channel === KEYS_CHANNEL) {
        this.keys
          .reload()
          .catch((error: Error) => this.logger.warn(`key reload failed: ${error.message}`));
      }
    });
    client.on('error', (error) => this.lost(client, config, error));
    client.on('end', () => this.lost(client, config));
    await client.connect();
    await client.query(`LISTEN ${REVOCATION_CHANNEL}; LISTEN ${KEYS_CHANNEL}`);
    this.client = client;
    this.reconnectDelayMs = 250;
  }

  private lost(client: Client, config: ClientConfig, error?: Error): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    this.logger.warn(`change feed lost${error ? `: ${error.message}` : ''}; reconnecting`);
    client.end().catch(() => undefined);
    this.scheduleReconnect(config);
  }

  private scheduleReconnect(config: ClientConfig): void {
    this.reconnectTimer = setTimeout(() => {
      this.connect(config)
        .then(() => Promise.all([this.revokedSessions.reload(), this.keys.reload()]))
        .then(() => this.logger.log('change feed restored'))
        .catch(() => {
          this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, MAX_RECONNECT_DELAY_MS);
          this.client?.end().catch(() => undefined);
          this.client = undefined;
          if (!this.stopped) this.scheduleReconnect(config);
        });
    }, this.reconnectDelayMs);
  }
}

/** Connection settings for the listener, or undefined for an in-process database (PGlite). */
function listenerConfig(options: PostgresDataSourceOptions): ClientConfig | undefined {
  const extra = (options.extra ?? {}) as Record<string, unknown>;
  if (extra.connection !== undefined) return undefined;
  return {
    connectionString: options.url,
    host: options.host,
    port: options.port,
    user: options.username,
    password: typeof options.password === 'string' ? options.password : undefined,
    database: options.database,
    ssl: options.ssl as ClientConfig['ssl'],
    connectionTimeoutMillis: 5000,
    keepAlive: true,
  };
}
