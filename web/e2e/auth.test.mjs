// Sign-in with a magic link when dev bootstrap is off (no implicit loopback user).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, launch } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = new Server(['--dev-bootstrap=false']);
  // Seed the owner before the server starts, as an operator would.
  server.admin('bootstrap', '--name', 'Ada Anemone', '--email', 'ada@example.com');
  await server.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('without a session the app asks for a magic link, then opens the chat', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${server.url}/app`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByRole('textbox', { name: 'Magic link token' }).fill('mgt_not_a_real_token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  const token = server.admin('magic-link', 'create', '--email', 'ada@example.com').split(/\s+/).pop();
  await page.getByRole('textbox', { name: 'Magic link token' }).fill(`${server.url}/app?token=${token}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: '#general' }).waitFor();
  await page.getByText('Ada Anemone').first().waitFor();
  // The session cookie carries writes (with the CSRF header) and survives a reload.
  const box = page.getByTestId('composer');
  await box.fill('signed in with a **magic** link');
  await box.press('Enter');
  await page.locator('[data-testid="message"] .md strong', { hasText: 'magic' }).waitFor();
  await page.reload();
  await page.locator('[data-testid="message"] .md strong', { hasText: 'magic' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Sign in' }).count(), 0);
  // Signing out returns to the product page; /app asks to sign in again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${server.url}/`);
  await page.goto(`${server.url}/app`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await ctx.close();
});

test('the GitHub button appears only when the server has GitHub OAuth configured', async () => {
  const plain = await browser.newContext();
  const page = await plain.newPage();
  await page.goto(`${server.url}/app`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.waitForTimeout(300);
  assert.equal(await page.getByTestId('github-signin').count(), 0);
  await plain.close();

  const gh = new Server(['--dev-bootstrap=false'], {
    CLICKCLACK_GITHUB_CLIENT_ID: 'e2e-client',
    CLICKCLACK_GITHUB_CLIENT_SECRET: 'e2e-secret',
  });
  await gh.start();
  try {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(`${gh.url}/app`);
    const button = p.getByTestId('github-signin');
    await button.waitFor();
    assert.equal(await button.getAttribute('href'), '/api/auth/github/start');
    const res = await fetch(`${gh.url}/api/auth/github/start`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.match(res.headers.get('location'), /client_id=e2e-client/);
    await ctx.close();
  } finally {
    await gh.stop();
  }
});
