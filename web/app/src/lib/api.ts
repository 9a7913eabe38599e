// A small typed client for the ClickClack HTTP API. Every unsafe request carries the CSRF
// header so cookie sessions work; dev bootstrap on loopback needs no credentials at all.

import type {
  Capabilities,
  Channel,
  DirectConversation,
  EventsPage,
  Member,
  Message,
  MessagePage,
  Reaction,
  SearchResult,
  Thread,
  ThreadState,
  Upload,
  User,
  Workspace,
} from './types';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public body: Record<string, unknown> = {},
  ) {
    super(message);
  }
  /** A failure worth retrying (network, 5xx, 429) rather than a rejection. */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

function qs(query?: Query): string {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

export async function request<T>(
  method: string,
  path: string,
  opts: { query?: Query; body?: unknown; signal?: AbortSignal; form?: FormData } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: BodyInit | undefined;
  if (opts.form) {
    body = opts.form;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (!['GET', 'HEAD'].includes(method)) headers['X-ClickClack-CSRF'] = '1';
  let res: Response;
  try {
    res = await fetch(path + qs(opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Network unavailable');
  }
  const text = await res.text().catch(() => '');
  let data: Record<string, unknown> = {};
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = {};
    }
  }
  if (!res.ok) {
    throw new ApiError(
      res.status,
      String(data.code ?? 'http_' + res.status),
      String(data.error ?? res.statusText ?? 'Request failed'),
      data,
    );
  }
  return data as T;
}

const enc = encodeURIComponent;

export interface PageParams {
  before_seq?: number;
  after_seq?: number;
  around_seq?: number;
  limit?: number;
}

export interface PostInput {
  body: string;
  nonce?: string;
  quoted_message_id?: string;
}

export const api = {
  capabilities: () => request<Capabilities>('GET', '/api/capabilities'),
  me: () => request<{ user: User }>('GET', '/api/me'),
  consumeMagic: (token: string) => request<{ user: User }>('POST', '/api/auth/magic/consume', { body: { token } }),
  logout: () => request<unknown>('POST', '/api/auth/logout'),

  workspaces: () => request<{ workspaces: Workspace[] }>('GET', '/api/workspaces'),
  createWorkspace: (name: string) => request<{ workspace: Workspace }>('POST', '/api/workspaces', { body: { name } }),
  members: (ws: string, q = '', limit = 50) =>
    request<{ members: Member[]; total_count: number }>('GET', `/api/workspaces/${enc(ws)}/members`, {
      query: { q, limit },
    }),

  channels: (ws: string) => request<{ channels: Channel[] }>('GET', `/api/workspaces/${enc(ws)}/channels`),
  createChannel: (ws: string, name: string, kind = 'public') =>
    request<{ channel: Channel }>('POST', `/api/workspaces/${enc(ws)}/channels`, {
      body: { name, kind },
    }),
  updateChannel: (id: string, patch: { name?: string; archived?: boolean }) =>
    request<{ channel: Channel }>('PATCH', `/api/channels/${enc(id)}`, { body: patch }),

  dms: (ws: string) =>
    request<{ conversations: DirectConversation[] }>('GET', '/api/dms', {
      query: { workspace_id: ws },
    }),
  createDm: (ws: string, memberIds: string[]) =>
    request<{ conversation: DirectConversation }>('POST', '/api/dms', {
      body: { workspace_id: ws, member_ids: memberIds },
    }),
  getDm: (id: string) => request<{ conversation: DirectConversation }>('GET', `/api/dms/${enc(id)}`),

  messages: (kind: 'channel' | 'dm', id: string, page: PageParams = {}) =>
    request<MessagePage>(
      'GET',
      kind === 'channel' ? `/api/channels/${enc(id)}/messages` : `/api/dms/${enc(id)}/messages`,
      { query: { ...page } },
    ),
  post: (kind: 'channel' | 'dm', id: string, input: PostInput) =>
    request<{ message: Message }>(
      'POST',
      kind === 'channel' ? `/api/channels/${enc(id)}/messages` : `/api/dms/${enc(id)}/messages`,
      { body: input },
    ),
  message: (id: string) => request<{ message: Message }>('GET', `/api/messages/${enc(id)}`),
  edit: (id: string, body: string) =>
    request<{ message: Message }>('PATCH', `/api/messages/${enc(id)}`, { body: { body } }),
  remove: (id: string) => request<{ message: Message }>('DELETE', `/api/messages/${enc(id)}`),

  thread: (id: string, limit = 100) =>
    request<Thread>('GET', `/api/messages/${enc(id)}/thread`, {
      query: { limit, latest: 'true' },
    }),
  reply: (id: string, input: PostInput) =>
    request<{ message: Message; thread_state: ThreadState }>('POST', `/api/messages/${enc(id)}/thread/replies`, {
      body: input,
    }),

  react: (id: string, emoji: string) =>
    request<{ reactions: Reaction[] }>('POST', `/api/messages/${enc(id)}/reactions`, {
      body: { emoji },
    }),
  unreact: (id: string, emoji: string) =>
    request<{ reactions: Reaction[] }>('DELETE', `/api/messages/${enc(id)}/reactions/${enc(emoji)}`),

  pins: (channel: string) => request<{ pins: Message[] }>('GET', `/api/channels/${enc(channel)}/pins`),
  pin: (channel: string, messageId: string) =>
    request<unknown>('POST', `/api/channels/${enc(channel)}/pins`, {
      body: { message_id: messageId },
    }),
  unpin: (channel: string, messageId: string) =>
    request<unknown>('DELETE', `/api/channels/${enc(channel)}/pins/${enc(messageId)}`),

  markRead: (kind: 'channel' | 'dm', id: string, seq: number) =>
    request<unknown>('POST', kind === 'channel' ? `/api/channels/${enc(id)}/read` : `/api/dms/${enc(id)}/read`, {
      body: { seq },
    }),

  search: (ws: string, q: string, cursor?: string, sort?: string) =>
    request<{ results: SearchResult[]; next_cursor: string | null }>('GET', '/api/search', {
      query: { workspace_id: ws, q, cursor, sort, limit: 30 },
    }),

  events: (
    ws: string,
    after: string,
    opts: { wait?: number; limit?: number; includeTail?: boolean; signal?: AbortSignal } = {},
  ) =>
    request<EventsPage>('GET', '/api/realtime/events', {
      query: {
        workspace_id: ws,
        after_cursor: after,
        wait: opts.wait,
        limit: opts.limit,
        include_tail: opts.includeTail ? 'true' : undefined,
      },
      signal: opts.signal,
    }),

  ephemeral: (
    ws: string,
    type: string,
    target: { channel_id?: string; direct_conversation_id?: string },
    payload: Record<string, unknown> = {},
  ) =>
    request<unknown>('POST', '/api/realtime/ephemeral', {
      body: { workspace_id: ws, type, payload, ...target },
    }),

  /** Uploads one file; `onProgress` gets the sent fraction (0..1). XHR, because fetch
   * cannot report upload progress. */
  upload: (ws: string, file: File, onProgress?: (fraction: number) => void) =>
    new Promise<{ upload: Upload }>((resolve, reject) => {
      const form = new FormData();
      form.set('workspace_id', ws);
      form.set('file', file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/uploads' + qs({ workspace_id: ws }));
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.setRequestHeader('X-ClickClack-CSRF', '1');
      xhr.withCredentials = true;
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
      };
      xhr.onerror = () => reject(new ApiError(0, 'network', 'Network unavailable'));
      xhr.onload = () => {
        let data: Record<string, unknown> = {};
        try {
          data = JSON.parse(xhr.responseText || '{}');
        } catch {
          data = {};
        }
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress?.(1);
          resolve(data as unknown as { upload: Upload });
        } else {
          reject(
            new ApiError(
              xhr.status,
              String(data.code ?? 'http_' + xhr.status),
              String(data.error ?? 'Upload failed'),
              data,
            ),
          );
        }
      };
      xhr.send(form);
    }),
  attach: (messageId: string, uploadId: string) =>
    request<unknown>('POST', `/api/messages/${enc(messageId)}/attachments`, {
      body: { upload_id: uploadId },
    }),
  /** Whether the server has uploads at all: an empty multipart POST is 404 without them. */
  uploadsSupported: async (): Promise<boolean> => {
    try {
      await request('POST', '/api/uploads', { form: new FormData() });
      return true;
    } catch (err) {
      return !(err instanceof ApiError && (err.status === 404 || err.status === 405));
    }
  },
};
