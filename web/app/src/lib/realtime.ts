// Realtime client for one workspace. Uses the WebSocket when the server offers "ws" and
// long-polling otherwise (or when the socket keeps failing). The last durable cursor is kept
// in localStorage (`clickclack:<workspace_id>:cursor`) so reconnects resume exactly where
// they stopped; events are de-duplicated by id, so overlap after a reconnect is harmless.

import { api, ApiError } from './api';
import type { ChatEvent } from './types';

export type RealtimeStatus = 'connecting' | 'live' | 'offline';

export interface RealtimeHandlers {
  /** Durable events, in cursor order, never the same id twice. */
  onEvents(events: ChatEvent[]): void;
  /** Ephemeral events (typing, presence); not stored. */
  onEphemeral?(events: ChatEvent[]): void;
  /** The cursor can no longer be replayed: reload state over HTTP. */
  onResync(): Promise<void> | void;
  onStatus?(status: RealtimeStatus, transport: 'ws' | 'poll'): void;
}

const POLL_WAIT = 25;
const SEEN_LIMIT = 5000;

export function cursorKey(workspaceId: string): string {
  return `clickclack:${workspaceId}:cursor`;
}

export class Realtime {
  private cursor = '';
  private seen = new Set<string>();
  private seenOrder: string[] = [];
  private stopped = false;
  private socket: WebSocket | null = null;
  private abort: AbortController | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private wsFailures = 0;
  private transport: 'ws' | 'poll' = 'poll';
  private status: RealtimeStatus = 'connecting';
  private generation = 0;
  private readonly onOnline = () => this.kick();

  constructor(
    private readonly workspaceId: string,
    private readonly handlers: RealtimeHandlers,
    private readonly transports: string[],
  ) {}

  /** Starts streaming from the stored cursor, or from the current tail when none. */
  async start(): Promise<void> {
    this.cursor = localStorage.getItem(cursorKey(this.workspaceId)) ?? '';
    if (!this.cursor) await this.seekTail();
    this.transport = this.transports.includes('ws') && typeof WebSocket !== 'undefined' ? 'ws' : 'poll';
    window.addEventListener('online', this.onOnline);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    window.removeEventListener('online', this.onOnline);
    this.teardown();
  }

  get currentCursor(): string {
    return this.cursor;
  }

  /** Reconnects now (e.g. the browser came back online). */
  kick(): void {
    if (this.stopped) return;
    this.failures = 0;
    this.teardown();
    this.connect();
  }

  private teardown(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort?.abort();
    this.abort = null;
    if (this.socket) {
      const s = this.socket;
      this.socket = null;
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      try {
        s.close(1000);
      } catch {
        /* already closed */
      }
    }
  }

  private setStatus(status: RealtimeStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.handlers.onStatus?.(status, this.transport);
  }

  private async seekTail(): Promise<void> {
    const page = await api.events(this.workspaceId, '', { limit: 1, includeTail: true });
    this.saveCursor(page.tail_cursor ?? page.events.at(-1)?.cursor ?? '');
  }

  private saveCursor(cursor: string): void {
    if (!cursor || cursor <= this.cursor) return;
    this.cursor = cursor;
    try {
      localStorage.setItem(cursorKey(this.workspaceId), cursor);
    } catch {
      /* storage full or disabled: the in-memory cursor still works */
    }
  }

  private deliver(events: ChatEvent[]): void {
    const fresh: ChatEvent[] = [];
    const ephemeral: ChatEvent[] = [];
    for (const e of events) {
      if (!e.cursor) {
        ephemeral.push(e);
        continue;
      }
      if (this.seen.has(e.id) || (this.cursor && e.cursor <= this.cursor)) continue;
      this.seen.add(e.id);
      this.seenOrder.push(e.id);
      if (this.seenOrder.length > SEEN_LIMIT) this.seen.delete(this.seenOrder.shift()!);
      fresh.push(e);
    }
    if (fresh.length) {
      this.saveCursor(fresh[fresh.length - 1].cursor);
      this.handlers.onEvents(fresh);
    }
    if (ephemeral.length) this.handlers.onEphemeral?.(ephemeral);
  }

  private async resync(): Promise<void> {
    localStorage.removeItem(cursorKey(this.workspaceId));
    this.cursor = '';
    await this.seekTail();
    await this.handlers.onResync();
  }

  private retryLater(): void {
    if (this.stopped) return;
    this.failures++;
    const delay = Math.min(15000, 600 * 2 ** Math.min(this.failures, 5)) + Math.random() * 400;
    this.timer = setTimeout(() => this.connect(), this.failures === 1 ? 1200 : delay);
  }

  private connect(): void {
    if (this.stopped) return;
    if (this.transport === 'ws') this.connectSocket();
    else void this.pollLoop(++this.generation);
  }

  private connectSocket(): void {
    const gen = ++this.generation;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${proto}//${location.host}/api/realtime/ws?workspace_id=${encodeURIComponent(
      this.workspaceId,
    )}&after_cursor=${encodeURIComponent(this.cursor)}`;
    this.setStatus('connecting');
    let opened = false;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      opened = true;
      this.failures = 0;
      this.wsFailures = 0;
      this.setStatus('live');
    };
    socket.onmessage = (msg) => {
      if (gen !== this.generation) return;
      try {
        const e = JSON.parse(String(msg.data)) as ChatEvent;
        if (e && typeof e.id === 'string') this.deliver([e]);
      } catch {
        /* ignore malformed frames */
      }
    };
    socket.onclose = (ev) => {
      if (gen !== this.generation || this.stopped) return;
      this.socket = null;
      this.setStatus('offline');
      if (ev.code === 4001) {
        // Too far behind: authoritative HTTP resync, then reconnect from the new tail.
        void this.resync()
          .catch(() => undefined)
          .finally(() => this.connect());
        return;
      }
      if (!opened && ++this.wsFailures >= 3) this.transport = 'poll';
      this.retryLater();
    };
  }

  private async pollLoop(gen: number): Promise<void> {
    this.setStatus(this.failures ? 'offline' : 'connecting');
    while (!this.stopped && gen === this.generation) {
      const abort = new AbortController();
      this.abort = abort;
      try {
        const page = await api.events(this.workspaceId, this.cursor, {
          wait: POLL_WAIT,
          limit: 200,
          signal: abort.signal,
        });
        if (gen !== this.generation) return;
        this.failures = 0;
        this.setStatus('live');
        this.deliver([...page.events, ...(page.ephemeral ?? [])]);
      } catch (err) {
        if (gen !== this.generation || this.stopped) return;
        if ((err as Error)?.name === 'AbortError') return;
        if (err instanceof ApiError && err.code === 'resync_required') {
          try {
            await this.resync();
            continue;
          } catch {
            /* fall through to retry */
          }
        }
        this.setStatus('offline');
        this.retryLater();
        return;
      }
    }
  }
}
