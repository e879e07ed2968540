#include "tokenizer/jinja/parser.h"

#include <charconv>
#include <cstdlib>
#include <initializer_list>

#include "tokenizer/jinja/lexer.h"

namespace keel::jinja {
namespace {

constexpr int kMaxDepth = 200;

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  std::unique_ptr<Template> run() {
    auto tpl = std::make_unique<Template>();
    tpl->body = parse_body({});
    if (peek().type != Tok::End) fail_at(peek(), "unexpected tag");
    return tpl;
  }

 private:
  struct DepthGuard {
    explicit DepthGuard(Parser* p) : p_(p) {
      if (++p_->depth_ > kMaxDepth) p_->fail_at(p_->peek(), "template nested too deeply");
    }
    ~DepthGuard() { --p_->depth_; }
    Parser* p_;
  };

  const Token& peek(size_t k = 0) const {
    size_t i = pos_ + k;
    return i < t_.size() ? t_[i] : t_.back();
  }
  const Token& next() {
    const Token& tk = peek();
    if (pos_ < t_.size() - 1) ++pos_;
    return tk;
  }
  [[noreturn]] void fail_at(const Token& tk, const std::string& msg) const {
    std::string what = tk.type == Tok::End ? "end of template" : "'" + tk.text + "'";
    throw JinjaError{msg + " (at " + what + ")", tk.line, tk.col};
  }
  bool is_op(const char* op, size_t k = 0) const { return peek(k).type == Tok::Op && peek(k).text == op; }
  bool is_name(const char* n, size_t k = 0) const { return peek(k).type == Tok::Name && peek(k).text == n; }
  void expect_op(const char* op) {
    if (!is_op(op)) fail_at(peek(), std::string("expected '") + op + "'");
    next();
  }
  void expect_name(const char* n) {
    if (!is_name(n)) fail_at(peek(), std::string("expected '") + n + "'");
    next();
  }
  std::string expect_identifier() {
    if (peek().type != Tok::Name) fail_at(peek(), "expected a name");
    return next().text;
  }
  void expect_close_stmt() {
    if (peek().type != Tok::CloseStmt) fail_at(peek(), "expected %}");
    next();
  }

  ExprPtr node(ExprKind k, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = at.line;
    e->col = at.col;
    return e;
  }

  // Statements until {% <one of stops> %} (not consumed) or the end.
  Body parse_body(std::initializer_list<const char*> stops) {
    DepthGuard g(this);
    Body body;
    while (true) {
      const Token& tk = peek();
      if (tk.type == Tok::End) return body;
      if (tk.type == Tok::Comment) { next(); continue; }
      if (tk.type == Tok::Text) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Text;
        s->text = tk.text;
        s->line = tk.line;
        s->col = tk.col;
        body.push_back(std::move(s));
        next();
        continue;
      }
      if (tk.type == Tok::OpenExpr) {
        next();
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Output;
        s->line = tk.line;
        s->col = tk.col;
        s->expr = parse_expr();
        if (peek().type != Tok::CloseExpr) fail_at(peek(), "expected }}");
        next();
        body.push_back(std::move(s));
        continue;
      }
      if (tk.type == Tok::OpenStmt) {
        for (const char* stop : stops)
          if (is_name(stop, 1)) return body;
        next();
        if (auto s = parse_statement(tk)) body.push_back(std::move(s));
        continue;
      }
      fail_at(tk, "unexpected token");
    }
  }

  StmtPtr make_stmt(StmtKind k, const Token& at) {
    auto s = std::make_unique<Stmt>();
    s->kind = k;
    s->line = at.line;
    s->col = at.col;
    return s;
  }

  void expect_end_tag(const char* name, const Token& opener) {
    if (peek().type != Tok::OpenStmt) fail_at(opener, std::string("missing {% ") + name + " %} for this block");
    next();
    expect_name(name);
    expect_close_stmt();
  }

  StmtPtr parse_statement(const Token& open) {
    const Token& kw = peek();
    if (kw.type != Tok::Name) fail_at(kw, "expected a statement name");
    std::string name = next().text;
    if (name == "if") {
      auto s = make_stmt(StmtKind::If, open);
      ExprPtr cond = parse_expr();
      expect_close_stmt();
      Body b = parse_body({"elif", "else", "endif"});
      s->branches.emplace_back(std::move(cond), std::move(b));
      while (true) {
        if (peek().type != Tok::OpenStmt) fail_at(open, "missing {% endif %} for this if");
        next();
        std::string w = next().text;
        if (w == "elif") {
          ExprPtr c = parse_expr();
          expect_close_stmt();
          Body eb = parse_body({"elif", "else", "endif"});
          s->branches.emplace_back(std::move(c), std::move(eb));
        } else if (w == "else") {
          expect_close_stmt();
          Body eb = parse_body({"endif"});
          s->branches.emplace_back(nullptr, std::move(eb));
        } else {  // endif
          expect_close_stmt();
          return s;
        }
      }
    }
    if (name == "for") {
      auto s = make_stmt(StmtKind::For, open);
      bool paren = is_op("(");
      if (paren) next();
      s->targets.push_back(expect_identifier());
      while (is_op(",")) {
        next();
        s->targets.push_back(expect_identifier());
      }
      if (paren) expect_op(")");
      expect_name("in");
      s->expr = parse_ternary(false);
      if (is_name("if")) {
        next();
        s->cond = parse_ternary(false);
      }
      if (is_name("recursive")) {
        next();
        s->recursive = true;
      }
      expect_close_stmt();
      s->body = parse_body({"else", "endfor"});
      if (is_name("else", 1)) {
        next(); next();
        expect_close_stmt();
        s->else_body = parse_body({"endfor"});
      }
      expect_end_tag("endfor", open);
      return s;
    }
    if (name == "set") {
      auto s = make_stmt(StmtKind::Set, open);
      s->targets.push_back(expect_identifier());
      if (is_op(".")) {
        next();
        s->attr = expect_identifier();
      } else {
        while (is_op(",")) {
          next();
          s->targets.push_back(expect_identifier());
        }
      }
      if (is_op("=")) {
        next();
        s->expr = parse_tuple_or_expr();
        expect_close_stmt();
        return s;
      }
      expect_close_stmt();
      s->body = parse_body({"endset"});
      expect_end_tag("endset", open);
      return s;
    }
    if (name == "macro") {
      auto s = make_stmt(StmtKind::Macro, open);
      s->targets.push_back(expect_identifier());
      parse_params(s->params);
      expect_close_stmt();
      s->body = parse_body({"endmacro"});
      expect_end_tag("endmacro", open);
      return s;
    }
    if (name == "call") {
      auto s = make_stmt(StmtKind::CallBlock, open);
      if (is_op("(")) parse_params(s->params);
      s->expr = parse_expr();
      if (s->expr->kind != ExprKind::Call) fail_at(open, "{% call %} expects a macro call");
      expect_close_stmt();
      s->body = parse_body({"endcall"});
      expect_end_tag("endcall", open);
      return s;
    }
    if (name == "filter") {
      auto s = make_stmt(StmtKind::FilterBlock, open);
      // The filter chain applies to the rendered body: parse it as filters
      // on a placeholder name.
      ExprPtr cur = node(ExprKind::Name, open);
      cur->name = "\x01body";
      while (true) {
        cur = parse_filter(std::move(cur));
        if (!is_op("|")) break;
        next();
      }
      s->expr = std::move(cur);
      expect_close_stmt();
      s->body = parse_body({"endfilter"});
      expect_end_tag("endfilter", open);
      return s;
    }
    if (name == "break" || name == "continue") {
      auto s = make_stmt(name == "break" ? StmtKind::Break : StmtKind::Continue, open);
      expect_close_stmt();
      return s;
    }
    if (name == "generation" || name == "endgeneration") {  // HF's assistant-mask markers: no output
      expect_close_stmt();
      return nullptr;
    }
    fail_at(kw, "unknown statement '" + name + "'");
  }

  // (a, b=default, ...)
  void parse_params(std::vector<std::pair<std::string, ExprPtr>>& params) {
    expect_op("(");
    while (!is_op(")")) {
      std::string p = expect_identifier();
      ExprPtr def;
      if (is_op("=")) {
        next();
        def = parse_expr();
      }
      params.emplace_back(std::move(p), std::move(def));
      if (!is_op(",")) break;
      next();
    }
    expect_op(")");
  }

  // `a, b` without parentheses (set x = 1, 2) makes a list.
  ExprPtr parse_tuple_or_expr() {
    const Token& at = peek();
    ExprPtr first = parse_expr();
    if (!is_op(",")) return first;
    auto list = node(ExprKind::List, at);
    list->kids.push_back(std::move(first));
    while (is_op(",")) {
      next();
      list->kids.push_back(parse_expr());
    }
    return list;
  }

  ExprPtr parse_expr() { return parse_ternary(true); }

  ExprPtr parse_ternary(bool allow_if) {
    DepthGuard g(this);
    const Token& at = peek();
    ExprPtr a = parse_or();
    if (allow_if && is_name("if")) {
      next();
      auto t = node(ExprKind::Ternary, at);
      ExprPtr cond = parse_or();
      ExprPtr other;
      if (is_name("else")) {
        next();
        other = parse_ternary(true);
      }
      t->kids.push_back(std::move(cond));
      t->kids.push_back(std::move(a));
      t->kids.push_back(std::move(other));
      return t;
    }
    return a;
  }

  ExprPtr binary(std::string op, ExprPtr l, ExprPtr r, const Token& at) {
    auto b = node(ExprKind::Binary, at);
    b->name = std::move(op);
    b->kids.push_back(std::move(l));
    b->kids.push_back(std::move(r));
    return b;
  }

  ExprPtr parse_or() {
    ExprPtr l = parse_and();
    while (is_name("or")) {
      const Token& at = next();
      l = binary("or", std::move(l), parse_and(), at);
    }
    return l;
  }
  ExprPtr parse_and() {
    ExprPtr l = parse_not();
    while (is_name("and")) {
      const Token& at = next();
      l = binary("and", std::move(l), parse_not(), at);
    }
    return l;
  }
  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard g(this);
      const Token& at = next();
      auto u = node(ExprKind::Unary, at);
      u->name = "not";
      u->kids.push_back(parse_not());
      return u;
    }
    return parse_compare();
  }
  ExprPtr parse_compare() {
    ExprPtr l = parse_additive();
    while (true) {
      const Token& at = peek();
      std::string op;
      if (at.type == Tok::Op && (at.text == "==" || at.text == "!=" || at.text == "<" || at.text == ">" ||
                                 at.text == "<=" || at.text == ">=")) {
        op = at.text;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && is_name("in", 1)) {
        op = "not in";
        next(); next();
      } else {
        return l;
      }
      l = binary(op, std::move(l), parse_additive(), at);
    }
  }
  ExprPtr parse_additive() {
    ExprPtr l = parse_multiplicative();
    while (is_op("+") || is_op("-") || is_op("~")) {
      const Token& at = next();
      l = binary(at.text, std::move(l), parse_multiplicative(), at);
    }
    return l;
  }
  ExprPtr parse_multiplicative() {
    ExprPtr l = parse_unary();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& at = next();
      l = binary(at.text, std::move(l), parse_unary(), at);
    }
    return l;
  }
  ExprPtr parse_unary() {
    if (is_op("-") || is_op("+")) {
      DepthGuard g(this);
      const Token& at = next();
      auto u = node(ExprKind::Unary, at);
      u->name = at.text;
      u->kids.push_back(parse_unary());
      return u;
    }
    ExprPtr l = parse_postfix_filters();
    if (is_op("**")) {
      const Token& at = next();
      return binary("**", std::move(l), parse_unary(), at);
    }
    return l;
  }

  ExprPtr parse_postfix_filters() {
    ExprPtr e = parse_postfix(parse_primary());
    while (true) {
      if (is_op("|")) {
        next();
        e = parse_filter(std::move(e));
      } else if (is_name("is")) {
        const Token& at = next();
        auto t = node(ExprKind::Test, at);
        if (is_name("not")) {
          next();
          t->negated = true;
        }
        t->name = expect_identifier();
        t->kids.push_back(std::move(e));
        if (is_op("(")) {
          parse_call_args(*t);
        } else if (peek().type == Tok::Int || peek().type == Tok::Float || peek().type == Tok::String ||
                   (peek().type == Tok::Name && !is_name("and") && !is_name("or") && !is_name("if") &&
                    !is_name("else") && !is_name("is") && !is_name("in") && !is_name("not"))) {
          // `x is divisibleby 3`, `x is sameas none`: one argument without parentheses.
          t->kids.push_back(parse_postfix(parse_primary()));
        }
        e = std::move(t);
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_filter(ExprPtr operand) {
    const Token& at = peek();
    auto f = node(ExprKind::Filter, at);
    f->name = expect_identifier();
    while (is_op(".")) {  // dotted filter names are not a thing; keep error clear
      fail_at(peek(), "unexpected '.' after filter name");
    }
    f->kids.push_back(std::move(operand));
    if (is_op("(")) parse_call_args(*f);
    return f;
  }

  void parse_call_args(Expr& call) {
    DepthGuard g(this);
    expect_op("(");
    while (!is_op(")")) {
      if (peek().type == Tok::Name && is_op("=", 1)) {
        std::string k = next().text;
        next();
        call.kwargs.emplace_back(std::move(k), parse_expr());
      } else {
        if (is_op("*")) fail_at(peek(), "argument unpacking (*args) is not supported");
        call.kids.push_back(parse_expr());
      }
      if (!is_op(",")) break;
      next();
    }
    expect_op(")");
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      const Token& at = peek();
      if (is_op(".")) {
        next();
        auto a = node(ExprKind::Attr, at);
        if (peek().type == Tok::Name) {
          a->name = next().text;
        } else if (peek().type == Tok::Int) {  // x.0 as x[0]
          a->kind = ExprKind::Index;
          auto lit = node(ExprKind::Literal, peek());
          lit->value = Value::integer(std::strtoll(next().text.c_str(), nullptr, 10));
          a->kids.push_back(std::move(e));
          a->kids.push_back(std::move(lit));
          e = std::move(a);
          continue;
        } else {
          fail_at(peek(), "expected an attribute name after '.'");
        }
        a->kids.push_back(std::move(e));
        e = std::move(a);
      } else if (is_op("[")) {
        DepthGuard g(this);
        next();
        ExprPtr parts[3];
        int colons = 0;
        while (!is_op("]")) {
          if (is_op(":")) {
            if (++colons > 2) fail_at(peek(), "too many ':' in slice");
            next();
            continue;
          }
          if (parts[colons]) fail_at(peek(), "expected ':' or ']'");
          parts[colons] = parse_expr();
        }
        next();
        if (colons == 0) {
          if (!parts[0]) fail_at(at, "empty subscript");
          auto ix = node(ExprKind::Index, at);
          ix->kids.push_back(std::move(e));
          ix->kids.push_back(std::move(parts[0]));
          e = std::move(ix);
        } else {
          auto sl = node(ExprKind::Slice, at);
          sl->kids.push_back(std::move(e));
          for (auto& p : parts) sl->kids.push_back(std::move(p));
          e = std::move(sl);
        }
      } else if (is_op("(")) {
        auto c = node(ExprKind::Call, at);
        c->kids.push_back(std::move(e));
        parse_call_args(*c);
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_primary() {
    DepthGuard g(this);
    const Token& tk = peek();
    switch (tk.type) {
      case Tok::Int: {
        next();
        auto e = node(ExprKind::Literal, tk);
        int64_t v = 0;
        auto r = std::from_chars(tk.text.data(), tk.text.data() + tk.text.size(), v);
        if (r.ec != std::errc()) e->value = Value::real(std::strtod(tk.text.c_str(), nullptr));
        else e->value = Value::integer(v);
        return e;
      }
      case Tok::Float: {
        next();
        auto e = node(ExprKind::Literal, tk);
        e->value = Value::real(std::strtod(tk.text.c_str(), nullptr));
        return e;
      }
      case Tok::String: {
        next();
        auto e = node(ExprKind::Literal, tk);
        std::string s = tk.text;
        while (peek().type == Tok::String) s += next().text;  // "a" "b" concatenates
        e->value = Value::string(std::move(s));
        return e;
      }
      case Tok::Name: {
        next();
        auto e = node(ExprKind::Literal, tk);
        if (tk.text == "true" || tk.text == "True") e->value = Value::boolean(true);
        else if (tk.text == "false" || tk.text == "False") e->value = Value::boolean(false);
        else if (tk.text == "none" || tk.text == "None") e->value = Value::none();
        else {
          e->kind = ExprKind::Name;
          e->name = tk.text;
        }
        return e;
      }
      case Tok::Op: {
        if (tk.text == "(") {
          next();
          if (is_op(")")) {  // () is an empty tuple
            next();
            return node(ExprKind::List, tk);
          }
          ExprPtr first = parse_expr();
          if (is_op(",")) {
            auto list = node(ExprKind::List, tk);
            list->kids.push_back(std::move(first));
            while (is_op(",")) {
              next();
              if (is_op(")")) break;
              list->kids.push_back(parse_expr());
            }
            expect_op(")");
            return list;
          }
          expect_op(")");
          return first;
        }
        if (tk.text == "[") {
          next();
          auto list = node(ExprKind::List, tk);
          while (!is_op("]")) {
            list->kids.push_back(parse_expr());
            if (!is_op(",")) break;
            next();
          }
          expect_op("]");
          return list;
        }
        if (tk.text == "{") {
          next();
          auto d = node(ExprKind::Dict, tk);
          while (!is_op("}")) {
            d->kids.push_back(parse_expr());
            expect_op(":");
            d->kids.push_back(parse_expr());
            if (!is_op(",")) break;
            next();
          }
          expect_op("}");
          return d;
        }
        break;
      }
      default:
        break;
    }
    fail_at(tk, "expected an expression");
  }

  std::vector<Token> t_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

std::unique_ptr<Template> parse(std::string_view source) { return Parser(tokenize(source)).run(); }

}  // namespace keel::jinja
