// docgen's page behaviour: the table of contents' current section, the dark-mode toggle,
// the navigation drawer on narrow screens, and the copy buttons of code cells.
(function () {
  "use strict";
  var links = Array.prototype.slice.call(document.querySelectorAll(".toc a"));
  if (!links.length || !("IntersectionObserver" in window)) return;
  var byId = {};
  links.forEach(function (a) { byId[decodeURIComponent(a.hash.slice(1))] = a; });
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) return;
      links.forEach(function (a) { a.classList.remove("active"); });
      var link = byId[entry.target.id];
      if (link) link.classList.add("active");
    });
  }, { rootMargin: "0px 0px -70% 0px" });
  Object.keys(byId).forEach(function (id) {
    var el = document.getElementById(id);
    if (el) observer.observe(el);
  });
})();

(function () {
  "use strict";
  var root = document.documentElement;
  var toggle = document.querySelector(".theme-toggle");
  var system = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function isDark() {
    return root.dataset.theme ? root.dataset.theme === "dark" : !!(system && system.matches);
  }
  function show() { if (toggle) toggle.setAttribute("aria-pressed", String(isDark())); }
  if (toggle) {
    toggle.addEventListener("click", function () {
      var next = isDark() ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem("docgen-theme", next); } catch (e) { /* not remembered */ }
      show();
    });
  }
  if (system && system.addEventListener) system.addEventListener("change", show);
  show();

  var menu = document.querySelector(".menu-button");
  var sidebar = document.querySelector(".sidebar");
  function setOpen(open) {
    document.body.classList.toggle("nav-open", open);
    if (menu) menu.setAttribute("aria-expanded", String(open));
  }
  if (menu && sidebar) {
    menu.addEventListener("click", function (e) {
      e.stopPropagation();
      setOpen(!document.body.classList.contains("nav-open"));
    });
    document.addEventListener("click", function (e) {
      if (document.body.classList.contains("nav-open") && !sidebar.contains(e.target)) setOpen(false);
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && document.body.classList.contains("nav-open")) { setOpen(false); menu.focus(); }
    });
  }
  // The current page in view in a long sidebar.
  var current = document.querySelector(".sidebar li.current");
  if (current && sidebar && sidebar.scrollHeight > sidebar.clientHeight) {
    sidebar.scrollTop += current.getBoundingClientRect().top - sidebar.getBoundingClientRect().top
      - sidebar.clientHeight / 3;
  }

  // Copy buttons: the cell's code only, never its prompt or outputs.
  Array.prototype.forEach.call(document.querySelectorAll(".cell-input"), function (cell) {
    var pre = cell.querySelector("pre");
    if (!pre) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy the code");
    button.addEventListener("click", function () {
      var text = pre.innerText.replace(/\n$/, "");
      var done = function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 1500);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { button.textContent = "Press Ctrl+C"; });
      }
    });
    cell.appendChild(button);
  });
})();
