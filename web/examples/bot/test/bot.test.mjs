// The example bot as a real process against the real server: replies in the thread of a
// message that mentions it, ignores other messages and its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { ClickClackClient } from '@clickclack/sdk';
import { world, until, BIN } from '../../../sdk/test/harness.mjs';
import { mentionsHandle } from '../bot.mjs';

const botScript = join(dirname(fileURLToPath(import.meta.url)), '..', 'bot.mjs');

/** Whether this server build has `clickclack admin bot create` (bots with `ccb_` tokens). */
function hasBotCommand() {
  const r = spawnSync(BIN, ['admin', 'bot', 'create', '--help'], { encoding: 'utf8' });
  return r.status === 0;
}

let w;
let bot; // { token, userId, kind }
before(async () => {
  w = await world();
  if (hasBotCommand()) {
    const token = w.server
      .admin(
        'bot',
        'create',
        '--workspace',
        w.workspaceId,
        '--created-by',
        w.ada.user.id,
        '--name',
        'Helper Bot',
        '--handle',
        'helper',
        '--plain',
      )
      .split(/\s+/)
      .pop();
    const me = await new ClickClackClient({ baseUrl: w.server.url, token }).me();
    bot = { token, userId: me.id, kind: 'bot token' };
  } else {
    // No bots in this server build yet: a second human account's session token stands in.
    w.server.admin('user', 'create', '--email', 'helper@example.com', '--name', 'Helper', '--workspace', w.workspaceId);
    const { client, user } = await w.server.signIn('helper@example.com', 'Helper');
    await client.updateMe({ handle: 'helper' });
    bot = { token: client.getToken(), userId: user.id, kind: 'session token (no `admin bot create` in this build)' };
  }
  console.log(`bot credentials: ${bot.kind}`);
});
after(async () => {
  await w?.server.stop();
});

function startBot(env, nodeFlags = []) {
  const proc = spawn(process.execPath, [...nodeFlags, botScript], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  let stderr = '';
  createInterface({ input: proc.stdout }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l));
    } catch {
      lines.push({ text: l });
    }
  });
  proc.stderr.on('data', (d) => (stderr += d.toString()));
  const exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  return { proc, lines, exited, stderr: () => stderr };
}

test('mention detection', () => {
  assert.ok(mentionsHandle('hey @helper, ping', 'helper'));
  assert.ok(mentionsHandle('@Helper?', 'helper'));
  assert.ok(!mentionsHandle('mail helper@example.com', 'helper'));
  assert.ok(!mentionsHandle('hey @helperbot', 'helper'));
  assert.ok(!mentionsHandle('no mention', 'helper'));
  assert.ok(!mentionsHandle('@helper', ''));
});

test('missing configuration exits non-zero naming the variable', async () => {
  for (const [env, name] of [
    [{}, 'CLICKCLACK_URL'],
    [{ CLICKCLACK_URL: 'http://127.0.0.1:1' }, 'CLICKCLACK_TOKEN'],
    [{ CLICKCLACK_URL: 'http://127.0.0.1:1', CLICKCLACK_TOKEN: 'x' }, 'CLICKCLACK_CHANNEL_ID'],
  ]) {
    const b = startBot(env);
    const code = await b.exited;
    assert.notEqual(code, 0);
    assert.match(b.stderr(), new RegExp(`missing ${name}`));
  }
});

// Node 20 has no global WebSocket, so the bot long-polls; with --experimental-websocket (undici's
// standard WebSocket) the SDK picks the socket.
const RUNS = [
  { transport: 'poll', flags: [] },
  { transport: 'ws', flags: ['--experimental-websocket'] },
];
for (const { transport, flags } of RUNS) {
  test(`the bot (${transport}) replies in the thread of a mention and ignores other messages and its own`, async () => {
    const { ada, bob, server, channelId } = w;
    const b = startBot(
      { CLICKCLACK_URL: server.url, CLICKCLACK_TOKEN: bot.token, CLICKCLACK_CHANNEL_ID: channelId },
      flags,
    );
    try {
      await until(() => b.lines.find((l) => l.ready) || b.proc.exitCode !== null, 15000, 'bot ready');
      const ready = b.lines.find((l) => l.ready);
      assert.ok(ready, `bot did not start: ${b.stderr()}`);
      assert.equal(ready.user_id, bot.userId);
      assert.equal(ready.transport, transport);

      const plain = await ada.client.channels.sendMessage(channelId, { body: 'no mention here, helper' });
      const mention = await ada.client.channels.sendMessage(channelId, { body: 'hey @helper, what time is it?' });
      await until(() => b.lines.find((l) => l.replied === mention.id), 15000, 'reply to the mention');

      const thread = await bob.client.threads.get(mention.id);
      assert.equal(thread.replies.length, 1);
      assert.equal(thread.replies[0].author_id, bot.userId);
      assert.match(thread.replies[0].body, /what time is it/);
      assert.match(thread.replies[0].body, /@ada/);

      // Its own message mentioning itself gets no reply; a mention inside a thread does.
      const self = new ClickClackClient({ baseUrl: server.url, token: bot.token });
      const own = await self.channels.sendMessage(channelId, { body: 'note to self @helper' });
      const inThread = await bob.client.threads.reply(mention.id, { body: '@helper and in the thread?' });
      await until(() => b.lines.find((l) => l.replied === inThread.id), 15000, 'reply to the thread mention');
      const thread2 = await bob.client.threads.get(mention.id);
      assert.equal(thread2.replies.length, 3);
      assert.equal(thread2.replies[2].author_id, bot.userId);

      // Events are handled in order: by now the plain message and its own were seen and skipped.
      assert.equal((await ada.client.threads.get(plain.id)).replies.length, 0);
      assert.equal((await ada.client.threads.get(own.id)).replies.length, 0);
      assert.deepEqual(
        b.lines.filter((l) => l.replied).map((l) => l.replied),
        [mention.id, inThread.id],
      );
    } finally {
      b.proc.kill('SIGTERM');
      const code = await b.exited;
      assert.equal(code, 0, `bot exit: ${b.stderr()}`);
    }
  });
}
