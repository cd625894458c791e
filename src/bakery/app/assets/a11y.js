/* Names for the dropdowns that screen readers can announce. Dash's dropdown (react-select 1) leaves its search box
   unnamed and marks the shown value as an "option" outside any list; each dropdown takes the text of its field's
   label instead, and the stray role goes. Served from /assets, so the content security policy allows it
   (script-src 'self'); checked by tests/app/test_accessibility_browser.py. */
(function () {
  "use strict";
  function name(select) {
    var field = select.closest(".field");
    var label = field && field.querySelector(":scope > label");
    return label ? label.textContent.trim() : "";
  }
  function fix() {
    document.querySelectorAll(".Select").forEach(function (select) {
      var text = name(select);
      select.querySelectorAll(".Select-input").forEach(function (box) {
        var target = box.querySelector("input") || box;
        if (text && target.getAttribute("aria-label") !== text) target.setAttribute("aria-label", text);
      });
      select.querySelectorAll(".Select-value-label[role=option]").forEach(function (value) {
        value.removeAttribute("role");
        value.removeAttribute("aria-selected");
      });
    });
  }
  var queued = false;
  new MutationObserver(function () {
    if (queued) return;
    queued = true;
    window.requestAnimationFrame(function () {
      queued = false;
      fix();
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
