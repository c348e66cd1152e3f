import type { Page } from 'puppeteer-core';
import type { FauxkeyApi, FauxkeyServer, StartOptions } from './index.js';

export interface InstallOptions extends StartOptions {
  /** Use this running server instead of starting one (it is not stopped by close()). */
  server?: FauxkeyServer;
}

export interface PasskeysHandle extends FauxkeyApi {
  readonly server: FauxkeyServer;
  /** Stops the server installPasskeys started (also done when the page closes). */
  close(): Promise<void>;
}

/** Puts fauxkey behind navigator.credentials in this Puppeteer page. */
export declare function installPasskeys(page: Page, options?: InstallOptions): Promise<PasskeysHandle>;
