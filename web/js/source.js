// A run's source snapshot, coloured by a small scanner of our own (Python, R, shell, YAML:
// keywords, strings, comments, numbers), and unified diffs from /api/diff. The colouring
// builds text nodes and <span>s; the source text is never parsed as HTML.

import { api } from './api.js';
import { el, errorBox, fmtBytes } from './util.js';

const words = (text) => new Set(text.split(/\s+/));

const LANGUAGES = {
  python: {
    keywords: words(`and as assert async await break class continue def del elif else except finally for
      from global if import in is lambda nonlocal not or pass raise return try while with yield None True
      False self match case`),
    tripleQuotes: true,
  },
  r: {
    keywords: words(`if else repeat while function for in next break return TRUE FALSE NULL Inf NaN NA
      NA_integer_ NA_real_ NA_character_ library require T F`),
    dottedNames: true,
  },
  shell: {
    keywords: words(`if then else elif fi case esac for select while until do done in function time
      return exit export local readonly declare set unset source echo cd shift`),
    commentNeedsSpace: true,
    backticks: true,
  },
  yaml: {
    keywords: words('true false null yes no on off True False Null ~'),
    commentNeedsSpace: true,
    quoteNeedsSpace: true, // "don't" in a plain scalar is no string
    keys: true,
  },
};

export function languageOf(path) {
  const ext = (/\.([^./]+)$/.exec(path) || [])[1];
  const byExt = { py: 'python', r: 'r', R: 'r', sh: 'shell', bash: 'shell', zsh: 'shell', yml: 'yaml', yaml: 'yaml' };
  return byExt[ext] || (/\.R$/i.test(path) ? 'r' : null);
}

const NUMBER = /(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)[jJLi]?/y;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const DOTTED_NAME = /[A-Za-z_.][A-Za-z0-9_.]*/y;
const YAML_KEY_END = /[ \t]*:(?:\s|$)/y;

function matchAt(regex, text, at) {
  regex.lastIndex = at;
  const match = regex.exec(text);
  return match ? match[0] : null;
}

/** The end of a string starting at `at` (a quote), escapes and triple quotes understood. */
function stringEnd(text, at, language) {
  const quote = text[at];
  const triple = quote.repeat(3);
  if (language.tripleQuotes && text.startsWith(triple, at)) {
    const end = text.indexOf(triple, at + 3);
    return end < 0 ? text.length : end + 3;
  }
  let i = at + 1;
  while (i < text.length && text[i] !== quote) {
    // Shell and YAML single quotes have no escapes; newlines end unterminated strings elsewhere.
    if (text[i] === '\\' && quote !== "'") i++;
    else if (text[i] === '\n' && !language.commentNeedsSpace) return i;
    i++;
  }
  return Math.min(text.length, i + 1);
}

/** Returns a DocumentFragment of the text with spans of class k (keyword), s (string),
 * c (comment) and n (number). */
export function highlight(text, languageName) {
  const fragment = document.createDocumentFragment();
  const language = LANGUAGES[languageName];
  if (!language) {
    fragment.append(text);
    return fragment;
  }
  let plain = '';
  const flush = () => { if (plain) fragment.append(plain); plain = ''; };
  const token = (cls, value) => { flush(); fragment.append(el('span', { class: cls }, value)); };
  const afterSpace = (i) => i === 0 || /[\s([{,:=]/.test(text[i - 1]);
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '#' && (!language.commentNeedsSpace || i === 0 || /\s/.test(text[i - 1]))) {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      token('c', text.slice(i, stop));
      i = stop;
    } else if ((c === '"' || c === "'" || (c === '`' && language.backticks))
        && (!language.quoteNeedsSpace || afterSpace(i))) {
      const end = stringEnd(text, i, language);
      token('s', text.slice(i, end));
      i = end;
    } else if (/[0-9]/.test(c) && !/[\w.]/.test(text[i - 1] || '')) {
      const number = matchAt(NUMBER, text, i);
      token('n', number);
      i += number.length;
    } else if (/[A-Za-z_.]/.test(c)) {
      const name = matchAt(language.dottedNames ? DOTTED_NAME : NAME, text, i) || c;
      const isKey = language.keys && matchAt(YAML_KEY_END, text, i + name.length) !== null;
      if (language.keywords.has(name) || isKey) token('k', name);
      else plain += name;
      i += name.length;
    } else {
      plain += c;
      i++;
    }
  }
  flush();
  return fragment;
}

/** A unified diff as coloured lines: headers, hunks, additions, deletions. */
export function patchNode(patch) {
  const pre = el('pre', { class: 'diff' });
  for (const line of String(patch || '').split('\n')) {
    let cls = null;
    if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff ')) cls = 'head';
    else if (line.startsWith('@@')) cls = 'hunk';
    else if (line.startsWith('+')) cls = 'add';
    else if (line.startsWith('-')) cls = 'del';
    pre.append(cls ? el('span', { class: cls }, line) : line, '\n');
  }
  return pre;
}

/** The files of a /api/diff answer, one <details> each. */
export function diffView(answer) {
  const files = answer.files || [];
  if (!files.length) return el('p', { class: 'note' }, 'No differences.');
  return el('div', { class: 'diff-files' }, files.map((file) => {
    const name = file.old_path && file.old_path !== file.path ? `${file.old_path} → ${file.path}` : file.path;
    return el('details', { open: files.length <= 5 },
      el('summary', null, el('span', { class: `change ${file.change || ''}` }, file.change || 'modified'), ' ', name, ' ',
        el('span', { class: 'add-count' }, `+${file.additions || 0}`), ' ',
        el('span', { class: 'del-count' }, `−${file.deletions || 0}`)),
      file.binary ? el('p', { class: 'note' }, 'Binary files differ.') : patchNode(file.patch));
  }));
}

/** The run page's source section: the files of the snapshot, one shown coloured, and a
 * diff against another run. mainScript is shown first when it is in the snapshot. */
export function sourcesPane(runId, mainScript) {
  const list = el('ul', { class: 'file-list' });
  const code = el('pre', { class: 'code' });
  const title = el('div', { class: 'preview-title' });
  const otherInput = el('input', { type: 'text', placeholder: 'another run: id, name or index', 'aria-label': 'Run to diff against' });
  const diffTarget = el('div', { class: 'diff-target' });
  const diffForm = el('form', { class: 'inline-form', onsubmit: async (event) => {
    event.preventDefault();
    const other = otherInput.value.trim();
    if (!other) return;
    diffTarget.replaceChildren(el('p', { class: 'note' }, 'Comparing…'));
    try {
      diffTarget.replaceChildren(diffView(await api.diff(other, runId, 'sources')));
    } catch (error) {
      diffTarget.replaceChildren(errorBox(error));
    }
  } }, el('label', null, 'Diff against ', otherInput), el('button', { type: 'submit' }, 'Diff'));

  const show = async (file) => {
    for (const b of list.querySelectorAll('button')) b.classList.toggle('current', b.dataset.path === file.path);
    title.replaceChildren(el('strong', null, file.path), ' ', el('span', { class: 'note' }, fmtBytes(file.size)));
    try {
      const text = await api.sourceText(runId, file.path);
      code.replaceChildren(highlight(text, languageOf(file.path)));
    } catch (error) {
      code.replaceChildren(error.message);
    }
  };

  const node = el('div', { class: 'sources', dataset: { testid: 'sources' } },
    list, title, code, diffForm, diffTarget);
  api.sources(runId).then(({ files }) => {
    if (!files || !files.length) {
      list.replaceWith(el('p', { class: 'note' }, 'No source snapshot.'));
      code.remove();
      return;
    }
    for (const file of files) {
      list.append(el('li', null, el('button', { type: 'button', class: 'link', dataset: { path: file.path },
        onclick: () => show(file) }, file.path)));
    }
    const script = mainScript && files.find((f) => f.path === mainScript || f.path.endsWith(`/${mainScript}`));
    show(script || files[0]);
  }).catch((error) => list.replaceWith(errorBox(error)));
  return node;
}
