// events.subscribe over long-poll and over WebSocket (the `ws` package; Node 20 has no global
// WebSocket) against the real server: live delivery, resume from the cursor without loss or
// duplicates, resync after the database epoch changes (a restored backup), fatal errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ClickClackClient } from '../dist/index.js';
import { world, Server, until } from './harness.mjs';

const TRANSPORTS = {
  poll: { WebSocket: null },
  ws: { WebSocket },
};

const createdIds = (events) => events.filter((e) => e.type === 'message.created').map((e) => e.payload.message_id);

for (const [transport, clientOptions] of Object.entries(TRANSPORTS)) {
  test(`subscribe over ${transport}: live events from another user, resume from the cursor without loss or duplicates`, async () => {
    const w = await world(clientOptions);
    try {
      const { ada, bob, workspaceId, channelId } = w;
      const errors = [];
      const first = [];
      const sub = ada.client.events.subscribe({
        workspaceId,
        onEvent: (e) => {
          first.push(e);
        },
        onError: (e) => errors.push(e),
        wait: 5,
      });
      await sub.ready;
      assert.equal(sub.error, undefined);
      assert.equal(sub.transport, transport);

      const live1 = await bob.client.channels.sendMessage(channelId, { body: 'live one' });
      await until(() => createdIds(first).includes(live1.id), 10000, 'live one');
      const ev = first.find((e) => e.type === 'message.created');
      assert.equal(ev.channel_id, channelId);
      assert.equal(ev.workspace_id, workspaceId);
      assert.match(ev.cursor, /^cur_/);
      assert.deepEqual(createdIds(first), [live1.id], 'started at the tail: no history replayed');

      // Ephemeral events arrive too (cursor "").
      await bob.client.events.publishEphemeral({ workspaceId, channelId, type: 'typing.started' });
      await until(() => first.some((e) => e.type === 'typing.started'), 10000, 'typing event');
      assert.equal(first.find((e) => e.type === 'typing.started').payload.user_id, bob.user.id);

      const cursor = sub.cursor;
      assert.equal(cursor, ev.cursor);
      sub.close();
      await sub.closed;

      // Posted while nobody listens.
      const gap1 = await bob.client.channels.sendMessage(channelId, { body: 'gap one' });
      const gap2 = await bob.client.channels.sendMessage(channelId, { body: 'gap two' });
      await bob.client.reactions.add(gap1.id, 'wave');

      const second = [];
      const sub2 = ada.client.events.subscribe({ workspaceId, cursor, onEvent: (e) => second.push(e), wait: 5 });
      await sub2.ready;
      const live2 = await bob.client.channels.sendMessage(channelId, { body: 'live two' });
      await until(() => createdIds(second).includes(live2.id), 10000, 'live two');
      sub2.close();
      await sub2.closed;

      assert.deepEqual(createdIds(second), [gap1.id, gap2.id, live2.id], 'resumed without loss, in order');
      assert.ok(second.some((e) => e.type === 'reaction.added' && e.payload.message_id === gap1.id));
      const durable = [...first, ...second].filter((e) => e.cursor);
      assert.equal(
        new Set(durable.map((e) => e.id)).size,
        durable.length,
        'no duplicates across the two subscriptions',
      );
      const cursors = second.filter((e) => e.cursor).map((e) => e.cursor);
      assert.deepEqual([...cursors].sort(), cursors, 'cursor order');
      assert.ok(cursors[0] > cursor);
      assert.deepEqual(errors, []);
    } finally {
      await w.server.stop();
    }
  });

  test(`subscribe over ${transport}: replay from "" and resync when the server's epoch changes`, async () => {
    const w = await world(clientOptions);
    let restored;
    try {
      const { ada, bob, workspaceId, channelId } = w;
      const before = await bob.client.channels.sendMessage(channelId, { body: 'before the restore' });

      const events = [];
      const resyncs = [];
      const sub = ada.client.events.subscribe({
        workspaceId,
        cursor: '',
        onEvent: (e) => events.push(e),
        onResync: (info) => resyncs.push(info),
        maxBackoffMs: 300,
        wait: 2,
      });
      await until(() => createdIds(events).includes(before.id), 10000, 'history replay');
      assert.ok(
        events.some((e) => e.type === 'channel.created'),
        'replayed from the beginning',
      );
      const oldEpoch = (await ada.client.capabilities()).epoch;

      // Back up the live database, stop the server and serve the backup on the same port:
      // same data, new epoch, so the subscription's cursor is no longer valid.
      const dir = w.server.backupToNewDir();
      const port = w.server.port;
      await w.server.halt();
      restored = new Server(dir);
      await restored.start(port);
      const newEpoch = (await ada.client.capabilities()).epoch;
      assert.notEqual(newEpoch, oldEpoch);

      await until(() => resyncs.length > 0, 15000, 'onResync');
      assert.equal(resyncs[0].reason, 'epoch_changed');
      assert.equal(resyncs[0].epoch, newEpoch);
      assert.notEqual(resyncs[0].cursor, resyncs[0].previousCursor);
      assert.equal(sub.cursor, resyncs[0].cursor);

      const after = await bob.client.channels.sendMessage(channelId, { body: 'after the restore' });
      await until(() => createdIds(events).includes(after.id), 10000, 'event after the restore');
      assert.equal(createdIds(events).filter((id) => id === before.id).length, 1, 'nothing replayed twice');
      assert.equal(sub.error, undefined);
      sub.close();
      await sub.closed;
    } finally {
      await w.server.stop();
      await restored?.stop();
    }
  });
}

test('subscribe over ws: a cursor from another epoch closes the socket with 4001 → resync from the tail', async () => {
  const w = await world({ WebSocket });
  try {
    const { ada, bob, workspaceId, channelId } = w;
    const stale = 'cur_zzzzzzzzzz_0000000000000001';
    const events = [];
    const resyncs = [];
    const errors = [];
    const sub = ada.client.events.subscribe({
      workspaceId,
      cursor: stale,
      onEvent: (e) => events.push(e),
      onResync: (info) => resyncs.push(info),
      onError: (e) => errors.push(e),
    });
    await until(() => resyncs.length > 0, 10000, 'onResync');
    assert.equal(resyncs[0].reason, 'epoch_changed');
    assert.equal(resyncs[0].previousCursor, stale);
    await sub.ready;
    await until(() => sub.transport === 'ws', 10000, 'socket reconnected');
    const msg = await bob.client.channels.sendMessage(channelId, { body: 'after resync' });
    await until(() => createdIds(events).includes(msg.id), 10000, 'event after resync');
    assert.deepEqual(createdIds(events), [msg.id], 'continued from the tail, no history');
    assert.deepEqual(errors, []);
    sub.close();
    await sub.closed;
  } finally {
    await w.server.stop();
  }
});

test(
  'subscribe over ws: a backlog over 5,000 events (close 4001) is caught up over HTTP without loss',
  { timeout: 240000 },
  async () => {
    const w = await world({ WebSocket });
    try {
      const { ada, bob, workspaceId, channelId } = w;
      const start = await ada.client.events.tail(workspaceId);
      const N = 5050;
      const ids = new Array(N);
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < N) {
            const i = next++;
            ids[i] = (await bob.client.channels.sendMessage(channelId, { body: `bulk ${i}` })).id;
          }
        }),
      );
      const events = [];
      const resyncs = [];
      const sub = ada.client.events.subscribe({
        workspaceId,
        cursor: start,
        onEvent: (e) => events.push(e),
        onResync: (info) => resyncs.push(info),
      });
      await until(() => createdIds(events).length >= N, 120000, 'the whole backlog');
      assert.equal(resyncs[0]?.reason, 'backlog_too_large');
      assert.equal(resyncs[0].cursor, start);
      const got = createdIds(events);
      assert.equal(got.length, N, 'no duplicates');
      assert.deepEqual(new Set(got), new Set(ids), 'no loss');
      await until(() => sub.transport === 'ws', 10000, 'socket reconnected');
      const live = await bob.client.channels.sendMessage(channelId, { body: 'live after the backlog' });
      await until(() => createdIds(events).includes(live.id), 10000, 'live event');
      sub.close();
      await sub.closed;
    } finally {
      await w.server.stop();
    }
  },
);

test('subscribe ends with a fatal error (not a member / bad token) and reports it', async () => {
  const w = await world();
  try {
    const seen = [];
    const sub = w.ada.client.events.subscribe({
      workspaceId: 'wsp_00000000000000000000000000',
      onEvent: () => {},
      onError: (e) => seen.push(e),
    });
    await sub.closed;
    assert.ok(sub.error);
    assert.equal(sub.error.status, 404);
    assert.deepEqual(seen, [sub.error]);

    const stranger = new ClickClackClient({ baseUrl: w.server.url, token: 'sst_invalid', WebSocket });
    const sub2 = stranger.events.subscribe({ workspaceId: w.workspaceId, onEvent: () => {} });
    await sub2.closed;
    assert.equal(sub2.error?.status, 401);
  } finally {
    await w.server.stop();
  }
});

test('subscribe stops on an AbortSignal', async () => {
  const w = await world({ WebSocket });
  try {
    const ac = new AbortController();
    const sub = w.ada.client.events.subscribe({ workspaceId: w.workspaceId, onEvent: () => {}, signal: ac.signal });
    await sub.ready;
    assert.equal(sub.transport, 'ws');
    ac.abort();
    await sub.closed;
    assert.equal(sub.error, undefined);
  } finally {
    await w.server.stop();
  }
});
