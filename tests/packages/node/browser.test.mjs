// A real RP page (@simplewebauthn/browser + @simplewebauthn/server) on plain http://localhost,
// with fauxkey behind navigator.credentials: headless Chromium through Playwright's
// installPasskeys, Firefox ESR through Puppeteer's (WebDriver BiDi), and WebKitGTK's MiniBrowser
// over plain WebDriver (no bindings there: the RP relays the shim's requests on a same-origin
// path). Each: register, log in twice, a fault the RP rejects, a signal.
// The browsers come from $FAUXKEY_CHROMIUM, $FAUXKEY_FIREFOX and $FAUXKEY_WEBKIT_DRIVER
// (tests/packages_e2e.rs sets them; a browser whose variable is unset is skipped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FauxkeyServer } from 'fauxkey';
import { installPasskeys as installInPlaywright } from 'fauxkey/playwright';
import { installPasskeys as installInPuppeteer } from 'fauxkey/puppeteer';
import { startRp } from './rp.mjs';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// The scenario, whatever drives the page: `call(name, arg)` runs window[name](arg) in the page.
async function scenario(call, fauxkey, rp) {
  const registered = await call('rpRegister', 'alice');
  const m = /^registered alice credential=([A-Za-z0-9_-]+)$/.exec(registered);
  assert.ok(m, `registration: ${registered}`);
  const credentialId = m[1];

  let last = -1;
  for (let i = 0; i < 2; i++) {
    const status = await call('rpLogin');
    const c = /^signed in as alice counter=(\d+)->(\d+)$/.exec(status);
    assert.ok(c, `login ${i + 1}: ${status}`);
    assert.ok(Number(c[2]) > Number(c[1]) && Number(c[2]) > last, `counter did not rise: ${status}`);
    last = Number(c[2]);
  }
  const verified = rp.state.verified.map((v) => v.kind);
  assert.deepEqual(verified, ['register', 'login', 'login'], 'the RP server verified one registration and two logins');

  await fauxkey.injectFault('bad-signature');
  const faulty = await call('rpLogin');
  assert.equal(faulty, 'error Error: RP server: authentication not verified', 'the RP rejects a bad signature');

  assert.equal(await call('rpForget', credentialId), 'signalled');
  const refused = await call('rpLogin');
  assert.match(refused, /^error NotAllowedError/, 'a passkey the RP signalled unknown is gone');
  assert.ok((await fauxkey.events()).length > 0, 'the signal is in the event log');
  const caps = await call('eval', 'PublicKeyCredential.getClientCapabilities().then(JSON.stringify)');
  assert.ok(Object.keys(JSON.parse(caps)).length > 0);
}

test('Chromium (Playwright, installPasskeys)', { skip: !process.env.FAUXKEY_CHROMIUM && 'FAUXKEY_CHROMIUM not set' }, async () => {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.FAUXKEY_CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const rp = await startRp();
  try {
    const context = await browser.newContext();
    const fauxkey = await installInPlaywright(context);
    const page = await context.newPage();
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${rp.origin}/`);
    assert.equal(await page.evaluate(() => window.fauxkey.binding), '__fauxkeyRelay');
    await scenario((name, arg) => page.evaluate(([n, a]) => window[n](a), [name, arg]), fauxkey, rp);
    // No permission granted and no CORS needed: the page never opened a connection to the server.
    assert.deepEqual(requests.filter((u) => u.startsWith(fauxkey.url)), []);
    assert.ok(requests.some((u) => u.startsWith(rp.origin)));
    await context.close();
  } finally {
    await rp.close();
    await browser.close();
  }
});

test('Firefox ESR (Puppeteer over WebDriver BiDi, installPasskeys)', { skip: !process.env.FAUXKEY_FIREFOX && 'FAUXKEY_FIREFOX not set' }, async () => {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox', executablePath: process.env.FAUXKEY_FIREFOX, headless: true,
    extraPrefsFirefox: { 'app.update.enabled': false, 'network.captive-portal-service.enabled': false, 'network.connectivity-service.enabled': false, 'datareporting.policy.dataSubmissionEnabled': false },
  });
  const rp = await startRp();
  try {
    const page = await browser.newPage();
    const fauxkey = await installInPuppeteer(page);
    await page.goto(`${rp.origin}/`);
    await scenario((name, arg) => page.evaluate((n, a) => window[n](a), name, arg), fauxkey, rp);
    await page.close();
    await fauxkey.close();
  } finally {
    await rp.close();
    await browser.close();
  }
});

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

test('WebKitGTK MiniBrowser (WebKitWebDriver under xvfb-run, shim relayed by the RP)', { skip: !process.env.FAUXKEY_WEBKIT_DRIVER && 'FAUXKEY_WEBKIT_DRIVER not set' }, async (t) => {
  const fauxkey = await FauxkeyServer.start();
  const rp = await startRp({ relayTo: fauxkey });
  const port = await freePort();
  const driver = spawn('xvfb-run', ['-a', process.env.FAUXKEY_WEBKIT_DRIVER, `--port=${port}`], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let driverLog = '';
  driver.stderr.on('data', (d) => { driverLog += d; });
  const wd = async (method, path, body) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(json.value)}`);
    return json.value;
  };
  let session = null;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await wd('GET', '/status')).ready) break;
      } catch (err) {
        if (i > 600 || driver.exitCode !== null) throw new Error(`WebKitWebDriver did not start: ${err.message} ${driverLog}`);
      }
      await sleep(50);
    }
    const created = await wd('POST', '/session', {
      capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: process.env.FAUXKEY_MINIBROWSER, args: ['--automation'] } } },
    });
    session = created.sessionId;
    await wd('POST', `/session/${session}/url`, { url: `${rp.origin}/` });
    const [secure, native, ours, agent] = await wd('POST', `/session/${session}/execute/sync`, {
      script: 'return [window.isSecureContext, window.fauxkey.native, [typeof navigator.credentials, typeof PublicKeyCredential], navigator.userAgent]',
      args: [],
    });
    assert.equal(secure, true, 'http://localhost is a secure context');
    assert.match(agent, /AppleWebKit/);
    t.diagnostic(`WebKit before the shim: ${JSON.stringify(native)}; ${agent}`);
    assert.deepEqual(ours, ['object', 'function'], 'the shim provides navigator.credentials and PublicKeyCredential');
    const call = (name, arg) => wd('POST', `/session/${session}/execute/async`, {
      script: 'const [n, a, done] = arguments; window[n](a).then(done, (e) => done(`error ${e.name}: ${e.message}`));',
      args: [name, arg ?? null],
    });
    await scenario(call, fauxkey, rp);
  } finally {
    if (session) await wd('DELETE', `/session/${session}`).catch(() => {});
    try { process.kill(-driver.pid, 'SIGTERM'); } catch { /* already gone */ }
    await rp.close();
    await fauxkey.stop();
  }
});
