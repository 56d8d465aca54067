// The API reference at /docs: reads docs/openapi.yaml (served as /web/openapi.yaml) with web/yaml.js and shows every
// route by tag, with its credentials, parameters, body, answers, their schemas and examples. Nothing is fetched from
// elsewhere.
'use strict';

(() => {
  let spec;
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    for (const child of children) if (child != null) node.append(child);
    return node;
  };

  // Text with `code` spans, as the descriptions write them.
  function prose(text, tag = 'p') {
    const out = document.createDocumentFragment();
    for (const para of String(text || '').split(/\n\s*\n/)) {
      if (!para.trim()) continue;
      const p = el(tag);
      para.split(/(`[^`]+`)/).forEach((part) => {
        if (part.startsWith('`') && part.endsWith('`') && part.length > 1) p.append(el('code', {}, part.slice(1, -1)));
        else p.append(part);
      });
      out.append(p);
    }
    return out;
  }

  function resolve(node) {
    let name = null;
    while (node && node.$ref) {
      name = node.$ref.split('/').pop();
      node = node.$ref.slice(2).split('/').reduce((o, k) => o[k], spec);
    }
    return [node, name];
  }

  function typeOf(schema) {
    if (schema.const !== undefined) return JSON.stringify(schema.const);
    const t = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type;
    return t || (schema.oneOf ? 'one of' : schema.allOf ? 'object' : '');
  }

  function limits(schema) {
    const out = [];
    if (schema.enum) out.push(schema.enum.map((v) => JSON.stringify(v)).join(', '));
    if (schema.minimum !== undefined || schema.maximum !== undefined) out.push((schema.minimum ?? '…') + ' – ' + (schema.maximum ?? '…'));
    if (schema.minLength !== undefined || schema.maxLength !== undefined)
      out.push((schema.minLength ?? 0) + '–' + (schema.maxLength ?? '…') + ' 字 chars');
    if (schema.minItems !== undefined || schema.maxItems !== undefined) out.push((schema.minItems ?? 0) + '–' + (schema.maxItems ?? '…') + ' items');
    if (schema.pattern) out.push('/' + schema.pattern + '/');
    if (schema.default !== undefined) out.push('default ' + JSON.stringify(schema.default));
    return out.join('; ');
  }

  // The properties of an object schema, allOf merged: [properties, required].
  function fields(schema) {
    const props = {};
    const required = new Set(schema.required || []);
    for (const part of schema.allOf || []) {
      const [p, r] = fields(resolve(part)[0]);
      Object.assign(props, p);
      r.forEach((x) => required.add(x));
    }
    Object.assign(props, schema.properties || {});
    return [props, required];
  }

  function schemaView(raw, depth = 0) {
    const [schema, name] = resolve(raw);
    const box = el('div', { class: 'schema' });
    const head = el('div', { class: 'schema-type' }, typeOf(schema));
    if (name) head.append(' ', el('span', { class: 'ref' }, name));
    box.append(head);
    if (schema.description && depth === 0) box.append(prose(schema.description));
    if (depth > 6) return box;
    if (schema.oneOf) {
      const list = el('ol', { class: 'one-of' });
      schema.oneOf.forEach((s) => list.append(el('li', {}, schemaView(s, depth + 1))));
      box.append(list);
    }
    const [props, required] = fields(schema);
    const names = Object.keys(props);
    if (names.length) {
      const list = el('ul', { class: 'props' });
      for (const key of names) {
        const [prop] = resolve(props[key]);
        const item = el('li', {}, el('code', { class: 'prop' }, key), ' ', el('span', { class: 'type' }, typeOf(prop)));
        if (required.has(key)) item.append(' ', el('span', { class: 'req' }, '必填 required'));
        const rule = limits(prop);
        if (rule) item.append(' ', el('span', { class: 'rule' }, rule));
        if (prop.description) item.append(prose(prop.description, 'div'));
        const inner = prop.type === 'array' ? resolve(prop.items)[0] : prop;
        if (fields(inner)[0] && Object.keys(fields(inner)[0]).length || inner.oneOf) item.append(schemaView(prop.type === 'array' ? prop.items : props[key], depth + 1));
        list.append(item);
      }
      box.append(list);
    } else if (schema.type === 'array' && schema.items) {
      box.append(schemaView(schema.items, depth + 1));
    } else {
      const rule = limits(schema);
      if (rule) box.append(el('div', { class: 'rule' }, rule));
    }
    return box;
  }

  function example(media) {
    let value = media.example;
    if (value === undefined && media.examples) value = Object.values(media.examples)[0].value;
    if (value === undefined) return null;
    const text = typeof value === 'string' ? value : JSON.stringify(value, (k, v) => (typeof v === 'bigint' ? Number(v) : v), 2);
    return el('details', { class: 'example' }, el('summary', {}, '示例 Example'), el('pre', {}, text));
  }

  function contentView(content) {
    const out = document.createDocumentFragment();
    for (const [type, media] of Object.entries(content || {})) {
      if (type === 'application/msgpack' && content['application/json']) continue; // the same fields
      out.append(el('div', { class: 'media' }, el('code', {}, type === 'application/json' && content['application/msgpack'] ? 'application/json, application/msgpack' : type)));
      if (media.schema) out.append(schemaView(media.schema));
      const ex = example(media);
      if (ex) out.append(ex);
    }
    return out;
  }

  function operationView(path, method, op, shared) {
    const box = el('details', { class: 'op card', id: op.operationId || method + path });
    box.append(el('summary', {}, el('span', { class: 'method m-' + method }, method.toUpperCase()), ' ', el('code', { class: 'path' }, path), el('div', { class: 'summary' }, op.summary || '')));
    if (op.description) box.append(prose(op.description));
    const security = op.security ?? spec.security ?? [];
    const who = security.map((s) => Object.keys(s).join(' + ')).join(' or ');
    box.append(el('p', { class: 'who' }, el('b', {}, '凭证 Credential: '), who ? who : '无 none (anyone)'));
    const params = [...shared, ...(op.parameters || [])].map((p) => resolve(p)[0]);
    if (params.length) {
      box.append(el('h4', {}, '参数 Parameters'));
      const list = el('ul', { class: 'props' });
      for (const p of params) {
        const [schema] = resolve(p.schema || {});
        const item = el('li', {}, el('code', { class: 'prop' }, p.name), ' ', el('span', { class: 'type' }, p.in + ', ' + typeOf(schema)));
        if (p.required) item.append(' ', el('span', { class: 'req' }, '必填 required'));
        const rule = limits(schema);
        if (rule) item.append(' ', el('span', { class: 'rule' }, rule));
        if (p.description) item.append(prose(p.description, 'div'));
        list.append(item);
      }
      box.append(list);
    }
    if (op.requestBody) {
      const [body] = resolve(op.requestBody);
      box.append(el('h4', {}, '请求体 Request body' + (body.required ? '' : ' (可选 optional)')), contentView(body.content));
    }
    box.append(el('h4', {}, '应答 Answers'));
    for (const [status, raw] of Object.entries(op.responses || {})) {
      const [response] = resolve(raw);
      const row = el('details', { class: 'answer s' + status[0] }, el('summary', {}, el('b', {}, status), ' ', prose(response.description, 'span')));
      for (const [name, header] of Object.entries(response.headers || {})) {
        const [h] = resolve(header);
        row.append(el('div', { class: 'media' }, el('code', {}, name + ':'), ' ', prose(h.description, 'span')));
      }
      row.append(contentView(response.content));
      box.append(row);
    }
    return box;
  }

  function render() {
    document.getElementById('version').textContent = spec.info.title + ' ' + spec.info.version + ' · OpenAPI ' + spec.openapi;
    const intro = document.getElementById('intro');
    intro.append(el('h2', {}, spec.info.summary || spec.info.title), prose(spec.info.description));
    const schemes = el('ul', { class: 'props' });
    for (const [name, s] of Object.entries(spec.components.securitySchemes || {}))
      schemes.append(el('li', {}, el('code', { class: 'prop' }, name), ' ', el('span', { class: 'type' }, s.type + (s.scheme ? ' ' + s.scheme : '') + (s.name ? ' ' + s.name : '')), prose(s.description, 'div')));
    intro.append(el('h3', {}, '凭证 Credentials'), schemes);
    intro.classList.remove('hidden');

    const toc = document.getElementById('toc');
    const reference = document.getElementById('reference');
    for (const tag of spec.tags) {
      const section = el('section', { id: 'tag-' + tag.name }, el('h2', { class: 'tag' }, tag.name), prose(tag.description));
      const links = el('ul');
      for (const [path, item] of Object.entries(spec.paths)) {
        for (const method of ['get', 'post', 'patch', 'put', 'delete']) {
          const op = item[method];
          if (!op || !(op.tags || []).includes(tag.name)) continue;
          const view = operationView(path, method, op, item.parameters || []);
          section.append(view);
          links.append(el('li', {}, el('a', { href: '#' + view.id }, method.toUpperCase() + ' ' + path)));
        }
      }
      toc.append(el('div', { class: 'toc-tag' }, el('a', { href: '#tag-' + tag.name }, tag.name)), links);
      reference.append(section);
    }
    // A link to an operation opens it.
    const open = () => {
      const target = location.hash && document.getElementById(location.hash.slice(1));
      if (target && target.tagName === 'DETAILS') target.open = true;
    };
    window.addEventListener('hashchange', open);
    open();
  }

  fetch('/web/openapi.yaml', { cache: 'no-store' })
    .then((r) => {
      if (!r.ok) throw new Error('/web/openapi.yaml: HTTP ' + r.status);
      return r.text();
    })
    .then((text) => {
      spec = LBYaml.parse(text);
      render();
      document.getElementById('status').remove();
    })
    .catch((e) => {
      document.getElementById('status').textContent = '读取失败 Could not read the reference: ' + e.message;
    });
})();
