#!/usr/bin/env node
// Reference renderings of chat templates by @huggingface/jinja, the renderer
// transformers.js uses, for tests/tokenizer/test_chat_template.py.
//
//   node render_chat.js <node_modules> <cases.json> <out.json>
//
// Same case format as tests/tools/chat_template_tool.cc. Variables: messages,
// add_generation_prompt, bos_token, eos_token and the case's "extra" object.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [modules, casesPath, outPath] = process.argv.slice(2);
  if (!outPath) {
    process.stderr.write('usage: render_chat.js <node_modules> <cases.json> <out.json>\n');
    process.exit(2);
  }
  const { Template } = await import(path.resolve(modules, '@huggingface/jinja/dist/index.js'));
  const tokenText = (t) => (t && typeof t === 'object' ? t.content : t) ?? '';
  const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
  const out = [];
  for (const c of cases) {
    try {
      let source, bos, eos;
      if (c.config) {
        const cfg = JSON.parse(fs.readFileSync(c.config, 'utf8'));
        source = cfg.chat_template;
        if (Array.isArray(source)) source = source.find((e) => e.name === 'default').template;
        bos = tokenText(cfg.bos_token);
        eos = tokenText(cfg.eos_token);
      } else {
        source = fs.readFileSync(c.template, 'utf8');
        bos = c.bos_token ?? '';
        eos = c.eos_token ?? '';
      }
      const vars = {
        messages: c.messages,
        add_generation_prompt: c.add_generation_prompt ?? false,
        bos_token: bos,
        eos_token: eos,
        ...(c.extra ?? {}),
      };
      out.push({ ok: true, text: new Template(source).render(vars) });
    } catch (e) {
      out.push({ ok: false, error: String(e && e.message ? e.message : e) });
    }
  }
  fs.writeFileSync(outPath, JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e.stack || e) + '\n');
  process.exit(1);
});
