// A small client for `fauxkey serve`: the server at $FAUXKEY_URL, or a fresh
// `fauxkey serve --ephemeral` started from $FAUXKEY_BIN (default `fauxkey` on PATH).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export async function startFauxkey() {
  let child = null;
  let base = process.env.FAUXKEY_URL;
  if (!base) {
    child = spawn(process.env.FAUXKEY_BIN || 'fauxkey', ['serve', '--ephemeral'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const failed = new Promise((_, reject) => child.once('error', reject));
    // The first line of stdout is the base URL.
    const firstLine = new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    base = await Promise.race([firstLine, failed]);
  }
  const call = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };
  return {
    base,
    create: (origin, options) => call('POST', '/webauthn/create', { origin, options }),
    get: (origin, options) => call('POST', '/webauthn/get', { origin, options }),
    injectFault: (fault, count = 1) => call('POST', '/_fauxkey/faults', { fault, count }),
    reset: () => call('POST', '/_fauxkey/reset'), // no body: the route takes none
    stop: () => { if (child) child.kill('SIGTERM'); },
  };
}
