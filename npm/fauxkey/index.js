// fauxkey for Node: starts the `fauxkey serve` binary (from the platform package
// @fauxkey/<platform>-<arch>, or $FAUXKEY_BIN) on a free loopback port and speaks its HTTP API,
// sending the per-run token on every request.
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const require = createRequire(import.meta.url);

/** The `fauxkey` binary: $FAUXKEY_BIN, else the platform package's, else `fauxkey` on PATH. */
export function binaryPath() {
  if (process.env.FAUXKEY_BIN) return process.env.FAUXKEY_BIN;
  const exe = process.platform === 'win32' ? 'fauxkey.exe' : 'fauxkey';
  try {
    const pkg = require.resolve(`@fauxkey/${process.platform}-${process.arch}/package.json`);
    const candidate = join(pkg, '..', 'bin', exe);
    if (existsSync(candidate)) return candidate;
  } catch {
    // not installed for this platform: try PATH
  }
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    if (dir && existsSync(join(dir, exe))) return join(dir, exe);
  }
  throw new Error(`the fauxkey binary was not found: no @fauxkey/${process.platform}-${process.arch} package installed, no FAUXKEY_BIN, no fauxkey on PATH`);
}

/** A refused request: a DOMException named as a browser would name it, with the HTTP status. */
function errorFrom(status, body) {
  const name = body && typeof body.name === 'string' ? body.name : 'UnknownError';
  const message = body && typeof body.message === 'string' ? body.message : `fauxkey server answered HTTP ${status}`;
  const error = name === 'TypeError' ? new TypeError(message) : new DOMException(message, name);
  error.status = status;
  return error;
}

// The paths a page's shim may reach through a relay.
const RELAYED = /^\/webauthn\/(create|get|signal\/(unknown-credential|all-accepted|user-details)|capabilities(\?authenticatorId=[A-Za-z0-9_.~%-]*)?|conditional\/c[0-9]+(\/cancel|\?waitMs=[0-9]+)?)$/;

const b64url = {
  decode: (text) => Buffer.from(text, 'base64url'),
  encode: (bytes) => Buffer.from(bytes).toString('base64url'),
};

// An Ed25519 PKCS#8 v2 (RFC 5958 OneAsymmetricKey, public key included), as fauxkey exports it,
// rewritten as v1 (RFC 8410 §7: the 32-byte seed only), which every PKCS#8 reader takes; other
// keys unchanged.
const ED25519_V1_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
function pkcs8v1(pkcs8) {
  const der = b64url.decode(pkcs8);
  const v2 = Buffer.from('020101300506032b657004220420', 'hex');
  const at = der.indexOf(v2);
  if (at < 0 || at > 4) return pkcs8;
  const seed = der.subarray(at + v2.length, at + v2.length + 32);
  return b64url.encode(Buffer.concat([ED25519_V1_PREFIX, seed]));
}

/** SPKI (base64url) of a PKCS#8 private key (base64url). */
function spkiOf(pkcs8) {
  const key = createPrivateKey({ key: b64url.decode(pkcs8), format: 'der', type: 'pkcs8' });
  return b64url.encode(createPublicKey(key).export({ type: 'spki', format: 'der' }));
}

export class FauxkeyServer {
  /**
   * Starts `fauxkey serve` and waits until it listens.
   * @param {import('./index').StartOptions} [options]
   */
  static async start(options = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'fauxkey-'));
    const urlFile = join(dir, 'url');
    const tokenFile = join(dir, 'token');
    const args = ['serve', '--listen', '127.0.0.1:0', '--url-file', urlFile, '--token-file', tokenFile];
    if (options.profile != null) args.push('--profile', String(options.profile));
    if (options.seed != null) args.push('--seed', String(options.seed));
    if (options.vault != null) args.push('--vault', String(options.vault));
    if (options.allowKeyExport) args.push('--allow-key-export');
    for (const origin of options.allowOrigins || []) args.push('--allow-origin', origin);
    args.push(...(options.args || []));
    const child = spawn(options.binary || binaryPath(), args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: options.env || process.env,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    let exited = null;
    let spawnError = null;
    child.once('exit', (code, signal) => { exited = { code, signal }; });
    child.once('error', (err) => { spawnError = err; });
    const deadline = Date.now() + (options.startupTimeoutMs ?? 30_000);
    // The token file is written before the url file: once the url file exists, both are there.
    while (!existsSync(urlFile)) {
      if (spawnError || exited) {
        rmSync(dir, { recursive: true, force: true });
        const why = spawnError ? spawnError.message : `exited with ${exited.code ?? exited.signal}`;
        throw new Error(`fauxkey serve ${why}: ${stderr.trim()}`);
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`fauxkey serve did not listen in time: ${stderr.trim()}`);
      }
      await sleep(10);
    }
    // A server must not outlive the test process that started it.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    const url = readFileSync(urlFile, 'utf8').trim();
    const token = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : null;
    rmSync(dir, { recursive: true, force: true });
    return new FauxkeyServer(child, url, token, () => stderr);
  }

  constructor(child, url, token, stderr) {
    this.#child = child;
    this.url = url;
    this.#token = token;
    this.#stderr = stderr;
  }

  #child;
  #token;
  #stderr;

  /** What the server wrote to stderr so far. */
  get stderr() {
    return this.#stderr();
  }

  /** One call: `{status, body}` without throwing (what the page relay hands to the shim). */
  async fetchRaw(method, path, body) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    const res = await fetch(this.url + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { name: 'UnknownError', message: text };
      }
    }
    return { status: res.status, body: parsed };
  }

  /**
   * Relays one request of the browser shim (`{method, path, body}`) and resolves to the server's
   * `{status, body}`. Only the WebAuthn API is relayed: a page never reaches the control plane.
   * installPasskeys uses it behind a page binding; an RP test server can mount it on a
   * same-origin path for browsers driven without bindings (WebDriver).
   */
  async relay(request) {
    const { method, path, body } = request || {};
    if (typeof path !== 'string' || !RELAYED.test(path) || !['GET', 'POST'].includes(method)) {
      return { status: 403, body: { name: 'SecurityError', message: `fauxkey: a page may not call ${method} ${path}` } };
    }
    return this.fetchRaw(method, path, body);
  }

  /** One call: the parsed answer (undefined for 204), or a thrown DOMException. */
  async request(method, path, body) {
    const { status, body: answer } = await this.fetchRaw(method, path, body);
    if (status < 200 || status > 299) throw errorFrom(status, answer);
    return status === 204 ? undefined : answer;
  }

  #ceremony(kind, origin, options, extra = {}) {
    const body = { origin, options };
    if (extra.topOrigin != null) body.topOrigin = extra.topOrigin;
    if (extra.authenticatorId != null) body.authenticatorId = extra.authenticatorId;
    return this.request('POST', `/webauthn/${kind}`, body);
  }

  /** navigator.credentials.create(): creation options JSON in, RegistrationResponseJSON out. */
  create(origin, options, extra) { return this.#ceremony('create', origin, options, extra); }
  /** navigator.credentials.get(): request options JSON in, AuthenticationResponseJSON out. */
  get(origin, options, extra) { return this.#ceremony('get', origin, options, extra); }

  signalUnknownCredential(origin, options) {
    return this.request('POST', '/webauthn/signal/unknown-credential', { origin, options });
  }
  signalAllAcceptedCredentials(origin, options) {
    return this.request('POST', '/webauthn/signal/all-accepted', { origin, options });
  }
  signalCurrentUserDetails(origin, options) {
    return this.request('POST', '/webauthn/signal/user-details', { origin, options });
  }
  capabilities() { return this.request('GET', '/webauthn/capabilities'); }

  /** navigator.credentials.get({mediation: 'conditional'}): resolves to the pending request's id. */
  async getConditional(origin, options, extra = {}) {
    const body = { origin, options, mediation: 'conditional' };
    if (extra.authenticatorId != null) body.authenticatorId = extra.authenticatorId;
    return (await this.request('POST', '/webauthn/get', body)).pending;
  }
  /** What the page gets once the request has ended; undefined while still pending after `waitMs`. */
  conditionalResult(pendingId, waitMs = 0) {
    return this.request('POST', `/webauthn/conditional/${encodeURIComponent(pendingId)}?waitMs=${Number(waitMs) | 0}`, {});
  }
  /** The pending conditional requests, each with the passkeys the autofill UI offers. */
  conditionalRequests() { return this.request('GET', '/_fauxkey/conditional'); }
  /** The user picks offer `index` (from 0) or `{credentialId}`: resolves to what the page gets. */
  conditionalPick(pendingId, choice = 0) {
    const body = typeof choice === 'number' ? { index: choice } : { credentialId: choice.credentialId };
    return this.request('POST', `/_fauxkey/conditional/${encodeURIComponent(pendingId)}/pick`, body);
  }
  /** The user closes the autofill UI; the request stays pending. */
  conditionalDismiss(pendingId) { return this.request('POST', `/_fauxkey/conditional/${encodeURIComponent(pendingId)}/dismiss`); }
  /** As if the page's AbortSignal fired (AbortError). */
  conditionalAbort(pendingId) { return this.request('POST', `/_fauxkey/conditional/${encodeURIComponent(pendingId)}/abort`); }
  /** The request's time runs out now (NotAllowedError). */
  conditionalTimeout(pendingId) { return this.request('POST', `/_fauxkey/conditional/${encodeURIComponent(pendingId)}/timeout`); }
  /** Records a password sign-in, so one conditional create for that account upgrades it. */
  passwordSignIn(rpId, userName, authenticatorId = 'default') {
    return this.request('POST', `/_fauxkey/authenticators/${encodeURIComponent(authenticatorId)}/password-sign-in`, { rpId, userName });
  }
  /** navigator.credentials.create({mediation: 'conditional'}): the automatic passkey upgrade. */
  createConditional(origin, options, extra = {}) {
    const body = { origin, options, mediation: 'conditional' };
    if (extra.authenticatorId != null) body.authenticatorId = extra.authenticatorId;
    return this.request('POST', '/webauthn/create', body);
  }

  reset() { return this.request('POST', '/_fauxkey/reset'); }
  injectFault(name, responses = 1) {
    return this.request('POST', '/_fauxkey/faults', { fault: name, count: responses });
  }
  credentials(authenticatorId = 'default') {
    return this.request('GET', `/_fauxkey/authenticators/${encodeURIComponent(authenticatorId)}/credentials`);
  }
  events() { return this.request('GET', '/_fauxkey/events'); }
  setUser({ presence, verification } = {}, authenticatorId = 'default') {
    const body = {};
    if (presence !== undefined) body.isUserConsenting = presence;
    if (verification !== undefined) body.isUserVerified = verification;
    if (Object.keys(body).length === 0) return Promise.reject(new TypeError('setUser() needs presence, verification or both'));
    return this.request('POST', `/_fauxkey/authenticators/${encodeURIComponent(authenticatorId)}/uv`, body);
  }

  /** The credentials in Playwright's VirtualCredential shape (needs `allowKeyExport`). */
  async exportCredentials(authenticatorId = 'default') {
    const list = await this.credentials(authenticatorId);
    return list.map((c) => {
      if (!c.privateKey) throw new DOMException('the server did not export private keys; start it with allowKeyExport: true', 'NotAllowedError');
      const privateKey = pkcs8v1(c.privateKey);
      const out = { id: c.credentialId, rpId: c.rpId, privateKey, publicKey: spkiOf(privateKey) };
      if (c.userHandle) out.userHandle = c.userHandle;
      return out;
    });
  }

  /** Adds credentials in Playwright's VirtualCredential shape. */
  async importCredentials(credentials, authenticatorId = 'default') {
    for (const c of credentials) {
      const body = {
        credentialId: c.id,
        rpId: c.rpId,
        privateKey: c.privateKey,
        isResidentCredential: c.userHandle != null,
        signCount: c.signCount ?? 0,
      };
      if (c.userHandle != null) body.userHandle = c.userHandle;
      await this.request('POST', `/_fauxkey/authenticators/${encodeURIComponent(authenticatorId)}/credentials`, body);
    }
  }

  /** The browser shim's source, as this server serves it. */
  async shimSource() {
    const headers = this.#token ? { authorization: `Bearer ${this.#token}` } : {};
    const res = await fetch(`${this.url}/shim.js`, { headers });
    if (!res.ok) throw new Error(`GET /shim.js answered HTTP ${res.status}`);
    return res.text();
  }

  /** Stops the server: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000) {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  async [Symbol.asyncDispose]() {
    await this.stop();
  }
}
