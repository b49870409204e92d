// A virtualised table: only the rows in view (plus a margin) are in the DOM, absolutely
// placed inside a spacer as tall as all the rows, so that the scrollbar is right for any
// number of rows. Rows are loaded page by page through loadPage(offset, limit) →
// {total, rows}; pages are cached (a bounded number) and requested shortly after
// scrolling stops, so a fast drag over 100,000 rows does not send hundreds of requests.

import { el } from './util.js';

const MARGIN_ROWS = 10;
const MAX_CACHED_PAGES = 40;
const FETCH_DELAY_MS = 60;

export class VirtualTable {
  /**
   * header: an element drawn above the rows (sticky);
   * buildRow(row, index): the element of a loaded row; placeholder(index): of one loading;
   * loadPage(offset, limit): a promise of {total, rows}; loaded(answer): told of each answer.
   */
  constructor({ header, buildRow, placeholder, loadPage, loaded, rowHeight = 34, pageSize = 200, testid }) {
    Object.assign(this, { header, buildRow, placeholder, loadPage, loaded, rowHeight, pageSize });
    this.total = 0;
    this.pages = new Map();   // page number → rows
    this.stale = new Map();   // pages of before a refresh, shown until their new version arrives
    this.pending = new Set(); // page numbers being requested
    this.shown = new Map();   // row index → {node, row}
    this.epoch = 0;           // bumped by reset(): answers to older requests are dropped
    this.body = el('div', { class: 'vt-body', role: 'rowgroup' });
    this.node = el('div', { class: 'vt', role: 'table', dataset: { testid } }, header, this.body);
    this.fetchLater = null;
    this.frame = 0;
    this.node.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.resize = new ResizeObserver(() => this.schedule());
    this.resize.observe(this.node);
  }

  /** Sets the CSS grid columns shared by the header and the rows. */
  setColumns(template, width) {
    this.node.style.setProperty('--vt-cols', template);
    this.node.style.setProperty('--vt-width', `${width}px`);
  }

  /** A new query: forget everything and start from the top. */
  reset() {
    this.epoch++;
    this.pages.clear();
    this.stale.clear();
    this.pending.clear();
    this.node.scrollTop = 0;
    this.rerender();
    this.requestVisible(true);
  }

  /** Same query, new data (the index changed): reload the visible pages, keeping the old
   * rows on screen until the new ones arrive. */
  refresh() {
    for (const [page, rows] of this.pages) this.stale.set(page, rows);
    this.pages.clear();
    if (this.stale.size > 2 * MAX_CACHED_PAGES) this.stale.clear();
    this.requestVisible(true);
  }

  /** Rebuilds the visible rows (columns or selection changed). */
  rerender() {
    for (const { node } of this.shown.values()) node.remove();
    this.shown.clear();
    this.render();
  }

  rowAt(index) {
    const page = Math.floor(index / this.pageSize);
    const rows = this.pages.get(page) || this.stale.get(page);
    return rows ? rows[index - page * this.pageSize] : undefined;
  }

  visibleRange() {
    const top = this.node.scrollTop;
    const height = this.node.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - MARGIN_ROWS);
    const last = Math.min(this.total, Math.ceil((top + height) / this.rowHeight) + MARGIN_ROWS);
    return { first, last };
  }

  schedule() {
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.render();
        this.requestVisible(false);
      });
    }
  }

  render() {
    this.body.style.height = `${this.total * this.rowHeight}px`;
    const { first, last } = this.visibleRange();
    for (const [index, entry] of this.shown) {
      if (index < first || index >= last) {
        entry.node.remove();
        this.shown.delete(index);
      }
    }
    for (let index = first; index < last; index++) {
      const row = this.rowAt(index);
      const entry = this.shown.get(index);
      if (entry && entry.row === row) continue;
      const node = row ? this.buildRow(row, index) : this.placeholder(index);
      node.style.top = `${index * this.rowHeight}px`;
      if (entry) entry.node.replaceWith(node);
      else this.body.appendChild(node);
      this.shown.set(index, { node, row });
    }
  }

  /** Requests the pages that the visible rows need; at once when nothing is shown yet. */
  requestVisible(now) {
    clearTimeout(this.fetchLater);
    const fetchNeeded = () => {
      const { first, last } = this.visibleRange();
      const firstPage = Math.floor(first / this.pageSize);
      const lastPage = this.total ? Math.floor(Math.max(first, last - 1) / this.pageSize) : 0;
      for (let page = firstPage; page <= lastPage; page++) {
        if (!this.pages.has(page) && !this.pending.has(page)) this.fetchPage(page);
      }
    };
    if (now) fetchNeeded();
    else this.fetchLater = setTimeout(fetchNeeded, FETCH_DELAY_MS);
  }

  async fetchPage(page) {
    const epoch = this.epoch;
    this.pending.add(page);
    try {
      const answer = await this.loadPage(page * this.pageSize, this.pageSize);
      if (epoch !== this.epoch) return;
      this.pages.set(page, answer.rows);
      this.stale.delete(page);
      this.evict(page);
      const totalChanged = answer.total !== this.total;
      this.total = answer.total;
      if (this.loaded) this.loaded(answer);
      this.render();
      if (totalChanged) this.requestVisible(true);
    } catch (error) {
      if (epoch === this.epoch && this.loaded) this.loaded({ error });
    } finally {
      if (epoch === this.epoch) this.pending.delete(page);
    }
  }

  /** Keeps the cache bounded: drops the pages farthest from the one just loaded. */
  evict(near) {
    if (this.pages.size <= MAX_CACHED_PAGES) return;
    const byDistance = [...this.pages.keys()].sort((a, b) => Math.abs(b - near) - Math.abs(a - near));
    for (const page of byDistance.slice(0, this.pages.size - MAX_CACHED_PAGES)) this.pages.delete(page);
  }

  destroy() {
    this.epoch++;
    clearTimeout(this.fetchLater);
    cancelAnimationFrame(this.frame);
    this.resize.disconnect();
  }
}
