// The shim where the browser offers no WebAuthn at all (an insecure context, an old engine):
// it must bring its own navigator.credentials, PublicKeyCredential stand-ins and the
// parse*FromJSON polyfills. Runs the shim in Node with just the globals a page has, against a
// real `fauxkey serve`:
//
//   FAUXKEY_URL=http://127.0.0.1:PORT node --test shim-standalone.test.mjs
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { runInThisContext } from 'node:vm';

const base = process.env.FAUXKEY_URL;
const b64u = (buf) => Buffer.from(buf).toString('base64url');

before(async () => {
  assert.ok(base, 'set FAUXKEY_URL');
  // A page on https://app.example as the only top-level document, without navigator.credentials.
  Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  globalThis.location = { origin: 'https://app.example', ancestorOrigins: [] };
  globalThis.self = globalThis;
  globalThis.top = globalThis;
  globalThis.document = { referrer: '' };
  // No browser sends an Origin here: the harness speaks for the page with the server's token,
  // added to every call before the shim takes its reference to fetch.
  const plainFetch = globalThis.fetch;
  const auth = { authorization: `Bearer ${process.env.FAUXKEY_TOKEN || ''}` };
  globalThis.fetch = (url, init = {}) => plainFetch(url, { ...init, headers: { ...(init.headers || {}), ...auth } });
  runInThisContext(await (await fetch(`${base}/shim.js`)).text(), { filename: 'shim.js' });
  await fetch(`${base}/_fauxkey/reset`, { method: 'POST' });
});

test('stand-in classes exist and cannot be constructed', () => {
  assert.equal(typeof PublicKeyCredential, 'function');
  assert.throws(() => new PublicKeyCredential(), TypeError);
  assert.equal(typeof navigator.credentials.create, 'function');
});

test('parseCreationOptionsFromJSON decodes every byte member', () => {
  const parsed = PublicKeyCredential.parseCreationOptionsFromJSON({
    rp: { name: 'App' },
    user: { id: 'AQID', name: 'a', displayName: 'A' },
    challenge: 'BAUG',
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    excludeCredentials: [{ type: 'public-key', id: 'BwgJ' }],
    extensions: { prf: { eval: { first: 'CgsM' } } },
  });
  assert.deepEqual([...new Uint8Array(parsed.user.id)], [1, 2, 3]);
  assert.deepEqual([...new Uint8Array(parsed.challenge)], [4, 5, 6]);
  assert.deepEqual([...new Uint8Array(parsed.excludeCredentials[0].id)], [7, 8, 9]);
  assert.deepEqual([...new Uint8Array(parsed.extensions.prf.eval.first)], [10, 11, 12]);
});

test('parse*FromJSON: bad base64url is EncodingError, a missing member TypeError', () => {
  assert.throws(() => PublicKeyCredential.parseRequestOptionsFromJSON({ challenge: 'a+b/' }),
    (e) => e instanceof DOMException && e.name === 'EncodingError');
  assert.throws(() => PublicKeyCredential.parseRequestOptionsFromJSON({}), TypeError);
  assert.throws(() => PublicKeyCredential.parseCreationOptionsFromJSON({ challenge: 'AA' }), TypeError);
});

test('create() and get() through parsed JSON options give stand-in credentials', async () => {
  const creation = PublicKeyCredential.parseCreationOptionsFromJSON({
    rp: { name: 'App' },
    user: { id: 'AQID', name: 'a', displayName: 'A' },
    challenge: 'BAUGBwgJCgsM',
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    authenticatorSelection: { residentKey: 'required' },
  });
  const cred = await navigator.credentials.create({ publicKey: creation });
  assert.ok(cred instanceof PublicKeyCredential);
  assert.ok(cred.response instanceof AuthenticatorAttestationResponse);
  assert.equal(cred.id, b64u(cred.rawId));
  const clientData = JSON.parse(new TextDecoder().decode(cred.response.clientDataJSON));
  assert.equal(clientData.origin, 'https://app.example');
  assert.equal(clientData.challenge, 'BAUGBwgJCgsM');

  const request = PublicKeyCredential.parseRequestOptionsFromJSON({
    challenge: 'AAAA', allowCredentials: [{ type: 'public-key', id: cred.id }],
  });
  const assertion = await navigator.credentials.get({ publicKey: request });
  assert.ok(assertion.response instanceof AuthenticatorAssertionResponse);
  assert.equal(assertion.id, cred.id);
  assert.deepEqual([...new Uint8Array(assertion.response.userHandle)], [1, 2, 3]);
  assert.equal(assertion.toJSON().response.userHandle, 'AQID');
});

test('non-publicKey requests are NotSupportedError without a native implementation', async () => {
  await assert.rejects(navigator.credentials.get({ password: true }),
    (e) => e instanceof DOMException && e.name === 'NotSupportedError');
});

test('an unreachable server is NotAllowedError naming the URL', async () => {
  const saved = globalThis.fauxkey.baseUrl;
  globalThis.fauxkey.baseUrl = 'http://127.0.0.1:9';
  try {
    await assert.rejects(navigator.credentials.get({ publicKey: { challenge: new Uint8Array(16) } }),
      (e) => e.name === 'NotAllowedError' && e.message.includes('http://127.0.0.1:9'));
  } finally {
    globalThis.fauxkey.baseUrl = saved;
  }
});
