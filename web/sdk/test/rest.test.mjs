// REST surface of @clickclack/sdk against the real server binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ClickClackClient, ClickClackError } from '../dist/index.js';
import { world } from './harness.mjs';

let w;
before(async () => {
  w = await world();
});
after(async () => {
  await w?.server.stop();
});

test('magic link: consume signs the client in; me() returns the user; setToken/logout', async () => {
  const server = w.server;
  const token = server
    .admin('magic-link', 'create', '--email', 'carol@example.com', '--name', 'Carol')
    .split(/\s+/)
    .pop();
  const client = new ClickClackClient({ baseUrl: server.url + '/' });
  assert.equal(client.baseUrl, server.url, 'trailing slash stripped');
  const consumed = await client.auth.consumeMagicLink(token);
  assert.equal(consumed.user.display_name, 'Carol');
  assert.match(consumed.token, /^sst_/);
  assert.equal(client.getToken(), consumed.token);
  const me = await client.me();
  assert.equal(me.id, consumed.user.id);
  assert.equal(client.auth.githubStartUrl(), `${server.url}/api/auth/github/start`);

  // A second client with the same token is the same user.
  const other = new ClickClackClient({ baseUrl: server.url });
  other.auth.setToken(consumed.token);
  assert.equal((await other.me()).id, me.id);

  await client.auth.logout();
  assert.equal(client.getToken(), undefined);
  await assert.rejects(
    other.me(),
    (e) => e instanceof ClickClackError && e.status === 401 && e.code === 'unauthenticated',
  );

  // A used link cannot be consumed again.
  await assert.rejects(
    new ClickClackClient({ baseUrl: server.url }).auth.consumeMagicLink(token),
    (e) => e.status >= 400 && e.status < 500,
  );
});

test('capabilities, workspaces, members', async () => {
  const { ada, workspaceId } = w;
  const caps = await ada.client.capabilities();
  assert.ok(caps.transports.includes('poll'));
  assert.ok(caps.transports.includes('ws'));
  assert.equal(typeof caps.epoch, 'string');

  const ws = await ada.client.workspaces.get(workspaceId);
  assert.equal(ws.id, workspaceId);
  const created = await ada.client.workspaces.create({ name: 'Side Dock' });
  assert.equal(created.slug, 'side-dock');
  assert.ok((await ada.client.workspaces.list()).some((x) => x.id === created.id));

  const page = await ada.client.workspaces.members(workspaceId, { limit: 10 });
  const handles = page.members.map((m) => m.user.handle);
  assert.ok(handles.includes('ada') && handles.includes('bob'), `members: ${handles}`);
  assert.equal(page.members.find((m) => m.user.handle === 'ada').role, 'owner');
  const bobOnly = await ada.client.workspaces.members(workspaceId, { q: 'bob' });
  assert.equal(bobOnly.members.length, 1);
});

test('channels: create, update, send, list with paging, edit, delete, get, by-nonce', async () => {
  const { ada, bob, workspaceId } = w;
  const channel = await ada.client.channels.create(workspaceId, { name: 'Store Room' });
  assert.equal(channel.name, 'store-room');
  const renamed = await ada.client.channels.update(channel.id, { name: 'dock' });
  assert.equal(renamed.name, 'dock');
  assert.ok((await bob.client.channels.list(workspaceId)).some((c) => c.id === channel.id));

  const sent = [];
  for (let i = 1; i <= 5; i++) sent.push(await ada.client.channels.sendMessage(channel.id, { body: `hello ${i}` }));
  assert.equal(sent[0].channel_seq, 1);
  assert.equal(sent[4].channel_seq, 5);

  const newest = await bob.client.channels.messages(channel.id, { limit: 2 });
  assert.deepEqual(
    newest.messages.map((m) => m.body),
    ['hello 4', 'hello 5'],
  );
  assert.equal(newest.has_older, true);
  assert.equal(newest.has_newer, false);
  const before = await bob.client.channels.messages(channel.id, { before_seq: 4, limit: 2 });
  assert.deepEqual(
    before.messages.map((m) => m.channel_seq),
    [2, 3],
  );
  const afterSeq = await bob.client.channels.messages(channel.id, 3);
  assert.deepEqual(
    afterSeq.messages.map((m) => m.channel_seq),
    [4, 5],
  );
  const around = await bob.client.channels.messages(channel.id, { around_seq: 3, limit: 3 });
  assert.ok(around.messages.some((m) => m.channel_seq === 3));

  const edited = await ada.client.messages.update(sent[0].id, { body: 'hello one' });
  assert.equal(edited.body, 'hello one');
  assert.ok(edited.edited_at);
  assert.equal((await bob.client.messages.get(sent[0].id)).body, 'hello one');

  const deleted = await ada.client.messages.delete(sent[1].id);
  assert.ok(deleted.deleted_at);
  assert.ok((await ada.client.messages.delete(sent[1].id)).deleted_at, 'delete is idempotent');

  const withNonce = await ada.client.channels.sendMessage(channel.id, { body: 'keyed', nonce: 'nonce-keyed-1' });
  const found = await ada.client.messages.byNonce(workspaceId, 'nonce-keyed-1');
  assert.equal(found.id, withNonce.id);

  // read marks
  const receipt = await bob.client.channels.markRead(channel.id, 5);
  assert.equal(receipt.last_read_seq, 5);
  const listed = (await bob.client.channels.list(workspaceId)).find((c) => c.id === channel.id);
  assert.equal(listed.last_read_seq, 5);
});

test('threads: reply, get, latest window; reactions; pins', async () => {
  const { ada, bob, channelId } = w;
  const root = await ada.client.channels.sendMessage(channelId, { body: 'thread root' });
  const r1 = await bob.client.threads.reply(root.id, { body: 'first reply' });
  assert.equal(r1.thread_root_id, root.id);
  assert.equal(r1.parent_message_id, root.id);
  await bob.client.threads.reply(root.id, { body: 'second reply' });
  await ada.client.threads.reply(root.id, { body: 'third reply' });

  const thread = await ada.client.threads.get(root.id);
  assert.equal(thread.root.id, root.id);
  assert.deepEqual(
    thread.replies.map((m) => m.body),
    ['first reply', 'second reply', 'third reply'],
  );
  assert.equal(thread.thread_state.reply_count, 3);
  const latest = await ada.client.threads.latest(root.id, 2);
  assert.deepEqual(
    latest.replies.map((m) => m.body),
    ['second reply', 'third reply'],
  );

  const added = await bob.client.reactions.add(root.id, 'lobster');
  assert.equal(added.event.type, 'reaction.added');
  assert.deepEqual(added.reactions, [{ emoji: 'lobster', count: 1, reacted_by_me: true }]);
  const again = await bob.client.reactions.add(root.id, 'lobster');
  assert.equal(again.event, null, 'no-op add has no event');
  const seenByAda = await ada.client.messages.get(root.id);
  assert.deepEqual(seenByAda.reactions, [{ emoji: 'lobster', count: 1, reacted_by_me: false }]);
  const removed = await bob.client.reactions.remove(root.id, 'lobster');
  assert.equal(removed.event.type, 'reaction.removed');
  assert.deepEqual(removed.reactions, []);

  const pinEvent = await ada.client.pins.add(channelId, root.id);
  assert.equal(pinEvent.type, 'pin.added');
  assert.deepEqual(
    (await bob.client.pins.list(channelId)).map((m) => m.id),
    [root.id],
  );
  const unpin = await ada.client.pins.remove(channelId, root.id);
  assert.equal(unpin.type, 'pin.removed');
  assert.deepEqual(await bob.client.pins.list(channelId), []);
});

test('search finds a sent message', async () => {
  const { ada, bob, workspaceId, channelId } = w;
  const msg = await ada.client.channels.sendMessage(channelId, { body: 'findable **lobster** bisque' });
  const page = await bob.client.search(workspaceId, 'bisque');
  assert.deepEqual(
    page.results.map((r) => r.id),
    [msg.id],
  );
  assert.match(page.results[0].snippet, /bisque/);
  const scoped = await bob.client.search(workspaceId, 'bisque', { channel_id: channelId, sort: 'newest', limit: 5 });
  assert.equal(scoped.results.length, 1);
});

test('uploads: create, attach, download, nonce replay', async () => {
  const { ada, bob, workspaceId, channelId } = w;
  const upload = await ada.client.uploads.create(workspaceId, 'hello upload', 'note.txt', {
    contentType: 'text/plain',
    nonce: 'upload-nonce-1',
  });
  assert.equal(upload.filename, 'note.txt');
  assert.equal(upload.byte_size, 12);
  const replay = await ada.client.uploads.create(workspaceId, 'hello upload', 'note.txt', {
    contentType: 'text/plain',
    nonce: 'upload-nonce-1',
  });
  assert.equal(replay.id, upload.id, 'same nonce → same upload');
  assert.equal((await ada.client.uploads.byNonce(workspaceId, 'upload-nonce-1')).id, upload.id);

  const msg = await ada.client.channels.sendMessage(channelId, { body: 'see attached' });
  const attached = await ada.client.messages.attach(msg.id, upload.id);
  assert.equal(attached.ok, true);
  assert.deepEqual(
    attached.message.attachments.map((a) => a.id),
    [upload.id],
  );
  const res = await bob.client.uploads.download(upload.id);
  assert.equal(await res.text(), 'hello upload');
  assert.match(res.headers.get('content-type'), /^text\/plain/);

  // Attached at send time, from bytes.
  const bytes = await ada.client.uploads.create(workspaceId, new Uint8Array([1, 2, 3]), 'three.bin');
  const withFile = await ada.client.channels.sendMessage(channelId, { body: '', upload_ids: [bytes.id] });
  assert.deepEqual(
    withFile.attachments.map((a) => a.byte_size),
    [3],
  );
});

test('direct messages: create (1:1 reuse), send, list, get, close, open, read', async () => {
  const { ada, bob, workspaceId } = w;
  const dm = await ada.client.dms.create(workspaceId, [bob.user.id]);
  assert.equal(dm.members.length, 2);
  const same = await bob.client.dms.create(workspaceId, [ada.user.id]);
  assert.equal(same.id, dm.id, '1:1 is reused');

  const m = await ada.client.dms.sendMessage(dm.id, { body: 'psst' });
  assert.equal(m.direct_conversation_id, dm.id);
  const page = await bob.client.dms.messages(dm.id);
  assert.deepEqual(
    page.messages.map((x) => x.body),
    ['psst'],
  );
  assert.equal((await bob.client.dms.get(dm.id)).id, dm.id);
  assert.ok((await bob.client.dms.list(workspaceId)).some((c) => c.id === dm.id));

  await bob.client.dms.close(dm.id);
  assert.ok(!(await bob.client.dms.list(workspaceId)).some((c) => c.id === dm.id), 'closed for bob');
  await bob.client.dms.open(dm.id);
  assert.ok(
    (await bob.client.dms.list(workspaceId)).some((c) => c.id === dm.id),
    'reopened',
  );
  const receipt = await bob.client.dms.markRead(dm.id, m.channel_seq ?? 1);
  assert.equal(receipt.scope_id, dm.id);
});

test('errors surface status, code and the server message', async () => {
  const { ada, bob, server, workspaceId, channelId } = w;
  // 404
  await assert.rejects(ada.client.messages.get('msg_00000000000000000000000000'), (e) => {
    assert.ok(e instanceof ClickClackError);
    assert.equal(e.status, 404);
    assert.equal(e.code, 'not_found');
    assert.ok(e.message.length > 0);
    return true;
  });
  // 403: only the author may edit
  const msg = await ada.client.channels.sendMessage(channelId, { body: 'mine' });
  await assert.rejects(bob.client.messages.update(msg.id, { body: 'yours' }), (e) => {
    assert.equal(e.status, 403);
    assert.equal(e.code, 'author_required');
    return true;
  });
  // 400: invalid paging request
  await assert.rejects(ada.client.channels.messages(channelId, { before_seq: 2, after_seq: 1 }), (e) => {
    assert.equal(e.status, 400);
    assert.equal(e.code, 'invalid_page_request');
    return true;
  });
  // 401: no token
  await assert.rejects(
    new ClickClackClient({ baseUrl: server.url }).me(),
    (e) => e.status === 401 && e.code === 'unauthenticated',
  );
  // message equals the body's `error` field
  const raw = await fetch(`${server.url}/api/messages/${msg.id}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${bob.client.getToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ body: 'x' }),
  });
  const body = await raw.json();
  await assert.rejects(bob.client.messages.update(msg.id, { body: 'x' }), (e) => e.message === body.error);
  // 409 on a cursor from another epoch carries the epoch
  await assert.rejects(
    ada.client.events.pull({ workspaceId, cursor: 'cur_zzzzzzzzzz_0000000000000001' }),
    (e) => e.status === 409 && e.code === 'resync_required' && typeof e.epoch === 'string',
  );
  // network errors: status 0
  const dead = new ClickClackClient({ baseUrl: 'http://127.0.0.1:9', token: 'x' });
  await assert.rejects(dead.me(), (e) => e instanceof ClickClackError && e.status === 0 && e.code === 'network_error');
});

test('retry-safe sends: same nonce twice → one message; a lost response is retried with the same nonce', async () => {
  const { ada, bob, workspaceId, channelId } = w;
  const channel = await ada.client.channels.create(workspaceId, { name: 'retries' });
  const a = await ada.client.channels.sendMessage(channel.id, { body: 'once', nonce: 'dup-1' });
  const b = await ada.client.channels.sendMessage(channel.id, { body: 'once', nonce: 'dup-1' });
  assert.equal(a.id, b.id);
  await assert.rejects(
    ada.client.channels.sendMessage(channel.id, { body: 'different', nonce: 'dup-1' }),
    (e) => e.status === 409 || e.status === 400,
  );

  // A fetch that delivers the first POST to the server, then pretends the connection dropped.
  const bodies = [];
  let dropped = 0;
  const flaky = async (url, init) => {
    const res = await fetch(url, init);
    if (init?.method === 'POST') {
      bodies.push(JSON.parse(init.body));
      if (dropped === 0) {
        dropped++;
        await res.arrayBuffer();
        throw new TypeError('fetch failed (simulated connection reset)');
      }
    }
    return res;
  };
  const client = new ClickClackClient({
    baseUrl: w.server.url,
    token: ada.client.getToken(),
    fetch: flaky,
    retry: { baseDelayMs: 10 },
  });
  const msg = await client.channels.sendMessage(channel.id, { body: 'exactly once' });
  assert.equal(dropped, 1);
  assert.equal(bodies.length, 2, 'sent twice');
  assert.ok(bodies[0].nonce, 'a nonce was generated');
  assert.equal(bodies[0].nonce, bodies[1].nonce, 'the retry reused the nonce');
  const reply = await client.threads.reply(msg.id, { body: 'reply once' });
  assert.equal(bodies.length, 3);
  const page = await bob.client.channels.messages(channel.id);
  assert.equal(page.messages.filter((m) => m.body === 'exactly once').length, 1, 'no duplicate');
  assert.equal((await bob.client.threads.get(msg.id)).replies.length, 1);
  assert.equal(reply.thread_root_id, msg.id);

  // A 5xx is retried too; a 4xx is not.
  let calls = 0;
  const fiveHundred = async (url, init) => {
    calls++;
    if (calls === 1)
      return new Response(JSON.stringify({ error: 'database is busy', code: 'unavailable' }), { status: 503 });
    return fetch(url, init);
  };
  const c2 = new ClickClackClient({
    baseUrl: w.server.url,
    token: ada.client.getToken(),
    fetch: fiveHundred,
    retry: { baseDelayMs: 10 },
  });
  await c2.channels.sendMessage(channelId, { body: 'after a 503' });
  assert.equal(calls, 2);
  calls = 0;
  const c3 = new ClickClackClient({
    baseUrl: w.server.url,
    token: ada.client.getToken(),
    fetch: async (u, i) => (calls++, fetch(u, i)),
  });
  await assert.rejects(
    c3.channels.sendMessage('chn_00000000000000000000000000', { body: 'nowhere' }),
    (e) => e.status === 404,
  );
  assert.equal(calls, 1, '4xx is not retried');
});

test('ephemeral events publish', async () => {
  const { ada, workspaceId, channelId } = w;
  const ev = await ada.client.events.publishEphemeral({ workspaceId, channelId, type: 'typing.started' });
  assert.equal(ev.type, 'typing.started');
  assert.equal(ev.cursor, '');
  assert.equal(ev.payload.user_id, ada.user.id);
  await assert.rejects(ada.client.events.publishEphemeral({ workspaceId, type: 'bad' }), (e) => e.status === 400);
});

test('retries are bounded; non-JSON error bodies keep their text', async () => {
  const { ada, channelId } = w;
  let calls = 0;
  const down = async () => {
    calls++;
    throw new TypeError('fetch failed');
  };
  const c = new ClickClackClient({
    baseUrl: w.server.url,
    token: ada.client.getToken(),
    fetch: down,
    retry: { attempts: 3, baseDelayMs: 5 },
  });
  await assert.rejects(
    c.channels.sendMessage(channelId, { body: 'never' }),
    (e) => e.code === 'network_error' && e.status === 0,
  );
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(c.me(), (e) => e.code === 'network_error');
  assert.equal(calls, 1, 'reads are not retried');

  const proxy = async () =>
    new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } });
  const p = new ClickClackClient({ baseUrl: w.server.url, fetch: proxy, retry: { attempts: 1 } });
  await assert.rejects(
    p.me(),
    (e) => e.status === 502 && e.code === 'http_502' && e.message === '<html>bad gateway</html>' && e.transient,
  );

  const ac = new AbortController();
  ac.abort();
  const a = new ClickClackClient({ baseUrl: w.server.url, token: ada.client.getToken() });
  await assert.rejects(a.request('GET', '/api/me', { signal: ac.signal }), (e) => e.code === 'aborted' && !e.transient);
});
