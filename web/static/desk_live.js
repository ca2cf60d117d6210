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

// The presence banner says who else has the case open. Every 5 seconds
// the page tells the server it is still open (a POST with the page's
// CSRF token) and swaps in the banner the server answers. Without this
// script the banner is correct when the page loads.
(function () {
  "use strict";
  var EVERY = 5000;
  var banner = document.getElementById("desk-presence");
  var csrf = document.querySelector('input[name="_csrf"]');
  if (!banner || !banner.getAttribute("data-src") || !csrf || !window.fetch) {
    return;
  }
  var src = banner.getAttribute("data-src");

  function tick() {
    window.fetch(src, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "X-CSRF-Token": csrf.value, "X-Requested-With": "fetch" },
    }).then(function (res) {
      if (res.redirected || res.status === 401 || res.status === 403 || res.status === 404) {
        return;
      }
      if (!res.ok) {
        window.setTimeout(tick, EVERY);
        return;
      }
      return res.text().then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("desk-presence");
        if (fresh && fresh.innerHTML !== banner.innerHTML) {
          banner.className = fresh.className;
          banner.innerHTML = fresh.innerHTML;
        }
        window.setTimeout(tick, EVERY);
      });
    }).catch(function () {
      window.setTimeout(tick, EVERY);
    });
  }

  window.setTimeout(tick, EVERY);
})();

// Choosing a canned reply fills the reply box with its text (after what
// is already typed). Without this script the form's Use button does the
// same through the server.
(function () {
  "use strict";
  var pick = document.querySelector("select[data-canned-target]");
  if (!pick) {
    return;
  }
  var box = document.getElementById(pick.getAttribute("data-canned-target"));
  if (!box) {
    return;
  }
  pick.addEventListener("change", function () {
    var opt = pick.options[pick.selectedIndex];
    var text = opt ? opt.getAttribute("data-body") : "";
    if (!text) {
      return;
    }
    var typed = box.value.replace(/\s+$/, "");
    box.value = typed ? typed + "\n\n" + text : text;
    box.focus();
  });
})();
