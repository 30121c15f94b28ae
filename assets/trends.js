// Trends page helpers (namespace "trends"): the legend click. URL state: assets/skillnader.js.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  trends: (function () {
    // Latest highlighted districts, read by the legend click handler between redraws.
    const legendState = {selected: [], selectId: null, max: 6};

    function plotDiv(graphId) {
      const el = document.getElementById(graphId);
      if (!el) return null;
      return el.classList.contains('js-plotly-plot') ? el : el.querySelector('.js-plotly-plot');
    }

    function bind(graphId, tries) {
      const gd = plotDiv(graphId);
      if (!gd || typeof gd.on !== 'function') {
        if (tries > 0) setTimeout(function () { bind(graphId, tries - 1); }, 100);
        return;
      }
      if (gd._trendsLegendBound) return;
      gd._trendsLegendBound = true;
      // A legend click highlights or un-highlights a district instead of hiding its line.
      gd.on('plotly_legendclick', function (ev) {
        const trace = ev && ev.data ? ev.data[ev.curveNumber] : null;
        const code = trace ? trace.meta : null;
        if (code && legendState.selectId) {
          const next = legendState.selected.slice();
          const i = next.indexOf(code);
          if (i >= 0) {
            next.splice(i, 1);
          } else {
            next.push(code);
            while (next.length > legendState.max) next.shift();
          }
          legendState.selected = next;
          window.dash_clientside.set_props(legendState.selectId, {value: next});
        }
        return false;
      });
      gd.on('plotly_legenddoubleclick', function () { return false; });
    }

    return {
      // cfg = {graph: id of the dcc.Graph, select: id of the multi-select, max: n}
      bindLegend: function (figure, selected, cfg) {
        if (!cfg) return window.dash_clientside.no_update;
        legendState.selected = Array.isArray(selected) ? selected.slice() : [];
        legendState.selectId = cfg.select;
        legendState.max = cfg.max || 6;
        bind(cfg.graph, 50);
        return window.dash_clientside.no_update;
      }
    };
  })()
});
