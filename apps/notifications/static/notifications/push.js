// Opt in to browser notifications (Web Push): registers the service worker, subscribes with the
// server's VAPID public key and sends the subscription to the hub.
(function () {
  "use strict";
  var box = document.querySelector("[data-push]");
  var button = box && box.querySelector("[data-push-toggle]");
  if (!button) return;
  var status = box.querySelector("[data-push-status]");
  function say(text) { if (status) status.textContent = text; }
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    button.disabled = true;
    say("This browser does not support push notifications.");
    return;
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function key(base64) {
    var padded = (base64 + "===".slice((base64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body),
    });
  }
  var registration = navigator.serviceWorker.register(box.getAttribute("data-worker-url"));
  registration.then(function (reg) { return reg.pushManager.getSubscription(); }).then(function (sub) {
    if (sub) { button.textContent = "Disable browser notifications"; button.dataset.on = "1"; }
  });
  button.addEventListener("click", function () {
    registration.then(function (reg) {
      if (button.dataset.on) {
        return reg.pushManager.getSubscription().then(function (sub) {
          if (!sub) return;
          return post(box.getAttribute("data-unsubscribe-url"), { endpoint: sub.endpoint }).then(function () { return sub.unsubscribe(); });
        }).then(function () {
          delete button.dataset.on;
          button.textContent = "Enable browser notifications";
          say("Browser notifications are off on this device.");
        });
      }
      return Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") { say("Notifications are blocked for this site in the browser."); return; }
        return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key(box.getAttribute("data-vapid-key")) })
          .then(function (sub) { return post(box.getAttribute("data-subscribe-url"), sub.toJSON()); })
          .then(function (response) {
            if (!response.ok) throw new Error("the hub refused the subscription");
            button.dataset.on = "1";
            button.textContent = "Disable browser notifications";
            say("Browser notifications are on for this device.");
          });
      });
    }).catch(function (error) { say("Could not change browser notifications: " + error.message); });
  });
})();
