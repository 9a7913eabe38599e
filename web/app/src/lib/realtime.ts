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
  /** The session is gone (401): stop and ask the user to sign in. */
  onUnauthorized?(): void;
}

const POLL_WAIT = 25;
const SEEN_LIMIT = 5000;

export function cursorKey(workspaceId: string): string {
  return `clickclack:${workspaceId}:cursor`;
}

function epochKey(workspaceId: string): string {
  return `clickclack:${workspaceId}:epoch`;
}

export class Realtime {
  private cursor = '';
  private seen = new Set<string>();
  private seenOrder: string[] = [];
  private seenEphemeral = new Set<string>();
  private stopped = false;
  private socket: WebSocket | null = null;
  private abort: AbortController | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private wsFailures = 0;
  private transport: 'ws' | 'poll' = 'poll';
  private status: RealtimeStatus = 'connecting';
  private generation = 0;
  private degradedAt = 0;
  private frames: ChatEvent[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly onOnline = () => this.kick();
  private readonly onOffline = () => {
    // Don't wait for a hung long-poll or socket to notice: show offline now, keep retrying.
    if (this.stopped) return;
    this.teardown();
    this.setStatus('offline');
    this.retryLater();
  };

  constructor(
    private readonly workspaceId: string,
    private readonly handlers: RealtimeHandlers,
    private readonly transports: string[],
    /** The database epoch from /api/capabilities; a stored cursor from another is useless. */
    private readonly epoch = '',
  ) {}

  /** Starts streaming from the stored cursor, or from the current tail when none. */
  async start(): Promise<void> {
    this.cursor = localStorage.getItem(cursorKey(this.workspaceId)) ?? '';
    const storedEpoch = localStorage.getItem(epochKey(this.workspaceId));
    if (this.cursor && this.epoch && storedEpoch && storedEpoch !== this.epoch) this.cursor = '';
    if (!this.cursor) await this.seekTail();
    this.transport = this.preferred();
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.connect();
  }

  /** WS when offered, unless `localStorage['clickclack:transport']` forces one (debugging, proxies). */
  private preferred(): 'ws' | 'poll' {
    const forced = localStorage.getItem('clickclack:transport');
    if (forced === 'poll') return 'poll';
    const ws = typeof WebSocket !== 'undefined' && (forced === 'ws' || this.transports.includes('ws'));
    return ws ? 'ws' : 'poll';
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
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
      if (this.epoch) localStorage.setItem(epochKey(this.workspaceId), this.epoch);
    } catch {
      /* storage full or disabled: the in-memory cursor still works */
    }
  }

  private deliver(events: ChatEvent[]): void {
    const fresh: ChatEvent[] = [];
    const ephemeral: ChatEvent[] = [];
    for (const e of events) {
      if (!e.cursor) {
        // Long-polls repeat unexpired ephemeral events: deliver each one once.
        if (this.seenEphemeral.has(e.id)) continue;
        this.seenEphemeral.add(e.id);
        if (this.seenEphemeral.size > 500) this.seenEphemeral.clear();
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
    localStorage.removeItem(epochKey(this.workspaceId));
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
        if (!e || typeof e.id !== 'string') return;
        // One event per frame: batch a burst (e.g. a backlog replay) into one delivery.
        this.frames.push(e);
        this.flushTimer ??= setTimeout(() => {
          this.flushTimer = null;
          const batch = this.frames;
          this.frames = [];
          if (gen === this.generation) this.deliver(batch);
        }, 15);
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
      if (opened) {
        this.retryLater();
        return;
      }
      // The upgrade was refused: the browser hides why, so ask over HTTP (409 resync, 401).
      void this.probe(gen).then((handled) => {
        if (handled || gen !== this.generation || this.stopped) return;
        if (++this.wsFailures >= 3) {
          // The socket never opens (a proxy may block upgrades): long-poll for a while.
          this.transport = 'poll';
          this.degradedAt = Date.now();
        }
        this.retryLater();
      });
    };
  }

  /** Checks the cursor over HTTP; true when that resolved the failure (resync or sign-out). */
  private async probe(gen: number): Promise<boolean> {
    try {
      await api.events(this.workspaceId, this.cursor, { limit: 1 });
      return false;
    } catch (err) {
      if (gen !== this.generation || this.stopped || !(err instanceof ApiError)) return false;
      if (err.status === 401) {
        this.stop();
        this.handlers.onUnauthorized?.();
        return true;
      }
      if (err.code === 'resync_required') {
        try {
          await this.resync();
        } catch {
          return false;
        }
        this.connect();
        return true;
      }
      return false;
    }
  }

  private async pollLoop(gen: number): Promise<void> {
    this.setStatus(this.failures ? 'offline' : 'connecting');
    let first = true;
    while (!this.stopped && gen === this.generation) {
      const abort = new AbortController();
      this.abort = abort;
      try {
        // The first request returns at once so a (re)connect is confirmed without waiting.
        const page = await api.events(this.workspaceId, this.cursor, {
          wait: first ? 0 : POLL_WAIT,
          limit: 200,
          signal: abort.signal,
        });
        if (gen !== this.generation) return;
        first = false;
        this.failures = 0;
        this.setStatus('live');
        this.deliver([...page.events, ...(page.ephemeral ?? [])]);
        if (this.degradedAt && Date.now() - this.degradedAt > 60_000 && this.preferred() === 'ws') {
          // HTTP works again for a while: give the socket another chance.
          this.degradedAt = 0;
          this.wsFailures = 0;
          this.transport = 'ws';
          this.connect();
          return;
        }
      } catch (err) {
        if (gen !== this.generation || this.stopped) return;
        if ((err as Error)?.name === 'AbortError') return;
        if (err instanceof ApiError && err.status === 401) {
          this.stop();
          this.handlers.onUnauthorized?.();
          return;
        }
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
