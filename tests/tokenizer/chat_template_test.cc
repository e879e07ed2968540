// ChatTemplate: loading, the API forms, errors with positions, and limits on
// hostile templates. Output parity with @huggingface/jinja on real templates
// is in test_chat_template.py.
#include "tokenizer/chat_template.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace keel {
namespace {

std::string render(const std::string& src, const std::string& messages = "[]", const std::string& extra = "{}",
                   bool gen = false) {
  auto t = ChatTemplate::from_string(src, "<s>", "</s>");
  if (!t.ok()) return "PARSE-ERROR: " + t.error();
  auto r = t->render_json(messages, gen, extra);
  return r.ok() ? *r : "ERROR: " + r.error();
}

TEST(ChatTemplate, LoadsTinyLlamasConfigFromTheFileOrTheDirectory) {
  const std::string dir = std::string(KEEL_SHARED_MODELS) + "/TinyLlama-1.1B-Chat-v1.0";
  for (const std::string& path : {dir, dir + "/tokenizer_config.json"}) {
    auto t = ChatTemplate::from_tokenizer_config(path);
    ASSERT_TRUE(t.ok()) << t.error();
    EXPECT_EQ(t->bos_token(), "<s>");
    EXPECT_EQ(t->eos_token(), "</s>");
    std::vector<ChatMessage> msgs = {{"system", "Be brief."}, {"user", "Hi"}};
    auto r = t->render(msgs, true);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(*r, "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\n");
  }
  EXPECT_FALSE(ChatTemplate::from_tokenizer_config("/nonexistent/dir").ok());
}

TEST(ChatTemplate, ConfigForms) {
  const auto dir = std::filesystem::path(KEEL_TEST_TMP) / "chat_template_test";
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  // A list of named templates and AddedToken objects.
  auto t = ChatTemplate::from_tokenizer_config(write(
      "list.json",
      R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "{{ bos_token }}D{{ eos_token }}"}],)"
      R"( "bos_token": {"content": "<bos>", "lstrip": false}, "eos_token": "<eos>"})"));
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(*t->render({}, false), "<bos>D<eos>");
  auto none = ChatTemplate::from_tokenizer_config(write("none.json", R"({"bos_token": "<s>"})"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("no chat_template"), std::string::npos);
  EXPECT_FALSE(ChatTemplate::from_tokenizer_config(write("bad.json", "{not json")).ok());
  auto syntax = ChatTemplate::from_tokenizer_config(write("syntax.json", R"({"chat_template": "{% if %}"})"));
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.error().find("syntax.json"), std::string::npos);
}

TEST(ChatTemplate, JinjaBasics) {
  EXPECT_EQ(render("{{ undefined_thing }}|{{ undefined_thing.attr }}|{{ none }}"), "||");
  EXPECT_EQ(render("{% raw %}{{ not evaluated }}{% endraw %}"), "{{ not evaluated }}");
  EXPECT_EQ(render("a  {%- if true -%}  b  {%- endif -%}  c"), "abc");
  EXPECT_EQ(render("{{ messages[0].content | upper }}", R"([{"role": "user", "content": "hé"}])"), "Hé");
  EXPECT_EQ(render("{{ x | tojson }}", "[]", R"({"x": {"a": [1, 2.5, "é\n"], "b": null, "c": true}})"),
            R"({"a": [1, 2.5, "é\n"], "b": null, "c": true})");
  EXPECT_EQ(render("{{ x | tojson(ensure_ascii=true) }}", "[]", R"({"x": "é😀"})"), R"("\u00e9\ud83d\ude00")");
  EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in [1,2,3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"),
            "6");
  EXPECT_EQ(render("{% for x in 'abc' | list | reverse %}{{ x }}{% endfor %}"), "cba");
  EXPECT_EQ(render("{{ '{} and {name}'.format(1, name='two') }}"), "1 and two");
  EXPECT_EQ(render("{% filter upper %}abc{% endfilter %}"), "ABC");
  EXPECT_EQ(render("{% macro m(a, b='B') %}[{{ a }}{{ b }}{{ caller() if caller else '' }}]{% endmacro %}"
                   "{{ m(1) }}{% call m(2, b='x') %}body{% endcall %}"),
            "[1B][2xbody]");
  EXPECT_EQ(render("{{ 10 // 3 }} {{ -7 // 2 }} {{ 2 ** 10 }} {{ 1 / 4 }} {{ 3 * 'ab' }}"), "3 -4 1024 0.25 ababab");
}

TEST(ChatTemplate, ErrorsNameTheLineAndColumn) {
  std::string e = render("ok\n  {{ x | no_such_filter }}", "[]", R"({"x": 1})");
  EXPECT_NE(e.find("line 2 column"), std::string::npos) << e;
  EXPECT_NE(e.find("no_such_filter"), std::string::npos) << e;
  e = render("{% if true %}never closed");
  EXPECT_NE(e.find("PARSE-ERROR"), std::string::npos) << e;
  EXPECT_NE(e.find("endif"), std::string::npos) << e;
  e = render("line1\n{{ raise_exception('roles must alternate') }}");
  EXPECT_NE(e.find("roles must alternate"), std::string::npos) << e;
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
  e = render("{{ 'unterminated }}");
  EXPECT_NE(e.find("unterminated string"), std::string::npos) << e;
  EXPECT_NE(render("{{ x }}", "not json").find("ERROR"), std::string::npos);
  EXPECT_NE(render("{{ x }}", "[]", "[1]").find("ERROR"), std::string::npos);
}

TEST(ChatTemplate, HostileTemplatesFailCleanly) {
  auto is_error = [](const std::string& s) { return s.rfind("ERROR", 0) == 0 || s.rfind("PARSE-ERROR", 0) == 0; };
  EXPECT_TRUE(is_error(render("{{ " + std::string(20000, '(') + "1" + std::string(20000, ')') + " }}")));
  EXPECT_TRUE(is_error(render("{{ " + std::string(20000, '[') + " }}")));
  EXPECT_TRUE(is_error(render(std::string("{{ ") + std::string(5000, '-') + "1 }}")));
  std::string nested;
  for (int i = 0; i < 5000; ++i) nested += "{% if true %}";
  EXPECT_TRUE(is_error(render(nested)));
  EXPECT_TRUE(is_error(render("{% macro m(x) %}{{ m(x) }}{% endmacro %}{{ m(1) }}")));
  EXPECT_TRUE(is_error(render("{{ range(100000000) | length }}")));
  EXPECT_TRUE(is_error(render("{{ 'x' * 100000000000 }}")));
  EXPECT_TRUE(is_error(render("{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}"
                              "{% endfor %}{{ ns.l | length }}")));
  EXPECT_TRUE(is_error(render("{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(100) %}"
                              "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}")));
  EXPECT_TRUE(is_error(render("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns | tojson }}")));
  EXPECT_TRUE(is_error(render("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}")));
  EXPECT_TRUE(is_error(render("{{ 1 // 0 }}")));
  EXPECT_TRUE(is_error(render("{{ 'a' + none }}")));
}

}  // namespace
}  // namespace keel
