// Playwright + fauxkey's browser shim: a page registers a passkey and signs in with it in
// headless Chromium, with `fauxkey serve` as the authenticator.
//
//   fauxkey serve --allow-origin https://app.example --allow-key-export
//   FAUXKEY_URL=http://127.0.0.1:PORT FAUXKEY_TOKEN=TOKEN node passkey-login.mjs
//
// (the two lines `fauxkey serve` printed: the URL, and `token: TOKEN`). The page's origin must be
// allowed (`--allow-origin`): the server answers no other page.
//   CHROMIUM=/usr/bin/chromium (default) selects the browser binary.
//
// The page lives at https://app.example/ without any web server or certificate: Playwright's
// page.route() answers the request. Any real RP page works the same way: inject the shim with
// addInitScript before the page loads, then drive the page as usual.
import { chromium } from 'playwright-core';

const base = process.env.FAUXKEY_URL;
if (!base) throw new Error('set FAUXKEY_URL to the URL `fauxkey serve` printed');
// The test's own calls to the control plane carry the per-run token; the page never sees it.
const auth = { authorization: `Bearer ${process.env.FAUXKEY_TOKEN || ''}` };

// The page's own code: plain WebAuthn, nothing fauxkey-specific.
const PAGE = `<!doctype html><meta charset="utf-8"><title>app.example</title>
<script>
  const random = (n) => crypto.getRandomValues(new Uint8Array(n));
  window.registerPasskey = async (name) => {
    const cred = await navigator.credentials.create({ publicKey: {
      rp: { name: 'Example App' },
      user: { id: random(16), name, displayName: name },
      challenge: random(32),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      authenticatorSelection: { residentKey: 'required' },
    } });
    return { id: cred.id, alg: cred.response.getPublicKeyAlgorithm(), isPKC: cred instanceof PublicKeyCredential };
  };
  window.signIn = async () => {
    const cred = await navigator.credentials.get({ publicKey: { challenge: random(32) } });
    const clientData = JSON.parse(new TextDecoder().decode(cred.response.clientDataJSON));
    return { id: cred.id, userHandleBytes: cred.response.userHandle.byteLength, clientData };
  };
</script>`;

const shim = await (await fetch(`${base}/shim.js`)).text();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // The page is on a public origin and the server on loopback: Chromium asks for the
  // local-network-access permission before such a request; grant it up front.
  const context = await browser.newContext({ permissions: ['local-network-access'] });
  await context.addInitScript({ content: shim }); // before any page script, in every frame
  await context.route('https://app.example/**', (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));
  const page = await context.newPage();
  await page.goto('https://app.example/');

  const registered = await page.evaluate(() => window.registerPasskey('alice'));
  const signedIn = await page.evaluate(() => window.signIn());
  console.log('registered', registered);
  console.log('signed in ', signedIn);

  // What fauxkey now holds, from its control plane (WebDriver-style credential list).
  // (It includes private keys, so the server must run with --allow-key-export.)
  const stored = await (await fetch(`${base}/_fauxkey/authenticators/default/credentials`, { headers: auth })).json();
  const problems = [];
  if (!registered.isPKC || registered.alg !== -7) problems.push('create() did not return an ES256 PublicKeyCredential');
  if (signedIn.id !== registered.id) problems.push('sign-in used another credential');
  if (signedIn.clientData.origin !== 'https://app.example' || signedIn.clientData.type !== 'webauthn.get') problems.push('clientDataJSON is wrong');
  if (!stored.some((c) => c.credentialId === registered.id && c.rpId === 'app.example')) problems.push('fauxkey does not list the passkey');
  if (problems.length) throw new Error(problems.join('; '));
  console.log('ok: passkey registered and used on https://app.example through fauxkey');
} finally {
  await browser.close();
}
