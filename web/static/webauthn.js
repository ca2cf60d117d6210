// Security keys and passkeys: progressive enhancement, no dependencies.
//
// Markup contract (every page works without this file; these elements
// carry the hidden attribute, which this script removes when the browser
// supports WebAuthn):
//
//   <div data-webauthn="login|passkey|register"
//        data-begin="/…/begin" data-finish="/…/finish"
//        data-csrf="TOKEN"              (optional; else a _csrf field on the page)
//        data-name-input="key_name"     (register only: name or id of the key-name input)
//        hidden>
//     <button type="button">…</button>  (or make the element a <form>: its submit starts)
//     <p data-webauthn-status aria-live="polite"></p>  (optional; created if missing)
//   </div>
//
// A click POSTs to data-begin (X-CSRF-Token header, body {} or, for
// register, {"name": …}); the answer is {"publicKey": {…}} with binary
// fields in base64url. The browser's credential goes to data-finish as
// JSON: the credential itself for login and passkey, {"name": …,
// "credential": …} for register. The server answers {"redirect": "/…"}
// (followed) or {"error": "…"} (shown in the status region).
(function () {
  "use strict";

  var KINDS = { login: true, passkey: true, register: true };

  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
    return;
  }

  // base64url without padding <-> ArrayBuffer.
  function decode(value) {
    var s = String(value).replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function encode(buffer) {
    var bytes = new Uint8Array(buffer);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function isBinary(v) {
    return v instanceof ArrayBuffer || ArrayBuffer.isView(v);
  }

  // Extension results may hold binary values (prf, largeBlob); JSON needs
  // them as base64url like every other binary field.
  function plain(value) {
    if (isBinary(value)) {
      return encode(ArrayBuffer.isView(value) ? value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) : value);
    }
    if (Array.isArray(value)) {
      return value.map(plain);
    }
    if (value && typeof value === "object") {
      var out = {};
      Object.keys(value).forEach(function (k) {
        out[k] = plain(value[k]);
      });
      return out;
    }
    return value;
  }

  function decodeDescriptors(list) {
    return (list || []).map(function (d) {
      var copy = Object.assign({}, d);
      copy.id = decode(d.id);
      return copy;
    });
  }

  // decodeOptions turns the server's JSON options into what
  // navigator.credentials.create/get take.
  function decodeOptions(json) {
    var options = Object.assign({}, json);
    var pk = Object.assign({}, json.publicKey || {});
    pk.challenge = decode(pk.challenge);
    if (pk.user) {
      pk.user = Object.assign({}, pk.user, { id: decode(pk.user.id) });
    }
    if (pk.allowCredentials) {
      pk.allowCredentials = decodeDescriptors(pk.allowCredentials);
    }
    if (pk.excludeCredentials) {
      pk.excludeCredentials = decodeDescriptors(pk.excludeCredentials);
    }
    options.publicKey = pk;
    return options;
  }

  // encodeCredential is the PublicKeyCredential as the server parses it.
  function encodeCredential(cred) {
    var r = cred.response;
    var response = { clientDataJSON: encode(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = encode(r.attestationObject);
      response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
    } else {
      response.authenticatorData = encode(r.authenticatorData);
      response.signature = encode(r.signature);
      response.userHandle = r.userHandle && r.userHandle.byteLength ? encode(r.userHandle) : null;
    }
    var out = {
      id: cred.id,
      rawId: encode(cred.rawId),
      type: cred.type,
      response: response,
      clientExtensionResults: plain(typeof cred.getClientExtensionResults === "function" ? cred.getClientExtensionResults() : {})
    };
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    return out;
  }

  function csrfToken(el) {
    if (el.dataset.csrf) {
      return el.dataset.csrf;
    }
    var meta = document.querySelector("meta[name=csrf-token]");
    if (meta && meta.content) {
      return meta.content;
    }
    var field = el.querySelector("input[name=_csrf]") || document.querySelector("input[name=_csrf]");
    return field ? field.value : "";
  }

  function nameInput(el) {
    var ref = el.dataset.nameInput;
    if (!ref) {
      return null;
    }
    var sel = "[name=\"" + ref.replace(/["\\]/g, "\\$&") + "\"]";
    return el.querySelector(sel) || document.getElementById(ref) || document.querySelector(sel);
  }

  // post sends JSON and returns the parsed answer with the status; a
  // non-JSON answer (an HTML error page) becomes a generic error.
  function post(el, url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": csrfToken(el)
      },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().then(function (data) {
        return { ok: res.ok, status: res.status, data: data || {} };
      }, function () {
        var msg = res.status === 403
          ? "This page has expired. Reload it and try again."
          : "Something went wrong on our side. Please try again in a moment.";
        return { ok: false, status: res.status, data: { error: msg } };
      });
    });
  }

  // message explains a failure of the browser's own dialog.
  function message(err, kind) {
    switch (err && err.name) {
      case "NotAllowedError":
        return "The request was cancelled or timed out. Try again when you are ready.";
      case "InvalidStateError":
        return kind === "register"
          ? "This security key is already registered to your account."
          : "This security key cannot be used here. Try another one.";
      case "SecurityError":
        return "Your browser refused security keys on this address.";
      case "NotSupportedError":
        return "This security key does not support what this site needs. Try another one.";
      case "AbortError":
        return "The request was cancelled.";
    }
    return "Something went wrong. Please try again.";
  }

  function Failure(text) {
    this.text = text;
  }

  function setup(el) {
    var kind = el.dataset.webauthn;
    if (!KINDS[kind] || !el.dataset.begin || !el.dataset.finish) {
      return;
    }
    var button = el.tagName === "BUTTON" ? el : el.querySelector("button");
    var status = el.querySelector("[data-webauthn-status]");
    if (!status) {
      status = document.createElement("p");
      status.setAttribute("data-webauthn-status", "");
      status.setAttribute("aria-live", "polite");
      status.className = "webauthn-status";
      (el.tagName === "BUTTON" ? el.parentNode : el).appendChild(status);
    }
    function show(text, isError) {
      status.textContent = text;
      status.classList.toggle("field-error", !!isError);
    }

    function done() {
      release(el);
    }

    function run(event) {
      if (event) {
        event.preventDefault();
      }
      if (el.getAttribute("aria-busy") === "true") {
        return;
      }
      var name = "";
      if (kind === "register") {
        var input = nameInput(el);
        name = input ? input.value.trim() : "";
        if (input && !name) {
          show("Enter a name for this key, so you can tell your keys apart.", true);
          input.focus();
          return;
        }
      }
      el.setAttribute("aria-busy", "true");
      if (button) {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      }
      show(kind === "register" ? "Follow your browser's instructions to add the key…" : "Follow your browser's instructions to use your key…", false);

      post(el, el.dataset.begin, kind === "register" ? { name: name } : {})
        .then(function (begun) {
          if (!begun.ok) {
            throw new Failure(begun.data.error || "Could not start. Please try again.");
          }
          var options = decodeOptions(begun.data);
          var ceremony = kind === "register"
            ? navigator.credentials.create(options)
            : navigator.credentials.get(options);
          return ceremony.then(function (cred) {
            if (!cred) {
              throw new Failure("No key was used. Please try again.");
            }
            return cred;
          }, function (err) {
            throw new Failure(message(err, kind));
          });
        })
        .then(function (cred) {
          var credential = encodeCredential(cred);
          var body = kind === "register" ? { name: name, credential: credential } : credential;
          show("Checking…", false);
          return post(el, el.dataset.finish, body);
        })
        .then(function (finished) {
          var to = finished.data.redirect;
          // Only a path on this site: never follow an answer elsewhere.
          if (finished.ok && typeof to === "string" && /^\/(?![\/\\])/.test(to)) {
            show("Done. Continuing…", false);
            window.location.assign(to);
            return;
          }
          throw new Failure(finished.data.error || "That did not work. Please try again.");
        })
        .catch(function (err) {
          show(err instanceof Failure ? err.text : "Something went wrong. Please try again.", true);
          done();
        });
    }

    if (el.tagName === "FORM") {
      el.addEventListener("submit", run);
    } else if (button) {
      button.addEventListener("click", run);
    }
    el.hidden = false;
  }

  // release makes an element's ceremony startable again.
  function release(el) {
    el.removeAttribute("aria-busy");
    el.querySelectorAll("button").forEach(function (b) {
      b.disabled = false;
      b.removeAttribute("aria-busy");
    });
    if (el.tagName === "BUTTON") {
      el.disabled = false;
    }
  }

  function start() {
    document.querySelectorAll("[data-webauthn]").forEach(setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  // Back to a page from the back/forward cache: the buttons work again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("[data-webauthn][aria-busy=true]").forEach(release);
  });
})();
