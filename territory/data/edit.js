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
    for (var m = 0; m < idx.length; m++) arr[idx[m]] = to[m];
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
    boxZoom: false, zoomSnap: 0.25, attributionControl: !!D.tiles
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

  var canvas = null, ctx = null, dpr = 1, view = {w: 0, h: 0};
  var Layer = L.Layer.extend({
    onAdd: function (m) {
      canvas = L.DomUtil.create("canvas", "te-canvas");
      m.getPanes().overlayPane.appendChild(canvas);
      ctx = canvas.getContext("2d");
      m.on("moveend zoomend resize viewreset", this._reset, this);
      this._reset();
    },
    onRemove: function (m) {
      m.off("moveend zoomend resize viewreset", this._reset, this);
      L.DomUtil.remove(canvas);
    },
    _reset: function () {
      var size = map.getSize();
      dpr = window.devicePixelRatio || 1;
      L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
      canvas.width = Math.round(size.x * dpr);
      canvas.height = Math.round(size.y * dpr);
      canvas.style.width = size.x + "px";
      canvas.style.height = size.y + "px";
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

  function draw() {
    if (!ctx) return;
    var p = project(), W = view.w, H = view.h, i, j, pad = 12;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    // areas: the triangles whose corners share a territory
    var areas = new Array(k);
    for (var t = 0; t < T.length; t += 3) {
      var a = T[t], b = T[t + 1], c = T[t + 2];
      j = owner[a];
      if (owner[b] !== j || owner[c] !== j) continue;
      var path = areas[j] || (areas[j] = new Path2D());
      path.moveTo(sx[a], sy[a]); path.lineTo(sx[b], sy[b]); path.lineTo(sx[c], sy[c]);
      path.closePath();
    }
    ctx.globalAlpha = 0.25;
    for (j = 0; j < k; j++) {
      if (areas[j]) { ctx.fillStyle = R[j].color; ctx.fill(areas[j]); }
    }
    ctx.globalAlpha = 1;
    // customers: circles, locked ones as squares with a heavy outline
    var dots = new Array(k), squares = new Array(k), halo = new Path2D(), anySel = false;
    for (i = 0; i < n; i++) {
      var x = sx[i], y = sy[i], r = radius[i];
      if (x < -pad || y < -pad || x > W + pad || y > H + pad) continue;
      j = owner[i];
      if (locked[i]) {
        (squares[j] || (squares[j] = new Path2D())).rect(x - r, y - r, 2 * r, 2 * r);
      } else {
        var d = dots[j] || (dots[j] = new Path2D());
        d.moveTo(x + r, y); d.arc(x, y, r, 0, 2 * Math.PI);
      }
      if (selected[i]) {
        halo.moveTo(x + r + 3.5, y); halo.arc(x, y, r + 3.5, 0, 2 * Math.PI); anySel = true;
      }
    }
    for (j = 0; j < k; j++) {
      ctx.fillStyle = R[j].color;
      if (dots[j]) {
        ctx.fill(dots[j]);
        ctx.lineWidth = 0.8; ctx.strokeStyle = "rgba(20,20,20,0.85)"; ctx.stroke(dots[j]);
      }
      if (squares[j]) {
        ctx.fill(squares[j]);
        ctx.lineWidth = 2; ctx.strokeStyle = "#000"; ctx.stroke(squares[j]);
      }
    }
    if (anySel) {
      ctx.lineWidth = 4; ctx.strokeStyle = "#111"; ctx.stroke(halo);
      ctx.lineWidth = 2; ctx.strokeStyle = "#ffd400"; ctx.stroke(halo);
    }
    // rep homes: a square in the rep's colour with the rep id beside it
    ctx.font = "bold 12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    homes.forEach(function (h, jj) {
      if (!h) return;
      var hx = h.x * p.s - p.ox, hy = h.y * p.s - p.oy;
      if (hx < -50 || hy < -50 || hx > W + 50 || hy > H + 50) return;
      ctx.fillStyle = R[jj].color; ctx.strokeStyle = "#fff"; ctx.lineWidth = 2.5;
      ctx.beginPath(); ctx.moveTo(hx, hy - 10); ctx.lineTo(hx + 9, hy - 2);
      ctx.lineTo(hx + 9, hy + 8); ctx.lineTo(hx - 9, hy + 8); ctx.lineTo(hx - 9, hy - 2);
      ctx.closePath(); ctx.stroke(); ctx.fill();
      ctx.lineWidth = 1; ctx.strokeStyle = "#222"; ctx.stroke();
      ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.strokeText(String(R[jj].id), hx + 13, hy);
      ctx.fillStyle = "#111"; ctx.fillText(String(R[jj].id), hx + 13, hy);
    });
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

  function refresh() {
    compute();
    renderPanel();
    draw();
  }

  function say(text) { ui.status.textContent = text || ""; }

  function act(message) { refresh(); say(message); }

  // ------------------------------------------------------------------ selection
  function clearSelection() { selected.fill(0); nSelected = 0; }

  function setSelected(i, value) {
    if (selected[i] === value) return;
    selected[i] = value;
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
    setMode: setMode,
    map: map
  };
})();
