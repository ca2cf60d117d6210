// The staff case page's evidence region updates itself: while checks run
// (data-busy="true") it fetches its own fragment every 2 seconds, and
// afterwards every 10 seconds, since a challenge can be answered at any
// time. Without this script the page is complete and has a Refresh link.
(function () {
  "use strict";
  var FAST = 2000;
  var SLOW = 10000;
  var region = document.getElementById("evidence-live");
  if (!region || !region.getAttribute("data-src") || !window.fetch) {
    return;
  }
  var src = region.getAttribute("data-src");
  var last = null;

  function schedule() {
    var busy = region.getAttribute("data-busy") === "true";
    window.setTimeout(poll, busy ? FAST : SLOW);
  }

  // swap puts the fetched region in place of the current one, unless
  // nothing changed: then the DOM (and focus, and any open <details>) is
  // left alone.
  function swap(html) {
    if (html === last) {
      return;
    }
    last = html;
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("evidence-live");
    if (!fresh) {
      return;
    }
    region.setAttribute("data-busy", fresh.getAttribute("data-busy") || "false");
    if (fresh.innerHTML === region.innerHTML) {
      return;
    }
    var open = {};
    region.querySelectorAll("details[id]").forEach(function (d) {
      open[d.id] = d.open;
    });
    var focused = document.activeElement && region.contains(document.activeElement) ? document.activeElement.id : "";
    region.innerHTML = fresh.innerHTML;
    region.querySelectorAll("details[id]").forEach(function (d) {
      if (open[d.id]) {
        d.open = true;
      }
    });
    if (focused) {
      var again = document.getElementById(focused);
      if (again) {
        again.focus();
      }
    }
  }

  function poll() {
    window.fetch(src, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "X-Requested-With": "fetch" },
    }).then(function (res) {
      // Signed out (a redirect to the sign-in page), no longer allowed,
      // or the case is gone: stop; a reload shows why.
      if (res.redirected || res.status === 401 || res.status === 403 || res.status === 404) {
        return;
      }
      if (!res.ok) {
        schedule();
        return;
      }
      return res.text().then(function (html) {
        swap(html);
        schedule();
      });
    }).catch(function () {
      // A network hiccup: try again later.
      region.setAttribute("data-busy", "false");
      schedule();
    });
  }

  schedule();
})();
