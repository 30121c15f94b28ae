// Download/share menus of the charts (pages/components.py export_menu) and the app shell's
// embed/presentation classes (app.py). Owned by the export/embed feature; reads the address
// bar only, never writes it (URL state is assets/skillnader.js's job).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  skillnaderShare: {
    // /embed/*: no header; ?present=1: large fonts, 16:9 layout (assets/present.css)
    shell: function (pathname, search) {
      const embed = /^(.*\/)?embed(\/|$)/.test(pathname || '');
      const present = new URLSearchParams(search || '').get('present') === '1';
      const cls = [embed ? 'embed-shell' : '', present ? 'present-mode' : '']
        .filter(Boolean).join(' ');
      document.documentElement.classList.toggle('present-mode', present);
      return [embed ? {display: 'none'} : {}, cls];
    },

    links: function (nBtn, nShare, pinned, cfg) {
      const nu = window.dash_clientside.no_update;
      if (!cfg) return Array(10).fill(nu);
      const here = new URLSearchParams(window.location.search);
      const base = new URLSearchParams();
      for (const k of cfg.params) {
        const v = here.get(k);
        if (v !== null && v !== '') base.set(k, v);
      }
      for (const [k, v] of Object.entries(cfg.extra || {})) base.set(k, v);
      const query = function (more, pin) {
        const p = new URLSearchParams(base);
        for (const [k, v] of Object.entries(more || {})) p.set(k, v);
        if (pin) p.set('v', cfg.version);
        return p.toString().replace(/%2C/g, ',');
      };
      // downloads always name the version they were made from (a stable, cacheable link)
      const ex = (fmt, more) => cfg.export + cfg.chart + '.' + fmt + '?' + query(more, true);
      const origin = window.location.origin;
      const page = origin + window.location.pathname + '?' + query({}, pinned);
      const embed = origin + cfg.embed + '?' + query({}, pinned);
      const esc = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
      const iframe = '<iframe src="' + esc(embed) + '" title="' + esc(cfg.title || '') +
        '" width="800" height="500" style="border:0;max-width:100%" loading="lazy"></iframe>';
      const ctx = window.dash_clientside.callback_context;
      const shared = (ctx.triggered || []).some((t) => t.prop_id.indexOf('xp-share') >= 0);
      return [
        ex('png', {preset: 'slide'}), ex('png', {preset: 'square'}), ex('svg', {}),
        ex('csv', {}), ex('xlsx', {}), ex('pptx', {}),
        shared ? true : nu, page, embed, iframe,
      ];
    },
  },
});
