// The chat client's state: who is signed in, the open workspace and conversation, the
// timeline window, the thread/search/pins pane, optimistic sends and realtime updates.
// Components read these runes directly and call the methods; all HTTP goes through `api`.

import { api, ApiError } from './api';
import { Realtime, type RealtimeStatus } from './realtime';
import type {
  Capabilities,
  Channel,
  ChatEvent,
  ConvKind,
  DirectConversation,
  Member,
  Message,
  SearchResult,
  ThreadState,
  User,
  Workspace,
} from './types';
import { makeNonce, seqOf } from './util';

export interface Pending {
  nonce: string;
  body: string;
  convKey: string;
  /** Thread root for replies. */
  rootId?: string;
  quotedId?: string;
  status: 'sending' | 'failed';
  error?: string;
  created_at: string;
}

export interface Conversation {
  kind: ConvKind;
  id: string;
}

type Panel = 'thread' | 'search' | 'pins' | null;

const PAGE = 50;

function convKey(kind: ConvKind, id: string): string {
  return `${kind}:${id}`;
}

function upsert(list: Message[], m: Message): Message[] {
  const i = list.findIndex((x) => x.id === m.id);
  if (i >= 0) {
    const copy = list.slice();
    copy[i] = m;
    return copy;
  }
  return [...list, m].sort((a, b) => seqOf(a) - seqOf(b));
}

function merge(list: Message[], more: Message[]): Message[] {
  const byId = new Map([...list, ...more].map((m) => [m.id, m]));
  return [...byId.values()].sort((a, b) => seqOf(a) - seqOf(b));
}

export class ChatStore {
  auth = $state<'loading' | 'in' | 'out' | 'error'>('loading');
  fatal = $state('');
  me = $state<User | null>(null);
  caps = $state<Capabilities | null>(null);
  uploads = $state(false);

  workspaces = $state<Workspace[]>([]);
  wsId = $state('');
  channels = $state<Channel[]>([]);
  dms = $state<DirectConversation[]>([]);
  members = $state<Member[]>([]);
  memberTotal = $state(0);
  users = $state<Record<string, User>>({});

  conv = $state<Conversation | null>(null);
  messages = $state<Message[]>([]);
  hasOlder = $state(false);
  hasNewer = $state(false);
  loading = $state(false);
  loadingOlder = $state(false);
  focusId = $state('');
  /** Bumped whenever the view should scroll to `focusId` (or to the bottom when empty). */
  scrollTick = $state(0);
  pins = $state<Message[]>([]);
  pending = $state<Pending[]>([]);
  editingId = $state('');
  quoting = $state<Message | null>(null);
  notice = $state('');

  panel = $state<Panel>(null);
  threadRootId = $state('');
  threadRoot = $state<Message | null>(null);
  threadReplies = $state<Message[]>([]);
  threadState = $state<ThreadState | null>(null);
  threadLoading = $state(false);

  searchQuery = $state('');
  searchResults = $state<SearchResult[]>([]);
  searchCursor = $state<string | null>(null);
  searchLoading = $state(false);
  searchError = $state('');

  rtStatus = $state<RealtimeStatus>('connecting');
  rtTransport = $state<'ws' | 'poll'>('poll');
  typing = $state<Record<string, { name: string; until: number }>>({});
  /** Who is online: user id → until when (ms) their last `presence.changed` holds. */
  presence = $state<Record<string, number>>({});

  sidebarOpen = $state(false);
  /** Unsent composer text per conversation / thread (kept for the session). */
  drafts: Record<string, string> = {};

  private realtime: Realtime | null = null;
  private listening = false;
  private convToken = 0;
  private listTimer: ReturnType<typeof setTimeout> | null = null;
  private needChannels = false;
  private needDms = false;

  workspace = $derived(this.workspaces.find((w) => w.id === this.wsId) ?? null);
  isOwner = $derived(this.workspace?.role === 'owner');
  channel = $derived(
    this.conv?.kind === 'channel' ? (this.channels.find((c) => c.id === this.conv!.id) ?? null) : null,
  );
  dm = $derived(this.conv?.kind === 'dm' ? (this.dms.find((d) => d.id === this.conv!.id) ?? null) : null);
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a derived value, never mutated
  pinnedIds = $derived(new Set(this.pins.map((p) => p.id)));
  currentPending = $derived(
    this.conv ? this.pending.filter((p) => p.convKey === convKey(this.conv!.kind, this.conv!.id) && !p.rootId) : [],
  );
  threadPending = $derived(this.pending.filter((p) => p.rootId && p.rootId === this.threadRootId));

  // ---------------------------------------------------------------- boot & auth

  async boot(): Promise<void> {
    this.auth = 'loading';
    try {
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- read once, not reactive state
      const token = new URLSearchParams(location.search).get('token');
      if (token && token.startsWith('mgt_')) {
        await api.consumeMagic(token).catch(() => undefined);
        // eslint-disable-next-line svelte/prefer-svelte-reactivity -- local value, not reactive state
        const url = new URL(location.href);
        url.searchParams.delete('token');
        history.replaceState(null, '', url.pathname + url.search);
      }
      const [{ user }, caps] = await Promise.all([api.me(), api.capabilities()]);
      this.me = user;
      this.caps = caps;
      this.remember([user]);
      const { workspaces } = await api.workspaces();
      this.workspaces = workspaces;
      this.auth = 'in';
      void api.uploadsSupported().then((ok) => (this.uploads = ok));
      if (!this.listening) {
        this.listening = true;
        window.addEventListener('online', () => this.retryFailed());
      }
      await this.applyRoute();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        this.auth = 'out';
      } else {
        this.auth = 'error';
        this.fatal = (err as Error).message;
      }
    }
  }

  async signIn(input: string): Promise<void> {
    const m = /mgt_[A-Za-z0-9_-]+/.exec(input.trim());
    const token = m ? m[0] : input.trim();
    await api.consumeMagic(token);
    await this.boot();
  }

  async signOut(): Promise<void> {
    await api.logout().catch(() => undefined);
    this.realtime?.stop();
    location.href = '/';
  }

  // ---------------------------------------------------------------- routing

  /** `/app/<workspace>/<conversation>?m=<message>&thread=<root>` */
  async applyRoute(): Promise<void> {
    const parts = location.pathname.split('/').filter(Boolean); // ["app", ws, conv]
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- read once, not reactive state
    const params = new URLSearchParams(location.search);
    let ws = parts[1] ?? '';
    const target = parts[2] ?? '';
    if (!this.workspaces.some((w) => w.id === ws)) ws = this.workspaces[0]?.id ?? '';
    if (!ws) {
      this.wsId = '';
      return;
    }
    if (ws !== this.wsId) await this.switchWorkspace(ws);
    let conv: Conversation | null = null;
    if (target.startsWith('dm_')) conv = { kind: 'dm', id: target };
    else if (target.startsWith('chn_')) conv = { kind: 'channel', id: target };
    if (!conv) {
      const first =
        this.channels.find((c) => !c.archived_at && c.name === 'general') ??
        this.channels.find((c) => !c.archived_at) ??
        this.channels[0];
      if (!first) {
        this.conv = null;
        this.messages = [];
        return;
      }
      history.replaceState(null, '', `/app/${ws}/${first.id}`);
      conv = { kind: 'channel', id: first.id };
    }
    const focus = params.get('m') ?? '';
    const thread = params.get('thread') ?? '';
    const same = this.conv && this.conv.kind === conv.kind && this.conv.id === conv.id;
    if (!same) await this.openConversation(conv, focus);
    else if (focus) await this.jumpTo(focus);
    if (thread && thread !== this.threadRootId) void this.openThread(thread, false);
  }

  navigate(path: string): void {
    if (location.pathname + location.search !== path) history.pushState(null, '', path);
    this.sidebarOpen = false;
    void this.applyRoute();
  }

  open(kind: ConvKind, id: string): void {
    this.navigate(`/app/${this.wsId}/${id}`);
    void kind;
  }

  linkTo(m: { id: string; channel_id?: string; direct_conversation_id?: string }): string {
    const conv = m.channel_id ?? m.direct_conversation_id ?? '';
    return `/app/${this.wsId}/${conv}?m=${m.id}`;
  }

  // ---------------------------------------------------------------- workspace

  async switchWorkspace(ws: string): Promise<void> {
    this.realtime?.stop();
    this.realtime = null;
    this.wsId = ws;
    this.conv = null;
    this.messages = [];
    this.closePanel();
    const [ch, dms, mem] = await Promise.all([
      api.channels(ws),
      api.dms(ws),
      api.members(ws, '', 200).catch(() => ({ members: [] as Member[], total_count: 0 })),
    ]);
    this.channels = ch.channels;
    this.dms = dms.conversations;
    this.members = mem.members;
    this.memberTotal = mem.total_count;
    this.remember(mem.members.map((m) => m.user));
    for (const d of dms.conversations) this.remember(d.members);
    const rt = new Realtime(
      ws,
      {
        onEvents: (events) => void this.onEvents(events),
        onEphemeral: (events) => this.onEphemeral(events),
        onResync: () => this.resync(),
        onUnauthorized: () => {
          this.realtime = null;
          this.wsId = '';
          this.conv = null;
          this.auth = 'out';
        },
        onStatus: (status, transport) => {
          this.rtStatus = status;
          this.rtTransport = transport;
          if (status === 'live') void this.catchUp();
        },
      },
      this.caps?.transports ?? ['poll'],
      this.caps?.epoch ?? '',
    );
    this.realtime = rt;
    try {
      await rt.start();
    } catch {
      this.rtStatus = 'offline';
    }
    this.startPresence(ws);
  }

  async createWorkspace(name: string): Promise<void> {
    const { workspace } = await api.createWorkspace(name);
    const { workspaces } = await api.workspaces();
    this.workspaces = workspaces;
    this.navigate(`/app/${workspace.id}`);
  }

  remember(users: (User | undefined)[]): void {
    let changed = false;
    const next = { ...this.users };
    for (const u of users) {
      if (!u) continue;
      const old = next[u.id];
      if (!old || old.display_name !== u.display_name || old.handle !== u.handle || old.avatar_url !== u.avatar_url) {
        next[u.id] = u;
        changed = true;
      }
    }
    if (changed) this.users = next;
  }

  async reloadLists(): Promise<void> {
    if (!this.wsId) return;
    const ws = this.wsId;
    const [ch, dms] = await Promise.all([api.channels(ws), api.dms(ws)]);
    if (ws !== this.wsId) return;
    this.channels = ch.channels;
    this.dms = dms.conversations;
    for (const d of dms.conversations) this.remember(d.members);
  }

  private scheduleLists(channels: boolean, dms: boolean): void {
    this.needChannels ||= channels;
    this.needDms ||= dms;
    if (this.listTimer) return;
    this.listTimer = setTimeout(async () => {
      this.listTimer = null;
      const ws = this.wsId;
      const [c, d] = [this.needChannels, this.needDms];
      this.needChannels = this.needDms = false;
      try {
        if (c) {
          const r = await api.channels(ws);
          if (ws === this.wsId) this.channels = r.channels;
        }
        if (d) {
          const r = await api.dms(ws);
          if (ws === this.wsId) {
            this.dms = r.conversations;
            for (const x of r.conversations) this.remember(x.members);
          }
        }
      } catch {
        /* next event retries */
      }
    }, 250);
  }

  async createChannel(name: string): Promise<void> {
    const { channel } = await api.createChannel(this.wsId, name);
    await this.reloadLists();
    this.open('channel', channel.id);
  }

  async setArchived(channelId: string, archived: boolean): Promise<void> {
    const { channel } = await api.updateChannel(channelId, { archived });
    this.channels = this.channels.map((c) =>
      c.id === channel.id ? { ...c, ...channel, archived_at: channel.archived_at } : c,
    );
    await this.reloadLists();
  }

  async startDm(user: User): Promise<void> {
    const { conversation } = await api.createDm(this.wsId, user.id === this.me?.id ? [] : [user.id]);
    this.remember(conversation.members);
    await this.reloadLists();
    if (!this.dms.some((d) => d.id === conversation.id)) this.dms = [...this.dms, conversation];
    this.open('dm', conversation.id);
  }

  async searchMembers(q: string, limit = 8): Promise<User[]> {
    const needle = q.toLowerCase();
    const local = this.members
      .map((m) => m.user)
      .filter(
        (u) =>
          !needle || u.display_name.toLowerCase().includes(needle) || (u.handle ?? '').toLowerCase().includes(needle),
      );
    if (this.memberTotal <= this.members.length || local.length >= limit) return local.slice(0, limit);
    try {
      const { members } = await api.members(this.wsId, q, limit);
      this.remember(members.map((m) => m.user));
      return members.map((m) => m.user);
    } catch {
      return local.slice(0, limit);
    }
  }

  // ---------------------------------------------------------------- timeline

  async openConversation(conv: Conversation, focus = ''): Promise<void> {
    const token = ++this.convToken;
    this.conv = conv;
    this.messages = [];
    this.pins = [];
    this.hasOlder = this.hasNewer = false;
    this.editingId = '';
    this.quoting = null;
    this.notice = '';
    this.focusId = '';
    if (this.panel === 'pins') this.panel = null;
    this.loading = true;
    try {
      if (conv.kind === 'dm' && !this.dms.some((d) => d.id === conv.id)) {
        // A link to a closed or new DM: fetch it so the header can name it.
        const { conversation } = await api.getDm(conv.id);
        if (token !== this.convToken) return;
        this.remember(conversation.members);
        this.dms = [...this.dms, conversation];
      }
      if (focus) {
        await this.jumpTo(focus, token);
      } else {
        const page = await api.messages(conv.kind, conv.id, { limit: PAGE });
        if (token !== this.convToken) return;
        this.setPage(page.messages, page.has_older, page.has_newer);
        this.scrollTick++;
      }
      if (conv.kind === 'channel') void this.loadPins(token);
      this.markRead();
    } catch (err) {
      if (token === this.convToken) this.notice = (err as Error).message;
    } finally {
      if (token === this.convToken) this.loading = false;
    }
  }

  private setPage(messages: Message[], hasOlder: boolean, hasNewer: boolean): void {
    this.messages = messages;
    this.hasOlder = hasOlder;
    this.hasNewer = hasNewer;
    this.remember(messages.map((m) => m.author));
  }

  /** Shows a message in context: its thread for replies, the window around it otherwise. */
  async jumpTo(messageId: string, token = this.convToken): Promise<void> {
    if (!this.conv) return;
    try {
      const { message } = await api.message(messageId);
      let root = message;
      if (message.parent_message_id) {
        root = (await api.message(message.thread_root_id)).message;
        void this.openThread(root.id, false, message.id);
      }
      if (token !== this.convToken) return;
      const loaded = this.messages.some((m) => m.id === root.id);
      if (!loaded) {
        const page = await api.messages(this.conv.kind, this.conv.id, {
          around_seq: seqOf(root),
          limit: PAGE,
        });
        if (token !== this.convToken) return;
        this.setPage(page.messages, page.has_older, page.has_newer);
      }
      this.focusId = root.id;
      this.scrollTick++;
    } catch (err) {
      this.notice =
        err instanceof ApiError && err.status === 404
          ? 'That message is gone or not visible to you.'
          : (err as Error).message;
      if (!this.messages.length) {
        const page = await api.messages(this.conv.kind, this.conv.id, { limit: PAGE });
        this.setPage(page.messages, page.has_older, page.has_newer);
        this.scrollTick++;
      }
    }
  }

  async loadOlder(): Promise<boolean> {
    if (!this.conv || !this.hasOlder || this.loadingOlder || !this.messages.length) return false;
    const token = this.convToken;
    this.loadingOlder = true;
    try {
      const page = await api.messages(this.conv.kind, this.conv.id, {
        before_seq: seqOf(this.messages[0]),
        limit: PAGE,
      });
      if (token !== this.convToken) return false;
      this.messages = merge(this.messages, page.messages);
      this.hasOlder = page.has_older;
      this.remember(page.messages.map((m) => m.author));
      return page.messages.length > 0;
    } finally {
      this.loadingOlder = false;
    }
  }

  /** Fetches messages after the newest one shown (only when the view is at the live end). */
  async loadNewer(force = false): Promise<void> {
    if (!this.conv || (this.hasNewer && !force)) return;
    const token = this.convToken;
    for (let i = 0; i < 5; i++) {
      const tail = this.messages.at(-1);
      const page = tail
        ? await api.messages(this.conv.kind, this.conv.id, { after_seq: seqOf(tail), limit: 200 })
        : await api.messages(this.conv.kind, this.conv.id, { limit: PAGE });
      if (token !== this.convToken) return;
      this.messages = merge(this.messages, page.messages);
      this.remember(page.messages.map((m) => m.author));
      this.hasNewer = page.has_newer && !!page.messages.length;
      if (!page.has_newer || !page.messages.length) break;
    }
    if (!this.hasNewer) this.markRead();
  }

  async jumpToLatest(): Promise<void> {
    if (!this.conv) return;
    const token = this.convToken;
    const page = await api.messages(this.conv.kind, this.conv.id, { limit: PAGE });
    if (token !== this.convToken) return;
    this.setPage(page.messages, page.has_older, page.has_newer);
    this.focusId = '';
    this.scrollTick++;
    this.markRead();
    if (location.search) history.replaceState(null, '', location.pathname);
  }

  private async loadPins(token: number): Promise<void> {
    if (this.conv?.kind !== 'channel') return;
    try {
      const { pins } = await api.pins(this.conv.id);
      if (token === this.convToken) this.pins = pins;
    } catch {
      /* pins are optional */
    }
  }

  /** Advances the read pointer to the newest loaded message when the view is live. */
  markRead(): void {
    if (!this.conv || this.hasNewer || document.visibilityState !== 'visible') return;
    const newest = this.messages.at(-1);
    if (!newest) return;
    const seq = seqOf(newest);
    const { kind, id } = this.conv;
    const item = kind === 'channel' ? this.channels.find((c) => c.id === id) : this.dms.find((d) => d.id === id);
    if (item && (item.last_read_seq ?? 0) >= seq && !item.unread_count) return;
    if (kind === 'channel') {
      this.channels = this.channels.map((c) => (c.id === id ? { ...c, last_read_seq: seq, unread_count: 0 } : c));
    } else {
      this.dms = this.dms.map((d) => (d.id === id ? { ...d, last_read_seq: seq, unread_count: 0 } : d));
    }
    void api.markRead(kind, id, seq).catch(() => undefined);
  }

  replaceMessage(m: Message): void {
    if (this.messages.some((x) => x.id === m.id)) this.messages = upsert(this.messages, m);
    if (this.threadRoot?.id === m.id) this.threadRoot = m;
    if (this.threadReplies.some((x) => x.id === m.id)) {
      this.threadReplies = this.threadReplies.map((x) => (x.id === m.id ? m : x));
    }
    if (this.pins.some((x) => x.id === m.id)) this.pins = this.pins.map((x) => (x.id === m.id ? m : x));
  }

  findMessage(id: string): Message | undefined {
    return (
      this.messages.find((m) => m.id === id) ??
      (this.threadRoot?.id === id ? this.threadRoot : undefined) ??
      this.threadReplies.find((m) => m.id === id)
    );
  }

  // ---------------------------------------------------------------- sending

  send(body: string): void {
    if (!this.conv || !body.trim()) return;
    this.typingStopped();
    const p: Pending = {
      nonce: makeNonce(),
      body,
      convKey: convKey(this.conv.kind, this.conv.id),
      quotedId: this.quoting?.id,
      status: 'sending',
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a timestamp string, not reactive state
      created_at: new Date().toISOString(),
    };
    this.quoting = null;
    this.pending = [...this.pending, p];
    if (this.hasNewer) void this.jumpToLatest();
    this.scrollTick++;
    void this.deliver(p);
  }

  reply(rootId: string, body: string): void {
    if (!this.conv || !body.trim()) return;
    this.typingStopped(rootId);
    const p: Pending = {
      nonce: makeNonce(),
      body,
      convKey: convKey(this.conv.kind, this.conv.id),
      rootId,
      status: 'sending',
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a timestamp string, not reactive state
      created_at: new Date().toISOString(),
    };
    this.pending = [...this.pending, p];
    void this.deliver(p);
  }

  private setPending(nonce: string, patch: Partial<Pending> | null): void {
    this.pending =
      patch === null
        ? this.pending.filter((p) => p.nonce !== nonce)
        : this.pending.map((p) => (p.nonce === nonce ? { ...p, ...patch } : p));
  }

  private async deliver(p: Pending): Promise<void> {
    const [kind, id] = p.convKey.split(':') as [ConvKind, string];
    const input = { body: p.body, nonce: p.nonce, quoted_message_id: p.quotedId };
    try {
      if (p.rootId) {
        const { message, thread_state } = await api.reply(p.rootId, input);
        this.setPending(p.nonce, null);
        if (this.threadRootId === p.rootId) {
          if (!this.threadReplies.some((r) => r.id === message.id))
            this.threadReplies = [...this.threadReplies, message];
          this.threadState = thread_state;
        }
        const root = this.messages.find((m) => m.id === p.rootId);
        if (root) this.replaceMessage({ ...root, thread_state });
      } else {
        const { message } = await api.post(kind, id, input);
        this.setPending(p.nonce, null);
        if (this.conv && this.conv.kind === kind && this.conv.id === id && !this.hasNewer) {
          this.messages = upsert(this.messages, message);
          this.markRead();
        }
      }
    } catch (err) {
      const e = err as ApiError;
      this.setPending(p.nonce, { status: 'failed', error: e.message || 'Not sent' });
    }
  }

  retry(nonce: string): void {
    const p = this.pending.find((x) => x.nonce === nonce);
    if (!p) return;
    this.setPending(nonce, { status: 'sending', error: undefined });
    void this.deliver({ ...p, status: 'sending' });
  }

  discard(nonce: string): void {
    this.setPending(nonce, null);
  }

  private retryFailed(): void {
    for (const p of this.pending) if (p.status === 'failed') this.retry(p.nonce);
  }

  async uploadAndSend(files: File[], body: string, onProgress?: (fraction: number) => void): Promise<void> {
    if (!this.conv) return;
    const { kind, id } = this.conv;
    const uploads = [];
    for (const [i, f] of files.entries()) {
      const part = (fraction: number) => onProgress?.((i + fraction) / files.length);
      uploads.push((await api.upload(this.wsId, f, part)).upload);
    }
    const text = body.trim() || uploads.map((u) => u.filename).join(', ');
    const { message } = await api.post(kind, id, { body: text, nonce: makeNonce() });
    for (const u of uploads) await api.attach(message.id, u.id);
    const fresh = await api.message(message.id).catch(() => ({ message }));
    this.messages = upsert(this.messages, fresh.message);
    this.scrollTick++;
  }

  // ---------------------------------------------------------------- edits, reactions, pins

  lastOwnMessage(): Message | undefined {
    const me = this.me?.id;
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i];
      if (m.author_id === me && !m.deleted_at) return m;
    }
    return undefined;
  }

  async edit(id: string, body: string): Promise<void> {
    const { message } = await api.edit(id, body);
    this.replaceMessage(message);
    this.editingId = '';
  }

  async remove(id: string): Promise<void> {
    const { message } = await api.remove(id);
    this.replaceMessage(message);
  }

  async toggleReaction(m: Message, emoji: string): Promise<void> {
    const mine = m.reactions?.find((r) => r.emoji === emoji)?.reacted_by_me;
    const { reactions } = mine ? await api.unreact(m.id, emoji) : await api.react(m.id, emoji);
    const current = this.findMessage(m.id) ?? m;
    this.replaceMessage({ ...current, reactions });
  }

  async togglePin(m: Message): Promise<void> {
    if (!m.channel_id) return;
    if (this.pinnedIds.has(m.id)) await api.unpin(m.channel_id, m.id);
    else await api.pin(m.channel_id, m.id);
    if (this.conv?.id === m.channel_id) this.pins = (await api.pins(m.channel_id)).pins;
  }

  // ---------------------------------------------------------------- thread

  async openThread(rootId: string, push = true, focus = ''): Promise<void> {
    this.panel = 'thread';
    if (this.threadRootId !== rootId) {
      this.threadRootId = rootId;
      this.threadRoot = this.findMessage(rootId) ?? null;
      this.threadReplies = [];
      this.threadState = null;
    }
    if (focus) this.focusId = focus;
    if (push) {
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- local value, not reactive state
      const url = new URL(location.href);
      url.searchParams.set('thread', rootId);
      url.searchParams.delete('m');
      history.replaceState(null, '', url.pathname + url.search);
    }
    await this.reloadThread(true);
  }

  async reloadThread(showSpinner = false): Promise<void> {
    const rootId = this.threadRootId;
    if (!rootId) return;
    if (showSpinner) this.threadLoading = true;
    try {
      const t = await api.thread(rootId);
      if (rootId !== this.threadRootId) return;
      this.threadRoot = t.root;
      this.threadReplies = t.replies;
      this.threadState = t.thread_state;
      this.remember([t.root.author, ...t.replies.map((r) => r.author)]);
      const root = this.messages.find((m) => m.id === rootId);
      if (root) this.replaceMessage({ ...t.root });
    } catch (err) {
      if (rootId === this.threadRootId) this.notice = (err as Error).message;
    } finally {
      this.threadLoading = false;
    }
  }

  closePanel(): void {
    this.panel = null;
    this.threadRootId = '';
    this.threadRoot = null;
    this.threadReplies = [];
    if (location.search.includes('thread=')) {
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- local value, not reactive state
      const url = new URL(location.href);
      url.searchParams.delete('thread');
      history.replaceState(null, '', url.pathname + url.search);
    }
  }

  showPins(): void {
    this.panel = this.panel === 'pins' ? null : 'pins';
  }

  // ---------------------------------------------------------------- search

  async search(q: string, more = false): Promise<void> {
    this.panel = 'search';
    this.searchQuery = q;
    this.searchError = '';
    if (!q.trim()) {
      this.searchResults = [];
      this.searchCursor = null;
      return;
    }
    this.searchLoading = true;
    try {
      const res = await api.search(this.wsId, q, more ? (this.searchCursor ?? undefined) : undefined);
      if (q !== this.searchQuery) return;
      this.searchResults = more ? [...this.searchResults, ...res.results] : res.results;
      this.searchCursor = res.next_cursor;
    } catch (err) {
      const e = err as ApiError;
      this.searchError =
        e.status === 404 && e.code === 'not_found' && /route/i.test(e.message)
          ? 'Search is not available on this server yet.'
          : e.message;
      if (!more) this.searchResults = [];
    } finally {
      this.searchLoading = false;
    }
  }

  // ---------------------------------------------------------------- realtime

  private isOpen(e: ChatEvent): boolean {
    if (!this.conv) return false;
    const dm = e.payload.direct_conversation_id as string | undefined;
    return this.conv.kind === 'channel' ? e.channel_id === this.conv.id && !dm : dm === this.conv.id;
  }

  private eventChain: Promise<void> = Promise.resolve();

  /** Applies event batches one after another, so catch-up reads never race each other. */
  private onEvents(events: ChatEvent[]): Promise<void> {
    this.eventChain = this.eventChain.then(() => this.applyEvents(events)).catch(() => undefined);
    return this.eventChain;
  }

  private async applyEvents(events: ChatEvent[]): Promise<void> {
    let channels = false;
    let dms = false;
    let fresh = false;
    let thread = false;
    let pins = false;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- local value, not reactive state
    const refresh = new Set<string>();
    for (const e of events) {
      const p = e.payload as Record<string, string>;
      switch (e.type) {
        case 'channel.created':
        case 'channel.updated':
          channels = true;
          break;
        case 'message.created':
          if (p.nonce && p.author_id === this.me?.id) this.setPending(p.nonce, null);
          if (this.isOpen(e)) fresh = true;
          else if (p.direct_conversation_id) dms = true;
          else channels = true;
          break;
        case 'message.updated':
        case 'message.deleted':
          refresh.add(p.message_id);
          if (this.threadRootId && p.root_message_id === this.threadRootId) thread = true;
          if (this.pinnedIds.has(p.message_id)) pins = true;
          break;
        case 'thread.reply_created':
        case 'thread.state_updated':
          if (p.root_message_id === this.threadRootId) thread = true;
          if (p.root_message_id) refresh.add(p.root_message_id);
          break;
        case 'reaction.added':
        case 'reaction.removed':
          refresh.add(p.message_id);
          break;
        case 'pin.added':
        case 'pin.removed':
          if (this.conv?.kind === 'channel' && this.conv.id === p.channel_id) pins = true;
          break;
        case 'channel.read':
          channels = true;
          break;
        case 'dm.read':
          dms = true;
          break;
      }
    }
    if (channels || dms) this.scheduleLists(channels, dms);
    try {
      if (fresh) await this.loadNewer();
      const visible = [...refresh].filter((id) => this.findMessage(id));
      if (visible.length > 30) {
        await this.loadNewer(true);
      } else {
        await Promise.all(
          visible.map((id) =>
            api
              .message(id)
              .then(({ message }) => this.replaceMessage(message))
              .catch(() => undefined),
          ),
        );
      }
      if (thread) await this.reloadThread();
      if (pins && this.conv?.kind === 'channel') this.pins = (await api.pins(this.conv.id)).pins;
    } catch {
      /* a later event or reconnect catches up */
    }
  }

  /** When we last said we are typing, per place (`''` = main composer, else thread root). */
  private lastTyping: Record<string, number> = {};

  private typingTarget(): { channel_id?: string; direct_conversation_id?: string } | null {
    if (!this.conv) return null;
    return this.conv.kind === 'channel' ? { channel_id: this.conv.id } : { direct_conversation_id: this.conv.id };
  }

  /** Tells others in this conversation (or in the thread `rootId`) that we are typing, at
   * most every 3 s per place. */
  typingPing(rootId = ''): void {
    const target = this.typingTarget();
    if (!target || Date.now() - (this.lastTyping[rootId] ?? 0) < 3000) return;
    this.lastTyping[rootId] = Date.now();
    const payload = rootId ? { thread_root_id: rootId } : {};
    void api.ephemeral(this.wsId, 'typing.started', target, payload).catch(() => undefined);
  }

  typingStopped(rootId = ''): void {
    const target = this.typingTarget();
    if (!target || !this.lastTyping[rootId]) return;
    this.lastTyping[rootId] = 0;
    const payload = rootId ? { thread_root_id: rootId } : {};
    void api.ephemeral(this.wsId, 'typing.stopped', target, payload).catch(() => undefined);
  }

  /** Names of people typing in the open conversation's main composer, or in the thread
   * `rootId` when given. */
  typingHere(now: number, rootId = ''): string[] {
    if (!this.conv) return [];
    const prefix = `${this.conv.id}:${rootId}:`;
    return Object.entries(this.typing)
      .filter(([k, t]) => k.startsWith(prefix) && t.until > now)
      .map(([, t]) => t.name);
  }

  /** Whether `userId` announced being online recently (we always are). */
  isOnline(userId: string | undefined, now: number): boolean {
    if (!userId) return false;
    return userId === this.me?.id || (this.presence[userId] ?? 0) > now;
  }

  private presenceTimer: ReturnType<typeof setInterval> | null = null;

  /** Announces us as online in `ws` now and every 20 s while the page is visible (the
   * server keeps ephemeral events ~30 s), and picks up who else is online. */
  private startPresence(ws: string): void {
    if (this.presenceTimer) clearInterval(this.presenceTimer);
    const announce = () => {
      if (this.wsId !== ws || document.visibilityState !== 'visible') return;
      void api.ephemeral(ws, 'presence.changed', {}, { status: 'online' }).catch(() => undefined);
    };
    announce();
    this.presenceTimer = setInterval(announce, PRESENCE_EVERY_MS);
    if (!this.presenceListening) {
      this.presenceListening = true;
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') announce();
        else if (this.wsId) {
          void api.ephemeral(this.wsId, 'presence.changed', {}, { status: 'away' }).catch(() => undefined);
        }
      });
    }
    // Presence announced before we connected is still in the ephemeral table.
    void api
      .events(ws, '', { limit: 1 })
      .then((page) => {
        if (this.wsId === ws) this.onEphemeral(page.ephemeral ?? []);
      })
      .catch(() => undefined);
  }
  private presenceListening = false;

  private onEphemeral(events: ChatEvent[]): void {
    const now = Date.now();
    const next = { ...this.typing };
    let presence: Record<string, number> | null = null;
    for (const e of events) {
      const user = String(e.payload.user_id ?? '');
      if (!user || user === this.me?.id) continue;
      if (e.type === 'presence.changed') {
        presence ??= { ...this.presence };
        const heard = Date.parse(e.created_at) || now;
        if (e.payload.status === 'online') presence[user] = Math.min(heard, now) + PRESENCE_TTL_MS;
        else delete presence[user];
        continue;
      }
      const raw = e as unknown as Record<string, unknown>;
      const conv = e.channel_id ?? raw.direct_conversation_id ?? e.payload.direct_conversation_id ?? '';
      const root = String(e.payload.thread_root_id ?? '');
      const key = `${conv}:${root}:${user}`;
      if (e.type === 'typing.started') {
        next[key] = { name: this.users[user]?.display_name ?? 'Someone', until: now + 6000 };
      } else if (e.type === 'typing.stopped') {
        delete next[key];
      }
    }
    this.typing = next;
    if (presence) this.presence = presence;
  }

  /** After a reconnect: pick up anything the events may not describe (cheap, idempotent). */
  private async catchUp(): Promise<void> {
    if (!this.conv || this.loading) return;
    try {
      await this.loadNewer();
    } catch {
      /* ignore */
    }
  }

  /** The event log could not be replayed from our cursor: reload everything visible. */
  private async resync(): Promise<void> {
    await this.reloadLists();
    if (this.conv) {
      const page = await api.messages(this.conv.kind, this.conv.id, { limit: PAGE });
      this.setPage(page.messages, page.has_older, page.has_newer);
    }
    if (this.threadRootId) await this.reloadThread();
  }
}

/** How often we say we are online, and how long others' announcements hold. */
const PRESENCE_EVERY_MS = 20_000;
const PRESENCE_TTL_MS = 45_000;

export const chat = new ChatStore();
