// fauxkey/playwright: `await installPasskeys(context)` puts fauxkey behind navigator.credentials
// in every page and frame of a Playwright BrowserContext. The page never opens a connection to
// the server: the shim hands each request to a binding (context.exposeBinding) and Node relays
// it, so http and https pages, page.route() pages and any origin work, with no CORS and no
// local-network-access permission.
import { handleFor, initScript, relay, serverFor, BINDING } from './relay.js';

/**
 * @param {import('playwright-core').BrowserContext} context
 * @param {import('./playwright').InstallOptions} [options]
 */
export async function installPasskeys(context, options = {}) {
  const { server, owned } = await serverFor(options);
  try {
    await context.exposeBinding(BINDING, (_source, request) => relay(server, request));
    await context.addInitScript({ content: await initScript(server) });
  } catch (err) {
    if (owned) await server.stop();
    throw err;
  }
  const handle = handleFor(server, owned);
  context.once('close', () => { handle.close().catch(() => {}); });
  return handle;
}
