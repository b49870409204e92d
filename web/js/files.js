// The files a run produced, with previews: images by URL, text in a <pre>, CSV as a table
// (the first 500 rows). Names and contents are always inserted as text.

import { api, fileUrl } from './api.js';
import { el, errorBox, fmtBytes, scrollBox } from './util.js';

const IMAGE = /\.(png|jpe?g|gif|webp)$/i;
const TABLE = /\.(csv|tsv)$/i;
const TEXT = /\.(txt|log|json|jsonl|md|ya?ml|toml|ini|cfg|py|r|sh|out|err)$/i;
const CSV_ROWS = 500;
const TEXT_PREVIEW_BYTES = 512 * 1024;

/** RFC 4180-ish: quoted fields with doubled quotes, commas (or tabs) and newlines inside. */
export function parseCsv(text, separator = ',', maxRows = Infinity) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === separator) { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if ((field !== '' || row.length) && rows.length < maxRows) rows.push([...row, field]);
  return rows;
}

function csvTable(text, path) {
  const rows = parseCsv(text, /\.tsv$/i.test(path) ? '\t' : ',', CSV_ROWS + 1);
  if (!rows.length) return el('p', { class: 'note' }, 'empty');
  const [head, ...body] = rows;
  return el('div', null,
    scrollBox(el('table', { class: 'csv' },
      el('thead', null, el('tr', null, head.map((cell) => el('th', null, cell)))),
      el('tbody', null, body.slice(0, CSV_ROWS).map((row) => el('tr', null, row.map((cell) => el('td', null, cell))))))),
    rows.length > CSV_ROWS ? el('p', { class: 'note' }, `The first ${CSV_ROWS} rows.`) : null);
}

async function preview(runId, file, target) {
  const url = fileUrl(runId, file.path);
  const title = el('div', { class: 'preview-title' }, el('strong', null, file.path), ' ',
    el('a', { href: url, download: file.path.split('/').pop() }, 'download'));
  target.replaceChildren(title);
  if (IMAGE.test(file.path)) {
    target.append(el('img', { src: url, alt: file.path, class: 'preview-image' }));
    return;
  }
  const textual = TABLE.test(file.path) || TEXT.test(file.path) || !/\.[^/]+$/.test(file.path);
  if (!textual) {
    target.append(el('p', { class: 'note' }, 'No preview for this type of file.'));
    return;
  }
  if (file.size > TEXT_PREVIEW_BYTES && !TABLE.test(file.path)) {
    target.append(el('p', { class: 'note' }, `Too large to preview (${fmtBytes(file.size)}).`));
    return;
  }
  try {
    const text = await api.fileText(runId, file.path);
    target.append(TABLE.test(file.path) ? csvTable(text, file.path) : el('pre', { class: 'file-text' }, text));
  } catch (error) {
    target.append(errorBox(error));
  }
}

/** The files section's content for a run. */
export function filesPane(runId) {
  const list = el('ul', { class: 'file-list' });
  const target = el('div', { class: 'preview' });
  const node = el('div', { class: 'files', dataset: { testid: 'files' } }, list, target);
  api.files(runId).then(({ files }) => {
    if (!files || !files.length) {
      list.replaceWith(el('p', { class: 'note' }, 'The run wrote no files.'));
      return;
    }
    for (const file of files) {
      list.append(el('li', null,
        el('button', { type: 'button', class: 'link', dataset: { path: file.path },
          onclick: () => {
            for (const b of list.querySelectorAll('button')) b.classList.toggle('current', b.dataset.path === file.path);
            preview(runId, file, target);
          } }, file.path),
        el('span', { class: 'size' }, fmtBytes(file.size))));
    }
    // Show the first image straight away: plots are what one usually looks for.
    const image = files.find((f) => IMAGE.test(f.path));
    if (image) list.querySelector(`button[data-path="${CSS.escape(image.path)}"]`).click();
  }).catch((error) => list.replaceWith(errorBox(error)));
  return node;
}
