// The live events page (and a person's events): a row opens on its properties. Live: when the writer announces new events (a "signal" on the dashboard's
// websocket, passed on by notifications/live.js as a "hub-live" event), the table's first page
// reloads itself (core/table.html listens for table-refresh), at most once a second. Paused, the
// page only counts what arrived; resuming reloads. Off the first page, or sorted oldest first,
// it says that new events arrived instead of moving the rows under the reader's eyes.
(function () {
  "use strict";
  // A click anywhere on an event's row opens (or closes) its properties; its links, its
  // summary (a keyboard's way in) and the opened properties keep their own clicks.
  document.addEventListener("click", function (event) {
    var target = event.target;
    var row = target.closest && target.closest("tr[data-event-row]");
    if (!row || target.closest("a, button, summary, .event-properties")) return;
    var details = row.querySelector("details.event-details");
    if (details) details.open = !details.open;
  });

  var bar = document.querySelector("[data-live-bar]");
  if (!bar) return;
  var text = bar.querySelector("[data-live-text]");
  var toggle = bar.querySelector("[data-live-toggle]");
  var paused = false;
  var waiting = 0;
  var timer = null;
  var MIN_GAP = 1000;
  var last = 0;
  var hellos = 0;

  function onFirstPage() {
    var params = new URLSearchParams(location.search);
    var page = params.get("page");
    var sort = params.get("sort");
    return (!page || page === "1") && (!sort || sort === "-timestamp");
  }

  function say(words) { text.textContent = words; }

  function refresh() {
    timer = null;
    last = Date.now();
    waiting = 0;
    document.body.dispatchEvent(new CustomEvent("table-refresh"));
    say("Live: new events appear as they are stored.");
  }

  function arrived(count) {
    waiting += count;
    if (paused || !onFirstPage()) {
      say(waiting + (waiting === 1 ? " new event" : " new events") + (paused ? " while paused." : ": go to the first page to see them."));
      return;
    }
    if (!timer) timer = setTimeout(refresh, Math.max(0, MIN_GAP - (Date.now() - last)));
  }

  document.addEventListener("hub-live", function (event) {
    var data = event.detail || {};
    if (data.type === "signal" && data.topic === "analytics.events") arrived(data.count || 1);
    else if (data.type === "hello" && hellos++ > 0) arrived(0);  // reconnected: catch up on what was missed
  });

  toggle.addEventListener("click", function () {
    paused = !paused;
    toggle.setAttribute("aria-pressed", String(paused));
    toggle.textContent = paused ? "Resume" : "Pause";
    bar.setAttribute("data-state", paused ? "paused" : "live");
    if (paused) say("Paused: new events are counted, not shown.");
    else if (waiting && onFirstPage()) refresh();
    else say("Live: new events appear as they are stored.");
  });
  last = Date.now();
})();
