// fauxkey/puppeteer: `await installPasskeys(page)` puts fauxkey behind navigator.credentials in a
// Puppeteer page (Chrome over CDP, Firefox over WebDriver BiDi). The page never opens a
// connection to the server: the shim hands each request to page.exposeFunction and Node relays it.
import { handleFor, initScript, relay, serverFor, BINDING } from './relay.js';

/**
 * @param {import('puppeteer-core').Page} page
 * @param {import('./puppeteer').InstallOptions} [options]
 */
export async function installPasskeys(page, options = {}) {
  const { server, owned } = await serverFor(options);
  try {
    await page.exposeFunction(BINDING, (request) => relay(server, request));
    await page.evaluateOnNewDocument(await initScript(server));
  } catch (err) {
    if (owned) await server.stop();
    throw err;
  }
  const handle = handleFor(server, owned);
  page.once('close', () => { handle.close().catch(() => {}); });
  return handle;
}
