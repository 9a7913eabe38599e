// Wire shapes of the ClickClack HTTP API (docs/api.md). Optional fields are omitted by the
// server when empty.

export interface User {
  id: string;
  display_name: string;
  avatar_url: string;
  handle?: string;
  kind?: string;
  created_at: string;
}

export interface Workspace {
  id: string;
  name: string;
  slug: string;
  created_at: string;
  role?: string;
}

export interface Member {
  workspace_id: string;
  user: User;
  role: string;
  joined_at: string;
}

export interface Channel {
  id: string;
  workspace_id: string;
  name: string;
  kind: string;
  created_at: string;
  archived_at?: string;
  last_seq?: number;
  last_read_seq?: number;
  unread_count?: number;
}

export interface DirectConversation {
  id: string;
  workspace_id: string;
  created_at: string;
  members: User[];
  last_seq?: number;
  last_read_seq?: number;
  unread_count?: number;
  closed?: boolean;
}

export interface Reaction {
  emoji: string;
  count: number;
  reacted_by_me: boolean;
}

export interface ThreadState {
  root_message_id: string;
  reply_count: number;
  last_reply_at?: string;
  last_reply_author_ids: string[];
}

export interface Upload {
  id: string;
  workspace_id: string;
  owner_id: string;
  filename: string;
  content_type: string;
  byte_size: number;
  created_at: string;
}

export interface Message {
  id: string;
  workspace_id: string;
  channel_id?: string;
  direct_conversation_id?: string;
  author_id: string;
  parent_message_id?: string;
  thread_root_id: string;
  channel_seq?: number;
  thread_seq?: number;
  body: string;
  body_format: string;
  kind?: string;
  quoted_message_id?: string;
  quoted_body_snapshot?: string;
  quoted_author_id?: string;
  quoted_author?: User;
  created_at: string;
  edited_at?: string;
  deleted_at?: string;
  author?: User;
  attachments?: Upload[];
  reactions?: Reaction[];
  thread_state?: ThreadState;
}

export interface MessagePage {
  messages: Message[];
  oldest_seq: number;
  newest_seq: number;
  has_older: boolean;
  has_newer: boolean;
}

export interface ChatEvent {
  id: string;
  cursor: string;
  type: string;
  workspace_id: string;
  channel_id?: string;
  seq?: number;
  created_at: string;
  payload: Record<string, unknown>;
}

export interface EventsPage {
  events: ChatEvent[];
  ephemeral: ChatEvent[];
  epoch: string;
  tail_cursor?: string;
}

export interface Capabilities {
  transports: string[];
  epoch: string;
  limits: Record<string, unknown>;
  dev_auth?: boolean;
  github_oauth?: boolean;
}

export interface SearchResult {
  id: string;
  workspace_id: string;
  channel_id?: string;
  channel_name?: string;
  direct_conversation_id?: string;
  author: User;
  parent_message_id?: string;
  thread_root_id: string;
  channel_seq?: number;
  created_at: string;
  edited_at?: string;
  reply_count?: number;
  snippet: string;
  highlights: { start: number; end: number }[];
}

export interface Thread {
  root: Message;
  replies: Message[];
  thread_state: ThreadState;
}

/** A conversation the timeline can show. */
export type ConvKind = 'channel' | 'dm';
