// Progressive enhancement of the witness form. Everything here is optional:
// the pages work without it. No network requests, no storage, no cookies.
(function () {
  'use strict';
  var d = document;
  function $(id) { return d.getElementById(id); }

  // Quick exit (the button, or the Esc key): empty every field, blank the
  // page at once, then replace it and its history entry with a neutral
  // site, so Back does not lead here, nor to anything typed.
  var exit = $('exit');
  function clearForms() {
    for (var i = 0; i < d.forms.length; i++) { d.forms[i].reset(); }
    var els = d.querySelectorAll('textarea, input[type=text], input[type=file]');
    for (var j = 0; j < els.length; j++) { els[j].value = ''; }
  }
  function leave() {
    clearForms();
    d.title = '';
    d.body.textContent = '';
    location.replace(exit.href);
  }
  if (exit) {
    exit.addEventListener('click', function (ev) { ev.preventDefault(); leave(); });
    d.addEventListener('keydown', function (ev) {
      // Not while an input method is composing: Esc there cancels a word.
      if ((ev.key === 'Escape' || ev.key === 'Esc') && !ev.isComposing && ev.keyCode !== 229) { leave(); }
    });
  }
  // A page taken back from the browser's memory (Back) comes empty.
  window.addEventListener('pageshow', function (ev) { if (ev.persisted) { clearForms(); } });

  // The answer page takes the place of the form's submission in history:
  // reloading it does not send the report again.
  if ($('sent') && window.history && history.replaceState) {
    history.replaceState(null, '', location.pathname + '?sent');
  }

  // The follow-up page may be opened as /followup?code=...: take the code
  // out of the address bar and the history entry.
  if (location.search.indexOf('code=') >= 0 && window.history && history.replaceState) {
    history.replaceState(null, '', location.pathname);
  }

  // Times of the follow-up thread in the witness's own time zone (the
  // server shows "N minutes ago").
  var times = d.querySelectorAll('time[datetime]');
  for (var t = 0; t < times.length; t++) {
    var at = new Date(times[t].getAttribute('datetime'));
    if (!isNaN(at.getTime())) {
      try {
        times[t].textContent = at.toLocaleString(d.documentElement.lang || undefined, { dateStyle: 'medium', timeStyle: 'short' });
      } catch (e) { times[t].textContent = at.toLocaleString(); }
    }
  }

  var form = $('report') || $('answer-form');
  if (!form) { return; }
  var send = $('send'), status = $('send-status');
  function say(el, text) { if (el) { el.textContent = text || ''; } }

  // "Use my location" fills the exact position box.
  var geo = $('geo');
  if (geo && navigator.geolocation) {
    geo.hidden = false;
    geo.addEventListener('click', function () {
      var st = $('geo-status');
      say(st, form.getAttribute('data-geo-wait'));
      navigator.geolocation.getCurrentPosition(function (p) {
        $('position').value = p.coords.latitude.toFixed(5) + ', ' + p.coords.longitude.toFixed(5);
        say(st, form.getAttribute('data-geo-done'));
      }, function () {
        say(st, form.getAttribute('data-geo-fail'));
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    });
  }

  // Proof of work, asked only while the form is flooded: find a nonce such
  // that SHA-256(token ":" nonce) starts with `bits` zero bits. It runs in
  // small slices so the page stays responsive.
  var tok = form.elements.pow_token, nonce = form.elements.pow_nonce;
  var solved = !tok, wanted = false;
  if (tok && nonce) {
    var bits = parseInt(tok.getAttribute('data-bits'), 10) || 16, prefix = tok.value + ':', n = 0;
    var work = function () {
      for (var end = n + 3000; n < end; n++) {
        if (leadingZeros(sha256(ascii(prefix + n))) >= bits) {
          nonce.value = String(n);
          solved = true;
          if (wanted) { go(); }
          return;
        }
      }
      setTimeout(work, 0);
    };
    setTimeout(work, 0);
  }

  function busy() {
    if (send) { send.disabled = true; }
    say(status, form.getAttribute(solved ? 'data-sending' : 'data-pow-wait'));
  }
  function go() { busy(); form.submit(); }
  form.addEventListener('submit', function (ev) {
    if (!solved) {
      ev.preventDefault();
      wanted = true;
      busy();
      return;
    }
    // Disable after the browser has collected the form, against double posts.
    setTimeout(busy, 0);
  });
  // Coming back to the page (Back after an error) re-enables the button.
  window.addEventListener('pageshow', function () { if (send) { send.disabled = false; } say(status, ''); });

  function ascii(s) {
    var b = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) { b[i] = s.charCodeAt(i) & 255; }
    return b;
  }
  function leadingZeros(h) {
    var z = 0;
    for (var i = 0; i < h.length; i++) {
      var c = Math.clz32(h[i]);
      z += c;
      if (c < 32) { break; }
    }
    return z;
  }
  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2];
  var W = new Int32Array(64);
  // sha256 returns the digest as eight 32-bit words (FIPS 180-4).
  function sha256(msg) {
    var l = msg.length, n = ((l + 9 + 63) >> 6) << 6, m = new Uint8Array(n), i;
    m.set(msg);
    m[l] = 0x80;
    var bitLen = l * 8;
    m[n - 4] = (bitLen >>> 24) & 255; m[n - 3] = (bitLen >>> 16) & 255;
    m[n - 2] = (bitLen >>> 8) & 255; m[n - 1] = bitLen & 255;
    var H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    for (var off = 0; off < n; off += 64) {
      for (i = 0; i < 16; i++) {
        var j = off + 4 * i;
        W[i] = (m[j] << 24) | (m[j + 1] << 16) | (m[j + 2] << 8) | m[j + 3];
      }
      for (i = 16; i < 64; i++) {
        var x = W[i - 15], y = W[i - 2];
        var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      var a = H[0], b = H[1], c = H[2], dd = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (i = 0; i < 64; i++) {
        var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        var t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
        var S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        var t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g; g = f; f = e; e = (dd + t1) | 0; dd = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      H[0] = (H[0] + a) | 0; H[1] = (H[1] + b) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + dd) | 0;
      H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
    }
    return H;
  }
  // For the browser test: the solver must agree with the server's SHA-256.
  window.hotlineSHA256 = function (s) {
    return sha256(ascii(s)).map(function (w) { return ('00000000' + (w >>> 0).toString(16)).slice(-8); }).join('');
  };
}());
