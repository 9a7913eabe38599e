// Test harness: starts the real release binary on 127.0.0.1 with a temp data dir and drives
// Debian's Chromium through playwright-core (no browser download).

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
// Screenshots land in docs/screenshots only when asked (UPDATE_SCREENSHOTS=1), so a test run
// does not dirty the tree; otherwise in web/test-results/screenshots.
export const screenshotDir =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(repoRoot, 'docs', 'screenshots')
    : join(repoRoot, 'web', 'test-results', 'screenshots');

export const BIN = process.env.CLICKCLACK_BIN || join(repoRoot, 'target', 'release', 'clickclack');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

async function freePort() {
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Server {
  /**
   * @param {string[]} args extra `serve` flags, e.g. ['--dev-bootstrap=false']
   * @param {Record<string, string>} env extra environment, e.g. GitHub OAuth settings
   */
  constructor(args = [], env = {}) {
    this.args = args;
    this.env = env;
    this.dir = mkdtempSync(join(tmpdir(), 'clickclack-e2e-'));
    this.proc = null;
    this.port = 0;
    this.log = '';
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    if (!existsSync(BIN)) throw new Error(`server binary missing: ${BIN} (cargo build --release -p clickclack)`);
    this.port = await freePort();
    this.proc = spawn(BIN, ['serve', '--addr', `127.0.0.1:${this.port}`, '--data', this.dir, ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...this.env },
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

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      await Promise.race([new Promise((r) => this.proc.once('exit', r)), sleep(5000)]);
      if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs `clickclack admin …` against this server's data dir; returns trimmed stdout. */
  admin(...args) {
    return execFileSync(BIN, ['admin', ...args, '--data', this.dir], { encoding: 'utf8' }).trim();
  }

  /** A JSON API call from Node (no Origin: a non-browser client; dev auth = Local Captain). */
  async api(method, path, body, headers = {}) {
    const r = await fetch(this.url + path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    const data = text ? JSON.parse(text) : {};
    if (!r.ok) throw new Error(`${method} ${path} → ${r.status} ${text}`);
    return data;
  }

  /** Creates a workspace member and a magic-link token to sign them in. */
  async createUser(workspaceId, name, email, handle) {
    const id = this.admin('user', 'create', '--email', email, '--name', name, '--workspace', workspaceId)
      .split(/\s+/)
      .pop();
    const token = this.admin('magic-link', 'create', '--email', email, '--name', name).split(/\s+/).pop();
    // Consume one link from Node to set a handle with a bearer session, then make a fresh
    // link for the browser.
    const { token: session } = await this.api('POST', '/api/auth/magic/consume', { token });
    if (handle) await this.api('PATCH', '/api/me', { handle }, { authorization: `Bearer ${session}` });
    const browserToken = this.admin('magic-link', 'create', '--email', email, '--name', name).split(/\s+/).pop();
    return { id, session, browserToken };
  }
}

export async function launch() {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium missing at ${CHROMIUM} (apt-get install -y chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export function ensureScreenshotDir() {
  mkdirSync(screenshotDir, { recursive: true });
}

export { sleep };
