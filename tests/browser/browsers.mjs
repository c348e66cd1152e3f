// The two browsers of the end-to-end test, behind one small page interface:
//   chromium  Debian's Chromium, headless, through playwright-core (CDP);
//   firefox   Debian's Firefox ESR, headless, through puppeteer-core (WebDriver BiDi).
// Both get the shim injected before any page script runs, in every frame.
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

// Flags Chromium needs on a closed network (and as root in a container).
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const BROWSERS = {
  chromium: { env: 'FAUXKEY_CHROMIUM', path: '/usr/bin/chromium' },
  firefox: { env: 'FAUXKEY_FIREFOX', path: '/usr/bin/firefox-esr' },
};

const executable = (kind) => process.env[BROWSERS[kind].env] || BROWSERS[kind].path;

// Returns { page, close } where page has goto, fill, click, waitFor, evaluate, frames, onConsole.
export async function openPage(kind, shim) {
  if (kind === 'chromium') {
    const browser = await chromium.launch({ executablePath: executable(kind), headless: true, args: CHROMIUM_ARGS });
    const context = await browser.newContext();
    await context.addInitScript({ content: shim });
    const page = await context.newPage();
    return {
      close: () => browser.close(),
      // A second context in the same browser without the shim (the browser's own WebAuthn),
      // with a CDP session for the WebAuthn domain.
      plainPage: async () => {
        const plain = await browser.newContext();
        const p = await plain.newPage();
        return { page: p, cdp: await plain.newCDPSession(p), close: () => plain.close() };
      },
      page: {
        goto: (url) => page.goto(url),
        fill: (selector, value) => page.fill(selector, value),
        click: (selector) => page.click(selector),
        waitFor: (fn, timeout) => page.waitForFunction(fn, null, { timeout }),
        evaluate: (fn, arg) => page.evaluate(fn, arg),
        frames: () => page.frames(),
        onConsole: (cb) => page.on('console', (m) => cb(m.type(), m.text())),
      },
    };
  }
  if (kind === 'firefox') {
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: executable(kind),
      headless: true,
      // A closed network: no update, telemetry or captive-portal traffic.
      extraPrefsFirefox: {
        'app.update.enabled': false,
        'network.captive-portal-service.enabled': false,
        'network.connectivity-service.enabled': false,
        'datareporting.policy.dataSubmissionEnabled': false,
      },
    });
    const page = await browser.newPage();
    await page.evaluateOnNewDocument(shim);
    return {
      close: () => browser.close(),
      page: {
        goto: (url) => page.goto(url),
        fill: (selector, value) => page.$eval(selector, (el, v) => { el.value = v; }, value),
        click: (selector) => page.click(selector),
        waitFor: (fn, timeout) => page.waitForFunction(fn, { timeout }),
        evaluate: (fn, arg) => page.evaluate(fn, arg),
        frames: () => page.frames(),
        onConsole: (cb) => page.on('console', (m) => cb(m.type(), m.text())),
      },
    };
  }
  throw new Error(`unknown browser ${kind}; use chromium or firefox`);
}
