// Tessera passkeys: the browser side of WebAuthn for the sign-in and account pages.
//
// Progressive enhancement: the pages work without this module (the password form is a
// plain HTML form), and everything it adds stays hidden until it knows the browser can
// use passkeys. It holds no text: every message comes from the page's data-msg-*
// attributes, rendered from the message catalogs in the page's language.
//
// The server sends webauthn-rs options as JSON with base64url strings; this module turns
// them into ArrayBuffers for navigator.credentials and the results back into base64url
// JSON. Every request carries the CSRF token in X-CSRF-Token.

const root = document.querySelector("[data-passkey]");

// ---- base64url <-> bytes ------------------------------------------------------------

function fromBase64url(text) {
  let b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  while (b64.length % 4) b64 += "=";
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

function toBase64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// JSON null means "absent" to the server but "invalid value" to some browsers.
function withoutNulls(value) {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = withoutNulls(v);
    return out;
  }
  return value;
}

function descriptors(list) {
  return (list || []).map((c) => ({ ...c, id: fromBase64url(c.id) }));
}

/** A page may shorten the authenticator timeout (data-timeout, in ms), e.g. in tests. */
function timeout(publicKey) {
  const ms = Number(root.dataset.timeout);
  if (ms > 0) publicKey.timeout = ms;
  return publicKey;
}

function creationOptions(options) {
  const pk = withoutNulls(options.publicKey);
  pk.challenge = fromBase64url(pk.challenge);
  pk.user = { ...pk.user, id: fromBase64url(pk.user.id) };
  if (pk.excludeCredentials) pk.excludeCredentials = descriptors(pk.excludeCredentials);
  return timeout(pk);
}

function requestOptions(options) {
  const pk = withoutNulls(options.publicKey);
  pk.challenge = fromBase64url(pk.challenge);
  if (pk.allowCredentials) pk.allowCredentials = descriptors(pk.allowCredentials);
  return timeout(pk);
}

function registrationJSON(credential) {
  const r = credential.response;
  const response = {
    clientDataJSON: toBase64url(r.clientDataJSON),
    attestationObject: toBase64url(r.attestationObject),
  };
  if (typeof r.getTransports === "function") response.transports = r.getTransports();
  // Only the browser's word on whether it made a discoverable credential (credProps.rk).
  const results = typeof credential.getClientExtensionResults === "function" ? credential.getClientExtensionResults() : {};
  const extensions = results.credProps && typeof results.credProps.rk === "boolean" ? { credProps: { rk: results.credProps.rk } } : {};
  return { id: credential.id, rawId: toBase64url(credential.rawId), type: credential.type, response, extensions };
}

function assertionJSON(credential) {
  const r = credential.response;
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response: {
      authenticatorData: toBase64url(r.authenticatorData),
      clientDataJSON: toBase64url(r.clientDataJSON),
      signature: toBase64url(r.signature),
      userHandle: r.userHandle && r.userHandle.byteLength ? toBase64url(r.userHandle) : null,
    },
    extensions: {},
  };
}

// ---- messages -------------------------------------------------------------------------

/** A failure with a message code: data-msg-<code> holds its text. */
class Failure extends Error {
  constructor(code, serverMessage) {
    super(code);
    this.code = code;
    this.serverMessage = serverMessage;
  }
}

function messageFor(code) {
  const key = "msg" + code.split(/[_-]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
  return root.dataset[key];
}

/** A browser or server failure as one of our message codes. */
function failureOf(error) {
  if (error instanceof Failure) return error;
  switch (error && error.name) {
    case "NotAllowedError":
    case "AbortError":
      return new Failure("cancelled");
    case "InvalidStateError":
      return new Failure("exists");
    case "NotSupportedError":
      return new Failure("unsupported");
    default:
      return new Failure("unavailable");
  }
}

function textOf(failure) {
  // The server words its refusals in the page's language (ui_locales); the page holds
  // the words for what happens in the browser.
  return failure.serverMessage || messageFor(failure.code) || messageFor("unavailable");
}

const errorBox = root && root.querySelector("[data-passkey-error]");
const progressBox = root && root.querySelector("[data-passkey-progress]");

function showError(error) {
  const failure = failureOf(error);
  progress(false);
  errorBox.textContent = textOf(failure);
  errorBox.dataset.code = failure.code;
  errorBox.hidden = false;
  errorBox.focus();
}

function clearError() {
  errorBox.hidden = true;
  errorBox.textContent = "";
  delete errorBox.dataset.code;
}

function progress(on) {
  progressBox.textContent = on ? messageFor("working") : "";
  progressBox.hidden = !on;
}

// ---- the server -------------------------------------------------------------------------

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) return meta.content;
  const input = document.querySelector('input[name="csrf"]');
  return input ? input.value : "";
}

async function post(path, body) {
  const lang = encodeURIComponent(document.documentElement.lang || "");
  let response;
  try {
    response = await fetch(`${path}?ui_locales=${lang}`, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": csrfToken(),
      },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new Failure("network");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  if (!response.ok || !data) {
    const fallback =
      response.status === 401 ? "signin_required"
      : response.status === 403 ? "form_expired"
      : response.status === 429 ? "throttled"
      : "unavailable";
    throw new Failure((data && data.error) || fallback, data && data.message);
  }
  return data;
}

function supported() {
  return Boolean(window.PublicKeyCredential && navigator.credentials && navigator.credentials.get);
}

function hiddenValue(name) {
  const input = document.querySelector(`form input[type="hidden"][name="${name}"]`);
  return input && input.value ? input.value : undefined;
}

// ---- sign in --------------------------------------------------------------------------

let busy = false;
let autofill = null; // { controller, done } while a conditional request waits

async function finishSignIn(ceremony, credential) {
  const data = await post("/passkey/signin/finish", {
    ceremony,
    credential: assertionJSON(credential),
    authz: hiddenValue("authz"),
    next: hiddenValue("next"),
  });
  window.location.assign(data.redirect);
}

/** Browser autofill: passkeys offered in the username field's suggestions. */
async function startAutofill() {
  if (typeof PublicKeyCredential.isConditionalMediationAvailable !== "function") return;
  // Autofill offers passkeys in a username field's suggestions: none, nothing to offer in.
  if (!document.querySelector('input[autocomplete~="webauthn"]')) return;
  let available = false;
  try {
    available = await PublicKeyCredential.isConditionalMediationAvailable();
  } catch (e) {
    available = false;
  }
  if (!available || busy) return;
  const controller = new AbortController();
  let asked = false; // the browser holds our request: from here on, failures are the citizen's
  const run = async () => {
    const ceremony = await post("/passkey/signin/start", {});
    if (controller.signal.aborted) return;
    asked = true;
    const credential = await navigator.credentials.get({
      publicKey: requestOptions(ceremony.options),
      mediation: "conditional",
      signal: controller.signal,
    });
    if (!credential || controller.signal.aborted) return;
    busy = true;
    clearError();
    progress(true);
    await finishSignIn(ceremony.ceremony, credential);
  };
  const done = run().catch((error) => {
    // Our own abort (the button took over) is not a failure; neither is a start that
    // failed before the citizen did anything.
    if (controller.signal.aborted || !asked) return;
    autofill = null;
    busy = false;
    showError(error);
  });
  autofill = { controller, done };
  root.dataset.autofill = "on";
}

async function stopAutofill() {
  if (!autofill) return;
  const { controller, done } = autofill;
  autofill = null;
  controller.abort();
  await done; // the aborted request must settle before a new one can start
  delete root.dataset.autofill;
}

/**
 * Runs one ceremony that `button` started: one at a time, with the progress shown; a
 * failure is shown in the page's language and the button can be used again. On success
 * `work` leaves the page, so the button stays disabled.
 */
async function withButton(button, work) {
  if (busy) return;
  busy = true;
  button.disabled = true;
  clearError();
  progress(true);
  try {
    await work();
  } catch (error) {
    showError(error);
    busy = false;
    button.disabled = false;
  }
}

/** Whether this browser can do `need` ("get" or "create"); if not, the page says so. */
function canDo(need) {
  if (supported() && typeof navigator.credentials[need] === "function") return true;
  const note = root.querySelector("[data-passkey-unsupported]");
  if (note) note.hidden = false;
  return false;
}

function signInWithButton(button) {
  return withButton(button, async () => {
    await stopAutofill();
    // Usernameless unless the citizen already typed a username: then only that
    // account's passkeys are asked for.
    const field = document.querySelector('input[name="username"]');
    const username = field ? field.value.trim() : "";
    const ceremony = await post("/passkey/signin/start", username ? { username } : {});
    const credential = await navigator.credentials.get({ publicKey: requestOptions(ceremony.options) });
    await finishSignIn(ceremony.ceremony, credential);
  });
}

function initSignIn() {
  const section = root.querySelector("[data-passkey-signin]");
  if (!canDo("get")) return;
  const button = section.querySelector("button");
  button.addEventListener("click", () => signInWithButton(button));
  section.hidden = false;
  root.dataset.ready = "true";
  startAutofill();
}

// ---- add a passkey (account page) -----------------------------------------------------------

function addPasskey(form) {
  return withButton(form.querySelector('button[type="submit"]'), async () => {
    const ceremony = await post("/passkey/register/start", {});
    const credential = await navigator.credentials.create({ publicKey: creationOptions(ceremony.options) });
    const nameInput = form.querySelector('input[name="name"]');
    const name = nameInput && nameInput.value.trim() ? nameInput.value.trim() : undefined;
    await post("/passkey/register/finish", { ceremony: ceremony.ceremony, credential: registrationJSON(credential), name });
    window.location.assign("/account?done=added");
  });
}

function initAccount() {
  const form = root.querySelector("[data-passkey-add]");
  if (!canDo("create")) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    addPasskey(form);
  });
  form.hidden = false;
  root.dataset.ready = "true";
}

// ---- sign up with a passkey only -------------------------------------------------------------

function createForSignup(section, button) {
  return withButton(button, async () => {
    const options = JSON.parse(section.dataset.options);
    const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
    const data = await post("/signup/passkey/finish", {
      ceremony: section.dataset.ceremony,
      credential: registrationJSON(credential),
      authz: section.dataset.authz || undefined,
    });
    window.location.assign(data.redirect);
  });
}

function initSignup() {
  const section = root.querySelector("[data-passkey-signup]");
  if (!canDo("create")) return;
  const button = section.querySelector("button");
  button.addEventListener("click", () => createForSignup(section, button));
  section.hidden = false;
  root.dataset.ready = "true";
}

if (root) {
  if (root.dataset.passkey === "signin") initSignIn();
  else if (root.dataset.passkey === "account") initAccount();
  else if (root.dataset.passkey === "signup") initSignup();
}
