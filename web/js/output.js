// A run's console output: the last lines first, earlier output on request, live chunks
// appended (scrolling along while the reader is at the bottom); stderr chunks carry the
// class "stderr".

import { api } from './api.js';
import { el, errorBox, fmtBytes, fmtTime } from './util.js';

const TAIL_LINES = 2000;
const MAX_CHUNK_NODES = 20000; // beyond this the oldest chunks leave the page
const EARLIER_BYTES = 1 << 20;

function chunkNode(chunk) {
  const node = el('span', { class: chunk.stream === 1 ? 'stderr' : 'stdout' }, chunk.text);
  if (chunk.time) node.title = fmtTime(chunk.time);
  return node;
}

export class OutputPane {
  constructor(runId) {
    this.runId = runId;
    this.start = 0;  // byte offset of the first chunk shown
    this.next = 0;   // byte offset after the last chunk shown
    this.pre = el('pre', { class: 'output', tabindex: '0', dataset: { testid: 'output' } });
    this.earlier = el('button', { type: 'button', class: 'link', hidden: true, onclick: () => this.loadEarlier() });
    this.info = el('span', { class: 'note' });
    this.node = el('div', { class: 'output-pane' }, el('div', { class: 'output-bar' }, this.earlier, this.info), this.pre);
  }

  /** Loads the tail; resolves to the byte offset to follow live output from. */
  async load(signal) {
    try {
      let answer = await api.output(this.runId, { tail: TAIL_LINES }, signal);
      this.start = answer.offset;
      this.appendChunks(answer.chunks || [], answer.next);
      // A tail longer than one answer's limit comes in several.
      while (answer.next < answer.size && (answer.chunks || []).length) {
        answer = await api.output(this.runId, { offset: answer.next }, signal);
        this.appendChunks(answer.chunks || [], answer.next);
      }
      this.updateInfo(answer.size);
      this.pre.scrollTop = this.pre.scrollHeight;
      if (!this.pre.firstChild) this.pre.append(el('span', { class: 'empty' }, ''));
    } catch (error) {
      if (error.name !== 'AbortError') this.node.append(errorBox(error));
    }
    return this.next;
  }

  updateInfo(size) {
    this.earlier.hidden = this.start <= 0;
    this.earlier.textContent = `Show earlier output (${fmtBytes(this.start)} more)`;
    this.info.textContent = size != null ? ` ${fmtBytes(size)}` : '';
  }

  async loadEarlier() {
    const from = Math.max(0, this.start - EARLIER_BYTES);
    try {
      const answer = await api.output(this.runId, { offset: from, limit: this.start - from });
      const fragment = document.createDocumentFragment();
      for (const chunk of answer.chunks || []) fragment.append(chunkNode(chunk));
      const bottom = this.pre.scrollHeight - this.pre.scrollTop;
      this.pre.insertBefore(fragment, this.pre.firstChild);
      this.pre.scrollTop = this.pre.scrollHeight - bottom; // keep the lines read in place
      this.start = from;
      this.updateInfo(answer.size);
    } catch (error) {
      this.node.append(errorBox(error));
    }
  }

  atBottom() {
    return this.pre.scrollTop + this.pre.clientHeight >= this.pre.scrollHeight - 8;
  }

  /** Appends chunks [{stream, time, text}] ending at byte offset next. */
  appendChunks(chunks, next) {
    const follow = this.atBottom();
    const empty = this.pre.querySelector('.empty');
    if (empty && chunks.length) empty.remove();
    const fragment = document.createDocumentFragment();
    for (const chunk of chunks) fragment.append(chunkNode(chunk));
    this.pre.append(fragment);
    while (this.pre.childNodes.length > MAX_CHUNK_NODES) {
      this.pre.removeChild(this.pre.firstChild);
      this.earlier.hidden = true; // what was dropped is not offered again
    }
    if (next != null) this.next = next;
    if (follow) this.pre.scrollTop = this.pre.scrollHeight;
  }
}
