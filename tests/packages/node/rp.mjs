// A small relying party for the package tests: a Node HTTP server on 127.0.0.1 whose page is
// opened as http://localhost:PORT (a secure context, RP ID "localhost"). Options and verification
// by @simplewebauthn/server; the page uses the unmodified @simplewebauthn/browser bundle.
//
// `relayTo`: a FauxkeyServer whose shim requests the RP relays on the same-origin path
// /__fauxkey (for browsers driven over plain WebDriver, which has no page bindings); the page
// then loads the shim from /fauxkey-shim.js. Without it that script is empty (installPasskeys
// puts the shim in through the automation library).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';

const browserBundle = fileURLToPath(new URL('node_modules/@simplewebauthn/browser/dist/bundle/index.umd.min.js', import.meta.url));
const page = fileURLToPath(new URL('public/index.html', import.meta.url));

export async function startRp({ relayTo = null } = {}) {
  const rpID = 'localhost';
  const state = { users: new Map(), pending: null, verified: [], errors: [] };
  let origin = null;

  const take = (kind) => {
    const pending = state.pending;
    state.pending = null;
    if (!pending || pending.kind !== kind) throw new Error(`no ${kind} ceremony in progress`);
    return pending;
  };

  const routes = {
    async 'POST /register/options'({ username }) {
      const user = state.users.get(username) || { name: username, credentials: [] };
      state.users.set(username, user);
      const options = await generateRegistrationOptions({
        rpName: 'fauxkey package RP', rpID, userName: username, attestationType: 'none',
        excludeCredentials: user.credentials.map((c) => ({ id: c.id })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      });
      user.webauthnUserID = options.user.id;
      state.pending = { kind: 'register', username, challenge: options.challenge };
      return options;
    },
    async 'POST /register/verify'(response) {
      const pending = take('register');
      const result = await verifyRegistrationResponse({
        response, expectedChallenge: pending.challenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: false,
      });
      if (!result.verified) throw new Error('registration not verified');
      const { credential } = result.registrationInfo;
      state.users.get(pending.username).credentials.push(credential);
      state.verified.push({ kind: 'register', username: pending.username, credentialId: credential.id });
      return { username: pending.username, credentialId: credential.id, counter: credential.counter };
    },
    async 'POST /login/options'() {
      const options = await generateAuthenticationOptions({ rpID, userVerification: 'preferred' });
      state.pending = { kind: 'login', challenge: options.challenge };
      return options;
    },
    async 'POST /login/verify'(response) {
      const pending = take('login');
      const found = [...state.users.values()]
        .flatMap((u) => u.credentials.map((c) => ({ user: u, credential: c })))
        .find((x) => x.credential.id === response.id);
      if (!found) throw new Error(`unknown credential ${response.id}`);
      if (response.response.userHandle !== found.user.webauthnUserID) throw new Error('user handle does not match');
      const previous = found.credential.counter;
      const result = await verifyAuthenticationResponse({
        response, expectedChallenge: pending.challenge, expectedOrigin: origin, expectedRPID: rpID,
        credential: found.credential, requireUserVerification: false,
      });
      if (!result.verified) throw new Error('authentication not verified');
      found.credential.counter = result.authenticationInfo.newCounter;
      state.verified.push({ kind: 'login', username: found.user.name, credentialId: found.credential.id });
      return { username: found.user.name, previousCounter: previous, newCounter: found.credential.counter };
    },
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const send = (status, type, body) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    let raw = '';
    try {
      for await (const chunk of req) raw += chunk;
      if (req.method === 'GET' && url.pathname === '/') return send(200, 'text/html; charset=utf-8', await readFile(page));
      if (req.method === 'GET' && url.pathname === '/simplewebauthn-browser.js') return send(200, 'text/javascript', await readFile(browserBundle));
      if (req.method === 'GET' && url.pathname === '/fauxkey-shim.js') {
        if (!relayTo) return send(200, 'text/javascript', '');
        const preset = `globalThis.fauxkey = { baseUrl: location.origin + '/__fauxkey' };\n`;
        return send(200, 'text/javascript', preset + (await relayTo.shimSource()));
      }
      if (relayTo && url.pathname.startsWith('/__fauxkey/')) {
        const path = url.pathname.slice('/__fauxkey'.length) + url.search;
        const answer = await relayTo.relay({ method: req.method, path, body: raw ? JSON.parse(raw) : undefined });
        if (answer.status === 204) { res.writeHead(204); return res.end(); }
        return send(answer.status, 'application/json', JSON.stringify(answer.body));
      }
      const route = routes[`${req.method} ${url.pathname}`];
      if (!route) return send(404, 'text/plain', 'not found');
      return send(200, 'application/json', JSON.stringify(await route(raw ? JSON.parse(raw) : {})));
    } catch (err) {
      state.errors.push({ path: url.pathname, message: err.message });
      return send(400, 'application/json', JSON.stringify({ error: err.message }));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://localhost:${server.address().port}`;
  return { origin, state, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
}
