// Client-side helpers. URL state: controls write the query string with pushState, so a view
// can be shared and back/forward restore it (Dash pages re-render the layout on popstate).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  skillnader: {
    // Generic: data = {query: {key: value, ...}, replace: bool}. Writes exactly these keys, in
    // this order (commas kept readable), with replaceState for a first render (canonicalising
    // a hand-edited link) and pushState for a user's change, so back/forward step through views.
    setQuery: function (data) {
      if (!data || !data.query) return window.dash_clientside.no_update;
      const parts = [];
      for (const [k, v] of Object.entries(data.query)) {
        if (v === null || v === undefined || v === '') continue;
        parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(v)).replace(/%2C/g, ','));
      }
      const search = '?' + parts.join('&');
      if (search === window.location.search) return window.dash_clientside.no_update;
      const url = window.location.pathname + search + window.location.hash;
      if (data.replace) {
        window.history.replaceState(null, '', url);
      } else {
        window.history.pushState(null, '', url);
      }
      return window.dash_clientside.no_update;
    },
    syncUrl: function (area, indicator, year, division, lang) {
      const params = new URLSearchParams(window.location.search);
      const next = {lang: lang, area: area, indicator: indicator, year: year, division: division};
      let changed = false;
      for (const [k, v] of Object.entries(next)) {
        if (v === null || v === undefined) continue;
        if (params.get(k) !== String(v)) { params.set(k, String(v)); changed = true; }
      }
      if (changed) {
        const url = window.location.pathname + '?' + params.toString();
        if (!window.location.search) {
          window.history.replaceState(null, '', url);
        } else {
          window.history.pushState(null, '', url);
        }
      }
      return window.dash_clientside.no_update;
    },
    // Generic: data = {search: '?a=1', root: page root id, sink: dcc.Store id, replace: bool}.
    // Pushes the page's canonical query (nothing if unchanged; replace: rewrite the current
    // entry, used when a view restored from history is written back in canonical form). Dash's router re-renders a page on
    // back/forward only when the URL differs from the last one *it* saw, so stepping back to a
    // view written here could go unnoticed: while `root` is on the page, every popstate also
    // sets the store `sink` to {search, n} and the page restores its controls from that.
    pushSearch: function (data) {
      if (!data || typeof data.search !== 'string') return window.dash_clientside.no_update;
      if (data.root && data.sink) {
        const sinks = window._skillnaderPopSinks = window._skillnaderPopSinks || {};
        sinks[data.root] = data.sink;
        if (!window._skillnaderPopBound) {
          window._skillnaderPopBound = true;
          let n = 0;
          window.addEventListener('popstate', function () {
            for (const [root, sink] of Object.entries(window._skillnaderPopSinks)) {
              if (document.getElementById(root)) {
                n += 1;
                window.dash_clientside.set_props(sink, {data: {search: window.location.search, n: n}});
              }
            }
          });
        }
      }
      if (data.search !== window.location.search) {
        const url = window.location.pathname + data.search + window.location.hash;
        if (data.replace) {
          window.history.replaceState(null, '', url);
        } else {
          window.history.pushState(null, '', url);
        }
      }
      return window.dash_clientside.no_update;
    },
    switchLang: function (lang) {
      const params = new URLSearchParams(window.location.search);
      if ((params.get('lang') || 'sv') === lang) return window.dash_clientside.no_update;
      params.set('lang', lang);
      window.location.search = params.toString();
      return window.dash_clientside.no_update;
    }
  }
});
