// The kit's file uploader: a drop zone ([data-uploader]) that sends files with the tus protocol
// (resumable uploads) to data-endpoint, several at once, a progress bar and words per file.
// A lost connection is retried from the server's offset; a reload resumes too (the upload's
// address is kept in localStorage, keyed by the file's name, size and date). When a file is in,
// `table-refresh` fires on <body> so the data tables reload. Without JavaScript the zone stays
// hidden and the plain form beside it ([data-uploader-fallback]) uploads one file.
(function () {
  var CHUNK = 5 * 1024 * 1024;
  var RETRIES = [1000, 2000, 4000, 8000, 15000, 30000];

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function b64(text) {
    return btoa(unescape(encodeURIComponent(String(text))));
  }

  function sizeText(bytes) {
    var units = ["bytes", "KB", "MB", "GB", "TB"], i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return (i ? bytes.toFixed(1) : bytes) + " " + units[i];
  }

  // One HTTP request; resolves with the XHR whatever its status, rejects on a network error.
  function request(method, url, headers, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Tus-Resumable", "1.0.0");
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      Object.keys(headers || {}).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      if (onProgress) xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = xhr.onabort = xhr.ontimeout = function () { reject(new Error("network")); };
      xhr.send(body || null);
    });
  }

  // The words of a refusal (problem+json): the field's message when there is one.
  function problemText(xhr) {
    try {
      var problem = JSON.parse(xhr.responseText);
      if (problem.errors && problem.errors.length) return problem.errors[0].message;
      if (problem.detail) return problem.detail;
    } catch (e) { /* not JSON */ }
    return "The upload was refused (" + xhr.status + ").";
  }

  function Upload(zone, file) {
    this.zone = zone;
    this.file = file;
    this.key = "hub-tus:" + zone.dataset.endpoint + ":" + (zone.dataset.folder || "") + ":" +
      [file.name, file.size, file.lastModified].join(":");
    this.row = document.createElement("li");
    this.row.className = "upload-item";
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name + " (" + sizeText(file.size) + ")";
    this.bar = document.createElement("progress");
    this.bar.max = 100;
    this.bar.value = 0;
    this.bar.setAttribute("aria-label", "Upload of " + file.name);
    this.status = document.createElement("span");
    this.status.className = "upload-status muted";
    this.row.append(name, this.bar, this.status);
    zone.querySelector("[data-uploader-list]").append(this.row);
  }

  Upload.prototype.say = function (text, tone) {
    this.status.textContent = text;
    this.status.className = "upload-status " + (tone === "danger" ? "upload-error" : tone === "success" ? "upload-done" : "muted");
    this.row.dataset.state = tone || "busy";
  };

  Upload.prototype.progress = function (sent) {
    var percent = this.file.size ? Math.floor((100 * sent) / this.file.size) : 100;
    this.bar.value = percent;
    this.say("Uploading… " + percent + " %");
  };

  Upload.prototype.create = function () {
    var self = this, meta = ["filename " + b64(this.file.name)];
    if (this.zone.dataset.folder) meta.push("folder " + b64(this.zone.dataset.folder));
    return request("POST", this.zone.dataset.endpoint, {
      "Upload-Length": String(this.file.size), "Upload-Metadata": meta.join(",")
    }).then(function (xhr) {
      if (xhr.status !== 201) throw { refused: problemText(xhr) };
      self.url = xhr.getResponseHeader("Location");
      try { localStorage.setItem(self.key, self.url); } catch (e) { /* private mode */ }
      return 0;
    });
  };

  // Where the server stands (HEAD), or a new upload when it has forgotten this one.
  Upload.prototype.offset = function () {
    var self = this;
    if (!this.url) return this.create();
    return request("HEAD", this.url).then(function (xhr) {
      if (xhr.status === 200) {
        if (xhr.getResponseHeader("Hub-Document")) return self.file.size;
        return parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
      }
      self.url = null;
      return self.create();
    });
  };

  Upload.prototype.send = function (offset) {
    var self = this;
    if (offset >= this.file.size) return Promise.resolve();
    var end = Math.min(offset + CHUNK, this.file.size);
    return request("PATCH", this.url, {
      "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream"
    }, this.file.slice(offset, end), function (loaded) { self.progress(offset + loaded); }).then(function (xhr) {
      if (xhr.status === 409) return self.offset().then(function (at) { return self.send(at); });
      if (xhr.status !== 204) throw { refused: problemText(xhr) };
      self.attempt = 0;
      return self.send(parseInt(xhr.getResponseHeader("Upload-Offset"), 10));
    });
  };

  Upload.prototype.run = function () {
    var self = this;
    this.url = this.url || (function () { try { return localStorage.getItem(self.key); } catch (e) { return null; } })();
    this.say(this.attempt ? "Connection lost: trying again…" : "Starting…");
    return this.offset().then(function (at) { return self.send(at); }).then(function () {
      try { localStorage.removeItem(self.key); } catch (e) { /* private mode */ }
      self.bar.value = 100;
      self.say("Uploaded.", "success");
      if (window.htmx) window.htmx.trigger(document.body, "table-refresh");
    }, function (error) {
      if (error && error.refused) {
        try { localStorage.removeItem(self.key); } catch (e) { /* private mode */ }
        self.say(error.refused, "danger");
        return;
      }
      var delay = RETRIES[Math.min(self.attempt || 0, RETRIES.length - 1)];
      self.attempt = (self.attempt || 0) + 1;
      self.say("Connection lost: trying again in " + Math.round(delay / 1000) + " s…");
      return new Promise(function (resolve) { setTimeout(resolve, delay); }).then(function () { return self.run(); });
    });
  };

  function start(zone, files) {
    Array.prototype.forEach.call(files, function (file) { new Upload(zone, file).run(); });
  }

  document.querySelectorAll("[data-uploader]").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    zone.hidden = false;
    document.querySelectorAll("[data-uploader-fallback]").forEach(function (form) { form.hidden = true; });
    zone.querySelector("[data-uploader-pick]").addEventListener("click", function () { input.click(); });
    input.addEventListener("change", function () { start(zone, input.files); input.value = ""; });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("is-dragging"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("is-dragging"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) start(zone, e.dataTransfer.files);
    });
  });
})();
