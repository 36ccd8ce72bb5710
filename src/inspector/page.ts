// The live view page: one self-contained HTML document (CSS and JS inline, no CDN, no fonts, no
// images fetched). It reads frames from `/events` (Server-Sent Events) or from a `.jsonl` trace
// chosen with the file input, and never sends anything back: the server has no route that accepts
// input and the Content-Security-Policy only allows connections to its own origin.
//
// Test hooks on `window`: __rtcStatesSeen ({ actorId: ['summarising', ...] }, leaf states in the
// order highlighted), __rtcWindow (window points), __rtcSummaries, __rtcStatus ('live' |
// 'reconnecting' | 'replay' | 'replay done'), __rtcActors() (ids of the actors shown).

export interface PageOptions {
  /** CSP nonce for the inline <style> and <script>. */
  nonce: string;
  title?: string;
  /** false: a standalone replay page (no live connection). */
  live?: boolean;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const CSS = `
:root{--bg:#0f1419;--panel:#161d25;--line:#2a3542;--fg:#d8dee6;--dim:#8593a3;--accent:#4fb3ff;--active:#ffb84d;--ok:#5fd38d;--bad:#ff6b6b;--sum:#c792ea}
*{box-sizing:border-box}
html,body{margin:0;height:100%;background:var(--bg);color:var(--fg);font:13px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
header{display:flex;gap:12px;align-items:center;padding:8px 14px;border-bottom:1px solid var(--line);background:var(--panel);position:sticky;top:0;z-index:2}
header h1{font-size:14px;margin:0;font-weight:600}
.badge{padding:2px 8px;border-radius:10px;font-size:12px;border:1px solid var(--line)}
.badge.live{background:#173b27;color:var(--ok);border-color:#2c6b45}
.badge.reconnecting,.badge.connecting{background:#3b2f17;color:var(--active);border-color:#6b552c}
.badge.replay,.badge.replay-done{background:#2d1f3b;color:var(--sum);border-color:#55376b}
header .sp{flex:1}
header label,header select,header button{font:inherit;color:var(--dim)}
header select,header button{background:var(--bg);border:1px solid var(--line);border-radius:4px;padding:2px 6px;color:var(--fg)}
#hint{color:var(--dim);font-size:12px}
main{display:grid;grid-template-columns:minmax(420px,1.25fr) minmax(360px,1fr);gap:12px;padding:12px}
section h2{font-size:12px;text-transform:uppercase;letter-spacing:.08em;color:var(--dim);margin:0 0 6px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:8px 10px;margin-bottom:10px}
.card.child{margin-left:18px}
.card .hd{display:flex;gap:8px;align-items:baseline;margin-bottom:6px}
.card .hd b{color:var(--accent);font-size:13px}
.card .hd .st{color:var(--dim)}
.card .hd .cur{color:var(--active);margin-left:auto}
.card.gone{opacity:.45}
.sn{border:1px solid var(--line);border-radius:6px;padding:3px 6px;margin:3px 0;background:rgba(255,255,255,.015)}
.sn>.nm{font-weight:600}
.sn>.nm .ty{color:var(--dim);font-weight:400;font-size:11px;margin-left:6px}
.sn .trs{display:flex;flex-wrap:wrap;gap:0 12px;padding-left:8px}
.sn .tr{color:var(--dim);font-size:11px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:100%}
.sn .tr i{color:#9ecbff;font-style:normal}
.sn .kids{display:flex;flex-direction:column;gap:2px;padding-left:8px}
.sn.parallel>.kids{flex-direction:row;flex-wrap:wrap}
.sn.parallel>.kids>.sn{border-style:dashed;flex:1;min-width:140px}
.sn.final{border-width:3px;border-style:double}
.sn.initial>.nm::before{content:"\\25B8 ";color:var(--dim)}
.sn.active{border-color:var(--active);background:rgba(255,184,77,.07)}
.sn.active>.nm{color:var(--active)}
.sn.flash{box-shadow:0 0 0 2px var(--active)}
details{margin-top:4px}
summary{cursor:pointer;color:var(--dim)}
pre.ctx{margin:4px 0 0;max-height:150px;overflow:auto;background:#0c1116;border:1px solid var(--line);border-radius:4px;padding:6px;font-size:11px;white-space:pre-wrap;word-break:break-all}
#chart{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:6px;margin-bottom:10px}
#chart svg{width:100%;height:210px;display:block}
#chart .legend{font-size:11px;color:var(--dim);display:flex;gap:14px;padding:2px 4px}
#chart .legend span::before{content:"";display:inline-block;width:14px;height:2px;vertical-align:middle;margin-right:4px;background:currentColor}
#log{background:var(--panel);border:1px solid var(--line);border-radius:8px;height:calc(100vh - 370px);min-height:240px;overflow:auto;padding:4px 0}
#log div{padding:1px 8px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#log .ts{color:var(--dim)}
#log .who{color:var(--accent)}
#log .dt{color:#e6c07b}
#log .turn{color:var(--ok)}
#log .win{color:#9ecbff}
#log .sum{color:var(--sum)}
#log .err{color:var(--bad)}
#log .sys{color:var(--dim);font-style:italic}
#empty{color:var(--dim);padding:20px}
.hidden{display:none}
header a{color:var(--accent)}
.lg-w{color:#4fb3ff}.lg-t{color:#ff6b6b}.lg-g{color:#5fd38d}.lg-s{color:#c792ea}
`;

// Plain ES2019, no template literals (this file is itself a template literal).
const JS = String.raw`
(function(){
"use strict";
var params = new URLSearchParams(location.search);
var token = params.get('token') || '';
var LIVE = document.body.getAttribute('data-live') === '1';
var $ = function(id){ return document.getElementById(id); };
var actors = new Map();      // sid -> {frame, el, snap}
var windows = [], summaries = [];
var trigger = 0, target = 0, t0 = 0;
var mode = LIVE ? 'live' : 'replay';
var es = null, attempts = 0, reconnectTimer = null;
var statesSeen = window.__rtcStatesSeen = {};
window.__rtcWindow = windows; window.__rtcSummaries = summaries;
window.__rtcActors = function(){ var out=[]; actors.forEach(function(a){ out.push(a.frame.id); }); return out; };
window.__rtcFrames = 0;

function el(tag, cls, text){ var e=document.createElement(tag); if(cls) e.className=cls; if(text!=null) e.textContent=text; return e; }
function setStatus(s, extra){
  window.__rtcStatus = s;
  var b=$('badge'); b.className='badge '+s.replace(' ','-'); b.textContent = s + (extra ? ' ' + extra : '');
  $('hint').textContent = s==='reconnecting' ? 'the CLI is not answering; retrying (a restarted CLI must keep the same --inspect port and token)' : '';
}
function fmtT(t){ var d=new Date(t); return d.toTimeString().slice(0,8)+'.'+String(d.getMilliseconds()).padStart(3,'0'); }
function shortTarget(t){ if(!t) return ''; t=String(t); var i=t.lastIndexOf('.'); return i>=0 ? t.slice(i+1) : t.replace(/^#/,''); }

function renderNode(def, rootId, isInitial){
  var type = def.type || 'atomic';
  var box = el('div', 'sn '+type+(isInitial?' initial':''));
  box.setAttribute('data-id', def.id);
  var nm = el('div','nm', def.key || def.id);
  if (type !== 'atomic' && type !== 'compound') nm.appendChild(el('span','ty',type));
  box.appendChild(nm);
  var trs = def.transitions || [];
  var trBox = el('div','trs'); box.appendChild(trBox);
  for (var i=0;i<trs.length && i<12;i++){
    var tr=trs[i], line=el('div','tr');
    var ev = tr.eventType || '(always)';
    if (/^xstate\.after\./.test(ev)) ev = 'after ' + ev.split('.')[2];
    if (/^xstate\.done\.actor\./.test(ev)) ev = 'done:' + ev.slice(18);
    if (/^xstate\.error\.actor\./.test(ev)) ev = 'error:' + ev.slice(19);
    var ie = el('i', null, ev); line.appendChild(ie);
    var g = tr.guard ? ' [' + (typeof tr.guard==='string' ? tr.guard : (tr.guard.type || 'guard')) + ']' : '';
    var tg = (tr.target && tr.target.length) ? ' \u2192 ' + tr.target.map(shortTarget).join(', ') : '';
    line.appendChild(document.createTextNode(g + tg));
    line.title = line.textContent;
    trBox.appendChild(line);
  }
  if (trs.length > 12) trBox.appendChild(el('div','tr','\u2026 '+(trs.length-12)+' more'));
  var inv = def.invoke || [];
  for (var j=0;j<inv.length;j++){ trBox.appendChild(el('div','tr','invoke '+(inv[j].id||inv[j].src))); }
  var keys = Object.keys(def.states || {});
  if (keys.length){
    var kids = el('div','kids');
    var init = def.initial && def.initial.target && def.initial.target[0];
    for (var k=0;k<keys.length;k++){
      var child = def.states[keys[k]];
      kids.appendChild(renderNode(child, rootId, init && (init==='#'+child.id)));
    }
    box.appendChild(kids);
  }
  return box;
}

function cardFor(sid){ var a=actors.get(sid); return a && a.el; }
function addActor(f){
  if (actors.has(f.sid)) { actors.get(f.sid).frame = f; return; }
  $('empty').style.display='none';
  var card = el('div','card'+(f.parent && actors.has(f.parent) ? ' child' : ''));
  card.setAttribute('data-sid', f.sid); card.setAttribute('data-actor', f.id);
  var hd = el('div','hd'); hd.appendChild(el('b',null,f.id));
  var kind = f.kind==='machine' ? 'machine' : 'actor';
  var par = f.parent && actors.has(f.parent) ? ' \u2190 ' + actors.get(f.parent).frame.id : '';
  hd.appendChild(el('span','st', kind + par));
  hd.appendChild(el('span','cur',''));
  card.appendChild(hd);
  if (f.def) card.appendChild(renderNode(f.def, f.def.id, true));
  var det = el('details'); det.appendChild(el('summary',null,'context'));
  var pre = el('pre','ctx',''); det.appendChild(pre); card.appendChild(det);
  // children go right after their parent's subtree
  var host = $('actors');
  var after = null;
  if (f.parent && actors.has(f.parent)) {
    after = actors.get(f.parent).el;
    while (after.nextSibling && after.nextSibling.classList && after.nextSibling.classList.contains('child')) after = after.nextSibling;
  }
  if (after && after.nextSibling) host.insertBefore(card, after.nextSibling); else host.appendChild(card);
  actors.set(f.sid, { frame: f, el: card, snap: null, ctx: '' });
}
function leavesOf(ids){
  return ids.filter(function(id){ return !ids.some(function(o){ return o !== id && o.indexOf(id + '.') === 0; }); });
}
function relName(id, rootId){ return rootId && id.indexOf(rootId + '.') === 0 ? id.slice(rootId.length + 1) : id; }
function noteSeen(a, leaves){
  var name = a.frame.id; var rootId = a.frame.def && a.frame.def.id;
  var label = leaves.map(function(l){ return relName(l, rootId); }).join('|');
  var list = statesSeen[name] || (statesSeen[name] = []);
  if (list[list.length-1] !== label) list.push(label);
}
function applySnap(f){
  var a = actors.get(f.sid); if (!a) return;
  a.snap = f;
  var card = a.el;
  if (f.via) for (var i=0;i<f.via.length;i++) noteSeen(a, f.via[i]);
  if (f.active) {
    var olds = card.querySelectorAll('.sn.active');
    for (var j=0;j<olds.length;j++) olds[j].classList.remove('active');
    for (var k=0;k<f.active.length;k++){
      var n = card.querySelector('[data-id="' + CSS.escape(f.active[k]) + '"]');
      if (n) n.classList.add('active');
    }
    var leaves = leavesOf(f.active);
    noteSeen(a, leaves);
    var rootId = a.frame.def && a.frame.def.id;
    card.querySelector('.cur').textContent = leaves.map(function(l){ return relName(l, rootId); }).join(' | ') + (f.status !== 'active' ? ' (' + f.status + ')' : '');
  } else {
    card.querySelector('.cur').textContent = f.status;
  }
  if (f.context !== undefined) {
    var txt = JSON.stringify(f.context, null, 1);
    if (txt !== a.ctx) { a.ctx = txt; card.querySelector('pre.ctx').textContent = txt; }
  }
}
function stopActor(f){
  var a = actors.get(f.sid); if (!a) return;
  actors.delete(f.sid);
  a.el.classList.add('gone');
  setTimeout(function(){ if (a.el.parentNode) a.el.parentNode.removeChild(a.el); }, mode==='live' ? 600 : 0);
}

var logBox = null, logRows = 0, stick = true;
function logLine(t, cls, parts){
  var row = el('div', cls);
  row.appendChild(el('span','ts', fmtT(t) + ' '));
  for (var i=0;i<parts.length;i++){ var p=parts[i]; row.appendChild(typeof p==='string' ? document.createTextNode(p) : p); }
  logBox.appendChild(row); logRows++;
  while (logRows > 600) { logBox.removeChild(logBox.firstChild); logRows--; }
  if (stick) logBox.scrollTop = logBox.scrollHeight;
}

// ---- chart
var chartTimer = null;
function scheduleChart(){ if (!chartTimer) chartTimer = setTimeout(function(){ chartTimer=null; drawChart(); }, 60); }
function svgEl(tag, attrs){ var e=document.createElementNS('http://www.w3.org/2000/svg', tag); for (var k in attrs) e.setAttribute(k, attrs[k]); return e; }
function drawChart(){
  var svg = $('svg'); while (svg.firstChild) svg.removeChild(svg.firstChild);
  var W = svg.clientWidth || 600, H = svg.clientHeight || 210, L=48, R=10, T=10, B=22;
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  var pts = windows;
  var trig = trigger, targ = target;
  if (pts.length) { trig = pts[pts.length-1].trigger || trig; targ = pts[pts.length-1].target || targ; }
  var maxY = Math.max(trig * 1.15, targ * 1.15, 1000);
  for (var i=0;i<pts.length;i++) maxY = Math.max(maxY, pts[i].tokens * 1.08);
  var tStart = pts.length ? pts[0].t : t0, tEnd = pts.length ? pts[pts.length-1].t : t0 + 1;
  for (var s=0;s<summaries.length;s++){ tStart=Math.min(tStart, summaries[s].t); tEnd=Math.max(tEnd, summaries[s].t); }
  if (tEnd <= tStart) tEnd = tStart + 1000;
  var x = function(t){ return L + (t - tStart) / (tEnd - tStart) * (W - L - R); };
  var y = function(v){ return H - B - v / maxY * (H - T - B); };
  svg.appendChild(svgEl('line', {x1:L,y1:y(0),x2:W-R,y2:y(0),stroke:'#2a3542'}));
  svg.appendChild(svgEl('line', {x1:L,y1:T,x2:L,y2:y(0),stroke:'#2a3542'}));
  for (var g=0; g<=4; g++){ var v=Math.round(maxY*g/4); var lab=svgEl('text',{x:L-4,y:y(v)+4,'text-anchor':'end',fill:'#8593a3','font-size':10}); lab.textContent = v>=1000 ? (v/1000).toFixed(1)+'k' : String(v); svg.appendChild(lab); }
  function hline(v, color, name){ if(!v) return; svg.appendChild(svgEl('line',{x1:L,y1:y(v),x2:W-R,y2:y(v),stroke:color,'stroke-dasharray':'6 4','stroke-width':1.5,'class':'line-'+name})); var tx=svgEl('text',{x:W-R-2,y:y(v)-3,'text-anchor':'end',fill:color,'font-size':10}); tx.textContent=name+' '+v; svg.appendChild(tx); }
  hline(trig, '#ff6b6b', 'trigger'); hline(targ, '#5fd38d', 'target');
  for (var m=0;m<summaries.length;m++){
    var sx = x(summaries[m].t);
    svg.appendChild(svgEl('line',{x1:sx,y1:T,x2:sx,y2:y(0),stroke:'#c792ea','stroke-width':1.5,'class':'summary-marker'}));
    var st=svgEl('text',{x:sx+3,y:T+10,fill:'#c792ea','font-size':10}); st.textContent='\u03a3 '+summaries[m].id; svg.appendChild(st);
  }
  if (pts.length){
    var d = '';
    for (var p=0;p<pts.length;p++) d += (p ? ' L' : 'M') + x(pts[p].t).toFixed(1) + ' ' + y(pts[p].tokens).toFixed(1);
    svg.appendChild(svgEl('path',{d:d,fill:'none',stroke:'#4fb3ff','stroke-width':2,'class':'window-line'}));
    var step = Math.max(1, Math.ceil(pts.length / 300));
    for (var q=0;q<pts.length;q+=step) svg.appendChild(svgEl('circle',{cx:x(pts[q].t),cy:y(pts[q].tokens),r:2.5,fill:'#4fb3ff'}));
  } else {
    var nt=svgEl('text',{x:L+10,y:T+30,fill:'#8593a3','font-size':12}); nt.textContent='no window data yet (one point per response)'; svg.appendChild(nt);
  }
  var xl=svgEl('text',{x:W-R,y:H-6,'text-anchor':'end',fill:'#8593a3','font-size':10}); xl.textContent=((tEnd-tStart)/1000).toFixed(1)+' s'; svg.appendChild(xl);
}

// ---- frames
function resetAll(){
  actors.forEach(function(a){ if (a.el.parentNode) a.el.parentNode.removeChild(a.el); });
  actors.clear(); windows.length = 0; summaries.length = 0;
  while (logBox.firstChild) logBox.removeChild(logBox.firstChild); logRows = 0; $('agentstate').textContent = '';
  $('empty').style.display=''; scheduleChart();
}
function apply(f){
  window.__rtcFrames++;
  switch (f.k) {
    case 'hello': t0 = f.t; if (f.trigger) trigger = f.trigger; if (f.target) target = f.target; scheduleChart(); break;
    case 'actor': addActor(f); break;
    case 'snap': applySnap(f); break;
    case 'stop': stopActor(f); break;
    case 'event': {
      var who = el('span','who', f.id);
      logLine(f.t, 'ev', [who, f.from ? ' \u2190 ' + f.from + '  ' : '  ', f.type, f.detail ? el('span','dt',' ' + f.detail) : '']);
      break;
    }
    case 'turn': logLine(f.t, 'turn', ['turn ' + f.id + ' ' + (f.role || f.kind) + ': ' + (f.text == null ? '(' + (f.textState || 'pending') + ')' : f.text)]); break;
    case 'window':
      windows.push(f); if (windows.length > 5000) windows.shift();
      trigger = f.trigger || trigger; target = f.target || target;
      logLine(f.t, 'win', ['window ' + f.tokens + ' tokens (trigger ' + f.trigger + ', target ' + f.target + ')']);
      scheduleChart(); break;
    case 'summary':
      summaries.push(f);
      logLine(f.t, 'sum', ['summary ' + f.id + ': ' + f.turns + ' turns, ' + f.before + ' \u2192 ~' + f.after + ' tokens' + (f.text ? '  \u201c' + f.text + '\u201d' : '')]);
      scheduleChart(); break;
    case 'error': logLine(f.t, 'err', ['error ' + f.code + ': ' + f.message]); break;
    case 'state': $('agentstate').textContent = 'agent ' + f.state; logLine(f.t, 'ev', ['agent state ' + f.state]); break;
  }
}

// ---- live connection (EventSource reconnects by itself; we also recover from a CLOSED source)
function connect(){
  if (mode !== 'live') return;
  if (reconnectTimer) { clearTimeout(reconnectTimer); reconnectTimer = null; }
  setStatus(attempts ? 'reconnecting' : 'connecting', attempts ? '(' + attempts + ')' : '');
  es = new EventSource('events?token=' + encodeURIComponent(token));
  es.onopen = function(){ attempts = 0; setStatus('live'); };
  es.addEventListener('reset', function(){ resetAll(); });
  es.onmessage = function(e){ try { apply(JSON.parse(e.data)); } catch (err) { console.warn('bad frame', err); } };
  es.onerror = function(){
    if (mode !== 'live') return;
    attempts++;
    setStatus('reconnecting', '(' + attempts + ')');
    if (es.readyState === 2) { es.close(); reconnectTimer = setTimeout(connect, Math.min(5000, 500 * attempts)); }
  };
}

// ---- replay
var replayTimer = null;
function replay(text){
  mode = 'replay';
  if (es) { es.close(); es = null; }
  if (reconnectTimer) { clearTimeout(reconnectTimer); reconnectTimer = null; }
  if (replayTimer) { clearTimeout(replayTimer); replayTimer = null; }
  var frames = [];
  var lines = text.split('\n');
  for (var i=0;i<lines.length;i++){ var l=lines[i].trim(); if(!l) continue; try { var f=JSON.parse(l); if (f && typeof f.k==='string') frames.push(f); } catch (e) {} }
  resetAll(); setStatus('replay', '(' + frames.length + ' frames)');
  if (LIVE) $('live').classList.remove('hidden');
  var speed = Number($('speed').value) || 0;
  var idx = 0;
  function step(){
    replayTimer = null;
    var n = 0;
    while (idx < frames.length) {
      var f = frames[idx++]; apply(f); n++;
      if (speed > 0 && idx < frames.length) {
        var gap = (frames[idx].t - f.t) / speed;
        if (gap > 4) { replayTimer = setTimeout(step, Math.min(gap, 1500)); return; }
      }
      if (n > 2000) { replayTimer = setTimeout(step, 0); return; }
    }
    setStatus('replay done', '(' + frames.length + ' frames)');
  }
  step();
}

document.addEventListener('DOMContentLoaded', function(){
  logBox = $('log');
  logBox.addEventListener('scroll', function(){ stick = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 8; });
  $('file').addEventListener('change', function(){
    var file = this.files && this.files[0]; if (!file) return;
    var r = new FileReader(); r.onload = function(){ replay(String(r.result)); }; r.readAsText(file);
  });
  $('live').addEventListener('click', function(){ location.reload(); });
  var dl = $('download');
  if (LIVE) dl.href = 'trace.jsonl?token=' + encodeURIComponent(token); else dl.style.display = 'none';
  window.addEventListener('resize', scheduleChart);
  drawChart();
  if (LIVE) connect(); else setStatus('replay', '(load a .jsonl trace)');
});
})();
`;

export function renderPage(options: PageOptions): string {
  const nonce = escapeHtml(options.nonce);
  const title = escapeHtml(options.title ?? 'realtime-agent inspector');
  const live = options.live !== false;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${title}</title>
<style nonce="${nonce}">${CSS}</style>
</head>
<body data-live="${live ? '1' : '0'}">
<header>
  <h1>${title}</h1>
  <span id="badge" class="badge connecting">connecting</span>
  <span id="agentstate" class="badge" title="the agent's public state (agent.state)"></span>
  <span id="hint"></span>
  <span class="sp"></span>
  <label>replay <input id="file" type="file" accept=".jsonl,.json,application/json,text/plain"></label>
  <label>speed <select id="speed"><option value="0">instant</option><option value="1">1\u00d7</option><option value="10" selected>10\u00d7</option><option value="100">100\u00d7</option></select></label>
  <button id="live" type="button" class="hidden">back to live</button>
  <a id="download" download="realtime-agent-trace.jsonl">save trace</a>
</header>
<main>
  <section>
    <h2>actors</h2>
    <div id="empty">waiting for actors\u2026</div>
    <div id="actors"></div>
  </section>
  <section>
    <h2>context window</h2>
    <div id="chart"><svg id="svg" role="img" aria-label="context window over time"></svg>
      <div class="legend"><span class="lg-w">window</span><span class="lg-t">trigger</span><span class="lg-g">target</span><span class="lg-s">summary</span></div>
    </div>
    <h2>event log</h2>
    <div id="log"></div>
  </section>
</main>
<script nonce="${nonce}">${JS}</script>
</body>
</html>`;
}
