// The dashboards' own page views (vendored here, no CDN): one $pageview per page a member opens,
// sent to this host's capture endpoint with the organisation's built-in project key. Only the
// path is sent (never the query string or the fragment, where secrets may sit), with the title
// and the referrer (also without its query). Nothing is sent when the browser asks not to be
// tracked (Do-Not-Track, Global Privacy Control); the organisation can switch it off on the
// project keys page, and then the layout does not include this file at all.
(function () {
  "use strict";
  var me = document.getElementById("hub-page-views");
  if (!me || !window.fetch) return;
  if (navigator.doNotTrack === "1" || window.doNotTrack === "1" || navigator.globalPrivacyControl === true) return;
  var key = me.getAttribute("data-key");
  var distinctId = me.getAttribute("data-distinct-id");
  var url = me.getAttribute("data-capture-url");
  var sentPath = null;

  function withoutQuery(address) {
    if (!address) return "";
    try {
      var u = new URL(address, location.href);
      return u.origin + u.pathname;
    } catch (e) {
      return "";
    }
  }

  function send() {
    var path = location.pathname;
    if (path === sentPath) return;  // htmx changed only the query string (a filter, a page)
    sentPath = path;
    var body = {
      api_key: key,
      event: "$pageview",
      distinct_id: distinctId,
      properties: {
        $current_url: location.origin + path,
        $host: location.host,
        $pathname: path,
        $title: document.title,
        $referrer: withoutQuery(document.referrer),
        $screen_width: window.screen ? window.screen.width : null,
        $lib: "hub-pageview"
      }
    };
    fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      keepalive: true
    }).catch(function () {});  // a lost page view is not worth an error
  }

  send();
  // htmx navigations that push a new path into the history are page views too.
  document.addEventListener("htmx:pushedIntoHistory", send);
})();
