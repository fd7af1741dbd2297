// docgen's search: the box in the header, its results, and the ranking behind them.
//
// docgen/search.py writes the index as scripts that set globals, loaded with <script> tags
// (so search works from file:// as well as over HTTP): _static/search-index.js, the first
// time the box is used, with every word's postings packed into a string that is decoded
// only when a query needs that word; and _static/search-text/N.js, the sections' text,
// only for the results on screen.
//
// Ranking: results that match more of the query's words come first; among those, matches
// without a typo; then by where every word matched: an exact API name, the page title, a
// section heading, the text; then by a score: BM25 over the text plus a bonus for each word
// in a heading or title. A page of API entries (a module's page) has a module name for a
// title, so that title ranks as a heading. Words match exactly, as a prefix, or (from 4
// letters) with one typo: a letter added, dropped, changed or two swapped.
(function () {
  "use strict";

  const TEXT = 1, HEADING = 2, TITLE = 4, MAX_COUNT = 4;  // as in docgen/search.py
  const TIER_SYMBOL = 5, TIER_TITLE = 3, TIER_HEADING = 2, TIER_TEXT = 1;
  const EXACT = 1, TYPO = 0.35;
  const MAX_PREFIX_TERMS = 64, MAX_RESULTS = 10, SNIPPET_CHARS = 160;
  const SPLIT = /[^\p{L}\p{N}_]+/u;

  // Lower-case words: runs of letters, digits and underscores, as search.py splits them.
  function words(text) {
    return text.toLowerCase().split(SPLIT).filter(Boolean);
  }

  // Optimal string alignment distance, stopped as soon as it exceeds 1.
  function withinOneEdit(a, b) {
    const la = a.length, lb = b.length;
    if (Math.abs(la - lb) > 1) return false;
    let i = 0;
    while (i < la && i < lb && a[i] === b[i]) i++;
    if (i === la || i === lb) return true;
    if (la === lb) {
      if (a.slice(i + 1) === b.slice(i + 1)) return true;  // one letter changed
      return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
    }
    return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
  }

  function Index(data) {
    this.pages = data.pages;
    this.sections = data.sections;
    this.shards = data.shards;
    this.vocabulary = data.terms ? data.terms.split(" ") : [];
    this.encoded = data.postings;
    this.decoded = new Map();  // term -> {ids, fields, counts}, decoded on first use
    this.markers = new Int8Array(128).fill(-1);
    for (let i = 0; i < data.markers.length; i++) this.markers[data.markers.charCodeAt(i)] = i;
    this.stopwords = new Set(data.stopwords);
    this.symbols = new Map();  // lower-case full name, or a dotted tail of it -> [section]
    let total = 0;
    this.sections.forEach((s, id) => {
      total += s[3];
      if (!s[4]) return;
      // A function is found by its short name; a module only by its full name.
      const parts = s[4].toLowerCase().split(".");
      for (let i = 0; i < (s[5] === "module" ? 1 : parts.length); i++) {
        const name = parts.slice(i).join(".");
        if (!this.symbols.has(name)) this.symbols.set(name, []);
        this.symbols.get(name).push(id);
      }
    });
    this.avgLength = total / Math.max(1, this.sections.length) || 1;
    this.byLength = null;  // terms by length, for typos: made on first need
    this.headingLengths = new Float32Array(this.sections.length);  // made on first need
    this.titleLengths = new Float32Array(this.pages.length);
  }

  // An API entry, or a section of a page of API entries: its title is a module's name, so it
  // ranks with the headings; its text is a docstring, which weighs half as much as the prose
  // of a guide when a query only matches text ("intersphinx" is explained in a guide, and
  // merely mentioned in the docstrings of the functions that write objects.inv).
  Index.prototype.isReference = function (id) {
    const s = this.sections[id];
    return Boolean(s[4] || this.pages[s[0]][2]);
  };

  // BM25 (k1 = 1.2, b = 0.75) of a word found `count` times in a section's text. A docstring
  // is short by its form, not because it is more to the point: it gets no bonus for brevity.
  Index.prototype.bm25 = function (id, count, reference) {
    if (!count) return 0;
    let length = this.sections[id][3] / this.avgLength;
    if (reference) length = Math.max(1, length);
    return (reference ? 0.5 : 1) * (count * 2.2) / (count + 1.2 * (0.25 + 0.75 * length));
  };

  // The square roots of the numbers of words (common words aside) of a section's heading
  // and of its page title.
  Index.prototype.wordCount = function (text) {
    return Math.sqrt(words(text).filter((w) => !this.stopwords.has(w)).length || 1);
  };
  Index.prototype.headingLength = function (id) {
    if (this.headingLengths[id] === 0) this.headingLengths[id] = this.wordCount(this.sections[id][2]);
    return this.headingLengths[id];
  };
  Index.prototype.titleLength = function (id) {
    const page = this.sections[id][0];
    if (this.titleLengths[page] === 0) this.titleLengths[page] = this.wordCount(this.pages[page][1]);
    return this.titleLengths[page];
  };

  // Position of the first vocabulary term >= word (the vocabulary is sorted).
  Index.prototype.lowerBound = function (word) {
    const v = this.vocabulary;
    let lo = 0, hi = v.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (v[mid] < word) lo = mid + 1; else hi = mid; }
    return lo;
  };

  Index.prototype.postings = function (term) {
    let p = this.decoded.get(term);
    if (p !== undefined) return p;
    const s = this.encoded[this.lowerBound(term)];
    p = {ids: [], fields: [], counts: []};
    let delta = 0, id = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const code = c < 128 ? this.markers[c] : -1;
      if (code < 0) { delta = delta * 36 + (c <= 57 ? c - 48 : c - 87); continue; }
      id += delta;
      delta = 0;
      p.ids.push(id);
      p.fields.push(Math.floor(code / (MAX_COUNT + 1)));
      p.counts.push(code % (MAX_COUNT + 1));
    }
    this.decoded.set(term, p);
    return p;
  };

  // Vocabulary terms a query word stands for: [term, quality], the word itself first.
  Index.prototype.expand = function (word) {
    const found = [], v = this.vocabulary;
    const at = this.lowerBound(word);
    if (v[at] === word) found.push([word, EXACT]);
    const prefixed = [];
    for (let i = at; i < v.length && v[i].startsWith(word); i++) if (v[i] !== word) prefixed.push(v[i]);
    if (prefixed.length > MAX_PREFIX_TERMS) {  // a short prefix: keep the most common words
      const df = (t) => this.encoded[this.lowerBound(t)].length;
      prefixed.sort((a, b) => df(b) - df(a));
      prefixed.length = MAX_PREFIX_TERMS;
    }
    for (const t of prefixed) found.push([t, 0.5 + 0.4 * word.length / t.length]);
    if (word.length >= 4) {
      if (this.byLength === null) {
        this.byLength = [];
        for (const t of v) (this.byLength[t.length] ||= []).push(t);
      }
      for (let len = word.length - 1; len <= word.length + 1; len++) {
        for (const t of this.byLength[len] || []) {
          if (t !== word && !t.startsWith(word) && withinOneEdit(word, t)) found.push([t, TYPO]);
        }
      }
    }
    return found;
  };

  // Ranked results for a query: [{section, url, page, heading, symbol, kind, terms}].
  Index.prototype.search = function (query, limit) {
    limit = limit || MAX_RESULTS;
    const all = Array.from(new Set(words(query)));
    const content = all.filter((w) => !this.stopwords.has(w));
    const queryWords = content.length ? content : all;
    const hits = new Map();  // section -> {matched, typos, tier, score, terms}
    const hit = (id) => {
      let h = hits.get(id);
      if (h === undefined) {
        h = {id, matched: 0, typos: 0, tier: TIER_SYMBOL, score: 0, terms: new Set()};
        hits.set(id, h);
      }
      return h;
    };
    const n = this.sections.length;
    for (const word of queryWords) {
      const best = new Map();  // section -> best [quality, tier, score] for this word
      for (const [term, quality] of this.expand(word)) {
        const p = this.postings(term);
        const idf = Math.log(1 + (n - p.ids.length + 0.5) / (p.ids.length + 0.5));
        for (let k = 0; k < p.ids.length; k++) {
          const id = p.ids[k], f = p.fields[k];
          const reference = this.isReference(id);
          const title = f & TITLE && !reference;
          const tier = title ? TIER_TITLE : f & (TITLE | HEADING) ? TIER_HEADING : TIER_TEXT;
          // A word in a short heading says more than one in a long heading.
          const named = (title ? 6 / this.titleLength(id) : 0) +
            (f & HEADING ? 4 / this.headingLength(id) : 0);
          const score = quality * idf * (named + this.bm25(id, p.counts[k], reference));
          hit(id).terms.add(term);
          const b = best.get(id);
          if (b === undefined || quality > b[0] || (quality === b[0] && score > b[2])) {
            best.set(id, [quality, tier, score]);
          }
        }
      }
      for (const [id, [quality, tier, score]] of best) {
        const h = hits.get(id);
        h.matched++;
        if (quality === TYPO) h.typos++;
        h.tier = Math.min(h.tier, tier);
        h.score += score;
      }
    }
    const name = query.trim().replace(/^`|`$/g, "").replace(/\(\)$/, "");
    for (const id of this.symbols.get(name.toLowerCase()) || []) {
      const h = hit(id);
      h.matched = queryWords.length;
      h.typos = 0;
      h.tier = TIER_SYMBOL;
      h.score += this.sections[id][4].endsWith(name) ? 2 : 1;  // the same letter case first
    }
    this.enterAtHeadings(hits);
    const ranked = Array.from(hits.values()).filter((h) => h.matched > 0);
    ranked.sort((a, b) => b.matched - a.matched || (a.typos > 0) - (b.typos > 0) ||
      b.tier - a.tier || b.score - a.score || a.id - b.id);
    return ranked.slice(0, limit).map((h) => this.result(h));
  };

  // A page whose title matches opens at a heading that matches with fewer words than the
  // title has: "crop and pad" lands on the Crop and pad section of "Perspective warp and
  // crop/pad". The heading takes the title's rank; the page top takes the heading's.
  Index.prototype.enterAtHeadings = function (hits) {
    const headings = new Map();  // page -> its best heading hit without typos
    for (const h of hits.values()) {
      if (h.tier !== TIER_HEADING || h.typos) continue;
      const page = this.sections[h.id][0], best = headings.get(page);
      if (best === undefined || h.matched > best.matched ||
          (h.matched === best.matched && h.score > best.score)) headings.set(page, h);
    }
    for (const h of hits.values()) {
      const heading = h.tier === TIER_TITLE && !h.typos && headings.get(this.sections[h.id][0]);
      if (!heading || heading.matched < h.matched) continue;
      const title = this.pages[this.sections[h.id][0]][1];
      if (words(this.sections[heading.id][2]).length >= words(title).length) continue;
      [h.tier, heading.tier] = [heading.tier, h.tier];
      [h.score, heading.score] = [heading.score, h.score];
    }
  };

  Index.prototype.result = function (h) {
    const s = this.sections[h.id];
    const [url, title] = this.pages[s[0]];
    return {
      section: h.id, url: url + (s[1] ? "#" + encodeURIComponent(s[1]) : ""),
      page: title, heading: s[2] || title, symbol: s[4] || "", kind: s[5] || "",
      terms: Array.from(h.terms),
    };
  };

  // The shard of section texts that holds section `id`.
  Index.prototype.shardOf = function (id) {
    let lo = 0, hi = this.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.shards[mid] <= id) lo = mid; else hi = mid - 1;
    }
    return lo;
  };

  // Loads a script once; resolves when it has run.
  const scripts = new Map();
  function loadScript(src) {
    if (!scripts.has(src)) {
      const loading = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = src;
        script.onload = resolve;
        script.onerror = () => reject(new Error("could not load " + src));
        document.head.appendChild(script);
      });
      loading.catch(() => scripts.delete(src));
      scripts.set(src, loading);
    }
    return scripts.get(src);
  }

  // The results with the text of their sections, loading the shards they are in.
  function withText(index, results, root) {
    const shards = Array.from(new Set(results.map((r) => index.shardOf(r.section))));
    const loads = shards.map((k) => (window.docgenSearchText || {})[k] ? null :
      loadScript(root + "_static/search-text/" + k + ".js"));
    return Promise.all(loads).then(() => results.map((r) => {
      const k = index.shardOf(r.section);
      r.text = window.docgenSearchText[k][r.section - index.shards[k]];
      return r;
    }));
  }

  // --- the search box --------------------------------------------------------------

  const box = document.querySelector(".search[data-root]");
  if (!box) return;
  const input = box.querySelector(".search-input");
  const list = box.querySelector(".search-results");
  const root = box.getAttribute("data-root") || "";
  let loading = null, results = [], active = -1;

  function load() {
    if (!loading) {
      loading = loadScript(root + "_static/search-index.js").then(() => {
        if (!window.docgenSearchIndex) throw new Error("the search index is empty");
        return new Index(window.docgenSearchIndex);
      });
      loading.catch(() => { loading = null; });
    }
    return loading;
  }

  function search(query, limit) {
    return load().then((index) => withText(index, index.search(query, limit), root));
  }

  // The text with the matched words in <mark>. A word starts after anything but a letter or
  // digit, so `cache` is marked in save_cache too.
  function marked(text, terms) {
    const frag = document.createDocumentFragment();
    if (!terms.length) { frag.append(text); return frag; }
    const pattern = terms.slice().sort((a, b) => b.length - a.length).join("|");
    const re = new RegExp("(^|[^\\p{L}\\p{N}])(" + pattern + ")", "giu");
    let at = 0;
    for (const m of text.matchAll(re)) {
      const start = m.index + m[1].length;
      frag.append(text.slice(at, start));
      const mark = document.createElement("mark");
      mark.textContent = m[2];
      frag.append(mark);
      at = start + m[2].length;
    }
    frag.append(text.slice(at));
    return frag;
  }

  // About SNIPPET_CHARS of the text around the first matched word, cut at spaces.
  function snippet(text, terms) {
    let first = -1;
    if (terms.length) {
      const re = new RegExp("(^|[^\\p{L}\\p{N}])(" + terms.join("|") + ")", "iu");
      const m = re.exec(text);
      if (m) first = m.index + m[1].length;
    }
    let start = first < 0 ? 0 : Math.max(0, first - 50);
    if (start > 0) start = text.indexOf(" ", start) + 1 || start;
    let end = Math.min(text.length, start + SNIPPET_CHARS);
    if (end < text.length) end = text.lastIndexOf(" ", end) > start ? text.lastIndexOf(" ", end) : end;
    return (start > 0 ? "… " : "") + text.slice(start, end) + (end < text.length ? " …" : "");
  }

  function span(className, text) {
    return Object.assign(document.createElement("span"), {className, textContent: text});
  }

  function render(query) {
    list.textContent = "";
    active = -1;
    if (!query.trim()) { close(); return; }
    results.forEach((r, i) => {
      const option = document.createElement("a");
      option.className = "search-result";
      option.id = "search-result-" + i;
      option.setAttribute("role", "option");
      option.href = root + r.url;
      const where = document.createElement("span");
      where.className = "search-where";
      const heading = document.createElement(r.symbol ? "code" : "span");
      heading.className = "search-heading";
      heading.append(marked(r.heading, r.terms));
      where.append(heading);
      if (r.kind) where.append(span("search-kind", r.kind));
      if (r.heading !== r.page) where.append(span("search-page", r.page));
      const text = document.createElement("span");
      text.className = "search-snippet";
      text.append(marked(snippet(r.text, r.terms), r.terms));
      option.append(where, text);
      option.addEventListener("mousemove", () => select(i));
      list.append(option);
    });
    if (!results.length) {
      const none = document.createElement("p");
      none.className = "search-none";
      none.textContent = "No results for “" + query.trim() + "”";
      list.append(none);
    } else {
      select(0);
    }
    list.dataset.query = query;
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function select(i) {
    const options = list.querySelectorAll(".search-result");
    if (!options.length) return;
    active = (i + options.length) % options.length;
    options.forEach((o, k) => {
      o.classList.toggle("active", k === active);
      o.setAttribute("aria-selected", k === active ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", options[active].id);
    options[active].scrollIntoView({block: "nearest"});
  }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function go(i) {
    const option = list.querySelectorAll(".search-result")[i];
    if (!option) return;
    close();
    input.blur();
    window.location.href = option.href;
  }

  function update() {
    const query = input.value;
    if (!query.trim()) { results = []; render(query); return; }
    search(query).then((found) => {
      if (query !== input.value) return;  // the reader typed on meanwhile
      results = found;
      render(query);
      box.dispatchEvent(new CustomEvent("docgen:results", {detail: {query, count: results.length}}));
    }, (error) => {
      list.textContent = "Search is unavailable: " + error.message + ".";
      list.hidden = false;
    });
  }

  input.addEventListener("input", update);
  input.addEventListener("focus", () => {
    load().catch(() => {});  // start loading before the first keystroke
    if (input.value.trim() && list.childNodes.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  list.addEventListener("mousedown", (e) => e.preventDefault());  // keep focus while clicking
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (list.hidden) { if (input.value.trim()) update(); return; }
      select(active + (e.key === "ArrowDown" ? 1 : -1));
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (!list.hidden && active >= 0) go(active);
    } else if (e.key === "Escape") {
      if (!list.hidden) close(); else input.blur();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const t = e.target;
    if (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
    e.preventDefault();
    input.focus();
    input.select();
  });

  // For tests and benchmarks: the ranking the box uses, results with their text.
  window.docgenSearch = {load, search};
})();
