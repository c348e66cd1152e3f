/** WebAuthn L3 JSON: options as the RP server sends them, responses as `toJSON()` gives them. */
export type Json = { [key: string]: unknown };

export interface StartOptions {
  /** Provider profile name (`fauxkey profiles`) or a profile JSON file. */
  profile?: string;
  /** Seed for reproducible keys and credential ids. */
  seed?: number;
  /** An existing vault file instead of memory (needs FAUXKEY_PASSPHRASE in the environment). */
  vault?: string;
  /** Let `credentials()` return private keys (and `exportCredentials()` work). */
  allowKeyExport?: boolean;
  /** Web origins whose pages may call the WebAuthn endpoints directly (the /shim.js way). */
  allowOrigins?: string[];
  /** The binary; default: $FAUXKEY_BIN, the platform package's, or `fauxkey` on PATH. */
  binary?: string;
  /** More `fauxkey serve` arguments. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  startupTimeoutMs?: number;
}

export interface CeremonyExtra {
  topOrigin?: string;
  authenticatorId?: string;
}

/** A credential in the WebDriver virtual-authenticator shape (base64url members). */
export interface WebDriverCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId: string;
  privateKey?: string;
  userHandle?: string;
  signCount: number;
}

/** Playwright's VirtualCredential shape (base64url; PKCS#8 private key, SPKI public key). */
export interface VirtualCredential {
  id: string;
  rpId: string;
  userHandle?: string;
  privateKey: string;
  publicKey: string;
}

export interface ClientCapabilities { [capability: string]: boolean }

/** A passkey the autofill UI offers. */
export interface ConditionalOffer { credentialId: string; userName?: string | null; userDisplayName?: string | null; userHandle: string }

/** A pending conditional request (`GET /_fauxkey/conditional`). */
export interface ConditionalRequest { id: string; authenticatorId: string; origin: string; rpId: string; dismissed: number; offers: ConditionalOffer[] }

/** The calls an RP test makes; `installPasskeys` handles offer the same. */
export interface FauxkeyApi {
  readonly url: string;
  create(origin: string, options: Json, extra?: CeremonyExtra): Promise<Json>;
  get(origin: string, options: Json, extra?: CeremonyExtra): Promise<Json>;
  signalUnknownCredential(origin: string, options: { rpId: string; credentialId: string }): Promise<void>;
  signalAllAcceptedCredentials(origin: string, options: { rpId: string; userId: string; allAcceptedCredentialIds: string[] }): Promise<void>;
  signalCurrentUserDetails(origin: string, options: { rpId: string; userId: string; name: string; displayName: string }): Promise<void>;
  capabilities(): Promise<ClientCapabilities>;
  /** `navigator.credentials.get({mediation: 'conditional'})`: resolves to the pending request's id. */
  getConditional(origin: string, options: Json, extra?: { authenticatorId?: string }): Promise<string>;
  /** What the page gets once the request has ended; undefined while still pending after `waitMs` (at most 20000). */
  conditionalResult(pendingId: string, waitMs?: number): Promise<Json | undefined>;
  /** The pending conditional requests, oldest first, with the passkeys the autofill UI offers. */
  conditionalRequests(): Promise<ConditionalRequest[]>;
  /** The user picks offer `index` (from 0) or a credential: resolves to what the page gets. */
  conditionalPick(pendingId: string, choice?: number | { credentialId: string }): Promise<Json>;
  /** The user closes the autofill UI; the request stays pending. */
  conditionalDismiss(pendingId: string): Promise<void>;
  /** As if the page's AbortSignal fired (the page gets AbortError). */
  conditionalAbort(pendingId: string): Promise<void>;
  /** The request's time runs out now (the page gets NotAllowedError). */
  conditionalTimeout(pendingId: string): Promise<void>;
  /** Records a password sign-in, so one conditional create for that account upgrades it. */
  passwordSignIn(rpId: string, userName: string, authenticatorId?: string): Promise<void>;
  /** `navigator.credentials.create({mediation: 'conditional'})`: the automatic passkey upgrade. */
  createConditional(origin: string, options: Json, extra?: { authenticatorId?: string }): Promise<Json>;
  reset(): Promise<void>;
  injectFault(name: string, responses?: number): Promise<void>;
  credentials(authenticatorId?: string): Promise<WebDriverCredential[]>;
  events(): Promise<Json[]>;
  setUser(user: { presence?: boolean; verification?: boolean }, authenticatorId?: string): Promise<void>;
  exportCredentials(authenticatorId?: string): Promise<VirtualCredential[]>;
  importCredentials(credentials: VirtualCredential[], authenticatorId?: string): Promise<void>;
  request(method: string, path: string, body?: unknown): Promise<unknown>;
  fetchRaw(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  shimSource(): Promise<string>;
  /** Relays a shim request `{method, path, body}` (WebAuthn paths only) to `{status, body}`. */
  relay(request: { method: string; path: string; body?: unknown }): Promise<{ status: number; body: unknown }>;
}

/** A running `fauxkey serve`: every call of {@link FauxkeyApi} (merged in below), plus start and stop. Refused requests reject with a DOMException (`name` as a browser names it, plus `status`). */
export interface FauxkeyServer extends FauxkeyApi {}
export declare class FauxkeyServer {
  static start(options?: StartOptions): Promise<FauxkeyServer>;
  readonly stderr: string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5000). */
  stop(graceMs?: number): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The binary that `FauxkeyServer.start` runs. */
export declare function binaryPath(): string;
