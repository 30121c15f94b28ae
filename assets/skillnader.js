// Client-side helpers. URL state: controls write the query string with pushState, so a view
// can be shared and back/forward restore it (Dash pages re-render the layout on popstate).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  skillnader: {
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
    switchLang: function (lang) {
      const params = new URLSearchParams(window.location.search);
      if ((params.get('lang') || 'sv') === lang) return window.dash_clientside.no_update;
      params.set('lang', lang);
      window.location.search = params.toString();
      return window.dash_clientside.no_update;
    }
  }
});
