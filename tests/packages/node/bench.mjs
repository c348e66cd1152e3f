// Benchmark (not a test): the cost of one login ceremony through each way of reaching fauxkey.
//   node  FauxkeyServer.get() from Node over HTTP (what node:test and pytest suites do)
//   page/installPasskeys  navigator.credentials.get() in headless Chromium, relayed by
//                         Playwright's binding (fauxkey/playwright)
//   page/fetch            navigator.credentials.get() in headless Chromium with /shim.js calling
//                         `fauxkey serve` itself over fetch (the pre-package way)
// Run from a directory where the packed packages are installed (see docs/packages.md):
//   FAUXKEY_CHROMIUM=/usr/bin/chromium node bench.mjs [ITERATIONS]
import { chromium } from 'playwright-core';
import { FauxkeyServer } from 'fauxkey';
import { installPasskeys } from 'fauxkey/playwright';
import { startRp } from './rp.mjs';

const N = Number(process.argv[2] || 200);
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];
const creation = {
  rp: { id: 'localhost', name: 'bench' }, user: { id: 'dXNlcg', name: 'u', displayName: 'u' },
  challenge: 'Y2hhbGxlbmdlLWJlbmNo', pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
  authenticatorSelection: { residentKey: 'required' },
};
const request = { challenge: 'Y2hhbGxlbmdlLWxvZ2lu', rpId: 'localhost' };

function report(name, ms) {
  console.log(`${name.padEnd(24)} ${(ms / N).toFixed(3)} ms per login (${N} logins, ${ms.toFixed(0)} ms)`);
}

// In the page: register once, then N logins back to back.
async function inPage(page) {
  return page.evaluate(async ([creationJSON, requestJSON, n]) => {
    await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(creationJSON) });
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(requestJSON);
    await navigator.credentials.get({ publicKey });
    const start = performance.now();
    for (let i = 0; i < n; i++) await navigator.credentials.get({ publicKey });
    return performance.now() - start;
  }, [creation, request, N]);
}

const server = await FauxkeyServer.start();
await server.create('http://localhost', creation);
await server.get('http://localhost', request);
let start = performance.now();
for (let i = 0; i < N; i++) await server.get('http://localhost', request);
report('node (HTTP)', performance.now() - start);
await server.stop();

const rp = await startRp();
const browser = await chromium.launch({ executablePath: process.env.FAUXKEY_CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS });
try {
  const context = await browser.newContext();
  const passkeys = await installPasskeys(context);
  const page = await context.newPage();
  await page.goto(`${rp.origin}/`);
  report('page/installPasskeys', await inPage(page));
  await context.close();
  await passkeys.close();

  const direct = await FauxkeyServer.start({ allowOrigins: [rp.origin] });
  const context2 = await browser.newContext();
  await context2.addInitScript({ content: await direct.shimSource() });
  const page2 = await context2.newPage();
  await page2.goto(`${rp.origin}/`);
  report('page/fetch (/shim.js)', await inPage(page2));
  await context2.close();
  await direct.stop();
} finally {
  await browser.close();
  await rp.close();
}
