// An RP's passkey tests with node:test: options and verification from @simplewebauthn/server,
// the browser and authenticator played by `fauxkey serve` over HTTP.
//
//   npm ci && FAUXKEY_BIN=path/to/fauxkey npm test
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { startFauxkey } from './fauxkey.mjs';

const rpID = 'shop.example';
const origin = 'https://shop.example';
let fauxkey;

before(async () => { fauxkey = await startFauxkey(); });
after(() => fauxkey.stop());
beforeEach(async () => { assert.equal((await fauxkey.reset()).status, 204); });

async function register(userName = 'alice') {
  const options = await generateRegistrationOptions({
    rpName: 'Example Shop', rpID, userName, authenticatorSelection: { residentKey: 'required' },
  });
  const res = await fauxkey.create(origin, options);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const result = await verifyRegistrationResponse({
    response: res.body, expectedChallenge: options.challenge, expectedOrigin: origin, expectedRPID: rpID,
  });
  assert.ok(result.verified);
  return { credential: result.registrationInfo.credential, userID: options.user.id };
}

async function login(credential) {
  const options = await generateAuthenticationOptions({ rpID, allowCredentials: [{ id: credential.id }] });
  const res = await fauxkey.get(origin, options);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return verifyAuthenticationResponse({
    response: res.body, expectedChallenge: options.challenge, expectedOrigin: origin, expectedRPID: rpID, credential,
    requireUserVerification: true,
  });
}

test('register, then log in twice with a rising counter', async () => {
  const { credential } = await register();
  const first = await login(credential);
  assert.ok(first.verified);
  credential.counter = first.authenticationInfo.newCounter;
  const second = await login(credential);
  assert.ok(second.verified);
  assert.ok(second.authenticationInfo.newCounter > first.authenticationInfo.newCounter);
});

test('a discoverable login names the user', async () => {
  const { credential, userID } = await register('bob');
  const options = await generateAuthenticationOptions({ rpID });
  const res = await fauxkey.get(origin, options);
  assert.equal(res.status, 200);
  assert.equal(res.body.id, credential.id);
  assert.equal(res.body.response.userHandle, userID);
});

// Every fault fauxkey can inject; the RP must refuse each.
const FAULTS = ['bad-signature', 'up-cleared', 'uv-cleared', 'counter-backwards', 'wrong-rp-id-hash',
  'bs-without-be', 'wrong-type', 'wrong-challenge', 'wrong-origin'];

for (const fault of FAULTS) {
  test(`the RP rejects a login with fault ${fault}`, async () => {
    const { credential } = await register();
    // One clean login first, so that the counter has something to go backwards from.
    credential.counter = (await login(credential)).authenticationInfo.newCounter;
    assert.equal((await fauxkey.injectFault(fault)).status, 204);
    // SimpleWebAuthn throws for most faults and answers `verified: false` for a bad signature.
    const verdict = await login(credential).then((r) => (r.verified ? 'verified' : 'not verified'), (e) => `threw ${e.message}`);
    assert.notEqual(verdict, 'verified');
    assert.ok((await login(credential)).verified, 'the fault should be used up');
  });
}

test('a foreign origin gets SecurityError', async () => {
  const options = await generateRegistrationOptions({ rpName: 'Example Shop', rpID, userName: 'eve' });
  const res = await fauxkey.create('https://evil.example', options);
  assert.equal(res.status, 403);
  assert.equal(res.body.name, 'SecurityError');
});

test('no passkey means NotAllowedError', async () => {
  const res = await fauxkey.get(origin, await generateAuthenticationOptions({ rpID }));
  assert.equal(res.status, 403);
  assert.equal(res.body.name, 'NotAllowedError');
});
