// A reader of the plain subset of YAML that docs/openapi.yaml is written in, for the reference page at /docs: block
// maps and lists (2-space indents), plain, 'single' and "double" quoted scalars, | and > blocks (with - chomping),
// flow lists and maps (which may run over several lines), # comments. No anchors, tags, documents or complex keys: it
// throws on what it does not know. Plain scalars resolve as YAML's core schema does (null, true, false, numbers).
// tests/browser/yaml.test.mjs holds it to PyYAML on the whole of docs/openapi.yaml.
'use strict';

const LBYaml = (() => {
  function fail(lineNo, why) {
    throw new Error('openapi.yaml line ' + (lineNo + 1) + ': ' + why);
  }

  function plain(text) {
    if (text === '' || text === '~' || text === 'null' || text === 'Null' || text === 'NULL') return null;
    if (/^(true|True|TRUE)$/.test(text)) return true;
    if (/^(false|False|FALSE)$/.test(text)) return false;
    if (/^[-+]?[0-9]+$/.test(text)) {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : BigInt(text);
    }
    if (/^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
    return text;
  }

  function unescapeDouble(body, lineNo) {
    const map = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', '/': '/', 0: '\0', ' ': ' ' };
    return body.replace(/\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/g, (m, e) => {
      if (e[0] === 'u' || e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
      if (e in map) return map[e];
      return fail(lineNo, 'unknown escape \\' + e);
    });
  }

  // A quoted scalar at text[i]: [value, index after it].
  function quoted(text, i, lineNo) {
    const q = text[i];
    let j = i + 1;
    let out = '';
    for (;;) {
      if (j >= text.length) fail(lineNo, 'unterminated ' + q + ' string');
      const c = text[j];
      if (q === "'" && c === "'") {
        if (text[j + 1] === "'") {
          out += "'";
          j += 2;
          continue;
        }
        return [out, j + 1];
      }
      if (q === '"' && c === '\\') {
        out += text.slice(j, j + 2);
        j += 2;
        continue;
      }
      if (q === '"' && c === '"') return [unescapeDouble(out, lineNo), j + 1];
      out += c;
      j++;
    }
  }

  // A flow value ([...], {...} or a scalar inside one) at text[i]: [value, index after it].
  function flow(text, i, lineNo) {
    const skip = () => {
      while (i < text.length && /\s/.test(text[i])) i++;
    };
    skip();
    const c = text[i];
    if (c === '[' || c === '{') {
      const close = c === '[' ? ']' : '}';
      const out = c === '[' ? [] : {};
      i++;
      for (;;) {
        skip();
        if (text[i] === close) return [out, i + 1];
        let value;
        if (c === '[') {
          [value, i] = flow(text, i, lineNo);
          out.push(value);
        } else {
          let key;
          [key, i] = flow(text, i, lineNo);
          skip();
          if (text[i] !== ':') fail(lineNo, 'expected ":" in a flow map');
          [value, i] = flow(text, i + 1, lineNo);
          out[String(key)] = value;
        }
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(lineNo, 'expected "," or "' + close + '" in a flow collection');
      }
    }
    if (c === '"' || c === "'") return quoted(text, i, lineNo);
    let j = i;
    while (j < text.length && !/[,\]}]/.test(text[j]) && !(text[j] === ':' && /[\s,\]}]/.test(text[j + 1] || ' '))) j++;
    return [plain(text.slice(i, j).trim()), j];
  }

  // Where a comment starts in a line (outside quotes), or the line's length.
  function commentAt(line) {
    let q = null;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (q) {
        if (c === '\\' && q === '"') i++;
        else if (c === q) q = null;
      } else if (c === '"' || c === "'") {
        if (i === 0 || /[\s:[{,-]/.test(line[i - 1])) q = c;
      } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return i;
    }
    return line.length;
  }

  function parse(source) {
    const lines = source.replace(/\r\n?/g, '\n').split('\n');
    let n = 0; // the next line to read

    const indentOf = (line) => line.length - line.trimStart().length;
    const blank = (line) => line.trim() === '' || line.trim()[0] === '#';
    const nextContent = () => {
      while (n < lines.length && blank(lines[n])) n++;
      return n < lines.length ? n : -1;
    };

    // A | or > block after a key or dash on line start-1, indented more than parent.
    function blockScalar(header, parent, lineNo) {
      const folded = header[0] === '>';
      const chomp = header.includes('-') ? 'strip' : header.includes('+') ? 'keep' : 'clip';
      const body = [];
      let indent = -1;
      while (n < lines.length) {
        const line = lines[n];
        if (line.trim() === '') {
          body.push('');
          n++;
          continue;
        }
        const ind = indentOf(line);
        if (ind <= parent) break;
        if (indent < 0) indent = ind;
        if (ind < indent) fail(n, 'a block scalar line less indented than its first');
        body.push(line.slice(indent));
        n++;
      }
      if (indent < 0) fail(lineNo, 'an empty block scalar');
      let trailing = 0;
      while (body.length && body[body.length - 1] === '') {
        body.pop();
        trailing++;
      }
      let text;
      if (!folded) {
        text = body.join('\n');
      } else {
        text = '';
        for (let i = 0; i < body.length; i++) {
          const line = body[i];
          if (i === 0) text = line;
          else if (line === '') text += '\n';
          else if (body[i - 1] === '' || /^\s/.test(line) || /^\s/.test(body[i - 1])) text += (body[i - 1] === '' ? '' : '\n') + line;
          else text += ' ' + line;
        }
      }
      if (chomp === 'strip') return text;
      if (chomp === 'keep') return text + '\n'.repeat(trailing + 1);
      return text + '\n';
    }

    // The value after "key:" or "- " whose text (comment removed) is rest, on line lineNo, its parent at indent.
    function inlineValue(rest, indent, lineNo) {
      if (rest === '') {
        const next = nextContent();
        if (next < 0 || indentOf(lines[next]) <= indent) {
          // a list may sit at its key's own indent
          if (next >= 0 && indentOf(lines[next]) === indent && lines[next].trimStart().startsWith('- ')) return node(indent);
          return null;
        }
        return node(indentOf(lines[next]));
      }
      if (rest[0] === '|' || rest[0] === '>') return blockScalar(rest, indent, lineNo);
      if (rest[0] === '[' || rest[0] === '{') {
        let text = rest;
        for (;;) {
          try {
            const [value, end] = flow(text, 0, lineNo);
            if (text.slice(end).trim() !== '') fail(lineNo, 'text after a flow collection');
            return value;
          } catch (e) {
            if (!/expected|unterminated/.test(e.message) || n >= lines.length) throw e;
            const more = lines[n++];
            text += ' ' + more.slice(0, commentAt(more)).trim();
          }
        }
      }
      if (rest[0] === '"' || rest[0] === "'") {
        const [value, end] = quoted(rest, 0, lineNo);
        if (rest.slice(end).trim() !== '') fail(lineNo, 'text after a quoted scalar');
        return value;
      }
      if (/^[&*!]/.test(rest)) fail(lineNo, 'anchors, aliases and tags are not in the subset');
      if (/:\s/.test(rest)) fail(lineNo, 'a plain scalar with ": " in it');
      return plain(rest);
    }

    // Splits "key: rest" of a map line; null when the line is not one.
    function keyOf(text, lineNo) {
      let key, i;
      if (text[0] === '"' || text[0] === "'") [key, i] = quoted(text, 0, lineNo);
      else {
        i = 0;
        while (i < text.length && !(text[i] === ':' && (i + 1 === text.length || text[i + 1] === ' '))) i++;
        if (i === text.length) return null;
        key = text.slice(0, i);
      }
      if (text[i] !== ':') return null;
      return [String(key), text.slice(i + 1).trim()];
    }

    // The block node whose lines start at indent.
    function node(indent) {
      const first = nextContent();
      const isList = lines[first].slice(indent).startsWith('- ') || lines[first].trim() === '-';
      const out = isList ? [] : {};
      for (;;) {
        const at = nextContent();
        if (at < 0) break;
        const line = lines[at];
        const ind = indentOf(line);
        if (ind < indent) break;
        if (ind > indent) fail(at, 'unexpected indentation');
        const text = line.slice(ind, commentAt(line)).trimEnd();
        n = at + 1;
        if (isList) {
          if (!(text.startsWith('- ') || text === '-')) break;
          const rest = text.slice(2).trim();
          const kv = rest[0] === '[' || rest[0] === '{' || rest[0] === '"' || rest[0] === "'" ? null : keyOf(rest, at);
          if (kv) {
            // "- key: value" starts a map whose keys sit two columns in
            lines[at] = ' '.repeat(ind + 2) + rest;
            n = at;
            out.push(node(ind + 2));
          } else {
            out.push(inlineValue(rest, ind, at));
          }
        } else {
          if (text.startsWith('- ')) break;
          const kv = keyOf(text, at);
          if (!kv) fail(at, 'expected "key: value"');
          if (Object.prototype.hasOwnProperty.call(out, kv[0])) fail(at, 'key ' + kv[0] + ' twice');
          out[kv[0]] = inlineValue(kv[1], ind, at);
        }
      }
      return out;
    }

    if (nextContent() < 0) return null;
    const root = node(indentOf(lines[n]));
    if (nextContent() >= 0) fail(n, 'text after the document');
    return root;
  }

  return { parse };
})();

if (typeof module !== 'undefined') module.exports = LBYaml;
