// Live reload for `docgen serve` (injected into served pages only, never into a built site).
// Reloads this page when a build changed it, keeping the scroll position and the anchor;
// shows "running…" while a build runs and the build's failure as an overlay until it is fixed;
// offers a "run" button on the page of a GPU notebook, which runs only when asked.
(function () {
  "use strict";
  var me = document.currentScript;
  var page = me.dataset.page;
  var version = me.dataset.version;
  var scrollKey = "docgen-serve-scroll:" + page;

  if ("scrollRestoration" in history) history.scrollRestoration = "manual";
  var saved = sessionStorage.getItem(scrollKey);
  if (saved !== null) {
    sessionStorage.removeItem(scrollKey);
    var restore = function () { window.scrollTo(0, Number(saved)); };
    restore();
    window.addEventListener("load", restore);
  }

  function element(id, css) {
    var el = document.getElementById(id);
    if (!el) {
      el = document.createElement("div");
      el.id = id;
      el.style.cssText = css;
      document.body.appendChild(el);
    }
    return el;
  }

  function remove(id) {
    var el = document.getElementById(id);
    if (el) el.remove();
  }

  function showRunning(on) {
    if (!on) return remove("docgen-serve-running");
    element("docgen-serve-running",
      "position:fixed;top:8px;right:8px;z-index:2147483647;padding:4px 10px;" +
      "background:#1f6feb;color:#fff;font:13px sans-serif;border-radius:4px")
      .textContent = "running…";
  }

  function showError(text) {
    if (!text) return remove("docgen-serve-overlay");
    var box = element("docgen-serve-overlay",
      "position:fixed;inset:0;z-index:2147483646;overflow:auto;padding:24px;" +
      "background:rgba(20,20,20,.92);color:#fff;font:14px sans-serif");
    box.replaceChildren();
    var title = document.createElement("h2");
    title.textContent = "docgen: the last build failed (the page shows the last good build)";
    title.style.cssText = "margin:0 0 12px;color:#ff7b72;font:bold 16px sans-serif";
    var pre = document.createElement("pre");
    pre.textContent = text;
    pre.style.cssText = "white-space:pre-wrap;font:13px monospace;margin:0";
    box.append(title, pre);
  }

  // A GPU notebook runs only when asked (not on every save): the button asks the server.
  function showRun(on) {
    if (!on) return remove("docgen-serve-run");
    if (document.getElementById("docgen-serve-run")) return;
    var button = document.createElement("button");
    button.id = "docgen-serve-run";
    button.type = "button";
    button.textContent = "run";
    button.title = "Run this notebook (it needs a GPU, so it does not run on every save)";
    button.style.cssText =
      "position:fixed;top:8px;right:90px;z-index:2147483647;padding:4px 10px;border:0;" +
      "background:#2da44e;color:#fff;font:13px sans-serif;border-radius:4px;cursor:pointer";
    button.addEventListener("click", function () {
      button.disabled = true;
      fetch("/_docgen_serve/run?page=" + encodeURIComponent(page), { method: "POST" })
        .then(function (r) { if (!r.ok) button.disabled = false; })
        .catch(function () { button.disabled = false; });
    });
    document.body.appendChild(button);
  }

  function reload() {
    sessionStorage.setItem(scrollKey, String(window.scrollY));
    location.reload();
  }

  var events = new EventSource(
    "/_docgen_serve/events?page=" + encodeURIComponent(page) + "&version=" + version);
  events.onmessage = function (message) {
    var state = JSON.parse(message.data);
    if (state.reload) {
      events.close();
      return reload();
    }
    showRunning(state.building);
    showRun(state.runnable && !state.building);
    showError(state.error);
  };
})();
