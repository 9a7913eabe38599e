import { ClickClackError, isAbort } from './errors.js';
import { subscribe, type Subscription, type SubscribeOptions } from './subscribe.js';
import type {
  Capabilities,
  Channel,
  DirectConversation,
  Event,
  EventPage,
  MagicLinkConsumed,
  MemberPage,
  Message,
  MessageInput,
  MessagePage,
  PageQuery,
  ReactionChange,
  ReadReceipt,
  SearchPage,
  Thread,
  ThreadState,
  Upload,
  User,
  Workspace,
} from './types.js';

/** The part of a WebSocket the SDK uses (browsers' `WebSocket`, the `ws` package, Node ≥ 22). */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol?: string;
  close(code?: number, reason?: string): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- implementations' event types differ (DOM, ws)
  addEventListener(type: string, listener: (event: any) => void): void;
}

/** A WebSocket constructor: `new WebSocket(url, protocols)`. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Retry policy for idempotent sends (messages and uploads carry a nonce). */
export interface RetryOptions {
  /** Total attempts including the first (default 4; 1 disables retries). */
  attempts?: number;
  /** First backoff in milliseconds (default 250), doubled per attempt with jitter. */
  baseDelayMs?: number;
  /** Backoff ceiling in milliseconds (default 5000). */
  maxDelayMs?: number;
}

export interface ClientOptions {
  /** Server origin, e.g. `https://chat.example.com` (a trailing `/` is stripped). */
  baseUrl: string;
  /** Bearer token: a session (`sst_…`) or bot token (`ccb_…`). */
  token?: string;
  /** Dev auth only (`serve --dev-bootstrap`, loopback): act as this user id. */
  userId?: string;
  /** A `fetch` implementation (default: the global one). */
  fetch?: typeof globalThis.fetch;
  /**
   * A WebSocket constructor for `events.subscribe` (default: the global `WebSocket` when
   * there is one). Without one, subscriptions long-poll over HTTP.
   */
  WebSocket?: WebSocketConstructor | null;
  /** Retry policy for sends. */
  retry?: RetryOptions;
  /** Extra headers on every request (e.g. `X-Correlation-ID`). */
  headers?: Record<string, string>;
}

export type QueryValue = string | number | boolean | undefined | null;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** A JSON body. */
  json?: unknown;
  /** A multipart body, built afresh for every attempt. */
  form?: () => FormData;
  /** Retry transient failures (only for idempotent requests). */
  retry?: boolean;
  signal?: AbortSignal;
  /** Extra headers for this request. */
  headers?: Record<string, string>;
}

/** Uploadable content. */
export type UploadContent = Blob | ArrayBuffer | ArrayBufferView | string;

export interface UploadOptions {
  /** Content type used when `file` is not already a typed Blob. */
  contentType?: string;
  /** Retry-safe id; generated when omitted. */
  nonce?: string;
  width?: number;
  height?: number;
  duration_ms?: number;
  signal?: AbortSignal;
}

export interface SearchOptions {
  channel_id?: string;
  direct_conversation_id?: string;
  sort?: 'relevance' | 'newest';
  limit?: number;
  cursor?: string;
}

export interface MemberQuery {
  q?: string;
  role?: string;
  cursor?: string;
  limit?: number;
}

export interface EphemeralInput {
  workspaceId: string;
  channelId?: string;
  directConversationId?: string;
  /** `typing.started`, `typing.stopped`, `presence.changed`, `agent.progress` (bots). */
  type: string;
  payload?: Record<string, unknown>;
  targetUserId?: string;
}

export interface PullOptions {
  workspaceId: string;
  /** Events after this cursor (`""` or omitted: from the beginning). */
  cursor?: string;
  /** Durable events per page (200, ≤ 500). */
  limit?: number;
  /** Also return `tail_cursor`, the newest visible cursor. */
  includeTail?: boolean;
  /** Long-poll: hold the request up to this many seconds (≤ 25) until an event exists. */
  wait?: number;
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new DOMException('aborted', 'AbortError'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** A fresh nonce for a retry-safe create. */
export function newNonce(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  // Very old runtimes: not cryptographically strong, but unique enough for idempotency keys.
  return `n-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

const enc = encodeURIComponent;

function pageQuery(page: number | PageQuery | undefined): Record<string, QueryValue> {
  if (page === undefined) return {};
  if (typeof page === 'number') return { after_seq: page };
  return { ...page };
}

/**
 * A ClickClack API client.
 *
 * ```ts
 * const cc = new ClickClackClient({ baseUrl: 'http://127.0.0.1:8080', token: 'sst_…' });
 * const me = await cc.me();
 * ```
 */
export class ClickClackClient {
  readonly baseUrl: string;
  private token: string | undefined;
  private readonly userId: string | undefined;
  private readonly fetchImpl: typeof globalThis.fetch;
  /** The WebSocket constructor subscriptions use, or `null` (long-poll only). */
  readonly WebSocket: WebSocketConstructor | null;
  private readonly retryPolicy: Required<RetryOptions>;
  private readonly extraHeaders: Record<string, string>;

  constructor(options: ClientOptions) {
    if (!options || typeof options.baseUrl !== 'string' || !options.baseUrl) {
      throw new TypeError('ClickClackClient: baseUrl is required');
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token || undefined;
    this.userId = options.userId || undefined;
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('ClickClackClient: no fetch implementation');
    this.fetchImpl = options.fetch ? options.fetch : (input, init) => globalThis.fetch(input, init);
    const globalWs = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.WebSocket = options.WebSocket === undefined ? (globalWs ?? null) : options.WebSocket;
    this.retryPolicy = {
      attempts: Math.max(1, options.retry?.attempts ?? 4),
      baseDelayMs: options.retry?.baseDelayMs ?? 250,
      maxDelayMs: options.retry?.maxDelayMs ?? 5000,
    };
    this.extraHeaders = { ...(options.headers ?? {}) };
  }

  /** The current bearer token (after `auth.consumeMagicLink` or `auth.setToken`). */
  getToken(): string | undefined {
    return this.token;
  }

  /** `<baseUrl><path>?<query>`. */
  url(path: string, query?: Record<string, QueryValue>): string {
    let url = this.baseUrl + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v === undefined || v === null) continue;
        params.append(k, String(v));
      }
      const qs = params.toString();
      if (qs) url += (url.includes('?') ? '&' : '?') + qs;
    }
    return url;
  }

  /** The request headers for this client (auth and extras). */
  headers(extra?: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', ...this.extraHeaders };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    if (this.userId) h['x-clickclack-user'] = this.userId;
    return { ...h, ...(extra ?? {}) };
  }

  /**
   * One API call: JSON in, JSON out. Non-OK responses throw {@link ClickClackError}.
   * With `retry`, transient failures (network, 5xx, 408, 429) are retried with backoff.
   */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const attempts = options.retry ? this.retryPolicy.attempts : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(method, path, options);
      } catch (e) {
        const err = e instanceof ClickClackError ? e : ClickClackError.network(e, `${method} ${path}`);
        if (attempt >= attempts || !err.transient || options.signal?.aborted) throw err;
        const backoff = Math.min(this.retryPolicy.maxDelayMs, this.retryPolicy.baseDelayMs * 2 ** (attempt - 1));
        const delay =
          err.retryAfter !== undefined
            ? Math.min(err.retryAfter * 1000, this.retryPolicy.maxDelayMs * 4)
            : backoff / 2 + Math.random() * (backoff / 2);
        try {
          await sleep(delay, options.signal);
        } catch (abort) {
          throw ClickClackError.network(abort, `${method} ${path}`);
        }
      }
    }
  }

  /** A raw authenticated fetch (e.g. to download an upload). Non-OK still throws. */
  async fetchRaw(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchImpl(this.url(path), {
        ...init,
        headers: { ...this.headers(), ...((init.headers as Record<string, string>) ?? {}) },
      });
    } catch (e) {
      throw ClickClackError.network(e, `GET ${path}`);
    }
    if (!res.ok) throw await ClickClackError.fromResponse(res);
    return res;
  }

  private async once<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const headers = this.headers(options.headers);
    let body: BodyInit | undefined;
    if (options.form) {
      body = options.form();
    } else if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    let res: Response;
    try {
      res = await this.fetchImpl(this.url(path, options.query), {
        method,
        headers,
        body,
        signal: options.signal,
      });
    } catch (e) {
      throw ClickClackError.network(e, `${method} ${path}`);
    }
    if (!res.ok) throw await ClickClackError.fromResponse(res);
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      // The server answered but the body was lost: as transient as a dropped connection.
      throw ClickClackError.network(e, `${method} ${path}`);
    }
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new ClickClackError(`${method} ${path}: response is not JSON`, {
        status: res.status,
        code: 'invalid_response',
        cause: e,
      });
    }
  }

  private get<T>(path: string, query?: Record<string, QueryValue>, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, signal });
  }

  private send<T>(method: string, path: string, json?: unknown): Promise<T> {
    return this.request<T>(method, path, { json });
  }

  /** Posts a message body with a nonce, retrying transient failures with that same nonce. */
  private async create<T>(path: string, input: MessageInput): Promise<T> {
    if (!input || typeof input.body !== 'string') throw new TypeError('message body must be a string');
    const json = { ...input, nonce: input.nonce || newNonce() };
    return this.request<T>('POST', path, { json, retry: true });
  }

  // ---------------------------------------------------------------- auth and profile

  readonly auth = {
    /** `POST /api/auth/magic/request` (dev auth on loopback only) → `{magic_link, token}`. */
    requestMagicLink: (input: { email: string; display_name?: string }) =>
      this.send<{ magic_link: string; token: string }>('POST', '/api/auth/magic/request', input),
    /** Exchanges a magic-link token for a session and uses it as this client's bearer token. */
    consumeMagicLink: async (token: string): Promise<MagicLinkConsumed> => {
      const out = await this.send<MagicLinkConsumed>('POST', '/api/auth/magic/consume', { token });
      const session = out.session as { token?: string } | undefined;
      this.token = out.token || session?.token || this.token;
      return out;
    },
    /** Replaces (or with `undefined` clears) the bearer token. */
    setToken: (token: string | undefined) => {
      this.token = token || undefined;
    },
    /** Where to send a browser to sign in with GitHub. */
    githubStartUrl: () => `${this.baseUrl}/api/auth/github/start`,
    /** Revokes the current session and forgets the token. */
    logout: async (): Promise<{ logged_out: boolean; revoked?: boolean }> => {
      const out = await this.send<{ logged_out: boolean; revoked?: boolean }>('POST', '/api/auth/logout');
      this.token = undefined;
      return out;
    },
  };

  /** `GET /api/me` → the signed-in user (or bot). */
  async me(): Promise<User> {
    return (await this.get<{ user: User }>('/api/me')).user;
  }

  /** `PATCH /api/me` → the updated user. */
  async updateMe(input: { display_name?: string; handle?: string; avatar_url?: string }): Promise<User> {
    return (await this.send<{ user: User }>('PATCH', '/api/me', input)).user;
  }

  /** `GET /api/capabilities`: transports, epoch and limits of this host. */
  capabilities(): Promise<Capabilities> {
    return this.get<Capabilities>('/api/capabilities');
  }

  // ---------------------------------------------------------------- workspaces, channels

  readonly workspaces = {
    list: async (): Promise<Workspace[]> => (await this.get<{ workspaces: Workspace[] }>('/api/workspaces')).workspaces,
    create: async (input: { name: string; slug?: string }): Promise<Workspace> =>
      (await this.send<{ workspace: Workspace }>('POST', '/api/workspaces', input)).workspace,
    get: async (id: string): Promise<Workspace> =>
      (await this.get<{ workspace: Workspace }>(`/api/workspaces/${enc(id)}`)).workspace,
    /** One page of the member directory. */
    members: (id: string, query: MemberQuery = {}): Promise<MemberPage> =>
      this.get<MemberPage>(`/api/workspaces/${enc(id)}/members`, { ...query }),
  };

  readonly channels = {
    list: async (workspaceId: string): Promise<Channel[]> =>
      (await this.get<{ channels: Channel[] }>(`/api/workspaces/${enc(workspaceId)}/channels`)).channels,
    create: async (workspaceId: string, input: { name: string; kind?: 'public' | 'private' }): Promise<Channel> =>
      (await this.send<{ channel: Channel }>('POST', `/api/workspaces/${enc(workspaceId)}/channels`, input)).channel,
    update: async (
      channelId: string,
      input: { name?: string; kind?: 'public' | 'private'; archived?: boolean },
    ): Promise<Channel> =>
      (await this.send<{ channel: Channel }>('PATCH', `/api/channels/${enc(channelId)}`, input)).channel,
    /**
     * A window of root messages, ascending. No argument: the newest window; a number: the
     * messages after that seq; or a {@link PageQuery} (`before_seq`, `after_seq`,
     * `around_seq`, `limit`).
     */
    messages: (channelId: string, page?: number | PageQuery): Promise<MessagePage> =>
      this.get<MessagePage>(`/api/channels/${enc(channelId)}/messages`, pageQuery(page)),
    /** Posts a message (retry-safe: a nonce is generated when absent). */
    sendMessage: async (channelId: string, input: MessageInput): Promise<Message> =>
      (await this.create<{ message: Message }>(`/api/channels/${enc(channelId)}/messages`, input)).message,
    /** Marks the channel read up to `seq` (monotonic). */
    markRead: async (channelId: string, seq: number): Promise<ReadReceipt> =>
      (await this.send<{ receipt: ReadReceipt }>('POST', `/api/channels/${enc(channelId)}/read`, { seq })).receipt,
  };

  // ---------------------------------------------------------------- messages

  readonly messages = {
    get: async (id: string): Promise<Message> =>
      (await this.get<{ message: Message }>(`/api/messages/${enc(id)}`)).message,
    /** The caller's own message sent with `nonce` (404 when there is none). */
    byNonce: async (workspaceId: string, nonce: string): Promise<Message> =>
      (await this.get<{ message: Message }>('/api/messages/by-nonce', { workspace_id: workspaceId, nonce })).message,
    update: async (id: string, input: { body: string }): Promise<Message> =>
      (await this.send<{ message: Message }>('PATCH', `/api/messages/${enc(id)}`, input)).message,
    /** Deletes (idempotent) and returns the tombstone. */
    delete: async (id: string): Promise<Message> =>
      (await this.send<{ message: Message }>('DELETE', `/api/messages/${enc(id)}`)).message,
    /** Attaches an upload to one of the caller's messages. */
    attach: (messageId: string, uploadId: string) => this.uploads.attach(messageId, uploadId),
  };

  readonly threads = {
    /** `{root, replies, thread_state}` — the earliest replies (`limit`), or with `latest` the newest window. */
    get: (rootId: string, options: { limit?: number; latest?: boolean } = {}): Promise<Thread> =>
      this.get<Thread>(`/api/messages/${enc(rootId)}/thread`, {
        limit: options.limit,
        latest: options.latest ? 'true' : undefined,
      }),
    /** The latest window of replies (chronological). */
    latest: (rootId: string, limit?: number): Promise<Thread> => this.threads.get(rootId, { limit, latest: true }),
    /** Replies in the thread of `rootId` (retry-safe). Returns the reply. */
    reply: async (rootId: string, input: MessageInput): Promise<Message> =>
      (
        await this.create<{ message: Message; thread_state: ThreadState }>(
          `/api/messages/${enc(rootId)}/thread/replies`,
          input,
        )
      ).message,
  };

  readonly reactions = {
    /** Adds a reaction; `event` is null when it was already there. */
    add: (messageId: string, emoji: string): Promise<ReactionChange> =>
      this.send<ReactionChange>('POST', `/api/messages/${enc(messageId)}/reactions`, { emoji }),
    /** Removes a reaction; `event` is null when there was none. */
    remove: (messageId: string, emoji: string): Promise<ReactionChange> =>
      this.send<ReactionChange>('DELETE', `/api/messages/${enc(messageId)}/reactions/${enc(emoji)}`),
  };

  readonly pins = {
    /** Pinned messages, newest pin first. */
    list: async (channelId: string): Promise<Message[]> =>
      (await this.get<{ pins: Message[] }>(`/api/channels/${enc(channelId)}/pins`)).pins,
    add: async (channelId: string, messageId: string): Promise<Event> =>
      (await this.send<{ event: Event }>('POST', `/api/channels/${enc(channelId)}/pins`, { message_id: messageId }))
        .event,
    remove: async (channelId: string, messageId: string): Promise<Event> =>
      (await this.send<{ event: Event }>('DELETE', `/api/channels/${enc(channelId)}/pins/${enc(messageId)}`)).event,
  };

  /** Full-text search in a workspace (channels by default; one DM with `direct_conversation_id`). */
  search(workspaceId: string, q: string, options: SearchOptions = {}): Promise<SearchPage> {
    return this.get<SearchPage>('/api/search', { workspace_id: workspaceId, q, ...options });
  }

  // ---------------------------------------------------------------- uploads

  readonly uploads = {
    /**
     * Uploads one file (multipart, retry-safe with a nonce). `file` may be a Blob/File, bytes
     * or a string.
     */
    create: async (
      workspaceId: string,
      file: UploadContent,
      filename = 'upload.bin',
      options: UploadOptions = {},
    ): Promise<Upload> => {
      const blob =
        file instanceof Blob && !options.contentType
          ? file
          : new Blob([file as BlobPart], {
              type:
                options.contentType ||
                (file instanceof Blob ? file.type : typeof file === 'string' ? 'text/plain;charset=utf-8' : '') ||
                'application/octet-stream',
            });
      const nonce = options.nonce || newNonce();
      const form = () => {
        const fd = new FormData();
        fd.append('workspace_id', workspaceId);
        fd.append('nonce', nonce);
        if (options.width !== undefined) fd.append('width', String(options.width));
        if (options.height !== undefined) fd.append('height', String(options.height));
        if (options.duration_ms !== undefined) fd.append('duration_ms', String(options.duration_ms));
        fd.append('file', blob, filename);
        return fd;
      };
      const out = await this.request<{ upload: Upload }>('POST', '/api/uploads', {
        form,
        retry: true,
        signal: options.signal,
      });
      return out.upload;
    },
    /** Attaches an upload to one of the caller's messages → `{ok, message, event}`. */
    attach: (messageId: string, uploadId: string) =>
      this.send<{ ok: boolean; message: Message; event: Event | null }>(
        'POST',
        `/api/messages/${enc(messageId)}/attachments`,
        { upload_id: uploadId },
      ),
    byNonce: async (workspaceId: string, nonce: string): Promise<Upload> =>
      (await this.get<{ upload: Upload }>('/api/uploads/by-nonce', { workspace_id: workspaceId, nonce })).upload,
    /** The download URL (needs the same credentials). */
    url: (uploadId: string) => this.url(`/api/uploads/${enc(uploadId)}`),
    /** Downloads an upload's bytes (follows S3 redirects). */
    download: (uploadId: string, init: RequestInit = {}): Promise<Response> =>
      this.fetchRaw(`/api/uploads/${enc(uploadId)}`, init),
  };

  // ---------------------------------------------------------------- direct messages

  readonly dms = {
    /** Open conversations of the caller in a workspace. */
    list: async (workspaceId: string): Promise<DirectConversation[]> =>
      (await this.get<{ conversations: DirectConversation[] }>('/api/dms', { workspace_id: workspaceId }))
        .conversations,
    /** Opens (1:1: reuses) a conversation with these members (the caller is added). */
    create: async (workspaceId: string, memberIds: string[]): Promise<DirectConversation> =>
      (
        await this.send<{ conversation: DirectConversation }>('POST', '/api/dms', {
          workspace_id: workspaceId,
          member_ids: memberIds,
        })
      ).conversation,
    get: async (id: string): Promise<DirectConversation> =>
      (await this.get<{ conversation: DirectConversation }>(`/api/dms/${enc(id)}`)).conversation,
    /** Hides the conversation for the caller (a new message reopens it). */
    close: (id: string) =>
      this.send<{ conversation: DirectConversation; closed: boolean }>('DELETE', `/api/dms/${enc(id)}`),
    /** Reopens a closed conversation. */
    open: (id: string) =>
      this.send<{ conversation: DirectConversation; closed: boolean }>('POST', `/api/dms/${enc(id)}/open`),
    messages: (id: string, page?: number | PageQuery): Promise<MessagePage> =>
      this.get<MessagePage>(`/api/dms/${enc(id)}/messages`, pageQuery(page)),
    sendMessage: async (id: string, input: MessageInput): Promise<Message> =>
      (await this.create<{ message: Message }>(`/api/dms/${enc(id)}/messages`, input)).message,
    markRead: async (id: string, seq: number): Promise<ReadReceipt> =>
      (await this.send<{ receipt: ReadReceipt }>('POST', `/api/dms/${enc(id)}/read`, { seq })).receipt,
  };

  // ---------------------------------------------------------------- realtime

  readonly events = {
    /** Typing/presence/progress: delivered live, kept ~30 s for pollers, never replayed. */
    publishEphemeral: async (input: EphemeralInput): Promise<Event> =>
      (
        await this.send<{ event: Event }>('POST', '/api/realtime/ephemeral', {
          workspace_id: input.workspaceId,
          channel_id: input.channelId,
          direct_conversation_id: input.directConversationId,
          type: input.type,
          payload: input.payload ?? {},
          target_user_id: input.targetUserId,
        })
      ).event,
    /** One page of the event log after a cursor (with `wait`, a long-poll). */
    pull: (options: PullOptions): Promise<EventPage> =>
      this.get<EventPage>(
        '/api/realtime/events',
        {
          workspace_id: options.workspaceId,
          after_cursor: options.cursor || undefined,
          limit: options.limit,
          include_tail: options.includeTail ? 'true' : undefined,
          wait: options.wait,
        },
        options.signal,
      ),
    /** The newest event cursor visible to the caller (`""` when the log is empty). */
    tail: async (workspaceId: string, signal?: AbortSignal): Promise<string> => {
      const page = await this.events.pull({ workspaceId, includeTail: true, limit: 1, signal });
      return page.tail_cursor ?? '';
    },
    /**
     * Follows a workspace's events live (WebSocket when offered and available, else
     * long-poll), resuming from its cursor after drops. See {@link SubscribeOptions}.
     */
    subscribe: (options: SubscribeOptions): Subscription => subscribe(this, options),
  };

  /** Whether an error is a transient failure worth retrying. */
  static isTransient(e: unknown): boolean {
    return e instanceof ClickClackError ? e.transient : !isAbort(e);
  }
}
