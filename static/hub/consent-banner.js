/* The hub's consent banner, for an organisation's own web site.

   <script src="https://<organisation>.<hub>/static/hub/consent-banner.js"
           data-key="phc_…" data-subject="(optional: your id for the signed-in person)" defer></script>

   It asks for consent to the organisation's purposes (defined on its Compliance → Consent page),
   records the visitor's choices in the hub (with the analytics project key: the key must allow
   this site's origin) and remembers them in this browser. The page reads them with
   window.hubConsent.get("analytics") (true / false / undefined before any choice) and hears of
   each choice as a "hub:consent" event on window; window.hubConsent.open() shows the banner again.
   No dependency, no cookie; styles set through the CSSOM, so a strict style-src still allows it. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.key) return;
  var hub = new URL(script.src).origin;
  var apiKey = script.dataset.key;
  var store = "hub-consent:" + hub;
  var saved = read();
  var subject = script.dataset.subject || saved.subject || "visitor-" + randomId();
  if (saved.subject && saved.subject !== subject) saved = {}; // another person signed in: their own choices
  var purposes = [];

  function read() {
    try {
      return JSON.parse(localStorage.getItem(store) || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function write(value) {
    try {
      localStorage.setItem(store, JSON.stringify(value));
    } catch (e) {
      /* private mode: the choice holds for this page only */
    }
  }

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function css(element, styles) {
    Object.keys(styles).forEach(function (name) {
      element.style[name] = styles[name];
    });
    return element;
  }

  function make(tag, text, styles) {
    var element = document.createElement(tag);
    if (text) element.textContent = text;
    return css(element, styles || {});
  }

  function answered() {
    var choices = saved.choices || {};
    return purposes.every(function (p) {
      return p.required || (choices[p.key] !== undefined && (saved.versions || {})[p.key] === p.version);
    });
  }

  function button(label, primary) {
    var b = make("button", label, {
      font: "inherit", padding: "0.5rem 1rem", borderRadius: "6px", cursor: "pointer",
      border: "1px solid #4338ca", background: primary ? "#4338ca" : "#fff", color: primary ? "#fff" : "#312e81",
    });
    b.type = "button";
    return b;
  }

  function show() {
    var old = document.getElementById("hub-consent");
    if (old) old.remove();
    var banner = make("section", "", {
      position: "fixed", left: "1rem", right: "1rem", bottom: "1rem", zIndex: "2147483000", maxWidth: "40rem",
      margin: "0 auto", padding: "1rem 1.25rem", background: "#fff", color: "#111827", borderRadius: "10px",
      boxShadow: "0 10px 30px rgba(0,0,0,.25)", font: "15px/1.45 system-ui, sans-serif",
      maxHeight: "80vh", overflowY: "auto",
    });
    banner.id = "hub-consent";
    banner.setAttribute("role", "dialog");
    banner.setAttribute("aria-labelledby", "hub-consent-title");
    var title = make("h2", "Your privacy choices", { fontSize: "1.1rem", margin: "0 0 .5rem" });
    title.id = "hub-consent-title";
    banner.appendChild(title);
    var boxes = {};
    var current = saved.choices || {};
    purposes.forEach(function (p) {
      var row = make("label", "", { display: "flex", gap: ".6rem", alignItems: "flex-start", margin: ".5rem 0" });
      var box = document.createElement("input");
      box.type = "checkbox";
      box.name = p.key;
      box.checked = p.required || current[p.key] === true;
      box.disabled = p.required;
      css(box, { marginTop: ".25rem", width: "1.1rem", height: "1.1rem" });
      var words = make("span");
      words.appendChild(make("strong", p.name + (p.required ? " (always on)" : "")));
      words.appendChild(make("span", " — " + p.description));
      row.appendChild(box);
      row.appendChild(words);
      banner.appendChild(row);
      boxes[p.key] = box;
    });
    var actions = make("div", "", { display: "flex", flexWrap: "wrap", gap: ".5rem", marginTop: ".75rem" });
    var all = button("Accept all", true);
    var none = button("Reject all", false);
    var chosen = button("Save my choices", false);
    actions.appendChild(all);
    actions.appendChild(none);
    actions.appendChild(chosen);
    banner.appendChild(actions);
    var status = make("p", "", { margin: ".5rem 0 0", color: "#b91c1c" });
    status.setAttribute("role", "status");
    banner.appendChild(status);

    function decide(pick) {
      var choices = {};
      purposes.forEach(function (p) {
        choices[p.key] = p.required ? true : pick(p);
      });
      send(choices, function (error) {
        if (error) {
          status.textContent = error;
          return;
        }
        banner.remove();
      });
    }
    all.addEventListener("click", function () { decide(function () { return true; }); });
    none.addEventListener("click", function () { decide(function () { return false; }); });
    chosen.addEventListener("click", function () { decide(function (p) { return boxes[p.key].checked; }); });
    document.body.appendChild(banner);
    all.focus();
  }

  function send(choices, done) {
    fetch(hub + "/api/v1/compliance/consent/banner/record", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ api_key: apiKey, subject: subject, choices: choices, source: location.href }),
    }).then(function (response) {
      if (!response.ok) throw new Error("Your choice could not be saved (" + response.status + "). Try again.");
      var versions = {};
      purposes.forEach(function (p) { versions[p.key] = p.version; });
      saved = { subject: subject, choices: choices, versions: versions, at: new Date().toISOString() };
      write(saved);
      window.dispatchEvent(new CustomEvent("hub:consent", { detail: choices }));
      done(null);
    }).catch(function (error) {
      done(error.message || "Your choice could not be saved. Try again.");
    });
  }

  window.hubConsent = {
    subject: subject,
    get: function (key) {
      return (saved.choices || {})[key];
    },
    open: show,
  };

  fetch(hub + "/api/v1/compliance/consent/banner/purposes?api_key=" + encodeURIComponent(apiKey))
    .then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    })
    .then(function (found) {
      purposes = found;
      if (purposes.length && !answered()) {
        if (document.body) show();
        else document.addEventListener("DOMContentLoaded", show);
      }
    })
    .catch(function () {
      /* the hub cannot be reached: nothing is assumed, nothing is shown */
    });
})();
