// @clickclack/sdk — a dependency-free client for ClickClack (ESM, works in browsers and Node ≥ 18).
export { ClickClackClient, newNonce } from './client.js';
export type {
  ClientOptions,
  EphemeralInput,
  MemberQuery,
  PullOptions,
  QueryValue,
  RequestOptions,
  RetryOptions,
  SearchOptions,
  UploadContent,
  UploadOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './client.js';
export { ClickClackError } from './errors.js';
export type { ResyncInfo, SubscribeOptions, Subscription } from './subscribe.js';
export type * from './types.js';
export type { components, paths } from './schema.js';
