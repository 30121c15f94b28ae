// URL state, the one way for every page: a page's whole view lives in the query string.
//  - window.skillnader.pushQuery(query, {replace}): write the query ({k: v, ...} in order, or
//    '?a=1'); pushState for a new view, replaceState with replace; nothing if unchanged.
//  - dash_clientside.skillnader.syncQuery (a page's clientside callback): data = {query, root,
//    sink, replace} -> pushQuery. The first write after a page render replaces (it only
//    canonicalises the link the page was opened with, e.g. a cleaned-up hostile one), later
//    writes push, so back/forward step through views. `written` is the page's flag store.
//  - back/forward: Dash's router re-renders only when the URL differs from the last one *it*
//    saw, and it never sees these writes. So while `root` (an element of the page) is on screen
//    and the entry is on the same path, popstate is handled here instead: the store `sink` is
//    set to {search, n} and the page restores its controls from that search (no re-render).
//    Another path is left to the router.
//  - switchLang: reload with the other language, keeping every other parameter.
window.skillnader = (function () {
  const pages = {};  // root element id -> {sink: store id, path}
  let n = 0;

  function toSearch(query) {
    if (typeof query === 'string') return query.charAt(0) === '?' ? query : '?' + query;
    const parts = [];
    for (const [k, v] of Object.entries(query)) {
      if (v === null || v === undefined || v === '') continue;
      parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(v)).replace(/%2C/g, ','));
    }
    return '?' + parts.join('&');
  }

  function pushQuery(query, opts) {
    const search = toSearch(query);
    if (search === window.location.search) return false;
    const url = window.location.pathname + search + window.location.hash;
    if (opts && opts.replace) {
      window.history.replaceState(null, '', url);
    } else {
      window.history.pushState(null, '', url);
    }
    return true;
  }

  function restoreOnPop(root, sink) {
    pages[root] = {sink: sink, path: window.location.pathname};
  }

  window.addEventListener('popstate', function (ev) {
    for (const [root, p] of Object.entries(pages)) {
      if (!document.getElementById(root)) continue;
      if (p.path !== window.location.pathname) return;  // another page: the router renders it
      ev.stopImmediatePropagation();  // restored in place, without a page re-render
      n += 1;
      window.dash_clientside.set_props(p.sink, {data: {search: window.location.search, n: n}});
      return;
    }
  }, true);

  return {pushQuery: pushQuery, restoreOnPop: restoreOnPop};
})();

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  skillnader: {
    syncQuery: function (data, written) {
      if (!data || !data.query) return window.dash_clientside.no_update;
      if (data.root && data.sink) window.skillnader.restoreOnPop(data.root, data.sink);
      window.skillnader.pushQuery(data.query, {replace: !written || !!data.replace});
      return 1;
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
