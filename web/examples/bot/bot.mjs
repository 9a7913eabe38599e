#!/usr/bin/env node
// A ClickClack bot that answers, in the message's thread, every message in one channel that
// mentions it. It uses only @clickclack/sdk.
//
//   CLICKCLACK_URL=http://127.0.0.1:8080 CLICKCLACK_TOKEN=ccb_… CLICKCLACK_CHANNEL_ID=chn_… node bot.mjs
//
// stdout gets one JSON line per action ({"ready":…}, {"replied":…}); problems go to stderr.
import { pathToFileURL } from 'node:url';
import { ClickClackClient } from '@clickclack/sdk';

/** @typedef {import('@clickclack/sdk').Event} Event */
/** @typedef {import('@clickclack/sdk').Message} Message */
/** @typedef {import('@clickclack/sdk').User} User */

/**
 * Whether `body` mentions `@handle` (case-insensitive, not inside a longer word or email).
 * @param {string} body
 * @param {string | undefined | null} handle
 */
export function mentionsHandle(body, handle) {
  if (!handle) return false;
  const escaped = handle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_.@-])@${escaped}(?![A-Za-z0-9_-])`, 'i').test(body);
}

/**
 * The reply text for a message that mentioned the bot.
 * @param {Message} message
 */
export function replyText(message) {
  const who = message.author?.handle ? `@${message.author.handle}` : (message.author?.display_name ?? 'there');
  const said = message.body.length > 200 ? `${message.body.slice(0, 199)}…` : message.body;
  return `Hi ${who}! You said: “${said}”`;
}

/** @param {string} name */
function required(name) {
  const value = (process.env[name] ?? '').trim();
  if (!value) {
    console.error(`missing ${name}`);
    process.exit(2);
  }
  return value;
}

/** @param {Record<string, unknown>} line */
const out = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

/**
 * Runs the bot until SIGINT/SIGTERM. Resolves with the process exit code.
 * @param {{ baseUrl: string, token: string, channelId: string }} config
 */
export async function run({ baseUrl, token, channelId }) {
  const client = new ClickClackClient({ baseUrl, token });
  const me = await client.me();

  // The channel's workspace: a bot token sees only its own workspace.
  let workspaceId = '';
  for (const ws of await client.workspaces.list()) {
    const channels = await client.channels.list(ws.id);
    if (channels.some((c) => c.id === channelId)) {
      workspaceId = ws.id;
      break;
    }
  }
  if (!workspaceId) {
    console.error(`channel ${channelId} is not visible to ${me.handle ? '@' + me.handle : me.id}`);
    return 1;
  }

  /** @param {Event} event */
  const onEvent = async (event) => {
    const created = event.type === 'message.created' && event.channel_id === channelId;
    const reply = event.type === 'thread.reply_created' && event.channel_id === channelId;
    if (!created && !reply) return;
    const payload = /** @type {Record<string, unknown>} */ (event.payload ?? {});
    const messageId = typeof payload.message_id === 'string' ? payload.message_id : '';
    if (!messageId || payload.author_id === me.id) return;
    const mentioned = Array.isArray(payload.mentioned_user_ids) && payload.mentioned_user_ids.includes(me.id);
    const message = await client.messages.get(messageId);
    if (message.author_id === me.id || message.deleted_at) return;
    if (!mentioned && !mentionsHandle(message.body, me.handle)) return;
    const root = message.thread_root_id || message.id;
    // The nonce makes a retried reply (or a restarted bot seeing the event again) idempotent.
    const sent = await client.threads.reply(root, { body: replyText(message), nonce: `bot-reply-${message.id}` });
    out({ replied: message.id, thread: root, reply: sent.id });
  };

  const sub = client.events.subscribe({
    workspaceId,
    onEvent,
    onError: (err) => console.error(`warning: ${err.code}: ${err.message}`),
    onResync: (info) => console.error(`note: resynced (${info.reason}); continuing from ${info.cursor || 'the start'}`),
  });
  const stop = () => sub.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await sub.ready;
  if (!sub.error) {
    out({
      ready: true,
      user_id: me.id,
      handle: me.handle ?? null,
      workspace_id: workspaceId,
      channel_id: channelId,
      transport: sub.transport,
    });
  }
  await sub.closed;
  if (sub.error) {
    console.error(`error: ${sub.error.code}: ${sub.error.message}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const baseUrl = required('CLICKCLACK_URL');
  const token = required('CLICKCLACK_TOKEN');
  const channelId = required('CLICKCLACK_CHANNEL_ID');
  run({ baseUrl, token, channelId }).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`error: ${err?.code ? `${err.code}: ` : ''}${err?.message ?? err}`);
      process.exit(1);
    },
  );
}
