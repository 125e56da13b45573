/* territory edit.html: move customers between reps by hand (written by territory/edit.py).
 *
 * The data block (#te-data) holds the reps, the customers as parallel arrays, the design's
 * neighbourhood graph (edges) and the triangles that fill the areas. Every figure is
 * recomputed from the arrays after each change (O(customers + edges): about a millisecond at
 * 10,000 customers), with the workload model of `territory evaluate`. Input text is only
 * ever shown through textContent, option labels or canvas text: never as HTML.
 */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("te-data").textContent);
  var LB = D.labels, C = D.customers, R = D.reps;
  var n = C.id.length, k = R.length;
  if (typeof L === "undefined") {  // Leaflet from the CDN did not load (no internet)
    var box = document.getElementById("te-panel");
    box.textContent = LB.no_leaflet;
    box.className = "te-failed";
    return;
  }

  // ------------------------------------------------------------------ state
  var owner = Int32Array.from(C.t);
  var start = Int32Array.from(C.t);
  var locked = Uint8Array.from(C.locked);
  var selected = new Uint8Array(n);
  var nSelected = 0;
  var workMin = Float64Array.from(C.workload_min);
  var visits = Float64Array.from(C.visits);
  var potential = Float64Array.from(C.potential);
  var radius = Float64Array.from(C.r);
  var byId = new Map(), repIndex = new Map();
  for (var i0 = 0; i0 < n; i0++) byId.set(String(C.id[i0]), i0);
  R.forEach(function (r, j) { repIndex.set(String(r.id), j); });
  var undoStack = [], redoStack = [];
  // customers whose look changed since the canvas was last drawn (null: draw everything)
  var dirty = [];
  function touch(i) {
    if (dirty === null) return;
    dirty.push(i);
    if (dirty.length > n) dirty = null;
  }

  // the neighbourhood graph as compressed rows
  var E = D.edges, off = new Int32Array(n + 1), adj = new Int32Array(E.length);
  (function () {
    var e, fill = new Int32Array(n);
    for (e = 0; e < E.length; e += 2) { off[E[e] + 1]++; off[E[e + 1] + 1]++; }
    for (e = 0; e < n; e++) off[e + 1] += off[e];
    for (e = 0; e < E.length; e += 2) {
      var u = E[e], v = E[e + 1];
      adj[off[u] + fill[u]++] = v;
      adj[off[v] + fill[v]++] = u;
    }
  })();
  var T = D.triangles;

  // targets: the team's workload in proportion to each rep's working time (as evaluate)
  var capSum = 0, totalWork = 0, share = new Float64Array(k);
  R.forEach(function (r) { capSum += r.capacity_min; });
  R.forEach(function (r, j) { share[j] = capSum > 0 ? r.capacity_min / capSum : 1 / k; });
  for (var i1 = 0; i1 < n; i1++) totalWork += workMin[i1];

  // ------------------------------------------------------------------ figures
  var F = null;  // the latest figures (per territory arrays)
  var seen = new Uint8Array(n), stack = new Int32Array(Math.max(n, 1));

  function compute() {
    var cust = new Int32Array(k), vis = new Float64Array(k), work = new Float64Array(k);
    var pot = new Float64Array(k), pieces = new Int32Array(k), nLocked = new Int32Array(k);
    var i, j, changed = 0;
    for (i = 0; i < n; i++) {
      j = owner[i];
      cust[j] += 1; vis[j] += visits[i]; work[j] += workMin[i]; pot[j] += potential[i];
      nLocked[j] += locked[i];
      if (j !== start[i]) changed += 1;
    }
    // connected pieces of each territory on the neighbourhood graph (as the design counts)
    seen.fill(0);
    for (i = 0; i < n; i++) {
      if (seen[i]) continue;
      j = owner[i];
      pieces[j] += 1;
      seen[i] = 1;
      var sp = 0;
      stack[sp++] = i;
      while (sp > 0) {
        var u = stack[--sp];
        for (var e = off[u]; e < off[u + 1]; e++) {
          var v = adj[e];
          if (!seen[v] && owner[v] === j) { seen[v] = 1; stack[sp++] = v; }
        }
      }
    }
    var target = new Float64Array(k), dev = new Float64Array(k), util = new Array(k);
    for (j = 0; j < k; j++) {
      target[j] = totalWork * share[j];
      dev[j] = target[j] > 0 ? work[j] / target[j] - 1 : 0;
      var cap = R[j].capacity_min;
      util[j] = cap > 0 ? (work[j] + R[j].admin_min) / cap : null;
    }
    F = {customers: cust, visits: vis, work: work, potential: pot, pieces: pieces,
         target: target, deviation: dev, utilisation: util, locked: nLocked, changed: changed};
    return F;
  }

  function round(x, digits) {
    var f = Math.pow(10, digits);
    return Math.round(x * f) / f;
  }

  function metrics() {
    var out = {};
    for (var j = 0; j < k; j++) {
      out[R[j].id] = {
        customers: F.customers[j],
        visits: F.visits[j],
        workload_hours: round(F.work[j] / 60, 3),
        target_hours: round(F.target[j] / 60, 3),
        utilisation: F.utilisation[j] === null ? null : round(F.utilisation[j], 4),
        deviation: round(F.deviation[j], 5),
        potential: round(F.potential[j], 2),
        connected: F.pieces[j] <= 1,
        pieces: F.pieces[j],
        locked: F.locked[j]
      };
    }
    return out;
  }

  // ------------------------------------------------------------------ changes (undoable)
  function indices(ids) {
    if (!Array.isArray(ids)) ids = [ids];
    return ids.map(function (id) {
      var i = byId.get(String(id));
      if (i === undefined) throw new Error("unknown customer id: " + String(id));
      return i;
    });
  }

  function apply(action, forward) {
    var to = forward ? action.after : action.before, idx = action.idx;
    var arr = action.kind === "move" ? owner : locked;
    for (var m = 0; m < idx.length; m++) { arr[idx[m]] = to[m]; touch(idx[m]); }
  }

  function record(kind, idx, before, after) {
    var action = {kind: kind, idx: idx, before: before, after: after};
    apply(action, true);
    undoStack.push(action);
    redoStack.length = 0;
  }

  function moveIdx(list, j) {
    var idx = [], kept = 0;
    list.forEach(function (i) {
      if (owner[i] === j) return;
      if (locked[i]) { kept += 1; return; }
      idx.push(i);
    });
    if (idx.length) {
      var before = Int32Array.from(idx.map(function (i) { return owner[i]; }));
      record("move", Int32Array.from(idx), before, new Int32Array(idx.length).fill(j));
    }
    return {moved: idx.length, locked_kept: kept};
  }

  function lockIdx(list, value) {
    var v = value ? 1 : 0;
    var idx = list.filter(function (i) { return locked[i] !== v; });
    if (idx.length) {
      var before = Uint8Array.from(idx.map(function (i) { return locked[i]; }));
      record("lock", Int32Array.from(idx), before, new Uint8Array(idx.length).fill(v));
    }
    return {changed: idx.length};
  }

  function undo() {
    var a = undoStack.pop();
    if (!a) return false;
    apply(a, false);
    redoStack.push(a);
    return true;
  }

  function redo() {
    var a = redoStack.pop();
    if (!a) return false;
    apply(a, true);
    undoStack.push(a);
    return true;
  }

  function csvCell(value) {
    var s = String(value);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function exportCsv() {
    var lines = ["customer_id,rep_id,locked"];
    for (var i = 0; i < n; i++) {
      lines.push(csvCell(C.id[i]) + "," + csvCell(R[owner[i]].id) + "," +
                 (locked[i] ? "true" : "false"));
    }
    return lines.join("\n") + "\n";
  }

  // ------------------------------------------------------------------ formatting
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, key) {
      return key in values ? String(values[key]) : m;
    });
  }
  function decimal(x, digits) {
    var s = x.toFixed(digits);
    return LB.decimal_mark === "." ? s : s.replace(".", LB.decimal_mark);
  }
  function whole(x) {
    var s = Math.round(x).toString(), neg = s.charAt(0) === "-";
    if (neg) s = s.slice(1);
    var out = s.replace(/\B(?=(\d{3})+(?!\d))/g, LB.thousands);
    return neg ? "-" + out : out;
  }
  function percent(x, digits, signed) {
    var s = decimal(x * 100, digits) + " %";
    return signed && x >= 0 ? "+" + s : s;
  }
  function repLabel(j) {
    var r = R[j];
    return r.name ? r.id + " · " + r.name : String(r.id);
  }

  // ------------------------------------------------------------------ map and canvas
  var map = L.map("te-map", {
    preferCanvas: true, zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false,
    boxZoom: false, zoomSnap: 0.25, maxZoom: 19, attributionControl: !!D.tiles
  });
  if (D.tiles) {
    L.tileLayer(D.tile_url, {
      maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"
    }).addTo(map);
  }
  L.control.scale({imperial: false}).addTo(map);

  var wx = new Float64Array(n), wy = new Float64Array(n);
  var sx = new Float32Array(n), sy = new Float32Array(n);
  var bounds = L.latLngBounds([]);
  for (var i2 = 0; i2 < n; i2++) {
    var w = map.project(L.latLng(C.lat[i2], C.lon[i2]), 0);
    wx[i2] = w.x; wy[i2] = w.y;
    bounds.extend([C.lat[i2], C.lon[i2]]);
  }
  var homes = R.map(function (r) {
    if (r.lat === null || r.lon === null) return null;
    bounds.extend([r.lat, r.lon]);
    return map.project(L.latLng(r.lat, r.lon), 0);
  });

  // two canvases in Leaflet's overlay pane: the territories' areas (vector, translucent) and,
  // above them, the customers (pixels), the selection and the homes
  var canvas = null, ctx = null, dotCanvas = null, dctx = null, dpr = 1, view = {w: 0, h: 0};
  var Layer = L.Layer.extend({
    onAdd: function (m) {
      canvas = L.DomUtil.create("canvas", "te-canvas");
      dotCanvas = L.DomUtil.create("canvas", "te-canvas");
      m.getPanes().overlayPane.appendChild(canvas);
      m.getPanes().overlayPane.appendChild(dotCanvas);
      ctx = canvas.getContext("2d");
      dctx = dotCanvas.getContext("2d");
      m.on("moveend zoomend resize viewreset", this._reset, this);
      this._reset();
    },
    onRemove: function (m) {
      m.off("moveend zoomend resize viewreset", this._reset, this);
      L.DomUtil.remove(canvas);
      L.DomUtil.remove(dotCanvas);
    },
    _reset: function () {
      var size = map.getSize(), topLeft = map.containerPointToLayerPoint([0, 0]);
      dpr = window.devicePixelRatio || 1;
      [canvas, dotCanvas].forEach(function (c) {
        L.DomUtil.setPosition(c, topLeft);
        c.width = Math.round(size.x * dpr);
        c.height = Math.round(size.y * dpr);
        c.style.width = size.x + "px";
        c.style.height = size.y + "px";
      });
      view = {w: size.x, h: size.y};
      draw();
    }
  });

  function project() {
    var s = map.getZoomScale(map.getZoom(), 0), o = map.getPixelOrigin();
    var tl = map.containerPointToLayerPoint([0, 0]);
    var ox = o.x + tl.x, oy = o.y + tl.y;
    for (var i = 0; i < n; i++) { sx[i] = wx[i] * s - ox; sy[i] = wy[i] * s - oy; }
    return {s: s, ox: ox, oy: oy};
  }

  // A customer's dot (a locked customer's square) is rendered once per territory, size and
  // lock, and kept as its pixels; the customers are then copied pixel by pixel into one
  // ImageData (opaque pixels copied, edge pixels blended). 10,000 customers cost a few
  // milliseconds that way, where 10,000 anti-aliased paths or drawImage calls cost tens.
  var sprites = new Map(), spriteDpr = 0;
  function sprite(j, r, isLocked) {
    if (spriteDpr !== dpr) { sprites.clear(); spriteDpr = dpr; }
    var key = j + "|" + r + "|" + isLocked, sp = sprites.get(key);
    if (sp) return sp;
    var size = Math.ceil((2 * r + 5) * dpr), c = document.createElement("canvas");
    c.width = c.height = size;
    var g = c.getContext("2d"), m = size / 2 / dpr;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = R[j].color;
    g.beginPath();
    if (isLocked) {
      g.rect(m - r, m - r, 2 * r, 2 * r);
      g.fill(); g.lineWidth = 2; g.strokeStyle = "#000"; g.stroke();
    } else {
      g.arc(m, m, r, 0, 2 * Math.PI);
      g.fill(); g.lineWidth = 0.8; g.strokeStyle = "rgb(20,20,20)"; g.stroke();
    }
    var px = g.getImageData(0, 0, size, size).data, dx = [], dy = [], rgba = [];
    for (var q = 0; q < size * size; q++) {
      if (px[4 * q + 3] === 0) continue;
      dx.push(q % size); dy.push((q / size) | 0);
      rgba.push(px[4 * q], px[4 * q + 1], px[4 * q + 2], px[4 * q + 3]);
    }
    sp = {size: size, half: size >> 1, dx: Int16Array.from(dx), dy: Int16Array.from(dy),
          rgba: Uint8Array.from(rgba)};
    sprites.set(key, sp);
    return sp;
  }

  function blit(data, W, H, sp, bx, by) {
    var dx = sp.dx, dy = sp.dy, src = sp.rgba, inside = bx >= 0 && by >= 0 &&
      bx + sp.size <= W && by + sp.size <= H;
    for (var q = 0, m = dx.length; q < m; q++) {
      var x = bx + dx[q], y = by + dy[q];
      if (!inside && (x < 0 || y < 0 || x >= W || y >= H)) continue;
      var at = 4 * (y * W + x), s4 = 4 * q, sa = src[s4 + 3];
      if (sa === 255 || data[at + 3] === 0) {
        data[at] = src[s4]; data[at + 1] = src[s4 + 1]; data[at + 2] = src[s4 + 2];
        data[at + 3] = sa;
      } else {  // source-over on straight (non-premultiplied) colours
        var a = sa / 255, da = data[at + 3] / 255, oa = a + da * (1 - a);
        for (var ch = 0; ch < 3; ch++) {
          data[at + ch] = (src[s4 + ch] * a + data[at + ch] * da * (1 - a)) / oa;
        }
        data[at + 3] = oa * 255;
      }
    }
  }

  // the screen area the customers ``idx`` (and their neighbours' areas) cover, or null when
  // that is most of the view (then everything is drawn)
  function dirtyRegion(idx) {
    if (!idx || idx.length > n / 4) return null;
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    function add(i) {
      if (sx[i] < x0) x0 = sx[i];
      if (sx[i] > x1) x1 = sx[i];
      if (sy[i] < y0) y0 = sy[i];
      if (sy[i] > y1) y1 = sy[i];
    }
    for (var m = 0; m < idx.length; m++) {
      var i = idx[m];
      add(i);
      for (var e = off[i]; e < off[i + 1]; e++) add(adj[e]);
    }
    if (x0 > x1) return {x0: 0, y0: 0, x1: 0, y1: 0};
    var pad = 16, region = {x0: x0 - pad, y0: y0 - pad, x1: x1 + pad, y1: y1 + pad};
    var area = (region.x1 - region.x0) * (region.y1 - region.y0);
    return area > 0.5 * view.w * view.h ? null : region;
  }

  function draw(region) {
    if (!ctx) return;
    var p = project(), W = view.w, H = view.h;
    // the part to draw, in whole device pixels
    var X0 = 0, Y0 = 0, X1 = W, Y1 = H;
    if (region) {
      X0 = Math.max(0, region.x0); Y0 = Math.max(0, region.y0);
      X1 = Math.min(W, region.x1); Y1 = Math.min(H, region.y1);
    }
    var px0 = Math.max(0, Math.floor(X0 * dpr)), py0 = Math.max(0, Math.floor(Y0 * dpr));
    var px1 = Math.min(canvas.width, Math.ceil(X1 * dpr));
    var py1 = Math.min(canvas.height, Math.ceil(Y1 * dpr));
    if (px1 <= px0 || py1 <= py0) return;
    X0 = px0 / dpr; Y0 = py0 / dpr; X1 = px1 / dpr; Y1 = py1 / dpr;
    drawAreas(X0, Y0, X1, Y1);
    drawCustomers(p, px0, py0, px1, py1);
  }

  function drawAreas(X0, Y0, X1, Y1) {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(X0, Y0, X1 - X0, Y1 - Y0);
    ctx.save();
    ctx.beginPath(); ctx.rect(X0, Y0, X1 - X0, Y1 - Y0); ctx.clip();
    // the triangles whose corners share a territory
    var areas = new Array(k), j;
    for (var t = 0; t < T.length; t += 3) {
      var a = T[t], b = T[t + 1], c = T[t + 2];
      j = owner[a];
      if (owner[b] !== j || owner[c] !== j) continue;
      var xa = sx[a], xb = sx[b], xc = sx[c], ya = sy[a], yb = sy[b], yc = sy[c];
      if ((xa < X0 && xb < X0 && xc < X0) || (xa > X1 && xb > X1 && xc > X1) ||
          (ya < Y0 && yb < Y0 && yc < Y0) || (ya > Y1 && yb > Y1 && yc > Y1)) continue;
      var path = areas[j] || (areas[j] = new Path2D());
      path.moveTo(xa, ya); path.lineTo(xb, yb); path.lineTo(xc, yc);
      path.closePath();
    }
    ctx.globalAlpha = 0.25;
    for (j = 0; j < k; j++) {
      if (areas[j]) { ctx.fillStyle = R[j].color; ctx.fill(areas[j]); }
    }
    ctx.restore();
  }

  function drawCustomers(p, px0, py0, px1, py1) {
    var w = px1 - px0, h = py1 - py0, img = dctx.createImageData(w, h), data = img.data;
    var X0 = px0 / dpr, Y0 = py0 / dpr, X1 = px1 / dpr, Y1 = py1 / dpr, edge = 12, i;
    var halo = new Path2D(), anySel = false;
    for (i = 0; i < n; i++) {
      var x = sx[i], y = sy[i];
      if (x < X0 - edge || y < Y0 - edge || x > X1 + edge || y > Y1 + edge) continue;
      var r = radius[i], sp = sprite(owner[i], r, locked[i]);
      blit(data, w, h, sp, Math.round(x * dpr) - sp.half - px0,
           Math.round(y * dpr) - sp.half - py0);
      if (selected[i]) {
        halo.moveTo(x + r + 3.5, y); halo.arc(x, y, r + 3.5, 0, 2 * Math.PI); anySel = true;
      }
    }
    dctx.putImageData(img, px0, py0);
    dctx.save();
    dctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    dctx.beginPath(); dctx.rect(X0, Y0, X1 - X0, Y1 - Y0); dctx.clip();
    if (anySel) {
      dctx.lineWidth = 4; dctx.strokeStyle = "#111"; dctx.stroke(halo);
      dctx.lineWidth = 2; dctx.strokeStyle = "#ffd400"; dctx.stroke(halo);
    }
    // rep homes: a house in the rep's colour with the rep id beside it
    dctx.font = "bold 12px system-ui, sans-serif";
    dctx.textBaseline = "middle";
    homes.forEach(function (hm, jj) {
      if (!hm) return;
      var hx = hm.x * p.s - p.ox, hy = hm.y * p.s - p.oy;
      if (hx < X0 - 80 || hy < Y0 - 20 || hx > X1 + 20 || hy > Y1 + 20) return;
      dctx.fillStyle = R[jj].color; dctx.strokeStyle = "#fff"; dctx.lineWidth = 2.5;
      dctx.beginPath(); dctx.moveTo(hx, hy - 10); dctx.lineTo(hx + 9, hy - 2);
      dctx.lineTo(hx + 9, hy + 8); dctx.lineTo(hx - 9, hy + 8); dctx.lineTo(hx - 9, hy - 2);
      dctx.closePath(); dctx.stroke(); dctx.fill();
      dctx.lineWidth = 1; dctx.strokeStyle = "#222"; dctx.stroke();
      dctx.lineWidth = 3; dctx.strokeStyle = "rgba(255,255,255,0.9)";
      dctx.strokeText(String(R[jj].id), hx + 13, hy);
      dctx.fillStyle = "#111"; dctx.fillText(String(R[jj].id), hx + 13, hy);
    });
    dctx.restore();
  }

  // ------------------------------------------------------------------ the panel
  var panel = document.getElementById("te-panel");
  var ui = {};

  function button(text, title, onClick, cls) {
    var b = el("button", cls || null, text);
    b.type = "button";
    if (title) b.title = title;
    b.addEventListener("click", onClick);
    return b;
  }

  function buildPanel() {
    var head = el("header");
    head.appendChild(el("h1", null, LB.title));
    head.appendChild(el("div", "te-sub", fill(LB.summary, {customers: whole(n), reps: k,
      folder: D.folder})));
    panel.appendChild(head);

    var tools = el("div", "te-tools");
    ui.modes = {};
    [["pan", LB.tool_pan], ["rect", LB.tool_rect], ["lasso", LB.tool_lasso]].forEach(function (m) {
      var b = button(m[1], null, function () { setMode(m[0]); }, "te-mode");
      b.setAttribute("data-mode", m[0]);
      ui.modes[m[0]] = b;
      tools.appendChild(b);
    });
    tools.appendChild(el("span", "te-gap"));
    ui.undo = button(LB.undo, "Ctrl+Z", function () { act(undo() ? LB.undone : LB.nothing_undo); });
    ui.redo = button(LB.redo, "Ctrl+Y", function () { act(redo() ? LB.redone : LB.nothing_redo); });
    tools.appendChild(ui.undo);
    tools.appendChild(ui.redo);
    tools.appendChild(el("span", "te-gap"));
    tools.appendChild(button(LB["export"], LB.export_title, download, "te-export"));
    panel.appendChild(tools);

    var sel = el("section", "te-sel");
    ui.selText = el("div", "te-seltext");
    sel.appendChild(ui.selText);
    var row = el("div", "te-selrow");
    row.appendChild(el("label", null, LB.give_to + " "));
    ui.giveTo = el("select");
    R.forEach(function (r, j) { ui.giveTo.appendChild(new Option(repLabel(j), String(j))); });
    row.lastChild.appendChild(ui.giveTo);
    row.appendChild(button(LB.give, null, function () { giveSelection(+ui.giveTo.value); }));
    row.appendChild(el("span", "te-gap"));
    row.appendChild(button(LB.lock, null, function () { lockSelection(true); }));
    row.appendChild(button(LB.unlock, null, function () { lockSelection(false); }));
    row.appendChild(button(LB.clear, "Esc", function () { clearSelection(); refresh(); }));
    sel.appendChild(row);
    panel.appendChild(sel);

    ui.status = el("div", "te-status");
    ui.status.setAttribute("role", "status");
    panel.appendChild(ui.status);
    ui.headline = el("ul", "te-headline");
    panel.appendChild(ui.headline);

    var table = el("table", "te-table");
    var thead = el("thead"), tr = el("tr");
    var short = LB.headers.split("|").concat([""]);
    [LB.rep, LB.customers, LB.visits, LB.workload_h, LB.utilisation, LB.deviation,
     LB.potential, LB.connected, ""].forEach(function (h, c) {
      var th = el("th", c > 0 && c < 7 ? "n" : null, short[c]);
      if (h) th.title = h;
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    table.appendChild(thead);
    var tbody = el("tbody");
    ui.rows = R.map(function (r, j) {
      var row = el("tr"), cells = {};
      var name = el("td", "te-rep");
      var sw = el("span", "te-sw");
      sw.style.background = r.color;
      name.appendChild(sw);
      var link = el("a", null, repLabel(j));
      link.href = "#";
      link.addEventListener("click", function (ev) {
        ev.preventDefault();
        selectTerritory(j, ev.shiftKey);
      });
      name.appendChild(link);
      row.appendChild(name);
      ["customers", "visits", "work", "util", "dev", "pot"].forEach(function (key) {
        cells[key] = el("td", "n");
        row.appendChild(cells[key]);
      });
      cells.conn = el("td");
      row.appendChild(cells.conn);
      var give = el("td");
      give.appendChild(button("+", fill(LB.give_here, {rep: repLabel(j)}),
                              function () { giveSelection(j); }, "te-give"));
      row.appendChild(give);
      tbody.appendChild(row);
      return cells;
    });
    table.appendChild(tbody);
    var tfoot = el("tfoot"), ft = el("tr");
    ui.foot = {};
    ft.appendChild(el("td", null, LB.total));
    ["customers", "visits", "work", "util", "dev", "pot", "conn", "give"].forEach(function (key) {
      ui.foot[key] = el("td", key === "conn" || key === "give" ? null : "n");
      ft.appendChild(ui.foot[key]);
    });
    tfoot.appendChild(ft);
    table.appendChild(tfoot);
    panel.appendChild(table);

    var legend = el("div", "te-legend");
    [["te-key-dot", LB.legend_customer], ["te-key-square", LB.legend_locked],
     ["te-key-sel", LB.legend_selected], ["te-key-home", LB.legend_home]].forEach(function (x) {
      var item = el("span", "te-key");
      item.appendChild(el("i", x[0]));
      item.appendChild(document.createTextNode(x[1]));
      legend.appendChild(item);
    });
    panel.appendChild(legend);
    panel.appendChild(el("p", "te-note", LB.figures_note));
    panel.appendChild(el("p", "te-help", LB.help));
  }

  function renderPanel() {
    var tol = D.tolerance, worst = -1, worstAbs = -1, busiest = -1, busiestU = -Infinity, j;
    var connectedCount = 0, totalVisits = 0, totalPot = 0;
    for (j = 0; j < k; j++) {
      var a = Math.abs(F.deviation[j]);
      if (a > worstAbs) { worstAbs = a; worst = j; }
      if (F.utilisation[j] !== null && F.utilisation[j] > busiestU) {
        busiestU = F.utilisation[j]; busiest = j;
      }
      if (F.pieces[j] <= 1) connectedCount += 1;
      totalVisits += F.visits[j]; totalPot += F.potential[j];
    }
    for (j = 0; j < k; j++) {
      var c = ui.rows[j], dev = F.deviation[j], u = F.utilisation[j];
      c.customers.textContent = whole(F.customers[j]);
      c.visits.textContent = whole(F.visits[j]);
      c.work.textContent = decimal(F.work[j] / 60, 1);
      c.util.textContent = u === null ? "–" : percent(u, 0, false);
      c.dev.textContent = percent(dev, 1, true);
      c.pot.textContent = whole(F.potential[j] / 1000);
      c.conn.textContent = F.pieces[j] <= 1 ? LB.yes : fill(LB.no_pieces, {pieces: F.pieces[j]});
      c.dev.className = "n" + (Math.abs(dev) > tol + 1e-9 ? " te-bad" : "") +
        (j === worst && worstAbs > 0 ? " te-worst" : "");
      c.util.className = "n" + (j === busiest && k > 1 ? " te-worst" : "");
      c.conn.className = F.pieces[j] <= 1 ? "" : "te-bad te-worst";
    }
    var f = ui.foot;
    f.customers.textContent = whole(n);
    f.visits.textContent = whole(totalVisits);
    f.work.textContent = decimal(totalWork / 60, 1);
    f.pot.textContent = whole(totalPot / 1000);
    f.conn.textContent = connectedCount + " / " + k;

    ui.headline.textContent = "";
    var worstLine = el("li", worstAbs > tol + 1e-9 ? "te-bad" : null,
      fill(LB.worst_deviation, {dev: worst >= 0 ? percent(F.deviation[worst], 1, true) : "–",
        rep: worst >= 0 ? repLabel(worst) : "–", tol: percent(tol, 0, false)}));
    ui.headline.appendChild(worstLine);
    ui.headline.appendChild(el("li", connectedCount < k ? "te-bad" : null,
      fill(LB.connected_count, {n: connectedCount, k: k})));
    ui.headline.appendChild(el("li", null, fill(LB.changed_count, {n: whole(F.changed)})));
    var lockedTotal = 0;
    for (j = 0; j < k; j++) lockedTotal += F.locked[j];
    ui.headline.appendChild(el("li", null, fill(LB.locked_count, {n: whole(lockedTotal)})));

    if (nSelected === 0) {
      ui.selText.textContent = LB.none_selected;
    } else {
      var sv = 0, sw = 0;
      for (var i = 0; i < n; i++) if (selected[i]) { sv += visits[i]; sw += workMin[i]; }
      ui.selText.textContent = fill(LB.selection, {n: whole(nSelected), visits: whole(sv),
        hours: decimal(sw / 60, 1)});
    }
    ui.undo.disabled = undoStack.length === 0;
    ui.redo.disabled = redoStack.length === 0;
  }

  var timings = {};  // of the latest refresh, in ms: figures, panel, canvas
  // figures, panel and the part of the canvas where customers changed (see touch)
  function refresh() {
    var t0 = performance.now();
    compute();
    var t1 = performance.now();
    renderPanel();
    var t2 = performance.now();
    draw(dirty ? dirtyRegion(dirty) : null);
    dirty = [];
    var t3 = performance.now();
    timings = {figures_ms: t1 - t0, panel_ms: t2 - t1, draw_ms: t3 - t2};
  }

  function say(text) { ui.status.textContent = text || ""; }

  function act(message) { refresh(); say(message); }

  // ------------------------------------------------------------------ selection
  function clearSelection() {
    if (nSelected === 0) return;
    for (var i = 0; i < n; i++) if (selected[i]) touch(i);
    selected.fill(0);
    nSelected = 0;
  }

  function setSelected(i, value) {
    if (selected[i] === value) return;
    selected[i] = value;
    touch(i);
    nSelected += value ? 1 : -1;
  }

  function selectedList() {
    var out = [];
    for (var i = 0; i < n; i++) if (selected[i]) out.push(i);
    return out;
  }

  function selectTerritory(j, add) {
    if (!add) clearSelection();
    for (var i = 0; i < n; i++) if (owner[i] === j) setSelected(i, 1);
    refresh();
  }

  function giveSelection(j) {
    var res = moveIdx(selectedList(), j);
    var msg = res.moved ? fill(LB.moved_status, {n: whole(res.moved), rep: repLabel(j)})
      : LB.nothing_moved;
    if (res.locked_kept) msg += " " + fill(LB.kept_status, {n: whole(res.locked_kept)});
    act(msg);
  }

  function lockSelection(value) {
    var res = lockIdx(selectedList(), value);
    act(fill(value ? LB.locked_status : LB.unlocked_status, {n: whole(res.changed)}));
  }

  function nearest(x, y) {
    var best = -1, bestD = Infinity;
    for (var i = 0; i < n; i++) {
      var dx = sx[i] - x, dy = sy[i] - y, d = dx * dx + dy * dy, reach = radius[i] + 4;
      if (d <= reach * reach && d < bestD) { bestD = d; best = i; }
    }
    return best;
  }

  var mode = "pan";
  function setMode(m) {
    mode = m;
    Object.keys(ui.modes).forEach(function (key) {
      ui.modes[key].classList.toggle("te-on", key === m);
    });
    if (m === "pan") map.dragging.enable(); else map.dragging.disable();
    document.getElementById("te-map").classList.toggle("te-drawing", m !== "pan");
  }

  map.on("click", function (ev) {
    if (mode !== "pan") return;
    var i = nearest(ev.containerPoint.x, ev.containerPoint.y), shift = ev.originalEvent.shiftKey;
    if (!shift) clearSelection();
    if (i >= 0) setSelected(i, shift ? 1 - selected[i] : 1);
    refresh();
  });

  // rectangle and lasso on an overlay canvas over the map
  var mapBox = document.getElementById("te-map");
  var overlay = el("canvas", "te-overlay"), octx = overlay.getContext("2d"), shape = null;
  mapBox.appendChild(overlay);

  function local(ev) {
    var b = mapBox.getBoundingClientRect();
    return [ev.clientX - b.left, ev.clientY - b.top];
  }
  function sizeOverlay() {
    overlay.width = mapBox.clientWidth * dpr; overlay.height = mapBox.clientHeight * dpr;
    overlay.style.width = mapBox.clientWidth + "px"; overlay.style.height = mapBox.clientHeight + "px";
  }
  function drawShape() {
    octx.setTransform(dpr, 0, 0, dpr, 0, 0);
    octx.clearRect(0, 0, overlay.width, overlay.height);
    if (!shape) return;
    octx.beginPath();
    if (shape.kind === "rect") {
      var a = shape.pts[0], b = shape.pts[shape.pts.length - 1];
      octx.rect(a[0], a[1], b[0] - a[0], b[1] - a[1]);
    } else {
      shape.pts.forEach(function (p, m) { if (m) octx.lineTo(p[0], p[1]); else octx.moveTo(p[0], p[1]); });
      octx.closePath();
    }
    octx.fillStyle = "rgba(255,212,0,0.15)"; octx.fill();
    octx.setLineDash([5, 4]); octx.lineWidth = 1.5; octx.strokeStyle = "#111"; octx.stroke();
    octx.setLineDash([]);
  }
  function inside(x, y, pts) {
    var inPoly = false;
    for (var a = 0, b = pts.length - 1; a < pts.length; b = a++) {
      var xa = pts[a][0], ya = pts[a][1], xb = pts[b][0], yb = pts[b][1];
      if ((ya > y) !== (yb > y) && x < (xb - xa) * (y - ya) / (yb - ya) + xa) inPoly = !inPoly;
    }
    return inPoly;
  }
  mapBox.addEventListener("mousedown", function (ev) {
    if (mode === "pan" || ev.button !== 0) return;
    if (ev.target.closest && ev.target.closest(".leaflet-control")) return;
    ev.preventDefault();
    sizeOverlay();
    shape = {kind: mode, pts: [local(ev)], add: ev.shiftKey || ev.ctrlKey || ev.metaKey};
  });
  window.addEventListener("mousemove", function (ev) {
    if (!shape) return;
    shape.pts.push(local(ev));
    if (shape.kind === "rect" && shape.pts.length > 2) shape.pts.splice(1, shape.pts.length - 2);
    drawShape();
  });
  window.addEventListener("mouseup", function () {
    if (!shape) return;
    var s = shape;
    shape = null;
    drawShape();
    selectInShape(s);
  });

  function selectInShape(s) {
    if (!s.add) clearSelection();
    var i;
    if (s.kind === "rect") {
      var a = s.pts[0], b = s.pts[s.pts.length - 1];
      var x0 = Math.min(a[0], b[0]), x1 = Math.max(a[0], b[0]);
      var y0 = Math.min(a[1], b[1]), y1 = Math.max(a[1], b[1]);
      for (i = 0; i < n; i++) {
        if (sx[i] >= x0 && sx[i] <= x1 && sy[i] >= y0 && sy[i] <= y1) setSelected(i, 1);
      }
    } else if (s.pts.length > 2) {
      for (i = 0; i < n; i++) if (inside(sx[i], sy[i], s.pts)) setSelected(i, 1);
    }
    refresh();
  }

  // hover: the customer under the pointer, as text
  var tip = el("div", "te-tip");
  tip.hidden = true;
  mapBox.appendChild(tip);
  var hoverPending = null;
  mapBox.addEventListener("mousemove", function (ev) {
    if (shape) { tip.hidden = true; return; }
    var p = local(ev);
    if (hoverPending) return;
    hoverPending = window.requestAnimationFrame(function () {
      hoverPending = null;
      var i = nearest(p[0], p[1]);
      if (i < 0) { tip.hidden = true; return; }
      var parts = [String(C.id[i])];
      if (C.name[i]) parts.push(String(C.name[i]));
      tip.textContent = parts.join(" · ") + " — " + (C.cls[i] ? LB["class"] + " " + C.cls[i] +
        ", " : "") + whole(visits[i]) + " " + LB.visits.toLowerCase() + ", " + LB.rep_of + " " +
        repLabel(owner[i]) + (locked[i] ? " · " + LB.legend_locked : "");
      tip.style.left = (p[0] + 14) + "px";
      tip.style.top = (p[1] + 10) + "px";
      tip.hidden = false;
    });
  });
  mapBox.addEventListener("mouseleave", function () { tip.hidden = true; });

  document.addEventListener("keydown", function (ev) {
    var key = ev.key.toLowerCase(), ctrl = ev.ctrlKey || ev.metaKey;
    if (ctrl && key === "z" && !ev.shiftKey) { ev.preventDefault(); act(undo() ? LB.undone : LB.nothing_undo); }
    else if (ctrl && (key === "y" || (key === "z" && ev.shiftKey))) {
      ev.preventDefault(); act(redo() ? LB.redone : LB.nothing_redo);
    } else if (key === "escape") {
      if (shape) { shape = null; drawShape(); } else { clearSelection(); refresh(); }
    }
  });

  function download() {
    var blob = new Blob([exportCsv()], {type: "text/csv;charset=utf-8"});
    var a = el("a");
    a.href = URL.createObjectURL(blob);
    a.download = D.export_file;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
    say(fill(LB.exported, {file: D.export_file}));
  }

  // ------------------------------------------------------------------ start
  buildPanel();
  setMode("pan");
  compute();
  renderPanel();
  new Layer().addTo(map);
  if (bounds.isValid()) map.fitBounds(bounds, {padding: [24, 24]});
  else map.setView([52.1, 5.3], 8);
  draw();

  window.territoryEditor = {
    version: 1,
    /** Give customers (ids) to a rep (id); locked customers stay. Undoable. */
    move: function (customerIds, repId) {
      var j = repIndex.get(String(repId));
      if (j === undefined) throw new Error("unknown rep id: " + String(repId));
      var res = moveIdx(indices(customerIds), j);
      refresh();
      return res;
    },
    /** Lock (true) or unlock (false) customers (ids). Undoable. */
    lock: function (customerIds, value) {
      var res = lockIdx(indices(customerIds), value !== false);
      refresh();
      return res;
    },
    undo: function () { var done = undo(); refresh(); return done; },
    redo: function () { var done = redo(); refresh(); return done; },
    /** Per rep id: customers, visits, workload_hours, utilisation, deviation, potential,
     * connected (plus target_hours, pieces, locked). Plain JSON. */
    metrics: function () { return metrics(); },
    /** The split as customer_id,rep_id,locked (CSV text, input order). */
    exportCsv: exportCsv,
    /** Select customers by id (add: keep the current selection); returns the count. */
    select: function (customerIds, add) {
      if (!add) clearSelection();
      indices(customerIds).forEach(function (i) { setSelected(i, 1); });
      refresh();
      return nSelected;
    },
    selection: function () { return selectedList().map(function (i) { return C.id[i]; }); },
    /** Give the selection to a rep, as the panel's Give button does. */
    give: function (repId) {
      var j = repIndex.get(String(repId));
      if (j === undefined) throw new Error("unknown rep id: " + String(repId));
      giveSelection(j);
      return ui.status.textContent;
    },
    /** How long the latest update took (ms): figures, panel and canvas. */
    timings: function () { return timings; },
    setMode: setMode,
    map: map
  };
})();
