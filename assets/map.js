// Map page helpers (namespace "skillnaderMap"; pages/map.py wires them as clientside callbacks).
//  - urlQuery: the view -> query string, through the one URL helper in assets/skillnader.js
//    (back/forward come back to the page as map-pop, restored by pages/map.py).
//  - pick/hover/highlight: the selected or hovered district outlined on map and ranking,
//    without a server round trip.
//  - fit: centre and zoom so the city fills the map at its real size.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  skillnaderMap: (function () {
    const MAP = 'map-graph';
    const BARS = 'map-ranking';
    const LINE = '#6b6b6b', LINE_W = 0.7, HI = '#111111', HI_W = 3.5;  // as map_figures.py
    const MAP_ROOT = 'map-indicator', POP = 'map-pop';  // as pages/ids.py
    const MAIN = ['lang', 'area', 'indicator', 'year', 'division', 'fixed'];
    const state = {lastMap: null, lastBars: null, fitted: null};

    function dc() { return window.dash_clientside; }

    function plotDiv(id) {
      const el = document.getElementById(id);
      if (!el) return null;
      return el.classList.contains('js-plotly-plot') ? el : el.querySelector('.js-plotly-plot');
    }

    function mainPart(search) {
      const p = new URLSearchParams(search);
      return MAIN.map(function (k) { return k + '=' + (p.get(k) || ''); }).join('&');
    }

    // --- fit: the same arithmetic as map_figures.fit_view --------------------------------
    function mercY(lat) {
      const s = Math.sin(lat * Math.PI / 180);
      return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
    }

    function fitView(bbox, width, height, pad) {
      const [w, s, e, n] = bbox;
      const dx = (e - w) / 360, dy = Math.abs(mercY(s) - mercY(n));
      const zx = Math.log2(width * (1 - 2 * pad) / (512 * dx));
      const zy = Math.log2(height * (1 - 2 * pad) / (512 * dy));
      const ym = (mercY(s) + mercY(n)) / 2;
      const lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * ym))) * 180 / Math.PI;
      return {center: {lon: (w + e) / 2, lat: lat}, zoom: Math.round(Math.min(zx, zy) * 1000) / 1000};
    }

    function fitWhenDrawn(meta, tries) {
      const gd = plotDiv(MAP);
      const fl = gd && gd._fullLayout;
      const size = fl && fl._size;
      const drawn = fl && fl.meta && fl.meta.division === meta.division;
      if (!size || !drawn || size.w < 60 || size.h < 60) {
        if (tries > 0) setTimeout(function () { fitWhenDrawn(meta, tries - 1); }, 100);
        return;
      }
      const v = fitView(meta.bbox, size.w, size.h, 0.03);
      state.fitted = {division: meta.division, zoom: v.zoom, w: size.w, h: size.h};
      const p = new (dc().Patch)();
      p.assign(['layout', 'map', 'center'], v.center).assign(['layout', 'map', 'zoom'], v.zoom);
      dc().set_props(MAP, {figure: p.build()});
    }

    // Refit on a window resize unless the reader has zoomed or panned since the last fit.
    let resizeTimer = null;
    window.addEventListener('resize', function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () {
        const gd = plotDiv(MAP);
        const f = state.fitted;
        if (!gd || !f || !gd.layout || !gd.layout.map || !gd.layout.meta) return;
        if (Math.abs((gd.layout.map.zoom || 0) - f.zoom) > 1e-3) return;
        fitWhenDrawn(gd.layout.meta, 20);
      }, 250);
    });

    return {
      // The view -> its query, written by the one URL helper (assets/skillnader.js). A
      // selection or background map change replaces the entry; a new view pushes one.
      urlQuery: function (area, indicator, year, division, fixed, selected, basemap, lang,
                          written) {
        if (!indicator || !year || !division) return dc().no_update;
        const q = {lang: lang || 'sv', area: area, indicator: indicator, year: year,
                   division: division};
        if (fixed) q.fixed = '1';
        if (selected && selected.code && selected.division === division) q.district = selected.code;
        if (basemap && basemap !== 'white-bg') q.basemap = basemap;
        const same = mainPart(new URLSearchParams(q).toString()) === mainPart(window.location.search);
        return dc().skillnader.syncQuery(
          {query: q, root: MAP_ROOT, sink: POP, replace: same}, written);
      },

      pick: function (mapClick, barClick, clearClicks, selected, division) {
        const ctx = dc().callback_context;
        const trig = ctx && ctx.triggered && ctx.triggered.length ? ctx.triggered[0].prop_id : '';
        let code = null;
        if (trig.indexOf('map-clear') === 0) return null;
        if (trig.indexOf(MAP + '.') === 0 && mapClick && mapClick.points && mapClick.points.length) {
          code = mapClick.points[0].location;
        } else if (trig.indexOf(BARS + '.') === 0 && barClick && barClick.points &&
                   barClick.points.length) {
          code = barClick.points[0].customdata;
        }
        if (!code) return dc().no_update;
        if (selected && selected.code === code && selected.division === division) return null;
        return {code: code, division: division};
      },

      hover: function (mapHover, barHover) {
        const ctx = dc().callback_context;
        const trig = ctx && ctx.triggered && ctx.triggered.length ? ctx.triggered[0].prop_id : '';
        if (trig.indexOf(MAP + '.') === 0) {
          const pt = mapHover && mapHover.points && mapHover.points[0];
          return pt ? {code: pt.location, src: 'map'} : null;
        }
        if (trig.indexOf(BARS + '.') === 0) {
          const pt = barHover && barHover.points && barHover.points[0];
          return pt ? {code: pt.customdata, src: 'bars'} : null;
        }
        return dc().no_update;
      },

      // The selected district outlined on both charts; a hovered one on the *other* chart
      // (restyling the chart under the pointer would disturb its hover label).
      highlight: function (hover, selected, version, rankVersion, mapFig, barFig) {
        const nu = dc().no_update;
        const meta = mapFig && mapFig.layout && mapFig.layout.meta;
        const division = meta ? meta.division : null;
        const sel = selected && selected.code && selected.division === division ? selected.code : null;
        const onMap = new Set(), onBars = new Set();
        if (sel) { onMap.add(sel); onBars.add(sel); }
        if (hover && hover.code) (hover.src === 'bars' ? onMap : onBars).add(hover.code);

        let outMap = nu, outBars = nu;
        if (mapFig && mapFig.data && mapFig.data.length === 2) {
          const key = JSON.stringify([division, version, Array.from(onMap).sort()]);
          if (key !== state.lastMap) {
            state.lastMap = key;
            const p = new (dc().Patch)();
            [0, 1].forEach(function (i) {
              const locs = mapFig.data[i].locations || [];
              const any = locs.some(function (c) { return onMap.has(c); });
              p.assign(['data', i, 'marker', 'line'], any ? {
                color: locs.map(function (c) { return onMap.has(c) ? HI : LINE; }),
                width: locs.map(function (c) { return onMap.has(c) ? HI_W : LINE_W; })
              } : {color: LINE, width: LINE_W});
            });
            outMap = p.build();
          }
        }
        if (barFig && barFig.data && barFig.data.length) {
          const codes = barFig.data[0].customdata || [];
          const key = JSON.stringify([rankVersion, codes.length, Array.from(onBars).sort()]);
          if (key !== state.lastBars) {
            state.lastBars = key;
            const any = codes.some(function (c) { return onBars.has(c); });
            const p = new (dc().Patch)();
            p.assign(['data', 0, 'marker', 'line'], any ? {
              color: codes.map(function (c) { return onBars.has(c) ? HI : '#555'; }),
              width: codes.map(function (c) { return onBars.has(c) ? 3 : 0.5; })
            } : {color: '#555', width: 0.5});
            outBars = p.build();
          }
        }
        return [outMap, outBars];
      },

      fit: function (meta) {
        if (meta && meta.bbox && meta.division) fitWhenDrawn(meta, 50);
        return dc().no_update;
      }
    };
  })()
});
