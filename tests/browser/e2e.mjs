// The browser end-to-end test: headless Chromium or Firefox, fauxkey's shim injected into every
// page, the demo RP (SimpleWebAuthn on both ends) registering and signing in through
// `fauxkey serve`.
//
//   FAUXKEY_BIN=target/debug/fauxkey node tests/browser/e2e.mjs [chromium|firefox]
//
// It starts the demo RP (on two origins), then `fauxkey serve` the way a harness does
// (`--url-file`, `--token-file`), allowing only those origins. The browser defaults to chromium.
//
// Prints `PASS <check>` / `FAIL <check>: <why>` lines and a closing
// `e2e (<browser>): N passed, M failed`;
// exits 1 if any check failed. tests/browser_e2e.rs runs it.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRp } from './rp-server.mjs';
import { openPage } from './browsers.mjs';

const bin = process.env.FAUXKEY_BIN;
// Provider profiles (`fauxkey profiles`) to run the demo RP against, one authenticator each;
// tests/browser_e2e.rs passes every builtin profile.
const PROFILES = (process.env.FAUXKEY_PROFILES || 'fauxkey').split(',').filter(Boolean);
const WITHOUT_RK = new Set((process.env.FAUXKEY_PROFILES_WITHOUT_RK || '').split(',').filter(Boolean));
const kind = process.argv[2] || 'chromium';
if (!bin) {
  console.error('usage: FAUXKEY_BIN=path/to/fauxkey node e2e.mjs [chromium|firefox]');
  process.exit(2);
}

// Starts `fauxkey serve` as the access contract says a harness does: wait for the URL file
// (bounded), read the token file, send the token on every call of its own.
async function startServe(origins) {
  const dir = await mkdtemp(join(tmpdir(), 'fauxkey-e2e-'));
  const urlFile = join(dir, 'url');
  const tokenFile = join(dir, 'token');
  const args = ['serve', '--listen', '127.0.0.1:0', '--url-file', urlFile, '--token-file', tokenFile, '--allow-key-export'];
  for (const o of origins) args.push('--allow-origin', o);
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  let exited = false;
  child.once('exit', () => { exited = true; });
  for (let i = 0; i < 1500; i++) {
    try {
      const url = (await readFile(urlFile, 'utf8')).trim();
      const token = (await readFile(tokenFile, 'utf8')).trim();
      return { base: url, token, stderr: () => stderr, stop: async () => { child.kill('SIGTERM'); await rm(dir, { recursive: true, force: true }); } };
    } catch {
      if (exited) throw new Error(`fauxkey serve exited: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  child.kill();
  throw new Error(`fauxkey serve wrote no URL file: ${stderr}`);
}

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`PASS ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err && err.stack ? err.stack.split('\n').slice(0, 3).join(' | ') : err}`);
  }
}
function expect(cond, message) {
  if (!cond) throw new Error(message);
}

const rp = await startRp();
const rp2 = await startRp();
// A page on an origin the server was not told about: a hostile page in the user's browser.
const foreign = await startRp();
const serve = await startServe([rp.origin, rp2.origin, `http://127.0.0.1:${rp.port}`]);
process.on('exit', () => serve.stop());
const base = serve.base;
const auth = { authorization: `Bearer ${serve.token}` };
const json = { ...auth, 'content-type': 'application/json' };
const shimResponse = await fetch(`${base}/shim.js`);
const shim = await shimResponse.text();
const { page, close, plainPage } = await openPage(kind, shim);
// Page errors help when a check fails; failed loads are expected (error checks, favicon).
page.onConsole((type, text) => { if (type === 'error' && !text.startsWith('Failed to load resource')) console.log(`  [page console] ${text}`); });

// Drives the demo RP's form and returns the status line once the ceremony has finished.
async function act(button, username) {
  if (username !== undefined) await page.fill('#username', username);
  await page.evaluate(() => { document.getElementById('status').textContent = 'clicked'; });
  await page.click(`#${button}`);
  await page.waitFor(() => !['clicked', 'working'].includes(document.getElementById('status').textContent), 20000);
  return page.evaluate(() => document.getElementById('status').textContent);
}

try {
  await check('GET /shim.js serves the shim with the base URL baked in', async () => {
    expect(shimResponse.ok, `HTTP ${shimResponse.status}`);
    expect((shimResponse.headers.get('content-type') || '').includes('javascript'), `content-type ${shimResponse.headers.get('content-type')}`);
    expect(shim.includes(`'${base}'`), 'the base URL is not in the script');
  });

  await page.goto(`${rp.origin}/`);

  await check('the init script installed the shim in the page', async () => {
    const installed = await page.evaluate(() => window.fauxkey && window.fauxkey.shimInstalled === true && window.fauxkey.baseUrl);
    expect(installed === base, `window.fauxkey.baseUrl is ${installed}`);
  });

  const counters = [];
  await check('SimpleWebAuthn registration through the shim verifies on the RP server', async () => {
    const status = await act('register', 'alice');
    expect(/^registered alice counter=\d+$/.test(status), `status: ${status}`);
    const reg = rp.state.verified.filter((v) => v.kind === 'register' && v.username === 'alice');
    expect(reg.length === 1, `RP server recorded ${JSON.stringify(rp.state.verified)}`);
  });

  await check('SimpleWebAuthn discoverable login verifies on the RP server', async () => {
    const status = await act('login');
    const m = /^signed in as alice counter=(\d+)->(\d+)$/.exec(status);
    expect(m, `status: ${status}`);
    counters.push([Number(m[1]), Number(m[2])]);
  });

  await check('a second login verifies and its signature counter went up', async () => {
    const status = await act('login');
    const m = /^signed in as alice counter=(\d+)->(\d+)$/.exec(status);
    expect(m, `status: ${status}`);
    const [prev, next] = [Number(m[1]), Number(m[2])];
    expect(prev === counters[0][1], `the RP stored ${counters[0][1]} but the second login started from ${prev}`);
    expect(next > prev, `counter did not increase: ${prev} -> ${next}`);
    const logins = rp.state.verified.filter((v) => v.kind === 'login' && v.username === 'alice');
    expect(logins.length === 2, `RP server recorded ${logins.length} logins`);
    expect(!rp.state.verified.some((v) => v.kind === 'error'), `RP server errors: ${JSON.stringify(rp.state.verified)}`);
  });

  await check('registering alice again: excludeCredentials -> InvalidStateError, as SimpleWebAuthn reports it', async () => {
    const status = await act('register', 'alice');
    expect(/^error /.test(status) && /ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED|InvalidStateError/.test(status), `status: ${status}`);
    const regs = rp.state.verified.filter((v) => v.kind === 'register' && v.username === 'alice');
    expect(regs.length === 1, `the RP verified ${regs.length} registrations for alice`);
  });

  // The same unmodified front end against an authenticator of every provider profile.
  for (const profile of PROFILES) {
    const what = WITHOUT_RK.has(profile)
      ? 'a residentKey "required" registration is refused (the key stores no discoverable credential)'
      : 'SimpleWebAuthn registration and login verify';
    await check(`profile ${profile}: ${what}`, async () => {
      const added = await fetch(`${base}/_fauxkey/authenticators`, {
        method: 'POST', headers: json, body: JSON.stringify({ profile }),
      });
      const body = await added.text();
      expect(added.status === 201, `POST /_fauxkey/authenticators {profile: ${profile}}: HTTP ${added.status} ${body}`);
      const { authenticatorId } = JSON.parse(body);
      await page.evaluate((id) => { window.fauxkey.authenticatorId = id; }, authenticatorId);
      try {
        const registered = await act('register', `user-${profile}`);
        if (WITHOUT_RK.has(profile)) {
          // The demo RP requires a discoverable credential; this key cannot store one.
          expect(/^error /.test(registered) && /NotAllowedError/.test(registered) && /discoverable/.test(registered),
            `register on a key without resident keys: ${registered}`);
          return;
        }
        expect(registered.startsWith(`registered user-${profile} `), `register: ${registered}`);
        const signedIn = await act('login');
        expect(signedIn.startsWith(`signed in as user-${profile} `), `login: ${signedIn}`);
      } finally {
        await page.evaluate(() => { window.fauxkey.authenticatorId = null; });
      }
    });
  }

  // Import/export (issue 19): a passkey registered with fauxkey, exported in the WebDriver
  // shape, is accepted by Chromium's own virtual authenticator (CDP WebAuthn.addCredential, in a
  // context without the shim) and signs in to the RP that registered it. Chromium only: the CDP
  // WebAuthn domain is Chromium's.
  if (plainPage) {
    await check('a WebDriver-shape export is accepted by CDP WebAuthn.addCredential and signs in', async () => {
      const added = await fetch(`${base}/_fauxkey/authenticators`, { method: 'POST', headers: json, body: JSON.stringify({ profile: 'fauxkey' }) });
      const { authenticatorId } = await added.json();
      await page.evaluate((id) => { window.fauxkey.authenticatorId = id; }, authenticatorId);
      try {
        // ES256: Chromium's addCredential takes P-256 keys only (the demo page's own button
        // lets SimpleWebAuthn offer EdDSA first).
        const registered = await page.evaluate(async () => {
          const optionsJSON = await post('/register/options', { username: 'dora', algorithms: [-7] });
          const response = await SimpleWebAuthnBrowser.startRegistration({ optionsJSON });
          const result = await post('/register/verify', response);
          return `registered ${result.username}`;
        });
        expect(registered === 'registered dora', `register: ${registered}`);
      } finally {
        await page.evaluate(() => { window.fauxkey.authenticatorId = null; });
      }
      const exported = await fetch(`${base}/_fauxkey/authenticators/${authenticatorId}/export?format=webdriver&rpId=localhost`, { headers: auth });
      const body = await exported.json();
      expect(exported.status === 200 && body.count === 1, `export: HTTP ${exported.status} ${JSON.stringify(body)}`);
      const [c] = JSON.parse(body.file);
      // CDP's binary members are standard base64, the WebDriver shape's base64url.
      const std = (s) => Buffer.from(s, 'base64url').toString('base64');
      const plain = await plainPage();
      try {
        await plain.cdp.send('WebAuthn.enable');
        const { authenticatorId: vid } = await plain.cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
          protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true,
          automaticPresenceSimulation: true,
        } });
        await plain.cdp.send('WebAuthn.addCredential', { authenticatorId: vid, credential: {
          credentialId: std(c.credentialId), isResidentCredential: c.isResidentCredential, rpId: c.rpId,
          privateKey: std(c.privateKey), userHandle: std(c.userHandle), signCount: c.signCount,
          backupEligibility: c.backupEligibility, backupState: c.backupState,
          userName: c.userName, userDisplayName: c.userDisplayName,
        } });
        const { credentials } = await plain.cdp.send('WebAuthn.getCredentials', { authenticatorId: vid });
        expect(credentials.length === 1 && credentials[0].credentialId === std(c.credentialId), `getCredentials: ${JSON.stringify(credentials.map((x) => x.credentialId))}`);
        await plain.page.goto(`${rp.origin}/`);
        const shimmed = await plain.page.evaluate(() => Boolean(window.fauxkey));
        expect(!shimmed, 'the plain context has the shim');
        await plain.page.evaluate(() => { document.getElementById('status').textContent = 'clicked'; });
        await plain.page.click('#login');
        await plain.page.waitForFunction(() => !['clicked', 'working'].includes(document.getElementById('status').textContent), null, { timeout: 20000 });
        const status = await plain.page.evaluate(() => document.getElementById('status').textContent);
        expect(status.startsWith('signed in as dora '), `Chromium's login: ${status}`);
      } finally {
        await plain.close();
      }
    });
  }

  // The shim's objects, looked at directly from page script, as an RP front end would.
  const shape = await page.evaluate(async () => {
    const b64u = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const challenge = crypto.getRandomValues(new Uint8Array(32));
    const userId = crypto.getRandomValues(new Uint8Array(16));
    const cred = await navigator.credentials.create({ publicKey: {
      rp: { name: 'shape test' },
      user: { id: userId, name: 'carol', displayName: 'Carol' },
      challenge,
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      authenticatorSelection: { residentKey: 'required' },
      extensions: { credProps: true, prf: {} },
    } });
    const r = cred.response;
    const clientData = JSON.parse(new TextDecoder().decode(r.clientDataJSON));
    const json = JSON.parse(JSON.stringify(cred));
    const salt = new TextEncoder().encode('fauxkey e2e salt');
    const getPrf = () => navigator.credentials.get({ publicKey: {
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      allowCredentials: [{ type: 'public-key', id: cred.rawId }],
      extensions: { prf: { eval: { first: salt } } },
    } });
    const a1 = await getPrf();
    const a2 = await getPrf();
    const prf1 = a1.getClientExtensionResults().prf;
    const prf2 = a2.getClientExtensionResults().prf;
    return {
      isPKC: cred instanceof PublicKeyCredential,
      tag: Object.prototype.toString.call(cred),
      isAttestation: r instanceof AuthenticatorAttestationResponse,
      isResponse: r instanceof AuthenticatorResponse,
      rawIdIsBuffer: cred.rawId instanceof ArrayBuffer,
      idMatches: cred.id === b64u(cred.rawId),
      type: cred.type,
      attachment: cred.authenticatorAttachment,
      alg: r.getPublicKeyAlgorithm(),
      publicKeyLength: r.getPublicKey() && r.getPublicKey().byteLength,
      transportsIsArray: Array.isArray(r.getTransports()),
      authDataLength: r.getAuthenticatorData().byteLength,
      attObjIsBuffer: r.attestationObject instanceof ArrayBuffer,
      clientData,
      challenge: b64u(challenge),
      origin: location.origin,
      jsonId: json.id,
      jsonRawId: json.rawId,
      jsonAttObj: typeof json.response.attestationObject,
      credProps: cred.getClientExtensionResults().credProps,
      prfEnabled: cred.getClientExtensionResults().prf && cred.getClientExtensionResults().prf.enabled,
      isAssertion: a1.response instanceof AuthenticatorAssertionResponse,
      assertionIsPKC: a1 instanceof PublicKeyCredential,
      userHandle: a1.response.userHandle && b64u(a1.response.userHandle),
      userId: b64u(userId),
      sigIsBuffer: a1.response.signature instanceof ArrayBuffer,
      prfIsBuffer: prf1 && prf1.results && prf1.results.first instanceof ArrayBuffer,
      prfLength: prf1 && prf1.results && prf1.results.first.byteLength,
      prfStable: prf1 && prf2 && b64u(prf1.results.first) === b64u(prf2.results.first),
      prfJson: typeof JSON.parse(JSON.stringify(a1)).clientExtensionResults.prf.results.first,
    };
  });

  await check('create() returns a PublicKeyCredential with an AuthenticatorAttestationResponse', async () => {
    expect(shape.isPKC && shape.isAttestation && shape.isResponse, JSON.stringify(shape));
    expect(shape.tag === '[object PublicKeyCredential]', shape.tag);
    expect(shape.type === 'public-key' && shape.rawIdIsBuffer && shape.idMatches && shape.attObjIsBuffer, JSON.stringify(shape));
    expect(shape.attachment === 'platform' || shape.attachment === 'cross-platform', `attachment ${shape.attachment}`);
  });
  await check('getPublicKey / getPublicKeyAlgorithm / getTransports / getAuthenticatorData', async () => {
    expect(shape.alg === -7, `alg ${shape.alg}`);
    expect(shape.publicKeyLength === 91, `P-256 SubjectPublicKeyInfo should be 91 bytes, got ${shape.publicKeyLength}`);
    expect(shape.transportsIsArray, 'getTransports() is not an array');
    expect(shape.authDataLength > 37, `authenticatorData of ${shape.authDataLength} bytes has no attested credential`);
  });
  await check('clientDataJSON carries the page origin and the challenge', async () => {
    const cd = shape.clientData;
    expect(cd.type === 'webauthn.create' && cd.origin === shape.origin && cd.challenge === shape.challenge, JSON.stringify(cd));
  });
  await check('toJSON() gives the L3 JSON form', async () => {
    expect(shape.jsonId === shape.jsonRawId && shape.jsonAttObj === 'string', JSON.stringify(shape));
  });
  await check('getClientExtensionResults(): credProps and prf (ArrayBuffers, stable per salt)', async () => {
    expect(shape.credProps && shape.credProps.rk === true, `credProps ${JSON.stringify(shape.credProps)}`);
    expect(shape.prfEnabled === true, `prf.enabled ${shape.prfEnabled}`);
    expect(shape.prfIsBuffer && shape.prfLength === 32 && shape.prfStable, JSON.stringify(shape));
    expect(shape.prfJson === 'string', `toJSON prf result is ${shape.prfJson}`);
  });
  await check('get() returns a PublicKeyCredential with an AuthenticatorAssertionResponse', async () => {
    expect(shape.assertionIsPKC && shape.isAssertion && shape.sigIsBuffer, JSON.stringify(shape));
    expect(shape.userHandle === shape.userId, `userHandle ${shape.userHandle} != ${shape.userId}`);
  });

  const statics = await page.evaluate(async () => ({
    caps: await PublicKeyCredential.getClientCapabilities(),
    uvpa: await PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable(),
    cma: await PublicKeyCredential.isConditionalMediationAvailable(),
  }));
  await check('getClientCapabilities and the two availability checks come from the server', async () => {
    const capsFromServer = await (await fetch(`${base}/webauthn/capabilities`, { headers: auth })).json();
    expect(JSON.stringify(statics.caps) === JSON.stringify(capsFromServer), `${JSON.stringify(statics.caps)} vs ${JSON.stringify(capsFromServer)}`);
    expect(statics.uvpa === capsFromServer.userVerifyingPlatformAuthenticator, `uvpa ${statics.uvpa}`);
    expect(statics.cma === (capsFromServer.conditionalGet === true), `cma ${statics.cma}`);
  });

  const errors = await page.evaluate(async () => {
    const outcome = async (p) => {
      try { await p; return 'resolved'; } catch (e) { return `${e instanceof DOMException ? 'DOMException' : e.constructor.name}:${e.name}`; }
    };
    const challenge = new Uint8Array(32);
    const aborted = new AbortController();
    aborted.abort();
    const creds = await navigator.credentials.get({ publicKey: { challenge, rpId: 'localhost' } });
    const id = creds.rawId;
    return {
      wrongRpId: await outcome(navigator.credentials.get({ publicKey: { challenge, rpId: 'example.com' } })),
      unknownCred: await outcome(navigator.credentials.get({ publicKey: { challenge, allowCredentials: [{ type: 'public-key', id: new Uint8Array(32) }] } })),
      aborted: await outcome(navigator.credentials.create({ signal: aborted.signal, publicKey: {} })),
      signal: await outcome(PublicKeyCredential.signalUnknownCredential({ rpId: 'localhost', credentialId: creds.id })),
      afterSignal: await outcome(navigator.credentials.get({ publicKey: { challenge, allowCredentials: [{ type: 'public-key', id }] } })),
      badSignal: await outcome(PublicKeyCredential.signalUnknownCredential({ rpId: 'localhost', credentialId: '***' })),
      jsonNotBuffers: await outcome(navigator.credentials.get({ publicKey: { challenge: 'AAAAAAAAAAAAAAAAAAAAAA' } })),
    };
  });
  await check('server errors become DOMExceptions: wrong rpId -> SecurityError', async () => {
    expect(errors.wrongRpId === 'DOMException:SecurityError', errors.wrongRpId);
  });
  await check('no matching credential -> NotAllowedError', async () => {
    expect(errors.unknownCred === 'DOMException:NotAllowedError', errors.unknownCred);
  });
  await check('an aborted signal -> AbortError', async () => {
    expect(errors.aborted === 'DOMException:AbortError', errors.aborted);
  });
  // Conditional mediation (issue 19): the page's autofill request stays pending until the test,
  // as the user at the autofill UI, picks a passkey, dismisses the UI, or lets it time out.
  // Every outcome is asserted from the page.
  const conditionalList = async () => (await (await fetch(`${base}/_fauxkey/conditional`, { headers: auth })).json());
  // Waits (bounded) until the server holds `n` pending conditional requests.
  const pendingCount = async (n) => {
    for (let i = 0; i < 400; i++) {
      const list = await conditionalList();
      if (list.length === n) return list;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`the server never held ${n} pending conditional request(s): ${JSON.stringify(await conditionalList())}`);
  };
  const control = (id, action, body) => fetch(`${base}/_fauxkey/conditional/${id}/${action}`, { method: 'POST', headers: json, body: JSON.stringify(body || {}) });
  // Starts a conditional get in the page; its outcome lands in window.__conditional.
  const startConditional = () => page.evaluate(() => {
    window.__conditional = { state: 'pending' };
    window.__conditionalAbort = new AbortController();
    navigator.credentials.get({ mediation: 'conditional', signal: window.__conditionalAbort.signal, publicKey: { challenge: new Uint8Array(32), rpId: 'localhost' } })
      .then((c) => { window.__conditional = { state: 'resolved', isPKC: c instanceof PublicKeyCredential, id: c.id, userHandle: c.response.userHandle !== null }; },
        (e) => { window.__conditional = { state: 'rejected', name: e.name, isDOMException: e instanceof DOMException }; });
  });
  const settled = async () => {
    await page.waitFor(() => window.__conditional.state !== 'pending', 20000);
    return page.evaluate(() => window.__conditional);
  };
  const keyAuthenticator = await (await fetch(`${base}/_fauxkey/authenticators`, { method: 'POST', headers: json, body: JSON.stringify({ profile: 'yubikey-5' }) })).json();

  await check('isConditionalMediationAvailable() follows the profile: true for a passkey provider, false for a security key', async () => {
    const r = await page.evaluate(async (key) => {
      const provider = await PublicKeyCredential.isConditionalMediationAvailable();
      window.fauxkey.authenticatorId = key;
      try {
        return { provider, key: await PublicKeyCredential.isConditionalMediationAvailable(), caps: await PublicKeyCredential.getClientCapabilities() };
      } finally {
        window.fauxkey.authenticatorId = null;
      }
    }, keyAuthenticator.authenticatorId);
    expect(r.provider === true && r.key === false && r.caps.conditionalGet === false && r.caps.conditionalCreate === false, JSON.stringify(r));
  });

  await check('conditional mediation on a security-key profile -> TypeError', async () => {
    const r = await page.evaluate(async (key) => {
      window.fauxkey.authenticatorId = key;
      try {
        await navigator.credentials.get({ mediation: 'conditional', publicKey: { challenge: new Uint8Array(32) } });
        return 'resolved';
      } catch (e) {
        return `${e.constructor.name}:${e.name}`;
      } finally {
        window.fauxkey.authenticatorId = null;
      }
    }, keyAuthenticator.authenticatorId);
    expect(r === 'TypeError:TypeError', r);
  });

  await check('conditional get: pending, still pending after a dismiss, then the picked passkey signs in', async () => {
    await startConditional();
    const [pending] = await pendingCount(1);
    expect(pending.rpId === 'localhost' && pending.origin === rp.origin && pending.offers.length > 0, JSON.stringify(pending));
    const before = await page.evaluate(() => window.__conditional.state);
    expect(before === 'pending', `before any choice the page saw ${before}`);
    const dismissed = await control(pending.id, 'dismiss');
    expect(dismissed.status === 204, `dismiss: HTTP ${dismissed.status}`);
    const [still] = await pendingCount(1);
    expect(still.id === pending.id && still.dismissed === 1, JSON.stringify(still));
    const afterDismiss = await page.evaluate(() => window.__conditional.state);
    expect(afterDismiss === 'pending', `after a dismiss the page saw ${afterDismiss}`);
    const picked = await control(pending.id, 'pick', { index: 0 });
    expect(picked.status === 200, `pick: HTTP ${picked.status} ${await picked.text()}`);
    const r = await settled();
    expect(r.state === 'resolved' && r.isPKC && r.userHandle && r.id === pending.offers[0].credentialId, JSON.stringify(r));
    await pendingCount(0);
  });

  await check('conditional get: the autofill times out -> NotAllowedError in the page', async () => {
    await startConditional();
    const [pending] = await pendingCount(1);
    const timedOut = await control(pending.id, 'timeout');
    expect(timedOut.status === 204, `timeout: HTTP ${timedOut.status}`);
    const r = await settled();
    expect(r.state === 'rejected' && r.name === 'NotAllowedError' && r.isDOMException, JSON.stringify(r));
  });

  await check('conditional get: the page aborts -> AbortError, and the server forgets the request', async () => {
    await startConditional();
    await pendingCount(1);
    await page.evaluate(() => window.__conditionalAbort.abort());
    const r = await settled();
    expect(r.state === 'rejected' && r.name === 'AbortError', JSON.stringify(r));
    await pendingCount(0);
  });
  await check('signalUnknownCredential hides the credential from later get()', async () => {
    expect(errors.signal === 'resolved', errors.signal);
    expect(errors.afterSignal === 'DOMException:NotAllowedError', errors.afterSignal);
  });
  await check('a malformed signal -> TypeError', async () => {
    expect(errors.badSignal === 'TypeError:TypeError', errors.badSignal);
  });

  await check('signalCurrentUserDetails and signalAllAcceptedCredentials reach the authenticator', async () => {
    const made = await page.evaluate(async () => {
      const b64u = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      const userId = crypto.getRandomValues(new Uint8Array(16));
      const cred = await navigator.credentials.create({ publicKey: {
        rp: { name: 'signals' }, user: { id: userId, name: 'erin', displayName: 'Erin' },
        challenge: new Uint8Array(32), pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
        authenticatorSelection: { residentKey: 'required' },
      } });
      const ids = { userId: b64u(userId), id: cred.id };
      await PublicKeyCredential.signalCurrentUserDetails({ rpId: 'localhost', userId: ids.userId, name: 'erin2', displayName: 'Erin Two' });
      await PublicKeyCredential.signalAllAcceptedCredentials({ rpId: 'localhost', userId: ids.userId, allAcceptedCredentialIds: [] });
      return ids;
    });
    const events = await (await fetch(`${base}/_fauxkey/events`, { headers: auth })).json();
    const changes = (signal) => events.filter((e) => e.signal === signal && e.userId === made.userId).flatMap((e) => e.changes);
    const renamed = changes('currentUserDetails').find((c) => c.credentialId === made.id);
    const hidden = changes('allAcceptedCredentials').find((c) => c.credentialId === made.id);
    expect(renamed && renamed.change === 'renamed' && renamed.name === 'erin2' && renamed.displayName === 'Erin Two', JSON.stringify(events));
    expect(hidden && hidden.change === 'hidden', JSON.stringify(events));
  });

  await check('L3 JSON strings where BufferSources belong -> TypeError, as WebIDL gives', async () => {
    expect(errors.jsonNotBuffers === 'TypeError:TypeError', errors.jsonNotBuffers);
  });

  await check('window.fauxkey.authenticatorId routes ceremonies to an added authenticator', async () => {
    const added = await fetch(`${base}/_fauxkey/authenticators`, {
      method: 'POST', headers: json, body: JSON.stringify({ hasUserVerification: false }),
    });
    expect(added.status === 201, `POST /_fauxkey/authenticators: HTTP ${added.status}`);
    const { authenticatorId } = await added.json();
    const id = await page.evaluate(async (authenticatorId) => {
      window.fauxkey.authenticatorId = authenticatorId;
      try {
        const cred = await navigator.credentials.create({ publicKey: {
          rp: { name: 'routing' }, user: { id: new Uint8Array([9]), name: 'dave', displayName: 'Dave' },
          challenge: new Uint8Array(32), pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
        } });
        return cred.id;
      } finally {
        window.fauxkey.authenticatorId = null;
      }
    }, authenticatorId);
    const list = async (a) => (await (await fetch(`${base}/_fauxkey/authenticators/${a}/credentials`, { headers: auth })).json()).map((c) => c.credentialId);
    expect((await list(authenticatorId)).includes(id), 'the added authenticator does not hold the new credential');
    expect(!(await list('default')).includes(id), 'the default authenticator holds it');
  });

  await check('a user who never answers: abort mid-ceremony -> AbortError at once; else NotAllowedError at the timeout', async () => {
    const added = await fetch(`${base}/_fauxkey/authenticators`, {
      method: 'POST', headers: json, body: JSON.stringify({ isUserResponding: false }),
    });
    expect(added.status === 201, `POST /_fauxkey/authenticators: HTTP ${added.status}`);
    const { authenticatorId } = await added.json();
    const r = await page.evaluate(async (authenticatorId) => {
      window.fauxkey.authenticatorId = authenticatorId;
      const timed = async (p) => {
        const t0 = performance.now();
        try { await p; return { result: 'resolved' }; } catch (e) { return { result: e.name, ms: performance.now() - t0 }; }
      };
      try {
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 300);
        const aborted = await timed(navigator.credentials.get({ signal: controller.signal, publicKey: { challenge: new Uint8Array(32), timeout: 60000 } }));
        const timedOut = await timed(navigator.credentials.get({ publicKey: { challenge: new Uint8Array(32), timeout: 1000 } }));
        return { aborted, timedOut };
      } finally {
        window.fauxkey.authenticatorId = null;
      }
    }, authenticatorId);
    expect(r.aborted.result === 'AbortError' && r.aborted.ms < 5000, `abort: ${JSON.stringify(r.aborted)}`);
    expect(r.timedOut.result === 'NotAllowedError' && r.timedOut.ms >= 900, `timeout: ${JSON.stringify(r.timedOut)}`);
  });

  // A cross-origin iframe (another port of localhost) signing in for the top page's RP ID: the
  // shim sends topOrigin, so clientDataJSON says crossOrigin; without the permissions policy
  // `allow` attribute the frame is refused, as Chromium refuses it.
  try {
    await page.evaluate(async (src) => {
      const load = (allow) => new Promise((resolve) => {
        const f = document.createElement('iframe');
        if (allow) f.allow = allow;
        f.src = src;
        f.onload = () => resolve();
        document.body.appendChild(f);
      });
      await load('publickey-credentials-get');
      await load(null);
    }, `${rp2.origin}/`);
    const [allowed, denied] = page.frames().filter((f) => f.url().startsWith(rp2.origin));
    const inFrame = (frame) => frame.evaluate(async () => {
      try {
        const cred = await navigator.credentials.get({ publicKey: { challenge: new Uint8Array(32), rpId: 'localhost' } });
        return JSON.parse(new TextDecoder().decode(cred.response.clientDataJSON));
      } catch (e) {
        return { error: e.name };
      }
    });
    const allowedData = await inFrame(allowed);
    const deniedData = await inFrame(denied);
    await check('a cross-origin iframe with allow= gets clientDataJSON with crossOrigin and topOrigin', async () => {
      expect(allowedData.crossOrigin === true && allowedData.topOrigin === rp.origin && allowedData.origin === rp2.origin,
        JSON.stringify(allowedData));
    });
    await check('a cross-origin iframe without allow= gets NotAllowedError', async () => {
      expect(deniedData.error === 'NotAllowedError', JSON.stringify(deniedData));
    });
  } finally {
    await rp2.close();
  }

  // The same RP page opened on an IP-address origin: no valid RP ID, as in a real browser.
  await check('the RP page on http://127.0.0.1 gets SecurityError from registration', async () => {
    await page.goto(`http://127.0.0.1:${rp.port}/`);
    const status = await act('register', 'mallory');
    expect(/^error /.test(status) && /SecurityError|ERROR_INVALID_DOMAIN/.test(status), `status: ${status}`);
    expect(!rp.state.verified.some((v) => v.kind === 'register' && v.username === 'mallory'), 'the RP verified a registration it should never have seen');
  });

  // A hostile page on a foreign origin, in the same browser, tries what issue 13 did: ask for
  // an assertion for the RP's origin and read the private keys. It gets neither.
  await check('a page on a foreign origin gets neither an assertion nor a key', async () => {
    await page.goto(`${foreign.origin}/`);
    const got = await page.evaluate(async ({ base, victim }) => {
      const attempt = async (fn) => { try { const r = await fn(); return `answered ${r.status}: ${(await r.text()).slice(0, 200)}`; } catch (e) { return `refused: ${e.name}`; } };
      const assertion = await attempt(() => fetch(`${base}/webauthn/get`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ origin: victim, options: { challenge: 'Y2hhbGxlbmdl', rpId: 'localhost' } }),
      }));
      const keys = await attempt(() => fetch(`${base}/_fauxkey/authenticators/default/credentials`));
      // A "simple" cross-origin POST (text/plain, no preflight): the answer is opaque anyway,
      // and the server refuses it before it looks at the body.
      const simple = await attempt(() => fetch(`${base}/webauthn/get`, {
        method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ origin: victim, options: { challenge: 'Y2hhbGxlbmdl', rpId: 'localhost' } }),
      }));
      // Through the shim, as the page's own WebAuthn call.
      let viaShim;
      try {
        const cred = await navigator.credentials.get({ publicKey: { challenge: new Uint8Array(32), rpId: 'localhost' } });
        viaShim = `credential ${cred && cred.id}`;
      } catch (e) { viaShim = `refused: ${e.name}`; }
      return { assertion, keys, simple, viaShim };
    }, { base, victim: rp.origin });
    expect(got.assertion.startsWith('refused'), `assertion fetch: ${got.assertion}`);
    expect(got.keys.startsWith('refused'), `credentials fetch: ${got.keys}`);
    expect(!/privateKey|authenticatorData|signature/.test(JSON.stringify(got)), JSON.stringify(got));
    expect(got.viaShim.startsWith('refused'), `navigator.credentials.get: ${got.viaShim}`);
    // Nothing was asked of the authenticator: no new event, the harness's view unchanged.
    const r = await fetch(`${base}/_fauxkey/authenticators/default/credentials`, { headers: auth });
    expect(r.status === 200, `the harness, with the token, still reads the credentials: HTTP ${r.status}`);
  });
} finally {
  await close();
  await rp.close();
  await foreign.close();
  await serve.stop();
}

console.log(`e2e (${kind}): ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
