// The console's own script: live updates of the queue (server-sent events
// from the console, which follows the gateway), the reply window counting
// down, the lease renewed while a case page is open (by its event stream),
// and keyboard shortcuts. Every action also works without it.
(function () {
  "use strict";
  var body = document.body;
  var caseID = body.getAttribute("data-case") || "";
  var live = document.getElementById("live");

  function setLive(on) {
    if (!live) { return; }
    live.hidden = false;
    live.textContent = live.getAttribute(on ? "data-yes" : "data-no");
    live.className = on ? "live" : "live off";
  }

  function refreshRows() {
    var rows = document.getElementById("rows");
    if (!rows) { return; }
    fetch("/queue/rows", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error("status " + r.status); } return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString("<table><tbody>" + html + "</tbody></table>", "text/html");
        var fresh = doc.querySelector("tbody");
        if (fresh) { rows.replaceChildren.apply(rows, Array.prototype.slice.call(fresh.childNodes)); }
      })
      .catch(function () { setLive(false); });
  }

  if (window.EventSource) {
    // A case page says how many messages it shows: one appended before the
    // stream was open is told as soon as it opens.
    var es = new EventSource("/events" + (caseID ? "?case=" + encodeURIComponent(caseID) +
      "&seen=" + encodeURIComponent(body.getAttribute("data-seen") || "") : ""));
    // On (re)connecting, catch up with what changed while not listening.
    es.addEventListener("open", function () { setLive(true); refreshRows(); });
    es.addEventListener("error", function () { setLive(false); });
    es.addEventListener("queue", refreshRows);
    es.addEventListener("urgent", refreshRows);
    es.addEventListener("appended", function (e) {
      var id = "";
      try { id = JSON.parse(e.data).id || ""; } catch (err) { id = ""; }
      var n = document.getElementById("appended");
      if (n && id === caseID) { n.hidden = false; }
      refreshRows();
    });
    es.addEventListener("renew", function (e) {
      var ok = false;
      try { ok = JSON.parse(e.data).ok === true; } catch (err) { ok = false; }
      var n = document.getElementById("renew-failed");
      if (n) { n.hidden = ok; }
    });
  }

  // Ages and paging deadlines move on even when the queue does not.
  if (document.getElementById("rows")) { setInterval(refreshRows, 10000); }

  var win = document.getElementById("window");
  if (win && win.getAttribute("data-until")) {
    var until = parseInt(win.getAttribute("data-until"), 10);
    var label = win.textContent;
    var tick = function () {
      var left = Math.max(0, Math.round((until - Date.now()) / 1000));
      var m = Math.floor(left / 60), s = left % 60;
      var text = m + "m" + (s < 10 ? "0" : "") + s + "s";
      win.textContent = label.replace(/[0-9hms.]+(?=[^0-9hms.]*$)/, text);
      if (left === 0) { win.className = "window late"; clearInterval(timer); }
    };
    var timer = setInterval(tick, 1000);
    tick();
  }

  function focus(id) {
    var el = document.getElementById(id);
    if (el) { el.focus(); return true; }
    return false;
  }

  var pending = "";
  document.addEventListener("keyup", function () {
    if (pending) { focus(pending); pending = ""; }
  });

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var t = e.target;
    if (t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.tagName === "SELECT")) {
      if (e.key === "Escape") { t.blur(); }
      return;
    }
    var done = true;
    switch (e.key) {
    case "n":
      var claim = document.getElementById("claim");
      if (claim) { claim.click(); } else { window.location.assign("/"); }
      break;
    case "q": window.location.assign("/"); break;
    // The field gets the focus when the key goes up, so that the key's
    // own character is never typed into it.
    case "a": pending = "disposition"; break;
    case "r": pending = "reply-text"; break;
    case "t": pending = "note-text"; break;
    case "?":
      var k = document.getElementById("keys");
      if (k) { k.open = !k.open; }
      break;
    default: done = false;
    }
    if (done) { e.preventDefault(); }
  });
  // The shortcuts listen from here on (the browser test waits for it).
  document.documentElement.setAttribute("data-js", "ready");
}());
