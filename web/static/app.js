// Progressive enhancement only: every page works without this file.
// A submitted form marks its button busy so a second click does not post
// twice while the server answers.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) {
      return;
    }
    var buttons = form.querySelectorAll("button[type=submit], button:not([type])");
    buttons.forEach(function (button) {
      if (button.getAttribute("aria-busy") === "true") {
        event.preventDefault();
        return;
      }
      button.setAttribute("aria-busy", "true");
    });
  });
  // A page shown again from the back/forward cache must be usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[aria-busy=true]").forEach(function (button) {
      button.removeAttribute("aria-busy");
    });
  });
})();
