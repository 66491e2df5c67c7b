// Filters run in the page: no server. The state lives in the URL fragment
// (#q=…&framework=…&license=…&modality=…&task=…), so a filtered view can be linked.
(function () {
  'use strict';
  var cards = Array.prototype.slice.call(document.querySelectorAll('article.card'));
  var q = document.getElementById('q');
  var framework = document.getElementById('framework');
  var license = document.getElementById('license');
  var cats = Array.prototype.slice.call(document.querySelectorAll('button.cat'));
  var state = { q: '', framework: '', license: '', modality: '', task: '' };

  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ''));
    Object.keys(state).forEach(function (k) { state[k] = params.get(k) || ''; });
  }
  function writeHash() {
    var params = new URLSearchParams();
    Object.keys(state).forEach(function (k) { if (state[k]) params.set(k, state[k]); });
    var text = params.toString();
    history.replaceState(null, '', text ? '#' + text : location.pathname + location.search);
  }
  function matches(card) {
    var d = card.dataset;
    return (!state.q || d.search.indexOf(state.q.toLowerCase()) >= 0) &&
      (!state.framework || d.frameworks.split(' ').indexOf(state.framework) >= 0) &&
      (!state.license || d.licenses.split(' ').indexOf(state.license) >= 0) &&
      (!state.modality || d.modality === state.modality) &&
      (!state.task || d.task === state.task);
  }
  function apply() {
    var shown = 0;
    cards.forEach(function (card) {
      var ok = matches(card);
      card.hidden = !ok;
      if (ok) shown += 1;
    });
    document.getElementById('shown').textContent = String(shown);
    document.getElementById('empty').hidden = shown > 0;
    q.value = state.q; framework.value = state.framework; license.value = state.license;
    cats.forEach(function (b) {
      b.classList.toggle('active', b.dataset.modality === state.modality && b.dataset.task === state.task);
    });
    document.body.setAttribute('data-shown', String(shown));
  }
  q.addEventListener('input', function () { state.q = q.value.trim(); writeHash(); apply(); });
  framework.addEventListener('change', function () { state.framework = framework.value; writeHash(); apply(); });
  license.addEventListener('change', function () { state.license = license.value; writeHash(); apply(); });
  cats.forEach(function (b) {
    b.addEventListener('click', function () { state.modality = b.dataset.modality; state.task = b.dataset.task; writeHash(); apply(); });
  });
  window.addEventListener('hashchange', function () { readHash(); apply(); });
  document.addEventListener('click', function (event) {
    var button = event.target.closest('button.copy');
    if (!button) return;
    var text = button.getAttribute('data-copy');
    var done = function () { button.textContent = 'Copied'; button.classList.add('done'); setTimeout(function () { button.textContent = 'Copy'; button.classList.remove('done'); }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
    } else { fallback(text); done(); }
  });
  function fallback(text) {
    var area = document.createElement('textarea');
    area.value = text; area.setAttribute('readonly', ''); area.style.position = 'absolute'; area.style.left = '-9999px';
    document.body.appendChild(area); area.select();
    try { document.execCommand('copy'); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }
  readHash();
  apply();
})();
