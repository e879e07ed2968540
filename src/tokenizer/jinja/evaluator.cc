#include "tokenizer/jinja/evaluator.h"

#include <cmath>
#include <optional>
#include <utility>



namespace keel::jinja {
namespace {

// Attaches the position of `at` to errors raised without one.
[[noreturn]] void rethrow_at(JinjaError err, int line, int col) {
  if (err.line == 0) {
    err.line = line;
    err.col = col;
  }
  throw err;
}

struct Control {
  Evaluator::Flow flow;
};

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Code points of a UTF-8 string as byte offsets (for indexing and slicing).
std::vector<size_t> char_starts(const std::string& s) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) starts.push_back(i);
  return starts;
}

}  // namespace

const Value* Scope::find(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent.get()) {
    auto it = s->vars.find(name);
    if (it != s->vars.end()) return &it->second;
  }
  return nullptr;
}

void Evaluator::step() {
  if (++steps_ > limits_.max_steps) throw JinjaError{"template runs too long (step limit reached)"};
}

void Evaluator::check_size(size_t bytes) const {
  if (bytes > limits_.max_output) throw JinjaError{"rendered text exceeds the output size limit"};
}

Evaluator::Flow Evaluator::exec(const Body& body, const std::shared_ptr<Scope>& scope, std::string& out) {
  for (const auto& s : body) {
    Flow f = exec_stmt(*s, scope, out);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Evaluator::Flow Evaluator::exec_stmt(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string& out) {
  step();
  try {
    switch (s.kind) {
      case StmtKind::Text:
        out += s.text;
        check_size(out.size());
        return Flow::Normal;
      case StmtKind::Output: {
        Value v = eval(*s.expr, scope);
        if (!v.is_none() && !v.is_undefined()) out += v.str();
        check_size(out.size());
        return Flow::Normal;
      }
      case StmtKind::If:
        for (const auto& [cond, body] : s.branches) {
          if (!cond || eval(*cond, scope).truthy()) return exec(body, scope, out);
        }
        return Flow::Normal;
      case StmtKind::For:
        exec_for(s, scope, out);
        return Flow::Normal;
      case StmtKind::Set: {
        Value v;
        if (s.expr) {
          v = eval(*s.expr, scope);
        } else {
          std::string body;
          exec(s.body, scope, body);
          v = Value::string(std::move(body));
        }
        if (!s.attr.empty()) {
          const Value* ns = scope->find(s.targets[0]);
          if (!ns || ns->kind != Kind::Namespace)
            throw JinjaError{"cannot assign attribute '" + s.attr + "' on '" + s.targets[0] +
                             "': not a namespace"};
          ns->dict->set(s.attr, std::move(v));
        } else if (s.targets.size() == 1) {
          scope->vars[s.targets[0]] = std::move(v);
        } else {
          if (!v.is_list()) throw JinjaError{std::string("cannot unpack ") + v.type_name() + " in set"};
          if (v.list->size() != s.targets.size())
            throw JinjaError{"set: expected " + std::to_string(s.targets.size()) + " values to unpack, got " +
                             std::to_string(v.list->size())};
          for (size_t k = 0; k < s.targets.size(); ++k) scope->vars[s.targets[k]] = (*v.list)[k];
        }
        return Flow::Normal;
      }
      case StmtKind::Macro:
        scope->vars[s.targets[0]] = make_macro(s, scope);
        return Flow::Normal;
      case StmtKind::CallBlock: {
        // caller(): renders the block body with the call block's parameters.
        const Stmt* block = &s;
        std::shared_ptr<Scope> def_scope = scope;
        Value caller = Value::function([this, block, def_scope](Args& args) {
          auto local = std::make_shared<Scope>();
          local->parent = def_scope;
          for (size_t k = 0; k < block->params.size(); ++k) {
            const Value* a = args.get(k, block->params[k].first);
            local->vars[block->params[k].first] =
                a ? *a : block->params[k].second ? eval(*block->params[k].second, local) : Value();
          }
          std::string text;
          exec(block->body, local, text);
          return Value::string(std::move(text));
        });
        const Expr& call = *s.expr;
        Value callee = eval(*call.kids[0], scope);
        Args args = eval_args(call, scope, 1);
        args.kw.emplace_back("caller", std::move(caller));
        Value r = call_function(callee, args, call);
        if (!r.is_none() && !r.is_undefined()) out += r.str();
        check_size(out.size());
        return Flow::Normal;
      }
      case StmtKind::FilterBlock: {
        std::string body;
        exec(s.body, scope, body);
        auto local = std::make_shared<Scope>();
        local->parent = scope;
        local->vars["\x01body"] = Value::string(std::move(body));
        Value r = eval(*s.expr, local);
        if (!r.is_none() && !r.is_undefined()) out += r.str();
        check_size(out.size());
        return Flow::Normal;
      }
      case StmtKind::Break:
        return Flow::Break;
      case StmtKind::Continue:
        return Flow::Continue;
    }
  } catch (JinjaError& e) {
    rethrow_at(std::move(e), s.line, s.col);
  }
  return Flow::Normal;
}

void Evaluator::exec_for(const Stmt& s, const std::shared_ptr<Scope>& outer, std::string& out) {
  auto scope = std::make_shared<Scope>();
  scope->parent = outer;
  Value iterable = eval(*s.expr, scope);
  List items;
  if (iterable.is_list()) {
    items = *iterable.list;
  } else if (iterable.is_mapping()) {
    for (const auto& kv : iterable.dict->items) items.push_back(Value::string(kv.first));
  } else if (iterable.is_string()) {
    const auto starts = char_starts(iterable.s);
    for (size_t k = 0; k < starts.size(); ++k) {
      size_t end = k + 1 < starts.size() ? starts[k + 1] : iterable.s.size();
      items.push_back(Value::string(iterable.s.substr(starts[k], end - starts[k])));
    }
  } else if (!iterable.is_undefined() && !iterable.is_none()) {
    throw JinjaError{std::string("cannot iterate over ") + iterable.type_name()};
  } else if (iterable.is_none()) {
    throw JinjaError{"cannot iterate over none"};
  }
  auto bind = [&](Scope& target, const Value& item) {
    if (s.targets.size() == 1) {
      target.vars[s.targets[0]] = item;
      return;
    }
    if (!item.is_list()) throw JinjaError{std::string("cannot unpack ") + item.type_name() + " in for loop"};
    if (item.list->size() != s.targets.size())
      throw JinjaError{"for: expected " + std::to_string(s.targets.size()) + " values to unpack, got " +
                       std::to_string(item.list->size())};
    for (size_t k = 0; k < s.targets.size(); ++k) target.vars[s.targets[k]] = (*item.list)[k];
  };
  if (s.cond) {
    List kept;
    for (const Value& item : items) {
      step();
      auto probe = std::make_shared<Scope>();
      probe->parent = scope;
      bind(*probe, item);
      if (eval(*s.cond, probe).truthy()) kept.push_back(item);
    }
    items = std::move(kept);
  }
  const int64_t n = static_cast<int64_t>(items.size());
  bool iterated = false;
  for (int64_t i = 0; i < n; ++i) {
    step();
    Value loop = Value::make_dict();
    Dict& d = *loop.dict;
    d.set("index", Value::integer(i + 1));
    d.set("index0", Value::integer(i));
    d.set("revindex", Value::integer(n - i));
    d.set("revindex0", Value::integer(n - i - 1));
    d.set("first", Value::boolean(i == 0));
    d.set("last", Value::boolean(i == n - 1));
    d.set("length", Value::integer(n));
    d.set("previtem", i > 0 ? items[size_t(i - 1)] : Value());
    d.set("nextitem", i + 1 < n ? items[size_t(i + 1)] : Value());
    List cyc_items = items;  // loop.cycle(a, b, ...) picks by index
    d.set("cycle", Value::function([i](Args& a) {
      if (a.pos.empty()) throw JinjaError{"loop.cycle() needs at least one argument"};
      return a.pos[size_t(i) % a.pos.size()];
    }));
    scope->vars["loop"] = std::move(loop);
    bind(*scope, items[size_t(i)]);
    Flow f = exec(s.body, scope, out);
    iterated = true;
    if (f == Flow::Break) break;
  }
  if (!iterated && !s.else_body.empty()) exec(s.else_body, scope, out);
}

Value Evaluator::make_macro(const Stmt& s, const std::shared_ptr<Scope>& def_scope) {
  const Stmt* m = &s;
  return Value::function([this, m, def_scope](Args& args) {
    if (call_depth_ >= limits_.max_call_depth) throw JinjaError{"macro calls nested too deeply"};
    auto local = std::make_shared<Scope>();
    local->parent = def_scope;
    if (args.pos.size() > m->params.size())
      throw JinjaError{"macro '" + m->targets[0] + "' takes " + std::to_string(m->params.size()) +
                       " arguments, got " + std::to_string(args.pos.size())};
    for (const auto& [k, v] : args.kw) {
      bool known = k == "caller";
      for (const auto& p : m->params) known = known || p.first == k;
      if (!known) throw JinjaError{"macro '" + m->targets[0] + "' has no parameter '" + k + "'"};
    }
    for (const auto& p : m->params) local->vars[p.first] = Value();
    for (size_t k = 0; k < m->params.size(); ++k) {
      const Value* a = args.get(k, m->params[k].first);
      if (a) local->vars[m->params[k].first] = *a;
      else if (m->params[k].second) local->vars[m->params[k].first] = eval(*m->params[k].second, local);
    }
    if (const Value* c = args.kwarg("caller")) local->vars["caller"] = *c;
    ++call_depth_;
    std::string text;
    try {
      exec(m->body, local, text);
    } catch (...) {
      --call_depth_;
      throw;
    }
    --call_depth_;
    return Value::string(std::move(text));
  });
}

Args Evaluator::eval_args(const Expr& e, const std::shared_ptr<Scope>& scope, size_t first) {
  Args a;
  for (size_t k = first; k < e.kids.size(); ++k) a.pos.push_back(eval(*e.kids[k], scope));
  for (const auto& [name, ex] : e.kwargs) {
    if (a.kwarg(name)) throw JinjaError{"keyword argument '" + name + "' given twice"};
    a.kw.emplace_back(name, eval(*ex, scope));
  }
  return a;
}

Value Evaluator::call_function(const Value& f, Args& args, const Expr& at) {
  if (f.kind != Kind::Function) {
    throw JinjaError{std::string("cannot call a value of type ") + f.type_name() +
                         (at.kids.empty() || at.kids[0]->kind != ExprKind::Name ? ""
                                                                                : " ('" + at.kids[0]->name + "' is not a function)"),
                     at.line, at.col};
  }
  return (*f.fn)(args);
}

Value Evaluator::eval_call(const Expr& e, const std::shared_ptr<Scope>& scope) {
  Value callee = eval(*e.kids[0], scope);
  Args args = eval_args(e, scope, 1);
  return call_function(callee, args, e);
}

Value Evaluator::eval(const Expr& e, const std::shared_ptr<Scope>& scope) {
  step();
  try {
    switch (e.kind) {
      case ExprKind::Literal:
        return e.value;
      case ExprKind::Name: {
        const Value* v = scope->find(e.name);
        return v ? *v : Value();
      }
      case ExprKind::List: {
        List items;
        for (const auto& k : e.kids) items.push_back(eval(*k, scope));
        return Value::make_list(std::move(items));
      }
      case ExprKind::Dict: {
        Value d = Value::make_dict();
        for (size_t k = 0; k + 1 < e.kids.size(); k += 2) {
          Value key = eval(*e.kids[k], scope);
          if (!key.is_string() && !key.is_number())
            throw JinjaError{std::string("dict keys must be strings, got ") + key.type_name()};
          d.dict->set(key.str(), eval(*e.kids[k + 1], scope));
        }
        return d;
      }
      case ExprKind::Attr: {
        Value obj = eval(*e.kids[0], scope);
        if (obj.is_mapping()) {
          if (const Value* v = obj.dict->find(e.name)) return *v;
          if (obj.kind == Kind::Namespace) return Value();
        }
        return builtin_member(obj, e.name);
      }
      case ExprKind::Index: {
        Value obj = eval(*e.kids[0], scope);
        Value key = eval(*e.kids[1], scope);
        if (obj.is_mapping()) {
          if (!key.is_string()) {
            if (key.is_number()) {
              if (const Value* v = obj.dict->find(key.str())) return *v;
              return Value();
            }
            throw JinjaError{std::string("cannot index a dict with ") + key.type_name()};
          }
          if (const Value* v = obj.dict->find(key.s)) return *v;
          if (obj.kind == Kind::Namespace) return Value();
          return builtin_member(obj, key.s);
        }
        if (obj.is_list() || obj.is_string()) {
          if (key.is_string()) return builtin_member(obj, key.s);
          if (key.kind != Kind::Int) throw JinjaError{std::string("cannot index with ") + key.type_name()};
          if (obj.is_list()) {
            int64_t n = int64_t(obj.list->size()), i = key.i < 0 ? key.i + n : key.i;
            if (i < 0 || i >= n) return Value();
            return (*obj.list)[size_t(i)];
          }
          auto starts = char_starts(obj.s);
          int64_t n = int64_t(starts.size()), i = key.i < 0 ? key.i + n : key.i;
          if (i < 0 || i >= n) return Value();
          size_t end = size_t(i) + 1 < starts.size() ? starts[size_t(i) + 1] : obj.s.size();
          return Value::string(obj.s.substr(starts[size_t(i)], end - starts[size_t(i)]));
        }
        if (obj.is_undefined()) return Value();
        if (key.is_string()) return builtin_member(obj, key.s);
        throw JinjaError{std::string("cannot index a value of type ") + obj.type_name()};
      }
      case ExprKind::Slice: {
        Value obj = eval(*e.kids[0], scope);
        auto bound = [&](const ExprPtr& k) -> std::optional<int64_t> {
          if (!k) return std::nullopt;
          Value v = eval(*k, scope);
          if (v.is_none() || v.is_undefined()) return std::nullopt;
          if (v.kind != Kind::Int) throw JinjaError{"slice bounds must be integers"};
          return v.i;
        };
        std::optional<int64_t> start = bound(e.kids[1]), stop = bound(e.kids[2]), stepv = bound(e.kids[3]);
        int64_t st = stepv.value_or(1);
        if (st == 0) throw JinjaError{"slice step cannot be zero"};
        std::vector<size_t> starts;
        int64_t n;
        if (obj.is_list()) n = int64_t(obj.list->size());
        else if (obj.is_string()) { starts = char_starts(obj.s); n = int64_t(starts.size()); }
        else throw JinjaError{std::string("cannot slice a value of type ") + obj.type_name()};
        // Python's slice.indices.
        auto clamp = [&](std::optional<int64_t> v, int64_t dflt, bool is_start) {
          (void)is_start;
          if (!v) return dflt;
          int64_t x = *v;
          if (x < 0) x += n;
          if (st > 0) return x < 0 ? int64_t(0) : x > n ? n : x;
          return x < 0 ? int64_t(-1) : x >= n ? n - 1 : x;
        };
        int64_t a = clamp(start, st > 0 ? 0 : n - 1, true);
        int64_t b = clamp(stop, st > 0 ? n : -1, false);
        std::vector<int64_t> idx;
        if (st > 0) for (int64_t i = a; i < b; i += st) idx.push_back(i);
        else for (int64_t i = a; i > b; i += st) idx.push_back(i);
        if (obj.is_list()) {
          List items;
          for (int64_t i : idx) items.push_back((*obj.list)[size_t(i)]);
          return Value::make_list(std::move(items));
        }
        std::string r;
        for (int64_t i : idx) {
          size_t end = size_t(i) + 1 < starts.size() ? starts[size_t(i) + 1] : obj.s.size();
          r += obj.s.substr(starts[size_t(i)], end - starts[size_t(i)]);
        }
        return Value::string(std::move(r));
      }
      case ExprKind::Call:
        return eval_call(e, scope);
      case ExprKind::Filter: {
        Value operand = eval(*e.kids[0], scope);
        Args args = eval_args(e, scope, 1);
        return apply_filter(*this, e.name, std::move(operand), args, e);
      }
      case ExprKind::Test: {
        Value operand = eval(*e.kids[0], scope);
        Args args = eval_args(e, scope, 1);
        bool r = apply_test(*this, e.name, operand, args, e);
        return Value::boolean(e.negated ? !r : r);
      }
      case ExprKind::Unary: {
        Value v = eval(*e.kids[0], scope);
        if (e.name == "not") return Value::boolean(!v.truthy());
        if (v.kind == Kind::Int) return Value::integer(e.name == "-" ? -v.i : v.i);
        if (v.kind == Kind::Float) return Value::real(e.name == "-" ? -v.f : v.f);
        throw JinjaError{std::string("bad operand type for unary ") + e.name + ": " + v.type_name()};
      }
      case ExprKind::Binary:
        return eval_binary(e, scope);
      case ExprKind::Ternary:
        if (eval(*e.kids[0], scope).truthy()) return eval(*e.kids[1], scope);
        return e.kids[2] ? eval(*e.kids[2], scope) : Value();
    }
  } catch (JinjaError& err) {
    rethrow_at(std::move(err), e.line, e.col);
  }
  return Value();
}

Value Evaluator::eval_binary(const Expr& e, const std::shared_ptr<Scope>& scope) {
  const std::string& op = e.name;
  Value l = eval(*e.kids[0], scope);
  if (op == "and") return l.truthy() ? eval(*e.kids[1], scope) : l;
  if (op == "or") return l.truthy() ? l : eval(*e.kids[1], scope);
  Value r = eval(*e.kids[1], scope);
  if (op == "==") return Value::boolean(values_equal(l, r));
  if (op == "!=") return Value::boolean(!values_equal(l, r));
  if (l.is_undefined() || r.is_undefined()) {
    if (r.is_undefined() && (op == "in" || op == "not in")) return Value::boolean(op == "not in");
    throw JinjaError{"cannot apply '" + op + "' to an undefined value"};
  }
  if (l.is_none() || r.is_none()) throw JinjaError{"cannot apply '" + op + "' to none"};
  if (op == "~") {
    std::string s = l.str() + r.str();
    check_size(s.size());
    return Value::string(std::move(s));
  }
  if (l.is_number() && r.is_number()) {
    bool fl = l.kind == Kind::Float || r.kind == Kind::Float;
    double a = l.as_double(), b = r.as_double();
    if (op == "<") return Value::boolean(a < b);
    if (op == ">") return Value::boolean(a > b);
    if (op == "<=") return Value::boolean(a <= b);
    if (op == ">=") return Value::boolean(a >= b);
    if (op == "/") {
      if (b == 0) throw JinjaError{"division by zero"};
      return Value::real(a / b);
    }
    if (op == "**") {
      if (a == 0 && b < 0) throw JinjaError{"0 cannot be raised to a negative power"};
      double p = std::pow(a, b);
      if (!std::isfinite(p)) throw JinjaError{"power result is not finite"};
      if (fl || b < 0 || std::fabs(p) >= 9.2e18) return Value::real(p);
      return Value::integer(static_cast<int64_t>(p));
    }
    if (!fl) {
      int64_t x = l.i, y = r.i, z = 0;
      if (op == "+") { if (__builtin_add_overflow(x, y, &z)) return Value::real(a + b); return Value::integer(z); }
      if (op == "-") { if (__builtin_sub_overflow(x, y, &z)) return Value::real(a - b); return Value::integer(z); }
      if (op == "*") { if (__builtin_mul_overflow(x, y, &z)) return Value::real(a * b); return Value::integer(z); }
      if (y == 0 && (op == "//" || op == "%")) throw JinjaError{"integer division or modulo by zero"};
      if (op == "//") return x == INT64_MIN && y == -1 ? Value::real(-a) : Value::integer(floor_div(x, y));
      if (op == "%") {
        if (y == -1) return Value::integer(0);
        int64_t m = x % y;  // sign of the dividend, as JavaScript's %
        return Value::integer(m);
      }
    } else {
      if (op == "+") return Value::real(a + b);
      if (op == "-") return Value::real(a - b);
      if (op == "*") return Value::real(a * b);
      if (b == 0 && (op == "//" || op == "%")) throw JinjaError{"float division or modulo by zero"};
      if (op == "//") return Value::real(std::floor(a / b));
      if (op == "%") return Value::real(std::fmod(a, b));
    }
  }
  if (l.is_list() && r.is_list() && op == "+") {
    List items = *l.list;
    items.insert(items.end(), r.list->begin(), r.list->end());
    return Value::make_list(std::move(items));
  }
  if (r.is_list() && (op == "in" || op == "not in")) {
    bool found = false;
    for (const Value& x : *r.list) found = found || values_equal(x, l);
    return Value::boolean(op == "in" ? found : !found);
  }
  if ((l.is_string() || r.is_string()) && op == "+") {
    std::string s = l.str() + r.str();
    check_size(s.size());
    return Value::string(std::move(s));
  }
  if (l.is_string() && r.is_string()) {
    if (op == "in") return Value::boolean(r.s.find(l.s) != std::string::npos);
    if (op == "not in") return Value::boolean(r.s.find(l.s) == std::string::npos);
    int c = compare_values(l, r);
    if (op == "<") return Value::boolean(c < 0);
    if (op == ">") return Value::boolean(c > 0);
    if (op == "<=") return Value::boolean(c <= 0);
    if (op == ">=") return Value::boolean(c >= 0);
  }
  if (l.is_string() && r.is_mapping() && (op == "in" || op == "not in")) {
    bool found = r.dict->find(l.s) != nullptr;
    return Value::boolean(op == "in" ? found : !found);
  }
  if (op == "*" && ((l.is_string() && r.kind == Kind::Int) || (l.kind == Kind::Int && r.is_string()))) {
    const std::string& s = l.is_string() ? l.s : r.s;
    int64_t n = l.is_string() ? r.i : l.i;
    if (n <= 0 || s.empty()) return Value::string("");
    check_size(s.size() * size_t(std::min<int64_t>(n, int64_t(limits_.max_output) + 1)));
    std::string out;
    for (int64_t k = 0; k < n; ++k) out += s;
    return Value::string(std::move(out));
  }
  throw JinjaError{"unsupported operand types for '" + op + "': " + l.type_name() + " and " + r.type_name()};
}

std::string render(const Template& tpl, const std::unordered_map<std::string, Value>& globals,
                   const Limits& limits) {
  auto builtins = std::make_shared<Scope>();
  add_builtin_globals(*builtins);
  auto top = std::make_shared<Scope>();
  top->parent = builtins;
  top->vars = globals;
  Evaluator ev(limits);
  std::string out;
  ev.exec(tpl.body, top, out);
  return out;
}

}  // namespace keel::jinja
