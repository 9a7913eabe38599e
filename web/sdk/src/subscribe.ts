import { ClickClackError, isAbort } from './errors.js';
import type { ClickClackClient, WebSocketLike } from './client.js';
import type { Event } from './types.js';

/** Why a subscription resynchronised. */
export interface ResyncInfo {
  /**
   * `epoch_changed`: the cursor belongs to another database (a restored backup); the
   * subscription continues from the server's current tail and the events in between are
   * **not** replayed — reload your state over HTTP.
   * `backlog_too_large`: the socket closed with 4001 because too many events were waiting;
   * the subscription catches up over HTTP from its cursor (nothing is lost) and reconnects.
   */
  reason: 'epoch_changed' | 'backlog_too_large';
  /** The server's epoch (for `epoch_changed`). */
  epoch?: string;
  /** The cursor before the resync. */
  previousCursor: string;
  /** Where the subscription continues from. */
  cursor: string;
}

export interface SubscribeOptions {
  workspaceId: string;
  /**
   * Start after this cursor. Omitted: start live from the current tail (no history);
   * `""`: replay the whole visible log first.
   */
  cursor?: string;
  /** Called once per event, in order; an async handler is awaited before the next event. */
  onEvent: (event: Event) => void | Promise<void>;
  /** Transient problems (the subscription keeps going) and the final fatal error. */
  onError?: (error: ClickClackError) => void;
  /** The subscription resynchronised (see {@link ResyncInfo}); awaited. */
  onResync?: (info: ResyncInfo) => void | Promise<void>;
  /** Stops the subscription when aborted (like `close()`). */
  signal?: AbortSignal;
  /** `auto` (default): WebSocket when the server offers it and a WebSocket is available. */
  transport?: 'auto' | 'ws' | 'poll';
  /** Deliver ephemeral events (typing, presence, progress; cursor `""`) too. Default true. */
  ephemeral?: boolean;
  /** Long-poll wait in seconds (default 25, capped by the server). */
  wait?: number;
  /** Reconnect backoff ceiling in milliseconds (default 10000). */
  maxBackoffMs?: number;
}

export interface Subscription {
  /** The cursor of the last durable event handed to `onEvent` (persist it to resume). */
  readonly cursor: string;
  /** The transport in use once connected. */
  readonly transport: 'ws' | 'poll' | undefined;
  /** The fatal error that ended the subscription, if any. */
  readonly error: ClickClackError | undefined;
  /**
   * Resolves once the subscription is connected (its start cursor is known and the socket is
   * open or the first poll answered), or once it ends — check `error`. Never rejects.
   */
  readonly ready: Promise<void>;
  /** Resolves when the subscription has ended (`close()`, the signal, or a fatal error). */
  readonly closed: Promise<void>;
  /** Stops the subscription. */
  close(): void;
}

/** WebSocket close code: too many events waiting, or a cursor from another epoch. */
const CLOSE_RESYNC = 4001;
/** Durable events per HTTP page while catching up. */
const PAGE = 500;
/** Socket failures before ever opening, in a row, after which we stay on long-poll. */
const MAX_WS_FAILURES = 3;
/** Event ids remembered for de-duplication. */
const SEEN_LIMIT = 2000;

class Timeout extends Error {
  constructor() {
    super('timed out');
    this.name = 'TimeoutError';
  }
}

class Sub implements Subscription {
  cursor = '';
  transport: 'ws' | 'poll' | undefined;
  error: ClickClackError | undefined;
  readonly ready: Promise<void>;
  readonly closed: Promise<void>;

  private done = false;
  private readonly abort = new AbortController();
  private socket: WebSocketLike | null = null;
  private useWs = false;
  private catchingUp = false;
  private backlogPending = false;
  private wsFailures = 0;
  private backoff = 250;
  private readonly seen = new Set<string>();
  private markReady!: () => void;

  constructor(
    private readonly client: ClickClackClient,
    private readonly opts: SubscribeOptions,
  ) {
    if (!opts || !opts.workspaceId) throw new TypeError('events.subscribe: workspaceId is required');
    if (typeof opts.onEvent !== 'function') throw new TypeError('events.subscribe: onEvent is required');
    this.ready = new Promise<void>((resolve) => {
      this.markReady = resolve;
    });
    if (opts.signal) {
      if (opts.signal.aborted) this.close();
      else opts.signal.addEventListener('abort', () => this.close(), { once: true });
    }
    this.closed = this.run();
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.abort.abort();
    const ws = this.socket;
    this.socket = null;
    try {
      ws?.close(1000, 'client closed');
    } catch {
      /* already closing */
    }
    this.markReady();
  }

  private get maxBackoff(): number {
    return this.opts.maxBackoffMs ?? 10000;
  }

  private report(err: ClickClackError): void {
    try {
      this.opts.onError?.(err);
    } catch {
      /* a throwing error handler must not end the subscription */
    }
  }

  private async pause(): Promise<void> {
    const ms = this.backoff / 2 + Math.random() * (this.backoff / 2);
    this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
    await new Promise<void>((resolve) => {
      const onAbort = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        this.abort.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private connected(transport: 'ws' | 'poll'): void {
    this.transport = transport;
    this.backoff = 250;
    this.markReady();
  }

  private async run(): Promise<void> {
    try {
      await this.start();
      while (!this.done) {
        try {
          if (this.useWs && !this.catchingUp) await this.socketSession();
          else await this.poll();
        } catch (e) {
          if (this.done) break;
          const err = toError(e);
          if (err.code === 'resync_required') {
            await this.resync(err);
            continue;
          }
          if (!err.transient) throw err;
          this.report(err);
          await this.pause();
        }
      }
    } catch (e) {
      if (!this.done) {
        this.error = toError(e);
        this.report(this.error);
      }
    } finally {
      this.done = true;
      this.abort.abort();
      this.markReady();
    }
  }

  /** Picks the transport and the start cursor, retrying transient failures. */
  private async start(): Promise<void> {
    const wanted = this.opts.transport ?? 'auto';
    if (wanted === 'ws' && !this.client.WebSocket) {
      throw new ClickClackError('events.subscribe: transport "ws" needs a WebSocket implementation', {
        status: 0,
        code: 'websocket_unavailable',
      });
    }
    let transports: string[] = ['poll'];
    if (wanted === 'auto' && this.client.WebSocket) {
      transports = await this.retrying(async () => {
        try {
          return (await this.client.capabilities()).transports ?? ['poll'];
        } catch (e) {
          // A server without /api/capabilities: try the socket.
          if (e instanceof ClickClackError && e.status === 404) return ['ws', 'poll'];
          throw e;
        }
      });
    }
    this.useWs = wanted === 'ws' || (wanted === 'auto' && !!this.client.WebSocket && transports.includes('ws'));
    if (this.opts.cursor === undefined) {
      this.cursor = await this.retrying(() => this.client.events.tail(this.opts.workspaceId, this.abort.signal));
    } else {
      this.cursor = this.opts.cursor;
    }
    // Long-poll starts with an immediate page: `ready` then means "the server answered", and
    // a backlog is paged through before waiting.
    this.catchingUp = !this.useWs;
  }

  private async retrying<T>(f: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await f();
      } catch (e) {
        const err = toError(e);
        if (this.done || !err.transient) throw err;
        this.report(err);
        await this.pause();
        if (this.done) throw err;
      }
    }
  }

  /** The server replaced its database: continue from the new tail. */
  private async resync(err: ClickClackError): Promise<void> {
    const previousCursor = this.cursor;
    const tail = await this.retrying(() => this.client.events.tail(this.opts.workspaceId, this.abort.signal));
    if (this.done) return;
    this.cursor = tail;
    this.seen.clear();
    this.catchingUp = false;
    this.backlogPending = false;
    await this.notifyResync({ reason: 'epoch_changed', epoch: err.epoch, previousCursor, cursor: tail });
  }

  private async notifyResync(info: ResyncInfo): Promise<void> {
    try {
      await this.opts.onResync?.(info);
    } catch (e) {
      this.report(toError(e));
    }
  }

  private async deliver(event: Event): Promise<void> {
    if (this.done || !event || typeof event !== 'object') return;
    const durable = typeof event.cursor === 'string' && event.cursor !== '';
    if (!durable && this.opts.ephemeral === false) return;
    if (event.id) {
      if (this.seen.has(event.id)) return;
      if (durable && this.cursor && event.cursor <= this.cursor) return;
      this.seen.add(event.id);
      if (this.seen.size > SEEN_LIMIT) {
        const first = this.seen.values().next().value;
        if (first !== undefined) this.seen.delete(first);
      }
    }
    try {
      await this.opts.onEvent(event);
    } catch (e) {
      this.report(
        e instanceof ClickClackError
          ? e
          : new ClickClackError(`onEvent threw: ${e instanceof Error ? e.message : String(e)}`, {
              status: 0,
              code: 'handler_error',
              cause: e,
            }),
      );
    }
    if (durable && !this.done) this.cursor = event.cursor;
  }

  /** One pull: a long-poll, or while catching up an immediate page. */
  private async poll(): Promise<void> {
    const wait = this.catchingUp ? 0 : Math.max(0, Math.min(this.opts.wait ?? 25, 25));
    const timer = new AbortController();
    const onAbort = () => timer.abort(new DOMException('aborted', 'AbortError'));
    this.abort.signal.addEventListener('abort', onAbort, { once: true });
    const t = setTimeout(() => timer.abort(new Timeout()), (wait + 15) * 1000);
    const started = Date.now();
    let page;
    try {
      page = await this.client.events.pull({
        workspaceId: this.opts.workspaceId,
        cursor: this.cursor,
        limit: PAGE,
        wait,
        signal: timer.signal,
      });
    } catch (e) {
      if (timer.signal.reason instanceof Timeout && !this.done) {
        throw new ClickClackError('long-poll timed out', { status: 0, code: 'network_error', cause: e });
      }
      throw e;
    } finally {
      clearTimeout(t);
      this.abort.signal.removeEventListener('abort', onAbort);
    }
    if (this.done) return;
    if (!this.useWs) this.connected('poll');
    if (this.backlogPending) {
      this.backlogPending = false;
      await this.notifyResync({ reason: 'backlog_too_large', previousCursor: this.cursor, cursor: this.cursor });
    }
    const events = page.events ?? [];
    for (const event of events) await this.deliver(event);
    for (const event of page.ephemeral ?? []) await this.deliver(event);
    if (this.catchingUp) {
      if (events.length < PAGE) this.catchingUp = false;
      return;
    }
    // A server that ignores `wait` must not make us spin.
    if (events.length === 0 && wait > 0 && Date.now() - started < 900) {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** One WebSocket connection: resolves on a clean end (or 4001), rejects on a drop. */
  private socketSession(): Promise<void> {
    const Ctor = this.client.WebSocket;
    if (!Ctor) {
      this.useWs = false;
      return Promise.resolve();
    }
    const url = this.client
      .url('/api/realtime/ws', { workspace_id: this.opts.workspaceId, after_cursor: this.cursor })
      .replace(/^http/, 'ws');
    const token = this.client.getToken();
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      let chain: Promise<void> = Promise.resolve();
      let ws: WebSocketLike;
      try {
        ws = token ? new Ctor(url, [`clickclack.bearer.${token}`]) : new Ctor(url);
      } catch (e) {
        this.useWs = false;
        reject(ClickClackError.network(e, 'WebSocket'));
        return;
      }
      this.socket = ws;
      if (this.done) {
        try {
          ws.close(1000);
        } catch {
          /* ignore */
        }
      }
      ws.addEventListener('open', () => {
        opened = true;
        this.wsFailures = 0;
        if (!this.done) this.connected('ws');
      });
      ws.addEventListener('message', (ev: { data: unknown }) => {
        let event: Event;
        try {
          event = JSON.parse(frameText(ev.data)) as Event;
        } catch (e) {
          this.report(
            new ClickClackError('ignoring a WebSocket frame that is not JSON', {
              status: 0,
              code: 'invalid_frame',
              cause: e,
            }),
          );
          return;
        }
        chain = chain.then(() => this.deliver(event));
      });
      ws.addEventListener('error', () => {
        /* a close event follows */
      });
      ws.addEventListener('close', (ev: { code?: number; reason?: string }) => {
        if (this.socket === ws) this.socket = null;
        const code = ev?.code ?? 1006;
        void chain.then(() => {
          if (this.done) return resolve();
          if (code === CLOSE_RESYNC) {
            // Too many events waiting, or a cursor from another epoch: go over HTTP. The
            // first page either catches up (backlog) or answers 409 resync_required.
            this.catchingUp = true;
            this.backlogPending = true;
            return resolve();
          }
          if (!opened) {
            // Refused upgrades hide their status: one HTTP pull surfaces the real error
            // (401, 404, 409…, or a network error that backs off) and keeps events flowing;
            // repeated failures stay on long-poll.
            this.wsFailures += 1;
            if (this.wsFailures >= MAX_WS_FAILURES) this.useWs = false;
            this.catchingUp = true;
            this.report(
              new ClickClackError(`WebSocket could not connect (close ${code})`, { status: 0, code: 'network_error' }),
            );
            return resolve();
          }
          reject(
            new ClickClackError(`the event stream closed (${code}${ev?.reason ? `: ${ev.reason}` : ''})`, {
              status: 0,
              code: 'network_error',
            }),
          );
        });
      });
    });
  }
}

function frameText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(data);
  return String(data);
}

function toError(e: unknown): ClickClackError {
  if (e instanceof ClickClackError) return e;
  if (isAbort(e)) return new ClickClackError('aborted', { status: 0, code: 'aborted', cause: e });
  return ClickClackError.network(e, 'event subscription');
}

export function subscribe(client: ClickClackClient, options: SubscribeOptions): Subscription {
  return new Sub(client, options);
}
