// Runs a parsed template against variables and returns the rendered text.
// Semantics follow @huggingface/jinja (see chat_template.h). Errors are
// thrown as JinjaError with the line/column of the expression or statement
// being evaluated; limits keep hostile templates from exhausting memory,
// time or stack.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/value.h"

namespace keel::jinja {

struct Scope {
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Scope> parent;
  const Value* find(const std::string& name) const;
};

struct Limits {
  size_t max_output = 64u << 20;   // bytes of rendered text (and of any one string)
  int max_call_depth = 64;         // nested macro calls
  uint64_t max_steps = 20'000'000; // loop iterations + expression evaluations
};

// Renders `tpl` with `globals` (messages, add_generation_prompt, ...) on top
// of the built-in globals (range, namespace, raise_exception, strftime_now).
std::string render(const Template& tpl, const std::unordered_map<std::string, Value>& globals,
                   const Limits& limits = {});

class Evaluator {
 public:
  explicit Evaluator(const Limits& limits) : limits_(limits) {}

  enum class Flow { Normal, Break, Continue };
  Flow exec(const Body& body, const std::shared_ptr<Scope>& scope, std::string& out);
  Value eval(const Expr& e, const std::shared_ptr<Scope>& scope);

  // Counts work; throws when a limit is passed.
  void step();
  void check_size(size_t bytes) const;
  const Limits& limits() const { return limits_; }

 private:
  Flow exec_stmt(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string& out);
  void exec_for(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string& out);
  Value make_macro(const Stmt& s, const std::shared_ptr<Scope>& scope);
  Value eval_binary(const Expr& e, const std::shared_ptr<Scope>& scope);
  Value eval_call(const Expr& e, const std::shared_ptr<Scope>& scope);
  Args eval_args(const Expr& e, const std::shared_ptr<Scope>& scope, size_t first);
  Value call_function(const Value& f, Args& args, const Expr& at);

  Limits limits_;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
};

// Built-ins, in builtins.cc. The evaluator lets a filter call back into it
// (map/select with tests and filters by name).
Value apply_filter(Evaluator& ev, const std::string& name, Value operand, Args& args, const Expr& at);
bool apply_test(Evaluator& ev, const std::string& name, const Value& operand, Args& args, const Expr& at);
// `obj.name` for the built-in methods of strings, dicts and lists (a bound
// function), or undefined.
Value builtin_member(const Value& obj, const std::string& name);
void add_builtin_globals(Scope& scope);

}  // namespace keel::jinja
