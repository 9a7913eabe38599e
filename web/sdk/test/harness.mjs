// Test harness: the real release binary on 127.0.0.1 with a temp data dir, dev auth off, and
// signed-in users made with `clickclack admin` (bootstrap, user create, magic-link create)
// plus the SDK's own `auth.consumeMagicLink`.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { ClickClackClient } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..', '..');
export const BIN = process.env.CLICKCLACK_BIN || join(repoRoot, 'target', 'release', 'clickclack');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function freePort() {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

export class Server {
  /** @param {string} [dir] an existing data dir (e.g. a restored backup); default a new temp dir */
  constructor(dir) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'clickclack-sdk-'));
    this.proc = null;
    this.port = 0;
    this.log = '';
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts `serve` (dev auth off) on `port` or a free one; waits for /healthz. */
  async start(port) {
    if (!existsSync(BIN)) throw new Error(`server binary missing: ${BIN} (cargo build --release -p clickclack)`);
    this.port = port ?? (await freePort());
    this.log = '';
    this.proc = spawn(BIN, ['serve', '--addr', `127.0.0.1:${this.port}`, '--data', this.dir, '--dev-bootstrap=false'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
    });
    const keep = (d) => {
      this.log = (this.log + d.toString()).slice(-20000);
    };
    this.proc.stdout.on('data', keep);
    this.proc.stderr.on('data', keep);
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`server exited early:\n${this.log}`);
      try {
        const r = await fetch(`${this.url}/healthz`);
        if (r.ok) return this;
      } catch {
        /* not up yet */
      }
      await sleep(100);
    }
    throw new Error(`server did not become healthy:\n${this.log}`);
  }

  /** Stops the process (SIGTERM, then SIGKILL); keeps the data dir. */
  async halt() {
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    }
  }

  /** Stops the process and removes the data dir. */
  async stop() {
    await this.halt();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** `clickclack admin …` against this data dir; returns trimmed stdout. */
  admin(...args) {
    return execFileSync(BIN, ['admin', ...args, '--data', this.dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: 'warn' },
    }).trim();
  }

  /** `clickclack backup` into a new data dir (its database gets a new epoch); returns the dir. */
  backupToNewDir() {
    const dir = mkdtempSync(join(tmpdir(), 'clickclack-sdk-restore-'));
    const file = join(dir, 'backup.db');
    execFileSync(BIN, ['backup', '--out', file, '--data', this.dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: 'warn' },
    });
    mkdirSync(join(dir, 'data'), { recursive: true });
    copyFileSync(file, join(dir, 'data', 'clickclack.db'));
    return join(dir, 'data');
  }

  /** A client signed in as `email` through a magic link (created with `admin magic-link`). */
  async signIn(email, name = '', options = {}) {
    const token = this.admin('magic-link', 'create', '--email', email, '--name', name).split(/\s+/).pop();
    const client = new ClickClackClient({ baseUrl: this.url, ...options });
    const consumed = await client.auth.consumeMagicLink(token);
    return { client, user: consumed.user, consumed };
  }
}

/**
 * A server with an owner (Ada, bootstrap workspace) and a second member (Bob), both signed in.
 * @returns {Promise<{server: Server, ada: any, bob: any, workspaceId: string, channelId: string}>}
 */
export async function world(clientOptions = {}) {
  const server = new Server();
  server.admin('bootstrap', '--name', 'Ada Owner', '--email', 'ada@example.com');
  await server.start();
  const ada = await server.signIn('ada@example.com', 'Ada Owner', clientOptions);
  await ada.client.updateMe({ handle: 'ada' });
  const [ws] = await ada.client.workspaces.list();
  server.admin('user', 'create', '--email', 'bob@example.com', '--name', 'Bob Member', '--workspace', ws.id);
  const bob = await server.signIn('bob@example.com', 'Bob Member', clientOptions);
  await bob.client.updateMe({ handle: 'bob' });
  const channels = await ada.client.channels.list(ws.id);
  const general = channels.find((c) => c.name === 'general') ?? channels[0];
  return { server, ada, bob, workspaceId: ws.id, channelId: general.id };
}

/** Waits until `predicate()` is truthy (polling), or throws after `ms`. */
export async function until(predicate, ms = 10000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await predicate();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
