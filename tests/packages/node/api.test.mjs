// The fauxkey npm package's Node API, installed from its packed tarballs into a fresh directory,
// with @simplewebauthn/server as the relying party. Run by tests/packages_e2e.rs (`node --test`).
import { test, before, after } from 'node:test';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { FauxkeyServer, binaryPath } from 'fauxkey';

const rpID = 'shop.example';
const origin = 'https://shop.example';
let fauxkey;

before(async () => { fauxkey = await FauxkeyServer.start({ allowKeyExport: true }); });
after(async () => { await fauxkey.stop(); });

async function register(server, username = 'alice') {
  const options = await generateRegistrationOptions({
    rpName: 'Example Shop', rpID, userName: username, attestationType: 'none',
    authenticatorSelection: { residentKey: 'required' },
  });
  const response = await server.create(origin, options);
  const result = await verifyRegistrationResponse({ response, expectedChallenge: options.challenge, expectedOrigin: origin, expectedRPID: rpID });
  assert.equal(result.verified, true);
  return { credential: result.registrationInfo.credential, userId: options.user.id };
}

async function login(server, credential) {
  const options = await generateAuthenticationOptions({ rpID, allowCredentials: [{ id: credential.id }] });
  const response = await server.get(origin, options);
  return verifyAuthenticationResponse({ response, expectedChallenge: options.challenge, expectedOrigin: origin, expectedRPID: rpID, credential });
}

test('the platform package brought the binary, and it is the one run by default', () => {
  const shipped = createRequire(import.meta.url).resolve('@fauxkey/linux-x64/bin/fauxkey');
  assert.ok(statSync(shipped).mode & 0o111, 'the binary is executable');
  assert.equal(binaryPath(), process.env.FAUXKEY_BIN || shipped);
});

test('registration and two logins verify, and the counter rises', async () => {
  await fauxkey.reset();
  const { credential } = await register(fauxkey);
  for (let i = 0; i < 2; i++) {
    const result = await login(fauxkey, credential);
    assert.equal(result.verified, true);
    assert.ok(result.authenticationInfo.newCounter > credential.counter);
    credential.counter = result.authenticationInfo.newCounter;
  }
});

test('a fault is rejected by the RP', async () => {
  await fauxkey.reset();
  const { credential } = await register(fauxkey);
  await fauxkey.injectFault('wrong-challenge');
  await assert.rejects(login(fauxkey, credential), /challenge/i);
  assert.equal((await login(fauxkey, credential)).verified, true, 'the fault applied once');
});

test('a signal hides the passkey, and the refusal is a DOMException', async () => {
  await fauxkey.reset();
  const { credential } = await register(fauxkey);
  await fauxkey.signalUnknownCredential(origin, { rpId: rpID, credentialId: credential.id });
  const refused = await login(fauxkey, credential).catch((err) => err);
  assert.ok(refused instanceof DOMException, `got ${refused}`);
  assert.equal(refused.name, 'NotAllowedError');
  assert.ok((await fauxkey.events()).length > 0);
});

test('reset isolates tests: no passkey survives it', async () => {
  await register(fauxkey);
  assert.ok((await fauxkey.credentials()).length > 0);
  await fauxkey.reset();
  assert.deepEqual(await fauxkey.credentials(), []);
});

test('setUser: a user who refuses, then one who consents again', async () => {
  await fauxkey.reset();
  const { credential } = await register(fauxkey);
  await fauxkey.setUser({ presence: false });
  await assert.rejects(login(fauxkey, credential), (err) => err.name === 'NotAllowedError');
  await fauxkey.setUser({ presence: true });
  assert.equal((await login(fauxkey, credential)).verified, true);
});

test('capabilities are booleans', async () => {
  const caps = await fauxkey.capabilities();
  assert.ok(Object.keys(caps).length > 0);
  for (const v of Object.values(caps)) assert.equal(typeof v, 'boolean');
});

test("VirtualCredential export and import move a passkey to another server", async () => {
  await fauxkey.reset();
  const { credential } = await register(fauxkey);
  const exported = await fauxkey.exportCredentials();
  assert.equal(exported.length, 1);
  const [vc] = exported;
  assert.equal(vc.id, credential.id);
  assert.equal(vc.rpId, rpID);
  // The SPKI public key is the one the RP stored at registration (COSE there, SPKI here):
  // the second server's logins verify against the RP's stored credential.
  assert.match(vc.publicKey, /^[A-Za-z0-9_-]+$/);
  const other = await FauxkeyServer.start();
  try {
    await other.importCredentials(exported);
    assert.equal((await login(other, credential)).verified, true);
  } finally {
    await other.stop();
  }
});

test('conditional mediation: pending until the autofill pick, then verified; aborts reject', async () => {
  await fauxkey.reset();
  const { credential } = await register(fauxkey);
  const options = await generateAuthenticationOptions({ rpID });
  const pending = await fauxkey.getConditional(origin, options);
  assert.equal(await fauxkey.conditionalResult(pending), undefined);
  const [listed] = await fauxkey.conditionalRequests();
  assert.equal(listed.id, pending);
  assert.equal(listed.offers[0].credentialId, credential.id);
  await fauxkey.conditionalDismiss(pending);
  assert.equal(await fauxkey.conditionalResult(pending), undefined);
  const response = await fauxkey.conditionalPick(pending, { credentialId: credential.id });
  assert.deepEqual(await fauxkey.conditionalResult(pending), response);
  const result = await verifyAuthenticationResponse({ response, expectedChallenge: options.challenge, expectedOrigin: origin, expectedRPID: rpID, credential });
  assert.equal(result.verified, true);
  const aborted = await fauxkey.getConditional(origin, options);
  await fauxkey.conditionalAbort(aborted);
  const refused = await fauxkey.conditionalResult(aborted).catch((err) => err);
  assert.ok(refused instanceof DOMException && refused.name === 'AbortError', `got ${refused}`);
  const upgrade = await generateRegistrationOptions({ rpName: 'Example Shop', rpID, userName: 'carol' });
  assert.equal((await fauxkey.createConditional(origin, upgrade).catch((err) => err)).name, 'NotAllowedError');
  await fauxkey.passwordSignIn(rpID, 'carol');
  assert.equal((await fauxkey.createConditional(origin, upgrade)).type, 'public-key');
});
