// A small client for `fauxkey serve`: the server at $FAUXKEY_URL (its token in $FAUXKEY_TOKEN),
// or a fresh `fauxkey serve` started from $FAUXKEY_BIN (default `fauxkey` on PATH).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export async function startFauxkey() {
  let child = null;
  let base = process.env.FAUXKEY_URL;
  let token = process.env.FAUXKEY_TOKEN;
  if (!base) {
    child = spawn(process.env.FAUXKEY_BIN || 'fauxkey', ['serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const failed = new Promise((_, reject) => child.once('error', reject));
    // stdout: the base URL, then `token: TOKEN`.
    const lines = createInterface({ input: child.stdout });
    const firstTwo = new Promise((resolve) => {
      const got = [];
      lines.on('line', (line) => { got.push(line); if (got.length === 2) resolve(got); });
    });
    const [url, tokenLine] = await Promise.race([firstTwo, failed]);
    base = url;
    token = tokenLine.replace(/^token: /, '');
  }
  // Every call carries the per-run token (the control plane refuses calls without it).
  const auth = { authorization: `Bearer ${token}` };
  const call = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
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
