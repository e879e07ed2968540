#include "server/api.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

namespace keel::server {

using json = nlohmann::json;
using runtime::Sequence;

struct Api::Served {
  std::unique_ptr<runtime::EmbeddingModel> model;
  std::unique_ptr<runtime::EmbedScheduler> scheduler;
};

namespace {

constexpr size_t kMaxInputs = 2048;  // per request, as OpenAI's API

// An error the handlers return to the client.
struct ApiError {
  int status = 400;
  std::string message;
  std::string param;  // "" = null
  std::string code;   // "" = null
};

const char* error_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    case 503: return "service_unavailable";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

HttpResponse make_error(const ApiError& e) {
  json body = {{"error",
                {{"message", e.message},
                 {"type", error_type(e.status)},
                 {"param", e.param.empty() ? json(nullptr) : json(e.param)},
                 {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
  HttpResponse r;
  r.status = e.status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  if (e.status == 429 || e.status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

HttpResponse json_response(const json& j, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

// Compares without an early exit, so the time taken does not reveal how much of
// the key matched.
bool constant_time_equal(std::string_view a, std::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

std::string route_of(const std::string& path) {
  static const char* kRoutes[] = {"/v1/embeddings", "/embed", "/tokenize", "/detokenize", "/v1/models",
                                  "/health",        "/ready", "/metrics"};
  for (const char* r : kRoutes)
    if (path == r) return r;
  return "other";
}

void append_float(std::string& out, float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip form, as `keel embed`
  out.append(buf, end);
}

// `[v0,v1,...]`: a row of floats as a JSON array.
void append_float_array(std::string& out, const float* v, size_t n) {
  out += '[';
  for (size_t j = 0; j < n; ++j) {
    if (j) out += ',';
    append_float(out, v[j]);
  }
  out += ']';
}

void append_base64(std::string& out, const float* v, size_t n) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(v);  // little-endian float32, as OpenAI sends
  const size_t bytes = n * sizeof(float);
  size_t i = 0;
  for (; i + 3 <= bytes; i += 3) {
    const uint32_t x = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out += kAlphabet[x >> 18];
    out += kAlphabet[(x >> 12) & 63];
    out += kAlphabet[(x >> 6) & 63];
    out += kAlphabet[x & 63];
  }
  if (i + 1 == bytes) {
    const uint32_t x = p[i] << 16;
    out += kAlphabet[x >> 18];
    out += kAlphabet[(x >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes) {
    const uint32_t x = (p[i] << 16) | (p[i + 1] << 8);
    out += kAlphabet[x >> 18];
    out += kAlphabet[(x >> 12) & 63];
    out += kAlphabet[(x >> 6) & 63];
    out += '=';
  }
}

// Truncates to `dims` and L2-normalizes again (OpenAI's `dimensions`).
void shorten(float* row, size_t dims) {
  double sum = 0;
  for (size_t j = 0; j < dims; ++j) sum += static_cast<double>(row[j]) * row[j];
  const double norm = std::sqrt(sum);
  if (norm > 0)
    for (size_t j = 0; j < dims; ++j) row[j] = static_cast<float>(row[j] / norm);
}

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

// Parses a JSON object body; nullopt + error if it is not one.
// find_model's failure (503 loading, 400 ambiguous, 404 unknown) in OpenAI's shape.
HttpResponse model_error(int status, const std::string& message) {
  return make_error({status, message, "model", status == 404 ? "model_not_found" : ""});
}

// The answer to a request whose client closed the connection first. The
// transport never sends it; it is counted as 499 (nginx's "client closed
// request").
HttpResponse client_gone() {
  return make_error({499, "the client closed the connection before the answer", "", "client_closed_request"});
}

// The response for a job the scheduler refused (429 queue full, 503 stopping);
// nullopt when it took the job.
std::optional<HttpResponse> refusal(runtime::SubmitResult result) {
  if (result == runtime::SubmitResult::kQueueFull)
    return make_error({429, "the embedding queue is full; retry later", "", "queue_full"});
  if (result == runtime::SubmitResult::kStopped) return make_error({503, "the server is shutting down", "", ""});
  return std::nullopt;
}

std::optional<json> parse_object(const std::string& body, ApiError& error) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    error = {400, "the request body is not valid JSON", "", "invalid_json"};
    return std::nullopt;
  }
  if (!j.is_object()) {
    error = {400, str_cat("the request body must be a JSON object, got a JSON ", j.type_name()), "", ""};
    return std::nullopt;
  }
  return j;
}

std::optional<bool> optional_bool(const json& body, const char* field, bool fallback, ApiError& error) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) {
    error = {400, str_cat("'", field, "' must be a boolean, got a JSON ", it->type_name()), field, ""};
    return std::nullopt;
  }
  return it->get<bool>();
}

// One request's inputs: texts, or token id sequences.
struct Inputs {
  std::vector<std::string> texts;
  std::vector<std::vector<int64_t>> ids;
  bool are_ids = false;
  size_t size() const { return are_ids ? ids.size() : texts.size(); }
};

bool is_id(const json& v) { return v.is_number_integer(); }

std::optional<Inputs> parse_inputs(const json& body, const char* field, bool allow_ids, ApiError& error) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    error = {400, str_cat("'", field, "' is required"), field, ""};
    return std::nullopt;
  }
  const json& v = *it;
  Inputs in;
  auto bad = [&](std::string message) {
    error = {400, std::move(message), field, ""};
    return std::nullopt;
  };
  const char* what = allow_ids ? "a string, an array of strings, an array of token ids or an array of token-id arrays"
                               : "a string or an array of strings";
  if (v.is_string()) {
    in.texts.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    if (v.empty()) return bad(str_cat("'", field, "' is an empty array"));
    if (v.size() > kMaxInputs)
      return bad(str_cat("'", field, "' has ", v.size(), " items, more than the limit of ", kMaxInputs));
    if (v[0].is_string()) {
      for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string())
          return bad(str_cat("'", field, "[", i, "]' must be a string like the other items, got a JSON ",
                             v[i].type_name()));
        in.texts.push_back(v[i].get<std::string>());
      }
    } else if (allow_ids && is_id(v[0])) {
      in.are_ids = true;
      auto& seq = in.ids.emplace_back();
      for (size_t i = 0; i < v.size(); ++i) {
        if (!is_id(v[i]))
          return bad(str_cat("'", field, "[", i, "]' must be an integer token id, got a JSON ", v[i].type_name()));
        seq.push_back(v[i].is_number_unsigned() && v[i].get<uint64_t>() > INT64_MAX ? -1 : v[i].get<int64_t>());
      }
    } else if (allow_ids && v[0].is_array()) {
      in.are_ids = true;
      for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_array())
          return bad(str_cat("'", field, "[", i, "]' must be an array of token ids, got a JSON ", v[i].type_name()));
        auto& seq = in.ids.emplace_back();
        for (size_t k = 0; k < v[i].size(); ++k) {
          const json& x = v[i][k];
          if (!is_id(x))
            return bad(str_cat("'", field, "[", i, "][", k, "]' must be an integer token id, got a JSON ",
                               x.type_name()));
          seq.push_back(x.is_number_unsigned() && x.get<uint64_t>() > INT64_MAX ? -1 : x.get<int64_t>());
        }
      }
    } else {
      return bad(str_cat("'", field, "' must be ", what, "; its first item is a JSON ", v[0].type_name()));
    }
  } else {
    return bad(str_cat("'", field, "' must be ", what, ", got a JSON ", v.type_name()));
  }
  for (size_t i = 0; i < in.texts.size(); ++i)
    if (in.texts[i].empty()) return bad(str_cat("'", field, "[", i, "]' is an empty string"));
  return in;
}

std::optional<std::vector<Sequence>> to_sequences(const runtime::EmbeddingModel& model, const Inputs& in,
                                                  bool truncate, const char* field, size_t& tokens,
                                                  ApiError& error) {
  std::vector<Sequence> seqs;
  seqs.reserve(in.size());
  tokens = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    auto s = in.are_ids ? model.from_ids(in.ids[i]) : model.tokenize(in.texts[i], truncate);
    if (!s.ok()) {
      const std::string where = in.size() == 1 ? std::string(field) : str_cat(field, "[", i, "]");
      const bool too_long = s.error().find("limit of") != std::string::npos;
      error = {400, str_cat("'", where, "': ", s.error()), field, too_long ? "context_length_exceeded" : ""};
      return std::nullopt;
    }
    tokens += s->ids.size();
    seqs.push_back(std::move(s).value());
  }
  return seqs;
}

}  // namespace

Api::Api(ApiOptions options) : options_(std::move(options)) {}
Api::~Api() { stop(); }

void Api::add_model(std::unique_ptr<runtime::EmbeddingModel> model) {
  auto served = std::make_shared<Served>();
  served->scheduler = std::make_unique<runtime::EmbedScheduler>(
      *model, options_.scheduler,
      [this](const runtime::BatchStats& b) { metrics_.observe_batch(b.sequences, b.tokens); });
  served->model = std::move(model);
  std::lock_guard lock(mu_);
  models_.push_back(std::move(served));
}

void Api::set_ready() { ready_ = true; }

void Api::stop() {
  for (auto& m : models()) m->scheduler->stop();
}

std::vector<std::shared_ptr<Api::Served>> Api::models() const {
  std::lock_guard lock(mu_);
  return models_;
}

std::shared_ptr<Api::Served> Api::find_model(const std::string& name, std::string& error, int& status) const {
  auto all = models();
  if (!ready_) {
    status = 503;
    error = "the models are still loading";
    return nullptr;
  }
  if (name.empty()) {
    if (all.size() == 1) return all[0];
    status = 400;
    error = "'model' is required: this server has several models (see GET /v1/models)";
    return nullptr;
  }
  for (auto& m : all)
    if (m->model->name() == name) return m;
  status = 404;
  error = str_cat("the model '", name, "' does not exist (see GET /v1/models)");
  return nullptr;
}

HttpResponse Api::error_body(int status, std::string message) const {
  return make_error({status, std::move(message), "", status == 413 ? "request_too_large" : ""});
}

void Api::on_complete(const HttpRequest& request, const HttpResponse& response, double seconds) {
  metrics_.count_request(route_of(path_of(request.target)), response.status);
  metrics_.observe_request(seconds);
}

void Api::handle(HttpRequest&& request, Respond respond) {
  const std::string path = path_of(request.target);
  const std::string route = route_of(path);
  struct RouteSpec {
    const char* path;
    const char* method;
    bool auth;
  };
  static const RouteSpec kSpecs[] = {
      {"/v1/embeddings", "POST", true}, {"/embed", "POST", true},  {"/tokenize", "POST", true},
      {"/detokenize", "POST", true},    {"/v1/models", "GET", true}, {"/health", "GET", false},
      {"/ready", "GET", false},         {"/metrics", "GET", false}};
  const RouteSpec* spec = nullptr;
  for (const auto& s : kSpecs)
    if (path == s.path) spec = &s;
  if (!spec) return respond(make_error({404, str_cat("no route for ", request.method, " ", path), "", "unknown_route"}));
  if (request.method != spec->method) {
    HttpResponse r = make_error({405, str_cat(path, " takes ", spec->method, ", not ", request.method), "", ""});
    r.headers.emplace_back("Allow", spec->method);
    return respond(std::move(r));
  }
  if (spec->auth && !options_.api_key.empty() &&
      !constant_time_equal(request.authorization, "Bearer " + options_.api_key)) {
    return respond(make_error({401,
                               request.authorization.empty()
                                   ? "missing API key: send the header 'Authorization: Bearer <key>'"
                                   : "incorrect API key in the Authorization header",
                               "", "invalid_api_key"}));
  }
  if (path == "/health") return respond(json_response({{"status", "ok"}}));
  if (path == "/ready") {
    if (!ready_) return respond(make_error({503, "the models are still loading", "", "not_ready"}));
    return respond(json_response({{"status", "ready"}}));
  }
  if (path == "/metrics") {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics_.render();
    return respond(std::move(r));
  }
  if (path == "/v1/models") return respond(list_models());

  // The model routes: bounded admission, and the in-flight gauge.
  if (in_flight_.fetch_add(1) >= options_.max_concurrent_requests) {
    in_flight_.fetch_sub(1);
    return respond(make_error({429,
                               str_cat("too many requests in flight (limit ", options_.max_concurrent_requests,
                                       "); retry later"),
                               "", "rate_limit_exceeded"}));
  }
  metrics_.in_flight().fetch_add(1);
  Respond done = [this, respond = std::move(respond)](HttpResponse r) {
    metrics_.add_tokens(r.tokens);
    in_flight_.fetch_sub(1);
    metrics_.in_flight().fetch_sub(1);
    respond(std::move(r));
  };
  if (path == "/v1/embeddings") return embeddings(std::move(request), std::move(done));
  if (path == "/embed") return tei_embed(std::move(request), std::move(done));
  if (path == "/tokenize") return tokenize(std::move(request), std::move(done));
  return detokenize(std::move(request), std::move(done));
}

HttpResponse Api::list_models() const {
  json data = json::array();
  for (auto& m : models())
    data.push_back({{"id", m->model->name()},
                    {"object", "model"},
                    {"created", 0},
                    {"owned_by", "keel"},
                    {"dimensions", m->model->dim()},
                    {"max_input_tokens", m->model->max_tokens()}});
  return json_response({{"object", "list"}, {"data", data}});
}

namespace {

// Model name from the body: "" if absent; an error if not a string.
std::optional<std::string> model_field(const json& body, ApiError& error) {
  auto it = body.find("model");
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    error = {400, str_cat("'model' must be a string, got a JSON ", it->type_name()), "model", ""};
    return std::nullopt;
  }
  return it->get<std::string>();
}

}  // namespace

void Api::embeddings(HttpRequest&& request, Respond respond) {
  ApiError error;
  auto fail = [&] { respond(make_error(error)); };
  auto body = parse_object(request.body, error);
  if (!body) return fail();
  auto name = model_field(*body, error);
  if (!name) return fail();
  auto inputs = parse_inputs(*body, "input", /*allow_ids=*/true, error);
  if (!inputs) return fail();
  bool base64 = false;
  if (auto it = body->find("encoding_format"); it != body->end() && !it->is_null()) {
    if (!it->is_string() || (*it != "float" && *it != "base64"))
      return respond(make_error({400, str_cat("'encoding_format' must be \"float\" or \"base64\", got ", it->dump()),
                                 "encoding_format", ""}));
    base64 = *it == "base64";
  }
  std::string model_error_text;
  int status = 0;
  auto served = find_model(*name, model_error_text, status);
  if (!served) return respond(model_error(status, model_error_text));
  const size_t dim = served->model->dim();
  size_t dims = dim;
  if (auto it = body->find("dimensions"); it != body->end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > static_cast<int64_t>(dim))
      return respond(make_error(
          {400, str_cat("'dimensions' must be an integer from 1 to ", dim, " for this model, got ", it->dump()),
           "dimensions", ""}));
    dims = it->get<size_t>();
  }
  size_t tokens = 0;
  auto seqs = to_sequences(*served->model, *inputs, /*truncate=*/false, "input", tokens, error);
  if (!seqs) return fail();

  const size_t n = seqs->size();
  const bool normalize = served->model->normalizes();
  auto result = served->scheduler->submit(
      std::move(*seqs), [this, respond, n, dim, dims, base64, normalize, tokens,
                         model_name = served->model->name()](Result<std::vector<float>> rows, runtime::JobTiming t) {
        if (t.cancelled) return respond(client_gone());
        metrics_.observe_job(t.queue_seconds, t.compute_seconds);
        if (!rows.ok()) return respond(make_error({500, "embedding failed: " + rows.error(), "", ""}));
        std::string out = R"({"object":"list","data":[)";
        for (size_t i = 0; i < n; ++i) {
          float* row = rows->data() + i * dim;
          if (normalize) runtime::EmbeddingModel::normalize(row, dim);
          if (dims < dim) shorten(row, dims);
          if (i) out += ',';
          out += R"({"object":"embedding","index":)" + std::to_string(i) + R"(,"embedding":)";
          if (base64) {
            out += '"';
            append_base64(out, row, dims);
            out += '"';
          } else {
            append_float_array(out, row, dims);
          }
          out += '}';
        }
        out += R"(],"model":)" + json(model_name).dump() + R"(,"usage":{"prompt_tokens":)" + std::to_string(tokens) +
               R"(,"total_tokens":)" + std::to_string(tokens) + "}}";
        HttpResponse r;
        r.body = std::move(out);
        r.tokens = tokens;
        respond(std::move(r));
      },
      request.client_gone);
  if (auto refused = refusal(result)) respond(std::move(*refused));
}

void Api::tei_embed(HttpRequest&& request, Respond respond) {
  ApiError error;
  auto fail = [&] { respond(make_error(error)); };
  auto body = parse_object(request.body, error);
  if (!body) return fail();
  auto name = model_field(*body, error);
  if (!name) return fail();
  auto inputs = parse_inputs(*body, "inputs", /*allow_ids=*/false, error);
  if (!inputs) return fail();
  auto normalize = optional_bool(*body, "normalize", true, error);
  if (!normalize) return fail();
  auto truncate = optional_bool(*body, "truncate", false, error);
  if (!truncate) return fail();
  std::string model_error_text;
  int status = 0;
  auto served = find_model(*name, model_error_text, status);
  if (!served) return respond(model_error(status, model_error_text));
  size_t tokens = 0;
  auto seqs = to_sequences(*served->model, *inputs, *truncate, "inputs", tokens, error);
  if (!seqs) return fail();
  const size_t n = seqs->size(), dim = served->model->dim();
  auto result = served->scheduler->submit(
      std::move(*seqs), [this, respond, n, dim, tokens, normalize = *normalize](Result<std::vector<float>> rows,
                                                                               runtime::JobTiming t) {
        if (t.cancelled) return respond(client_gone());
        metrics_.observe_job(t.queue_seconds, t.compute_seconds);
        if (!rows.ok()) return respond(make_error({500, "embedding failed: " + rows.error(), "", ""}));
        std::string out = "[";
        for (size_t i = 0; i < n; ++i) {
          float* row = rows->data() + i * dim;
          if (normalize) runtime::EmbeddingModel::normalize(row, dim);
          if (i) out += ',';
          append_float_array(out, row, dim);
        }
        out += ']';
        HttpResponse r;
        r.body = std::move(out);
        r.tokens = tokens;
        respond(std::move(r));
      },
      request.client_gone);
  if (auto refused = refusal(result)) respond(std::move(*refused));
}

void Api::tokenize(HttpRequest&& request, Respond respond) {
  ApiError error;
  auto fail = [&] { respond(make_error(error)); };
  auto body = parse_object(request.body, error);
  if (!body) return fail();
  auto name = model_field(*body, error);
  if (!name) return fail();
  auto inputs = parse_inputs(*body, "inputs", /*allow_ids=*/false, error);
  if (!inputs) return fail();
  auto special = optional_bool(*body, "add_special_tokens", true, error);
  if (!special) return fail();
  std::string model_error_text;
  int status = 0;
  auto served = find_model(*name, model_error_text, status);
  if (!served) return respond(model_error(status, model_error_text));
  json out = json::array();
  size_t tokens = 0;
  for (size_t i = 0; i < inputs->texts.size(); ++i) {
    auto e = served->model->encode(inputs->texts[i], *special);
    if (!e.ok()) return respond(make_error({400, str_cat("'inputs[", i, "]': ", e.error()), "inputs", ""}));
    json toks = json::array();
    for (size_t k = 0; k < e->ids.size(); ++k) {
      toks.push_back({{"id", e->ids[k]},
                      {"text", k < e->tokens.size() ? e->tokens[k] : std::string()},
                      {"special", k < e->special_tokens_mask.size() && e->special_tokens_mask[k] != 0},
                      {"start", k < e->offsets.size() ? e->offsets[k].first : 0},
                      {"stop", k < e->offsets.size() ? e->offsets[k].second : 0}});
    }
    tokens += e->ids.size();
    out.push_back(std::move(toks));
  }
  HttpResponse r = json_response(out);
  r.tokens = tokens;
  respond(std::move(r));
}

void Api::detokenize(HttpRequest&& request, Respond respond) {
  ApiError error;
  auto fail = [&] { respond(make_error(error)); };
  auto body = parse_object(request.body, error);
  if (!body) return fail();
  auto name = model_field(*body, error);
  if (!name) return fail();
  auto skip = optional_bool(*body, "skip_special_tokens", true, error);
  if (!skip) return fail();
  auto it = body->find("ids");
  if (it == body->end() || !it->is_array() || it->empty())
    return respond(make_error({400, "'ids' must be a non-empty array of token ids or of token-id arrays", "ids", ""}));
  std::vector<std::vector<uint32_t>> seqs;
  auto read_seq = [&](const json& a, const std::string& where, std::vector<uint32_t>& out) -> bool {
    for (size_t k = 0; k < a.size(); ++k) {
      if (!a[k].is_number_integer() || a[k].get<int64_t>() < 0 || a[k].get<int64_t>() > UINT32_MAX) {
        error = {400, str_cat("'", where, "[", k, "]' must be a token id (an integer from 0), got ", a[k].dump()),
                 "ids", ""};
        return false;
      }
      out.push_back(a[k].get<uint32_t>());
    }
    return true;
  };
  if ((*it)[0].is_array()) {
    for (size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_array())
        return respond(make_error({400, str_cat("'ids[", i, "]' must be an array of token ids"), "ids", ""}));
      if (!read_seq((*it)[i], str_cat("ids[", i, "]"), seqs.emplace_back())) return fail();
    }
  } else if (!read_seq(*it, "ids", seqs.emplace_back())) {
    return fail();
  }
  std::string model_error_text;
  int status = 0;
  auto served = find_model(*name, model_error_text, status);
  if (!served) return respond(model_error(status, model_error_text));
  json out = json::array();
  for (size_t i = 0; i < seqs.size(); ++i) {
    for (size_t k = 0; k < seqs[i].size(); ++k)
      if (seqs[i][k] >= served->model->vocab_size())
        return respond(make_error({400, str_cat("token id ", seqs[i][k], " (sequence ", i, ", position ", k,
                                                ") is outside the vocabulary of ", served->model->vocab_size()),
                                   "ids", ""}));
    auto text = served->model->decode(seqs[i], *skip);
    if (!text.ok()) return respond(make_error({400, str_cat("'ids' sequence ", i, ": ", text.error()), "ids", ""}));
    out.push_back(*text);
  }
  respond(json_response(out));
}

}  // namespace keel::server
