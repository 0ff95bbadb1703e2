// Service worker for Web Push: shows the hub's notifications and opens their page on click.
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { title: event.data.text() }; }
  event.waitUntil(self.registration.showNotification(data.title || "ReactDjango-Hub", {
    body: data.body || "", tag: data.tag, data: { url: data.url || "/" },
  }));
});
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(clients.openWindow(event.notification.data.url));
});
