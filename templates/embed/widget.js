/*
 * Helpdesk website widget: a support form that raises a ticket.
 *
 *   <script src="https://help.example.com/embed/v1/widget.js"
 *           data-site-key="hd_..." async></script>
 *
 * Optional attributes: data-category (a category id), data-mode="button" (a floating
 * button that opens the form instead of a form in place), data-title.
 *
 * No dependencies, no globals, no cookies. The form lives in a shadow root, so the host
 * page's styles do not reach it and its styles do not reach the page. Everything shown is
 * set as text, never as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.getAttribute("data-site-key")) {
    return;
  }
  var siteKey = script.getAttribute("data-site-key");
  var category = script.getAttribute("data-category") || "";
  var floating = script.getAttribute("data-mode") === "button";
  var title = script.getAttribute("data-title") || "Contact support";
  var endpoint = new URL(script.src, document.baseURI).origin + "/embed/v1";

  var STYLE = [
    // !important: a host page's own !important rules for the host element (say `* { color: red
    // !important }`) would otherwise win, and every inherited property would follow them inside.
    ":host { all: initial !important; display: block !important; font: 16px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif !important; color: #1d2430 !important; }",
    ":host([data-floating]) { position: fixed !important; right: 16px !important; bottom: 16px !important; z-index: 2147483000 !important; display: flex !important; flex-direction: column !important; align-items: flex-end !important; }",
    "* { box-sizing: border-box; }",
    ".panel { background: #fff; border: 1px solid #d5dbe3; border-radius: 8px; padding: 16px; max-width: 28em; width: 100%; }",
    ":host([data-floating]) .panel { width: min(24em, calc(100vw - 32px)); max-height: calc(100vh - 96px); overflow: auto; margin-bottom: 8px; box-shadow: 0 8px 24px rgba(0,0,0,.18); }",
    "h2 { font-size: 1.15em; margin: 0 0 12px; }",
    ".field { margin: 0 0 12px; }",
    "label { display: block; font-weight: 600; margin: 0 0 4px; }",
    ".optional { font-weight: 400; color: #4f5b6b; }",
    "input, textarea { display: block; width: 100%; font: inherit; color: inherit; padding: 8px 10px; border: 1px solid #8a96a6; border-radius: 6px; background: #fff; }",
    "textarea { min-height: 7em; resize: vertical; }",
    "input:focus-visible, textarea:focus-visible, button:focus-visible { outline: 3px solid #1f5fbf; outline-offset: 2px; }",
    "[aria-invalid='true'] { border-color: #a3201b; box-shadow: 0 0 0 1px #a3201b; }",
    ".error { color: #a3201b; font-weight: 600; margin: 4px 0 0; }",
    ".trap { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }",
    "button { font: inherit; font-weight: 600; padding: 8px 16px; border: 1px solid #1f5fbf; border-radius: 6px; background: #1f5fbf; color: #fff; cursor: pointer; }",
    "button[disabled] { opacity: .6; cursor: progress; }",
    ".status { margin: 12px 0 0; }",
    ".status.ok { color: #17663a; font-weight: 600; }",
    ".status.bad { color: #a3201b; font-weight: 600; }",
    ".opener { border-radius: 999px; padding: 12px 20px; box-shadow: 0 4px 12px rgba(0,0,0,.2); }"
  ].join("\n");

  var FIELDS = [
    { name: "name", label: "Your name", type: "text", autocomplete: "name", required: true, max: 120 },
    { name: "email", label: "Email", type: "email", autocomplete: "email", required: true, max: 254 },
    { name: "phone", label: "Phone", type: "tel", autocomplete: "tel", required: false, max: 40 },
    { name: "subject", label: "Subject", type: "text", autocomplete: "off", required: true, max: 200 },
    { name: "body", label: "How can we help?", type: "textarea", required: true, max: 5000 }
  ];

  var uid = "hd" + Math.random().toString(36).slice(2, 10);
  var host = document.createElement("div");
  host.setAttribute("data-helpdesk-widget", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  applyStyle(root);

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function applyStyle(target) {
    // A constructed sheet is not an inline style, so a host page's CSP does not block it.
    if (target.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
      try {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(STYLE);
        target.adoptedStyleSheets = [sheet];
        return;
      } catch (ignored) {
        // fall back to a style element below
      }
    }
    target.appendChild(el("style", {}, STYLE));
  }

  // -- the form ---------------------------------------------------------------------

  var panel = el("section", { class: "panel", "aria-labelledby": uid + "-title" });
  panel.appendChild(el("h2", { id: uid + "-title" }, title));
  var form = el("form", { novalidate: "" });
  var inputs = {};
  FIELDS.forEach(function (field) {
    var id = uid + "-" + field.name;
    var wrapper = el("div", { class: "field" });
    var label = el("label", { for: id }, field.label);
    if (!field.required) {
      label.appendChild(el("span", { class: "optional" }, " (optional)"));
    }
    var input = field.type === "textarea"
      ? el("textarea", { id: id, name: field.name, maxlength: String(field.max) })
      : el("input", { id: id, name: field.name, type: field.type, autocomplete: field.autocomplete, maxlength: String(field.max) });
    if (field.required) {
      input.setAttribute("required", "");
    }
    var error = el("p", { class: "error", id: id + "-error", hidden: "" });
    wrapper.appendChild(label);
    wrapper.appendChild(input);
    wrapper.appendChild(error);
    form.appendChild(wrapper);
    inputs[field.name] = { input: input, error: error };
  });
  // A field no person sees or reaches: only a bot fills it in.
  var trap = el("div", { class: "trap", "aria-hidden": "true" });
  trap.appendChild(el("label", { for: uid + "-website" }, "Leave this empty"));
  var trapInput = el("input", { id: uid + "-website", name: "website", type: "text", tabindex: "-1", autocomplete: "off" });
  trap.appendChild(trapInput);
  form.appendChild(trap);
  var submit = el("button", { type: "submit" }, "Send");
  form.appendChild(submit);
  var status = el("p", { class: "status", role: "status", "aria-live": "polite" });
  panel.appendChild(form);
  panel.appendChild(status);

  var formToken = null;
  var attemptKey = null;

  function fetchToken() {
    return fetch(endpoint + "/form-token?site_key=" + encodeURIComponent(siteKey), { credentials: "omit" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("token");
        }
        return response.json();
      })
      .then(function (data) {
        formToken = data.form_token;
      });
  }

  function newAttemptKey() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    return uid + "-" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function say(text, kind) {
    status.textContent = text;
    status.className = "status " + (kind || "");
  }

  function clearErrors() {
    Object.keys(inputs).forEach(function (name) {
      inputs[name].input.removeAttribute("aria-invalid");
      inputs[name].input.removeAttribute("aria-describedby");
      inputs[name].error.hidden = true;
      inputs[name].error.textContent = "";
    });
  }

  function markError(name, message) {
    var field = inputs[name];
    if (!field) {
      return false;
    }
    field.input.setAttribute("aria-invalid", "true");
    field.input.setAttribute("aria-describedby", field.error.id);
    // The server names the field first ("'phone' must be ..."); the label already does.
    var text = message.replace(/^'[a-z_]+':? ?/, "");
    field.error.textContent = text.charAt(0).toUpperCase() + text.slice(1);
    field.error.hidden = false;
    field.input.focus();
    return true;
  }

  form.addEventListener("input", function () {
    attemptKey = null; // a changed form is a new request, not a double submit
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    var missing = FIELDS.filter(function (field) {
      return field.required && !inputs[field.name].input.value.trim();
    })[0];
    if (missing) {
      markError(missing.name, "Please fill in this field.");
      return;
    }
    var body = { form_token: formToken || "", website: trapInput.value };
    FIELDS.forEach(function (field) {
      var value = inputs[field.name].input.value.trim();
      if (value) {
        body[field.name] = value;
      }
    });
    if (category) {
      body.category_id = category;
    }
    attemptKey = attemptKey || newAttemptKey();
    submit.disabled = true;
    say("Sending…");
    fetch(endpoint + "/tickets", {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", "X-Helpdesk-Site-Key": siteKey, "Idempotency-Key": attemptKey },
      body: JSON.stringify(body)
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { status: response.status, data: data || {} };
        }, function () {
          return { status: response.status, data: {} };
        });
      })
      .then(function (answer) {
        submit.disabled = false;
        if (answer.status === 201) {
          form.hidden = true;
          var number = answer.data.number ? " Your ticket number is " + answer.data.number + "." : "";
          say((answer.data.message || "Thank you.") + number, "ok");
          // Keyboard and screen reader users land on the outcome, not on a hidden button.
          status.setAttribute("tabindex", "-1");
          status.focus();
          return;
        }
        var error = (answer.data && answer.data.error) || {};
        if (error.field === "form_token" && !/quickly/.test(error.message || "")) {
          // An expired or refused token needs a new one; one sent too soon is still good.
          fetchToken().catch(function () {});
        }
        if (answer.status === 422 && markError(error.field, error.message || "Please check this field.")) {
          say("Please check the marked field.", "bad");
        } else if (answer.status === 429) {
          say("Too many requests from here. Please try again later.", "bad");
        } else {
          say(error.message || "Sorry, the form could not be sent. Please try again later.", "bad");
        }
      })
      .catch(function () {
        submit.disabled = false;
        say("Sorry, the form could not be sent. Please check your connection and try again.", "bad");
      });
  });

  // -- placing it -------------------------------------------------------------------

  if (floating) {
    host.setAttribute("data-floating", "");
    panel.hidden = true;
    panel.setAttribute("id", uid + "-panel");
    var opener = el("button", { type: "button", class: "opener", "aria-expanded": "false", "aria-controls": uid + "-panel" }, title);
    opener.addEventListener("click", function () {
      var open = panel.hidden;
      panel.hidden = !open;
      opener.setAttribute("aria-expanded", String(open));
      if (open) {
        inputs.name.input.focus();
      }
    });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        panel.hidden = true;
        opener.setAttribute("aria-expanded", "false");
        opener.focus();
      }
    });
    root.appendChild(panel);
    root.appendChild(opener);
    document.body.appendChild(host);
  } else {
    root.appendChild(panel);
    script.parentNode.insertBefore(host, script.nextSibling);
  }
  fetchToken().catch(function () {
    // This page may not use the form (its origin is not allowed) or the service is down:
    // say so, and offer no form that could only fail.
    form.hidden = true;
    say("The support form is not available right now.", "bad");
  });
})();
