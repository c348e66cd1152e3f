// fauxkey browser shim: routes a page's WebAuthn calls to a running `fauxkey serve`.
//
// Inject it before any page script runs (Playwright: `context.addInitScript({content})` with the
// text of GET <server>/shim.js). It replaces, for `publicKey` requests only:
//   navigator.credentials.create / get          -> POST /webauthn/create, /webauthn/get
//   PublicKeyCredential.signalUnknownCredential  -> POST /webauthn/signal/unknown-credential
//   PublicKeyCredential.signalAllAcceptedCredentials, .signalCurrentUserDetails (likewise)
//   navigator.credentials.get({mediation: 'conditional'})
//                                               -> POST /webauthn/get (202 {pending}), then
//                                                  POST /webauthn/conditional/{ID} long polls;
//                                                  an AbortSignal -> POST …/{ID}/cancel
//   PublicKeyCredential.getClientCapabilities,
//   .isUserVerifyingPlatformAuthenticatorAvailable, .isConditionalMediationAvailable
//                                               -> GET /webauthn/capabilities
// and adds PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON where
// the browser lacks them. Results behave like the browser's own objects: ArrayBuffers,
// `instanceof PublicKeyCredential`, `toJSON()`, `getClientExtensionResults()`,
// `response.getPublicKey()` and friends. Server errors `{name, message}` reject as
// `DOMException(message, name)` (a TypeError as a TypeError).
//
// Settings live on `window.fauxkey` (writable at any time):
//   baseUrl          the server, baked in by GET /shim.js
//   authenticatorId  send requests to this authenticator instead of the default one
//   binding          the name of a page binding to relay requests through instead of fetch
//
// Transport: by default every request is a `fetch` to `baseUrl`. A harness that must not let
// the page talk to the server (the npm package's installPasskeys) defines
// `window.fauxkey = {binding: 'NAME'}` before the shim runs and exposes a function NAME
// (Playwright `exposeBinding`, Puppeteer `exposeFunction`) that takes
// `{method, path, body}` and resolves to `{status, body}`: the server's answer, relayed.
//
// Where the browser has no WebAuthn at all (WebKitGTK on http://localhost: neither
// `navigator.credentials` nor `PublicKeyCredential`), the shim provides both.
//
// Plain ES2020, no dependencies, no build step. Served by `fauxkey serve`, which bakes its own
// base URL into the string below.
(() => {
  'use strict';

  const g = globalThis;
  if (g.fauxkey && g.fauxkey.shimInstalled) return;

  const BAKED_BASE_URL = '__FAUXKEY_BASE_URL__';
  // Settings a harness put on window.fauxkey before the shim ran are kept.
  const preset = g.fauxkey && typeof g.fauxkey === 'object' ? g.fauxkey : {};
  const config = {
    shimInstalled: true,
    baseUrl: typeof preset.baseUrl === 'string' ? preset.baseUrl : BAKED_BASE_URL.startsWith('http') ? BAKED_BASE_URL : null,
    authenticatorId: typeof preset.authenticatorId === 'string' ? preset.authenticatorId : null,
    binding: typeof preset.binding === 'string' ? preset.binding : null,
    // What the browser itself had before the shim ran (WebKitGTK on http://localhost: neither).
    native: {
      credentials: !!(g.navigator && g.navigator.credentials),
      PublicKeyCredential: typeof g.PublicKeyCredential === 'function',
    },
  };
  Object.defineProperty(g, 'fauxkey', { value: config, writable: false, enumerable: false, configurable: true });

  // Taken now, so page code that later wraps or mocks fetch (or the binding) does not see our
  // traffic. A binding not defined yet is looked up at call time.
  const realFetch = typeof g.fetch === 'function' ? g.fetch.bind(g) : null;
  const bindingAtStart = config.binding && typeof g[config.binding] === 'function' ? g[config.binding] : null;

  // ---- base64url and JSON conversion -------------------------------------------------------

  function bytesOf(source) {
    if (source instanceof ArrayBuffer) return new Uint8Array(source);
    if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    throw new TypeError('expected an ArrayBuffer or a view of one (BufferSource)');
  }

  function b64urlEncode(source) {
    const bytes = bytesOf(source);
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function b64urlDecode(text, what) {
    if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
      throw new DOMException(`${what} is not valid base64url`, 'EncodingError');
    }
    const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  // WebAuthn L3 JSON form of an options dictionary: every BufferSource becomes base64url,
  // undefined members are dropped.
  function toJSONValue(value) {
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return b64urlEncode(value);
    if (Array.isArray(value)) return value.map(toJSONValue);
    if (value !== null && typeof value === 'object') {
      const out = {};
      for (const [key, member] of Object.entries(value)) {
        if (member !== undefined && typeof member !== 'function') out[key] = toJSONValue(member);
      }
      return out;
    }
    return value;
  }

  function copyJSON(value) {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  }

  // ---- talking to the server ---------------------------------------------------------------

  function serverUrl(path) {
    if (!config.baseUrl) {
      throw new DOMException(
        'fauxkey shim: no server URL; load the shim from <fauxkey serve URL>/shim.js or set window.fauxkey.baseUrl',
        'NotAllowedError');
    }
    return config.baseUrl.replace(/\/+$/, '') + path;
  }

  function errorFrom(body, status) {
    const name = body && typeof body.name === 'string' ? body.name : 'NotAllowedError';
    const message = body && typeof body.message === 'string' ? body.message : `fauxkey server answered HTTP ${status}`;
    if (name === 'TypeError') return new TypeError(message);
    // Chromium throws a RangeError (not a DOMException) for more than 64 allow/exclude entries.
    if (name === 'RangeError') return new RangeError(message);
    return new DOMException(message, name);
  }

  // The binding transport: the harness relays the request and hands back the server's answer.
  async function callBinding(method, path, body) {
    const relay = bindingAtStart || g[config.binding];
    if (typeof relay !== 'function') {
      throw new DOMException(`fauxkey shim: the page binding ${config.binding} is not defined`, 'NotAllowedError');
    }
    let answer;
    try {
      answer = await relay({ method, path, body });
    } catch (err) {
      throw new DOMException(`fauxkey shim: the harness could not reach the fauxkey server: ${err && err.message}`,
        'NotAllowedError');
    }
    const status = answer && typeof answer.status === 'number' ? answer.status : 500;
    if (status === 204) return undefined;
    if (status < 200 || status > 299) throw errorFrom(answer && answer.body, status);
    return answer.body;
  }

  async function call(method, path, body, signal) {
    if (config.binding) return callBinding(method, path, body);
    if (!realFetch) throw new DOMException('fauxkey shim: this page has no fetch', 'NotAllowedError');
    let response;
    try {
      response = await realFetch(serverUrl(path), {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (err) {
      if (signal && signal.aborted) throw err;
      if (err instanceof DOMException && err.name === 'NotAllowedError') throw err;
      throw new DOMException(`fauxkey shim: cannot reach the fauxkey server at ${config.baseUrl}: ${err && err.message}`,
        'NotAllowedError');
    }
    if (response.status === 204) return undefined;
    let parsed;
    try {
      parsed = await response.json();
    } catch (err) {
      throw new DOMException(`fauxkey shim: the server answered HTTP ${response.status} with a body that is not JSON`,
        'NotAllowedError');
    }
    if (!response.ok) throw errorFrom(parsed, response.status);
    return parsed;
  }

  function withAuthenticator(body) {
    if (config.authenticatorId) body.authenticatorId = config.authenticatorId;
    return body;
  }

  function capabilities() {
    const query = config.authenticatorId ? `?authenticatorId=${encodeURIComponent(config.authenticatorId)}` : '';
    return call('GET', `/webauthn/capabilities${query}`);
  }

  // The top-level origin when this document is not same-origin with all its ancestors, else null.
  function topOrigin() {
    if (g.top === g.self) return null;
    const ancestors = g.location.ancestorOrigins;
    if (ancestors && ancestors.length > 0) {
      const sameOrigin = Array.from(ancestors).every((o) => o === g.location.origin);
      return sameOrigin ? null : ancestors[ancestors.length - 1];
    }
    try {
      const top = g.top.location.origin;
      return top === g.location.origin ? null : top;
    } catch (err) {
      return document.referrer ? new URL(document.referrer).origin : 'null';
    }
  }

  // ---- objects that behave like the browser's ----------------------------------------------

  const slots = new WeakMap();
  const slot = (obj) => {
    const s = slots.get(obj);
    if (!s) throw new TypeError('Illegal invocation');
    return s;
  };

  const Native = {
    PublicKeyCredential: typeof g.PublicKeyCredential === 'function' ? g.PublicKeyCredential : null,
    AuthenticatorAttestationResponse: typeof g.AuthenticatorAttestationResponse === 'function' ? g.AuthenticatorAttestationResponse : null,
    AuthenticatorAssertionResponse: typeof g.AuthenticatorAssertionResponse === 'function' ? g.AuthenticatorAssertionResponse : null,
  };

  // Where the browser has no such class (insecure context, old engine), define a stand-in that,
  // like the real one, cannot be constructed by page code.
  function standIn(name, parent) {
    const ctor = function () { throw new TypeError('Illegal constructor'); };
    Object.defineProperty(ctor, 'name', { value: name });
    ctor.prototype = Object.create(parent ? parent.prototype : Object.prototype, {
      constructor: { value: ctor, writable: true, configurable: true },
      [Symbol.toStringTag]: { value: name, configurable: true },
    });
    if (parent) Object.setPrototypeOf(ctor, parent);
    return ctor;
  }

  if (!Native.PublicKeyCredential) {
    const Credential = typeof g.Credential === 'function' ? g.Credential : standIn('Credential', null);
    g.PublicKeyCredential = standIn('PublicKeyCredential', Credential);
  }
  if (!Native.AuthenticatorAttestationResponse || !Native.AuthenticatorAssertionResponse) {
    const AuthenticatorResponse = typeof g.AuthenticatorResponse === 'function' ? g.AuthenticatorResponse : standIn('AuthenticatorResponse', null);
    if (!Native.AuthenticatorAttestationResponse) g.AuthenticatorAttestationResponse = standIn('AuthenticatorAttestationResponse', AuthenticatorResponse);
    if (!Native.AuthenticatorAssertionResponse) g.AuthenticatorAssertionResponse = standIn('AuthenticatorAssertionResponse', AuthenticatorResponse);
  }

  // A layer between our objects and the (native or stand-in) prototype: getters read our slots,
  // so the native getters, which would throw "Illegal invocation", are never reached.
  function layer(parentProto, getters, methods) {
    const props = {};
    for (const [name, get] of Object.entries(getters)) {
      props[name] = { get() { return get(slot(this)); }, enumerable: true, configurable: true };
    }
    for (const [name, fn] of Object.entries(methods)) {
      props[name] = { value: function () { return fn(slot(this)); }, writable: true, enumerable: true, configurable: true };
    }
    return Object.create(parentProto, props);
  }

  const responseGetters = { clientDataJSON: (s) => s.clientDataJSON };

  const attestationProto = layer(g.AuthenticatorAttestationResponse.prototype, {
    ...responseGetters,
    attestationObject: (s) => s.attestationObject,
  }, {
    getTransports: (s) => s.json.transports.slice(),
    getAuthenticatorData: (s) => s.authenticatorData.slice(0),
    getPublicKey: (s) => (s.publicKey ? s.publicKey.slice(0) : null),
    getPublicKeyAlgorithm: (s) => s.json.publicKeyAlgorithm,
  });

  const assertionProto = layer(g.AuthenticatorAssertionResponse.prototype, {
    ...responseGetters,
    authenticatorData: (s) => s.authenticatorData,
    signature: (s) => s.signature,
    userHandle: (s) => s.userHandle,
  }, {});

  // getClientExtensionResults(): the JSON outputs with byte members turned back into buffers.
  function extensionResults(json) {
    const out = copyJSON(json) || {};
    const prf = out.prf;
    if (prf && prf.results) {
      prf.results.first = b64urlDecode(prf.results.first, 'prf.results.first');
      if (prf.results.second !== undefined) prf.results.second = b64urlDecode(prf.results.second, 'prf.results.second');
    }
    return out;
  }

  const credentialProto = layer(g.PublicKeyCredential.prototype, {
    id: (s) => s.json.id,
    rawId: (s) => s.rawId,
    type: (s) => s.json.type,
    authenticatorAttachment: (s) => (s.json.authenticatorAttachment === undefined ? null : s.json.authenticatorAttachment),
    response: (s) => s.response,
  }, {
    getClientExtensionResults: (s) => extensionResults(s.json.clientExtensionResults),
    toJSON: (s) => copyJSON(s.json),
  });

  function makeObject(proto, data) {
    const obj = Object.create(proto);
    slots.set(obj, data);
    return obj;
  }

  function registrationCredential(json) {
    const r = json.response;
    const response = makeObject(attestationProto, {
      json: { transports: r.transports || [], publicKeyAlgorithm: r.publicKeyAlgorithm },
      clientDataJSON: b64urlDecode(r.clientDataJSON, 'clientDataJSON'),
      attestationObject: b64urlDecode(r.attestationObject, 'attestationObject'),
      authenticatorData: b64urlDecode(r.authenticatorData, 'authenticatorData'),
      publicKey: r.publicKey ? b64urlDecode(r.publicKey, 'publicKey') : null,
    });
    return makeObject(credentialProto, { json, rawId: b64urlDecode(json.rawId, 'rawId'), response });
  }

  function authenticationCredential(json) {
    const r = json.response;
    const response = makeObject(assertionProto, {
      clientDataJSON: b64urlDecode(r.clientDataJSON, 'clientDataJSON'),
      authenticatorData: b64urlDecode(r.authenticatorData, 'authenticatorData'),
      signature: b64urlDecode(r.signature, 'signature'),
      userHandle: r.userHandle ? b64urlDecode(r.userHandle, 'userHandle') : null,
    });
    return makeObject(credentialProto, { json, rawId: b64urlDecode(json.rawId, 'rawId'), response });
  }

  // ---- navigator.credentials ---------------------------------------------------------------

  function abortReason(signal) {
    return signal.reason !== undefined ? signal.reason : new DOMException('The operation was aborted.', 'AbortError');
  }

  // Whether the permissions policy lets this document use the feature: Chromium says so through
  // document.featurePolicy. Firefox has no such object; there a cross-origin frame asks the
  // browser's own get() with an RP ID no origin may claim, which fails at once without any UI:
  // NotAllowedError when the policy refuses, SecurityError when it allows.
  async function permitted(kind, crossOrigin) {
    const feature = `publickey-credentials-${kind}`;
    const policy = document.permissionsPolicy || document.featurePolicy;
    if (policy && typeof policy.allowsFeature === 'function') {
      try {
        return policy.allowsFeature(feature);
      } catch (err) {
        return true;
      }
    }
    if (!crossOrigin || kind !== 'get' || !original.get) return true;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 2000);
    try {
      await original.get({ signal: controller.signal, publicKey: { challenge: new Uint8Array(16), rpId: 'fauxkey-probe.invalid' } });
      return true;
    } catch (err) {
      return !(err && err.name === 'NotAllowedError');
    } finally {
      clearTimeout(timer);
    }
  }

  // WebIDL would refuse a string where a BufferSource belongs (a front end that forgot to decode
  // the RP's JSON); so does the shim, or such a bug would pass here and fail in real browsers.
  function requireBuffer(value, path) {
    if (!(value instanceof ArrayBuffer || ArrayBuffer.isView(value))) {
      throw new TypeError(`${path} must be an ArrayBuffer or ArrayBufferView (BufferSource), not ${value === null ? 'null' : typeof value}`);
    }
  }
  function requireBuffers(kind, pk) {
    const prefix = `publicKey (${kind}): `;
    const required = kind === 'create' ? ['rp', 'user', 'challenge', 'pubKeyCredParams'] : ['challenge'];
    for (const m of required) {
      if (pk[m] === undefined) throw new TypeError(`${prefix}the required member '${m}' is missing`);
    }
    requireBuffer(pk.challenge, `${prefix}challenge`);
    if (kind === 'create') requireBuffer(pk.user.id, `${prefix}user.id`);
    const list = kind === 'create' ? 'excludeCredentials' : 'allowCredentials';
    (pk[list] || []).forEach((d, i) => requireBuffer(d && d.id, `${prefix}${list}[${i}].id`));
    const prf = pk.extensions && pk.extensions.prf;
    const values = (v, path) => {
      if (v === undefined) return;
      requireBuffer(v.first, `${path}.first`);
      if (v.second !== undefined) requireBuffer(v.second, `${path}.second`);
    };
    if (prf) {
      values(prf.eval, `${prefix}extensions.prf.eval`);
      for (const [id, v] of Object.entries(prf.evalByCredential || {})) values(v, `${prefix}extensions.prf.evalByCredential.${id}`);
    }
  }

  async function ceremony(kind, options) {
    const signal = options.signal;
    if (signal && signal.aborted) throw abortReason(signal);
    if (typeof options.publicKey !== 'object' || options.publicKey === null) {
      throw new TypeError('publicKey must be an object');
    }
    requireBuffers(kind, options.publicKey);
    const top = topOrigin();
    if (!(await permitted(kind, top !== null))) {
      throw new DOMException(`The 'publickey-credentials-${kind}' feature is not enabled in this document.`, 'NotAllowedError');
    }
    if (options.mediation === 'conditional') {
      const caps = await capabilities();
      const key = kind === 'create' ? 'conditionalCreate' : 'conditionalGet';
      if (!caps[key]) throw new TypeError(`conditional mediation is not available for ${kind}() (capability ${key} is false)`);
    }
    const conditional = options.mediation === 'conditional';
    const body = withAuthenticator({ origin: g.location.origin, options: toJSONValue(options.publicKey) });
    if (top !== null) body.topOrigin = top;
    if (conditional) body.mediation = 'conditional';

    // The fetch is aborted along with the caller's signal, and the promise rejects with its reason.
    const controller = new AbortController();
    let onAbort = null;
    // A conditional get() stays pending on the server; an abort cancels it there too.
    let pendingId = null;
    const aborted = signal ? new Promise((_, reject) => {
      onAbort = () => {
        controller.abort();
        if (pendingId !== null) {
          call('POST', `/webauthn/conditional/${encodeURIComponent(pendingId)}/cancel`, {}).catch(() => {});
        }
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }) : null;
    // The conditional get(): 202 {pending}, then long polls (204: still pending) until the user
    // at the autofill UI picks a passkey, or the request is aborted or times out.
    async function conditionalGet() {
      // Not aborted with the caller's signal: the server answers at once, and an abort that
      // came before its answer (no pending ID to cancel yet) must still cancel the request
      // the server now holds, just below.
      const started = await call('POST', '/webauthn/get', body);
      if (!started || typeof started.pending !== 'string') return started;
      pendingId = started.pending;
      if (signal && signal.aborted) {
        call('POST', `/webauthn/conditional/${encodeURIComponent(pendingId)}/cancel`, {}).catch(() => {});
        throw abortReason(signal);
      }
      for (;;) {
        const answer = await call('POST', `/webauthn/conditional/${encodeURIComponent(pendingId)}?waitMs=20000`, {}, controller.signal);
        if (answer !== undefined) return answer;
      }
    }
    try {
      const request = conditional && kind === 'get' ? conditionalGet() : call('POST', `/webauthn/${kind}`, body, controller.signal);
      const json = await (aborted ? Promise.race([request, aborted]) : request);
      return kind === 'create' ? registrationCredential(json) : authenticationCredential(json);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  const container = g.navigator.credentials;
  const containerProto = typeof g.CredentialsContainer === 'function' ? g.CredentialsContainer.prototype : null;
  const original = {
    create: container && container.create ? container.create.bind(container) : null,
    get: container && container.get ? container.get.bind(container) : null,
  };

  function replacement(kind) {
    return {
      [kind](options) {
        if (options && options.publicKey !== undefined) return ceremony(kind, options);
        if (original[kind]) return original[kind](options);
        return Promise.reject(new DOMException('Only publicKey credentials are available here (fauxkey shim).', 'NotSupportedError'));
      },
    }[kind];
  }

  if (container) {
    const target = containerProto && Object.getPrototypeOf(container) === containerProto ? containerProto : container;
    for (const kind of ['create', 'get']) {
      Object.defineProperty(target, kind, { value: replacement(kind), writable: true, enumerable: true, configurable: true });
    }
  } else {
    // Insecure contexts have no navigator.credentials; give the page one that handles publicKey.
    const stand = {
      create: replacement('create'),
      get: replacement('get'),
      store: () => Promise.reject(new DOMException('store() is not supported (fauxkey shim).', 'NotSupportedError')),
      preventSilentAccess: () => Promise.resolve(),
    };
    Object.defineProperty(g.navigator, 'credentials', { value: stand, configurable: true, enumerable: true });
  }

  // ---- PublicKeyCredential statics ---------------------------------------------------------

  const PKC = g.PublicKeyCredential;
  function defineStatic(name, fn) {
    Object.defineProperty(PKC, name, { value: fn, writable: true, enumerable: true, configurable: true });
  }

  function signal(path) {
    return async function (options) {
      if (typeof options !== 'object' || options === null) throw new TypeError('the signal options must be an object');
      await call('POST', `/webauthn/signal/${path}`, withAuthenticator({ origin: g.location.origin, options: toJSONValue(options) }));
    };
  }

  defineStatic('signalUnknownCredential', signal('unknown-credential'));
  defineStatic('signalAllAcceptedCredentials', signal('all-accepted'));
  defineStatic('signalCurrentUserDetails', signal('user-details'));
  defineStatic('getClientCapabilities', async function getClientCapabilities() { return capabilities(); });
  defineStatic('isUserVerifyingPlatformAuthenticatorAvailable', async function isUserVerifyingPlatformAuthenticatorAvailable() {
    return (await capabilities()).userVerifyingPlatformAuthenticator === true;
  });
  defineStatic('isConditionalMediationAvailable', async function isConditionalMediationAvailable() {
    return (await capabilities()).conditionalGet === true;
  });

  // parse*FromJSON (WebAuthn L3 §5.1.9, §5.1.10), only where the browser has none.
  function descriptors(list, what) {
    return list === undefined ? undefined : list.map((d, i) => ({ ...d, id: b64urlDecode(d.id, `${what}[${i}].id`) }));
  }
  function prfValues(v, what) {
    if (v === undefined) return undefined;
    const out = { first: b64urlDecode(v.first, `${what}.first`) };
    if (v.second !== undefined) out.second = b64urlDecode(v.second, `${what}.second`);
    return out;
  }
  function extensionInputs(ext) {
    if (!ext || !ext.prf) return ext;
    const prf = { ...ext.prf };
    if (prf.eval !== undefined) prf.eval = prfValues(prf.eval, 'extensions.prf.eval');
    if (prf.evalByCredential !== undefined) {
      const byCred = {};
      for (const [id, v] of Object.entries(prf.evalByCredential)) byCred[id] = prfValues(v, `extensions.prf.evalByCredential.${id}`);
      prf.evalByCredential = byCred;
    }
    return { ...ext, prf };
  }
  function requireMembers(json, members, dict) {
    if (typeof json !== 'object' || json === null) throw new TypeError(`${dict} must be an object`);
    for (const m of members) {
      if (json[m] === undefined) throw new TypeError(`${dict} is missing the required member '${m}'`);
    }
  }

  if (typeof PKC.parseCreationOptionsFromJSON !== 'function') {
    defineStatic('parseCreationOptionsFromJSON', function parseCreationOptionsFromJSON(json) {
      requireMembers(json, ['rp', 'user', 'challenge', 'pubKeyCredParams'], 'PublicKeyCredentialCreationOptionsJSON');
      const out = {
        ...json,
        user: { ...json.user, id: b64urlDecode(json.user.id, 'user.id') },
        challenge: b64urlDecode(json.challenge, 'challenge'),
      };
      if (json.excludeCredentials !== undefined) out.excludeCredentials = descriptors(json.excludeCredentials, 'excludeCredentials');
      if (json.extensions !== undefined) out.extensions = extensionInputs(json.extensions);
      return out;
    });
  }
  if (typeof PKC.parseRequestOptionsFromJSON !== 'function') {
    defineStatic('parseRequestOptionsFromJSON', function parseRequestOptionsFromJSON(json) {
      requireMembers(json, ['challenge'], 'PublicKeyCredentialRequestOptionsJSON');
      const out = { ...json, challenge: b64urlDecode(json.challenge, 'challenge') };
      if (json.allowCredentials !== undefined) out.allowCredentials = descriptors(json.allowCredentials, 'allowCredentials');
      if (json.extensions !== undefined) out.extensions = extensionInputs(json.extensions);
      return out;
    });
  }
})();
