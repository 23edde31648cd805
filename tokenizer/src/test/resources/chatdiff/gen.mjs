// Usage: node gen.mjs N SEED > cases.jsonl   (renders with @huggingface/jinja)
// EXTRA=1: also tool_calls/tools/null or non-string content; MIN=1: only the minimised mismatches.
import { Template } from "@huggingface/jinja";
import fs from "fs";
const T = "/work/shared/models/tokenizers/";
const N = +process.argv[2] || 1000, SEED = +process.argv[3] || 1;
const tmpl = {
  "llama3": ["llama3/tokenizer_config.json#chat_template", {bos_token:"<|begin_of_text|>",eos_token:"<|end_of_text|>"}],
  "llama3__meta-llama-Llama-3.1-8B-Instruct": ["llama3/extra_templates/meta-llama-Llama-3.1-8B-Instruct.jinja", {bos_token:"<|begin_of_text|>",eos_token:"<|end_of_text|>"}],
  "llama3__meta-llama-Llama-3.2-3B-Instruct": ["llama3/extra_templates/meta-llama-Llama-3.2-3B-Instruct.jinja", {bos_token:"<|begin_of_text|>",eos_token:"<|end_of_text|>"}],
  "mistral": ["mistral/chat_template.json#chat_template", {bos_token:"<s>",eos_token:"</s>",unk_token:"<unk>"}],
  "mistral__mistralai-Mistral-Nemo-Instruct-2407": ["mistral/extra_templates/mistralai-Mistral-Nemo-Instruct-2407.jinja", {bos_token:"<s>",eos_token:"</s>",unk_token:"<unk>"}],
  "phi3": ["phi3/tokenizer_config.json#chat_template", {bos_token:"<s>",eos_token:"<|endoftext|>",pad_token:"<|endoftext|>",unk_token:"<unk>"}],
  "phi3__microsoft-Phi-3.5-mini-instruct": ["phi3/extra_templates/microsoft-Phi-3.5-mini-instruct.jinja", {bos_token:"<s>",eos_token:"<|endoftext|>",pad_token:"<|endoftext|>",unk_token:"<unk>"}],
  "qwen3": ["qwen3/tokenizer_config.json#chat_template", {eos_token:"<|im_end|>",pad_token:"<|endoftext|>"}],
  "qwen3__Qwen-Qwen2.5-7B-Instruct": ["qwen3/extra_templates/Qwen-Qwen2.5-7B-Instruct.jinja", {eos_token:"<|im_end|>",pad_token:"<|endoftext|>"}],
  "rudder-chat": ["rudder-chat/tokenizer_config.json#chat_template", {bos_token:"<|endoftext|>",eos_token:"<|im_end|>",pad_token:"<|endoftext|>"}],
};
function load(src) {
  const [p, key] = src.split("#");
  const txt = fs.readFileSync(T + p, "utf8");
  return key ? JSON.parse(txt)[key] : txt;
}
let s = SEED >>> 0;
function rnd() { s = (s + 0x6D2B79F5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }
const pick = a => a[Math.floor(rnd() * a.length)];
const pieces = ["Hello", "world", " ", "  ", "\"", "'", "\\", "\\n", "{{ x }}", "{% if %}", "{#", "#}", "}}", "{{", "{%", "%}", "\n", "\r\n", "\t", "\n\n",
  "😀", "👩‍👩‍👧", "中文", "日本語", "مرحبا", "שלום", "e\u0301", "a\u0308\u0323", "\u200b", "\u0000", "<|im_start|>", "<|im_end|>", "<|eot_id|>",
  "<s>", "</s>", "[INST]", "[/INST]", "<|user|>", "<|end|>", "<think>", "</think>", "<|begin_of_text|>", "<tool_call>", "null", "true", "0", "-1",
  "\uD83D", "abc", " trailing ", "\u00a0", "%", "&lt;", "<b>", "|", "~"];
function content() {
  const r = rnd();
  if (r < 0.06) return "";
  if (r < 0.09) return " \n\t ";
  if (r < 0.11) return pick(pieces).repeat(200 + Math.floor(rnd() * 800));
  let n = 1 + Math.floor(rnd() * 8), out = "";
  for (let i = 0; i < n; i++) out += pick(pieces);
  return out;
}
function conversation() {
  const msgs = [];
  const n = Math.floor(rnd() * 6) + (rnd() < 0.03 ? 0 : 1);
  const mode = rnd();
  for (let i = 0; i < n; i++) {
    let role;
    if (mode < 0.5) role = (i === 0 && rnd() < 0.5) ? "system" : ((msgs.length - (msgs[0]?.role === "system" ? 1 : 0)) % 2 === 0 ? "user" : "assistant");
    else role = pick(["system", "user", "assistant", "user", "assistant", rnd() < 0.3 ? "tool" : "user"]);
    const m = { role, content: content() };
    if (process.env.EXTRA) {
      // EXTRA=1: the structured fields tool-aware templates read (tool_calls, tool_call_id, null/absent/non-string content).
      const x = rnd();
      if (x < 0.05) m.content = null;
      else if (x < 0.08) delete m.content;
      else if (x < 0.10) m.content = pick([0, 1.5, true, [], { a: "b" }]);
      if (role === "assistant" && rnd() < 0.3) m.tool_calls = [{ id: pick(["abc123XYZ", "call_1", "x"]), type: "function", function: { name: pick(["get_weather", "f"]), arguments: pick([{ city: content() }, "{\"a\": 1}", {}]) } }];
      if (role === "tool" && rnd() < 0.7) { m.tool_call_id = pick(["abc123XYZ", "call_1"]); m.name = "get_weather"; }
    }
    msgs.push(m);
  }
  return msgs;
}
const names = Object.keys(tmpl);
const compiled = Object.fromEntries(names.map(n => [n, new Template(load(tmpl[n][0]))]));
// Minimised mismatches found by this harness (rendered for every template): MIN=1 prints only these.
const minimal = [
  ["strip_args_ignored__assistant_leading_space", [{ role: "user", content: "hi" }, { role: "assistant", content: " x" }], false],
  ["strip_args_ignored__assistant_whitespace_only", [{ role: "user", content: "hi" }, { role: "assistant", content: " \n\t " }], true],
  ["string_filter_on_mapping_fails", [{ role: "tool", content: { a: "b" }, tool_call_id: "abc123XYZ" }], false],
  ["string_filter_on_none_fails", [{ role: "tool", content: null, tool_call_id: "abc123XYZ" }], false],
  ["string_filter_on_list_is_json", [{ role: "tool", content: [1, "x", { a: null }], tool_call_id: "abc123XYZ" }], false],
];
if (process.env.MIN) {
  for (const name of names) for (const [id, messages, agp] of minimal) emit(name, `${name}#${id}`, { messages, add_generation_prompt: agp, date_string: "26 Jul 2024", ...tmpl[name][1] });
  process.exit(0);
}
function emit(name, id, ctx) {
  const rec = { id, template: name, template_source: tmpl[name][0], context: ctx };
  try { rec.rendered = compiled[name].render(JSON.parse(JSON.stringify(ctx))); }
  catch (e) { rec.error = String(e && e.message || e); }
  process.stdout.write(JSON.stringify(rec) + "\n");
}
for (const name of names) {
  for (let i = 0; i < N; i++) {
    const ctx = { messages: conversation(), add_generation_prompt: rnd() < 0.5, date_string: "26 Jul 2024", ...tmpl[name][1] };
    if (process.env.EXTRA && rnd() < 0.4) ctx.tools = [{ type: "function", function: { name: "get_weather", description: content(), parameters: { type: "object", properties: { city: { type: "string", description: "The \"city\"" } }, required: ["city"] } } }];
    emit(name, `${name}#${process.env.EXTRA ? "extra" : ""}${SEED}.${i}`, ctx);
  }
}
