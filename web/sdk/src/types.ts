// Named shapes of the wire contract, taken from the generated OpenAPI types (schema.d.ts).
import type { components } from './schema.js';

type S = components['schemas'];

export type User = S['User'];
export type Workspace = S['Workspace'];
export type WorkspaceMember = S['WorkspaceMember'];
export type MemberPage = S['MemberPage'];
export type Channel = S['Channel'];
export type Message = S['Message'];
export type MessagePage = S['MessagePage'];
export type Upload = S['Upload'];
export type ReactionSummary = S['ReactionSummary'];
export type ReactionChange = S['ReactionChange'];
export type Event = S['Event'];
export type EventPage = S['EventPage'];
export type Capabilities = S['Capabilities'];
export type Thread = S['Thread'];
export type ThreadState = S['ThreadState'];
export type DirectConversation = S['DirectConversation'];
export type SearchResult = S['SearchResult'];
export type SearchPage = S['SearchPage'];
export type Session = S['Session'];
export type MagicLinkConsumed = S['MagicLinkConsumed'];
export type ErrorBody = S['Error'];

/** A read pointer (`POST /api/channels/{id}/read`, `POST /api/dms/{id}/read`). */
export interface ReadReceipt {
  scope_id: string;
  user_id: string;
  last_read_seq: number;
  last_read_at: string;
}

/** Which window of a channel or DM history to load. Give at most one of the `*_seq` cursors. */
export interface PageQuery {
  before_seq?: number;
  after_seq?: number;
  around_seq?: number;
  /** `latest`: the newest window (the default when no cursor is given). */
  mode?: 'latest';
  /** 1..200, default 100. */
  limit?: number;
}

/** The body of a new message (channel, DM or thread reply). */
export interface MessageInput {
  body: string;
  /** Retry-safe id; the SDK generates one (crypto.randomUUID) when omitted. */
  nonce?: string;
  quoted_message_id?: string;
  kind?: 'agent_commentary' | 'agent_tool';
  turn_id?: string;
  upload_ids?: string[];
}
