// A small relying party of our own for the browser end-to-end test: a Node HTTP server that
// creates options and verifies responses with @simplewebauthn/server, and serves a login page
// (public/index.html) that uses the unmodified @simplewebauthn/browser bundle.
//
// startRp() binds 127.0.0.1 on a free port; the page is meant to be opened as
// http://localhost:PORT (a secure context whose RP ID is "localhost").
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const STATIC = {
  '/': ['public/index.html', 'text/html; charset=utf-8'],
  '/simplewebauthn-browser.js': ['node_modules/@simplewebauthn/browser/dist/bundle/index.umd.min.js', 'text/javascript'],
};

export async function startRp({ rpID = 'localhost' } = {}) {
  // Everything the RP knows, kept in memory: users with their credentials, and the challenge of
  // the ceremony in flight (one at a time is enough for a test).
  const state = { users: new Map(), pending: null, verified: [] };
  let origin = null; // set once the port is known

  const routes = {
    async 'POST /register/options'({ username, algorithms }) {
      const user = state.users.get(username) || { name: username, credentials: [] };
      state.users.set(username, user);
      const options = await generateRegistrationOptions({
        rpName: 'fauxkey demo RP',
        rpID,
        userName: username,
        userDisplayName: username,
        attestationType: 'none',
        excludeCredentials: user.credentials.map((c) => ({ id: c.id, transports: c.transports })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
        ...(algorithms ? { supportedAlgorithmIDs: algorithms } : {}),
      });
      user.webauthnUserID = options.user.id;
      state.pending = { kind: 'register', username, challenge: options.challenge };
      return options;
    },
    async 'POST /register/verify'(response) {
      const pending = take('register');
      const result = await verifyRegistrationResponse({
        response,
        expectedChallenge: pending.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        requireUserVerification: false,
      });
      if (!result.verified) throw new Error('registration not verified');
      const { credential, fmt, userVerified } = result.registrationInfo;
      const user = state.users.get(pending.username);
      user.credentials.push({ ...credential, alg: response.response.publicKeyAlgorithm });
      state.verified.push({ kind: 'register', username: pending.username, credentialId: credential.id });
      return { verified: true, username: pending.username, credentialId: credential.id, counter: credential.counter, fmt, userVerified };
    },
    async 'POST /login/options'() {
      // Discoverable login: no allow list, the authenticator picks the account.
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
      if (response.response.userHandle !== found.user.webauthnUserID) throw new Error('user handle does not match the account');
      const previous = found.credential.counter;
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: pending.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential: found.credential,
        requireUserVerification: false,
      });
      if (!result.verified) throw new Error('authentication not verified');
      found.credential.counter = result.authenticationInfo.newCounter;
      state.verified.push({ kind: 'login', username: found.user.name, credentialId: found.credential.id });
      return { verified: true, username: found.user.name, previousCounter: previous, newCounter: result.authenticationInfo.newCounter };
    },
  };

  function take(kind) {
    const pending = state.pending;
    state.pending = null;
    if (!pending || pending.kind !== kind) throw new Error(`no ${kind} ceremony in progress`);
    return pending;
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const send = (status, type, body) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    try {
      if (req.method === 'GET' && STATIC[url.pathname]) {
        const [file, type] = STATIC[url.pathname];
        return send(200, type, await readFile(here(file)));
      }
      const route = routes[`${req.method} ${url.pathname}`];
      if (!route) return send(404, 'text/plain', 'not found');
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const out = await route(raw ? JSON.parse(raw) : {});
      return send(200, 'application/json', JSON.stringify(out));
    } catch (err) {
      state.verified.push({ kind: 'error', path: url.pathname, message: err.message });
      return send(400, 'application/json', JSON.stringify({ error: err.message }));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  origin = `http://localhost:${port}`;
  return { origin, port, state, close: () => new Promise((resolve) => server.close(resolve)) };
}

// Standalone: `node rp-server.mjs` serves the demo RP until interrupted.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rp = await startRp();
  console.log(rp.origin);
}
