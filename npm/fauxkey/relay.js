// Shared by fauxkey/playwright and fauxkey/puppeteer: the page's shim hands each WebAuthn
// request to a binding; Node relays it to the server with the token. Only the WebAuthn API is
// relayed: a page can never reach the control plane.
import { FauxkeyServer } from './index.js';

export const BINDING = '__fauxkeyRelay';

export function relay(server, request) {
  return server.relay(request);
}

export async function initScript(server) {
  const shim = await server.shimSource();
  return `globalThis.fauxkey = { binding: ${JSON.stringify(BINDING)} };\n${shim}`;
}

export async function serverFor(options) {
  if (options.server) return { server: options.server, owned: false };
  const server = await FauxkeyServer.start({ allowKeyExport: true, ...options });
  return { server, owned: true };
}

/** The handle installPasskeys returns: the Node API of the server, bound, plus close(). */
export function handleFor(server, owned) {
  const handle = { server, url: server.url };
  for (const name of Object.getOwnPropertyNames(FauxkeyServer.prototype)) {
    if (name !== 'constructor' && typeof server[name] === 'function') handle[name] = server[name].bind(server);
  }
  handle.close = async () => { if (owned) await server.stop(); };
  return handle;
}
