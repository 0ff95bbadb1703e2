// The dashboard's live connection (/ws/): the bell's unread count, toasts and the notification
// list update without a reload; the activity widget shows the tenant's events as they happen.
// After a drop it reconnects with exponential backoff and asks for what it missed.
//
// Toasts: only for notifications newer than the newest one the server knew when it drew the page
// (the bell's data-last-id), and each at most once in this browser. One tab toasts: the one
// holding the Web Lock "hub-toaster" (the next tab takes it over when that one closes), since
// localStorage alone reaches other tabs too late to stop two of them toasting the same id; the
// highest id toasted is kept in localStorage so a reload does not toast it again.
(function () {
  "use strict";
  var bell = document.querySelector("[data-live-bell]");
  if (!bell || !window.WebSocket) return;
  var lastId = parseInt(bell.getAttribute("data-last-id") || "0", 10) || 0;
  var attempt = 0;
  var socket = null;
  var root = document.documentElement;
  var TOASTED = "hub-toasted-up-to";

  function setState(state) { root.setAttribute("data-live", state); }

  function setUnread(n) {
    if (typeof n !== "number") return;
    var countEl = bell.querySelector("[data-unread-count]");
    countEl.textContent = n > 99 ? "99+" : String(n);  // the server counts up to 100
    countEl.hidden = n === 0;
    bell.querySelector("[data-bell-summary]").setAttribute(
      "aria-label", "Notifications: " + (n > 99 ? "more than 99" : n) + " unread");
  }

  // Opening the bell loads its dropdown: the latest notifications and "Mark all read" (htmx).
  bell.addEventListener("toggle", function () {
    var panel = bell.querySelector("[data-bell-panel]");
    if (bell.open && window.htmx) window.htmx.ajax("GET", panel.getAttribute("data-menu-url"), { target: panel });
  });

  // The bell's dropdown says the count after "Mark all read" (an htmx response's HX-Trigger).
  document.addEventListener("hub-unread", function (event) { setUnread(event.detail && event.detail.value); });

  function toasted() {
    try { return parseInt(localStorage.getItem(TOASTED) || "0", 10) || 0; } catch (e) { return 0; }
  }

  function setToasted(id) {
    try { localStorage.setItem(TOASTED, String(id)); } catch (e) {}
  }

  // Anything toasted before this page was drawn is at most the newest id the server knew then;
  // more means a database started afresh (development): forget it.
  if (toasted() > lastId) setToasted(lastId);

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  // A notification's link goes through notifications:open, which marks it read on the way.
  function openUrl(n) {
    return n.url ? bell.getAttribute("data-open-url").replace("/0/", "/" + n.id + "/") : "";
  }

  function link(n) {
    if (!n.url) return el("span", "", n.title);
    var a = el("a", "", n.title);
    a.href = openUrl(n);
    return a;
  }

  function show(n) {
    if (!n || n.id <= lastId) return;
    lastId = n.id;
    // The notifications page's data table reloads itself (core/table.html listens for table-refresh).
    if (document.getElementById("notifications-table")) document.body.dispatchEvent(new CustomEvent("table-refresh"));
    var list = document.querySelector("[data-live-notifications]");
    if (list) {
      var empty = list.querySelector("[data-empty]");
      if (empty) empty.remove();
      var li = el("li", "notification unread");
      li.setAttribute("data-notification-id", String(n.id));
      var main = el("div", "notification-main");
      main.appendChild(link(n));
      if (n.body) main.appendChild(el("p", "muted", n.body));
      main.appendChild(el("small", "muted", "just now · " + (n.event_label || "")));
      li.appendChild(main);
      list.insertBefore(li, list.firstChild);
    }
    if (window.hub) toastOnce(n);
  }

  // Without Web Locks every tab toasts (still once per tab and page).
  var toaster = !navigator.locks;
  if (navigator.locks) {
    navigator.locks.request("hub-toaster", function () {
      toaster = true;
      return new Promise(function () {});  // held until this page goes away
    });
  }

  function toastOnce(n) {
    if (!toaster || n.id <= toasted()) return;  // another tab toasts, or an earlier page showed it
    setToasted(n.id);
    // The kit's toast (static/hub/hub.js): the same corner and look as every other message.
    var toast = window.hub.toast(n.title, "info", openUrl(n) || undefined);
    toast.setAttribute("data-toast-id", String(n.id));
  }

  function activity(event) {
    var list = document.querySelector("[data-live-activity]");
    if (!list) return;
    var empty = list.querySelector("[data-empty]");
    if (empty) empty.remove();
    var li = el("li");
    if (event.url) {
      var a = el("a", "", event.text);
      a.href = event.url;
      li.appendChild(a);
    } else {
      li.appendChild(document.createTextNode(event.text || ""));
    }
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("small", "muted", "just now"));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 8) list.removeChild(list.lastChild);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + (bell.getAttribute("data-ws-path") || "/ws/"));
    setState("connecting");
    socket.onmessage = function (message) {
      var data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      // Pages of other apps follow the connection too: "hub-live" carries each message
      // (hello after every (re)connect, and signals such as new analytics events).
      document.dispatchEvent(new CustomEvent("hub-live", { detail: data }));
      if (data.type === "hello") {
        attempt = 0;
        setState("connected");
        setUnread(data.unread);
        socket.send(JSON.stringify({ type: "sync", after: lastId }));
      } else if (data.type === "sync") {
        (data.notifications || []).forEach(show);
        setUnread(data.unread);
      } else if (data.type === "notification") {
        show(data.notification);
        setUnread(data.unread);
      } else if (data.type === "unread") {
        setUnread(data.unread);
      } else if (data.type === "event") {
        activity(data.event);
      } else if (data.type === "signal") {
        // A page that cares listens for it (e.g. analytics/dashboard.js re-fetches its charts).
        document.dispatchEvent(new CustomEvent("hub-signal", { detail: { name: data.name } }));
      }
    };
    socket.onclose = function (event) {
      socket = null;
      if (event.code === 4403 || event.code === 1008) { setState("refused"); return; }
      setState("reconnecting");
      // 1 s, 2 s, 4 s … up to 30 s, with jitter so a restarted server is not stormed.
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      setTimeout(connect, delay);
    };
  }

  window.addEventListener("pagehide", function () { if (socket) socket.onclose = null; });
  connect();
})();
