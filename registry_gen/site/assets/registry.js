// registry-gen: copy buttons for models:/ URIs. No user data is evaluated here:
// the URI is read from a data attribute and only ever written to the clipboard.
(function () {
  "use strict";
  function copy(button) {
    var text = button.getAttribute("data-copy") || "";
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.classList.add("rg-copied");
      setTimeout(function () {
        button.textContent = label;
        button.classList.remove("rg-copied");
      }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "absolute";
      area.style.left = "-9999px";
      document.body.appendChild(area);
      area.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* nothing to do */ }
      document.body.removeChild(area);
    }
  }
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof Element) {
      var button = target.closest("button.rg-copy");
      if (button) { copy(button); }
    }
  });
})();
