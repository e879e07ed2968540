// HF tokenizers' post-processors. Each implements HF's process_encodings (a
// list of encodings in -> a list out: special tokens added around each input,
// type ids set); process() is HF's default PostProcessor::process: number the
// inputs (sequence ids 0 and 1), process_encodings, then merge everything in
// order (Encoding::append, HF's merge_with, which also pairs up the
// overflowing windows). Built by make_post_processor (factory.cc).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/components.h"

namespace keel::tok {

class EncodingsProcessor : public PostProcessor {
 public:
  Result<Encoding> process(Encoding encoding, std::optional<Encoding> pair,
                           bool add_special_tokens) const final;
  virtual Status process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const = 0;
};

// A special token of the processors: its string and id.
struct SpecialTokenRef {
  std::string token;
  uint32_t id = 0;
};

// [CLS] A [SEP] and [CLS] A [SEP] B [SEP]; B's tokens keep their type ids and
// the last [SEP] gets type id 1.
class BertProcessing final : public EncodingsProcessor {
 public:
  BertProcessing(SpecialTokenRef sep, SpecialTokenRef cls) : sep_(std::move(sep)), cls_(std::move(cls)) {}
  size_t added_tokens(bool is_pair) const override { return is_pair ? 3 : 2; }
  Status process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const override;

 private:
  SpecialTokenRef sep_, cls_;
};

// <s> A </s> and <s> A </s></s> B </s>, every type id 0; optionally trims the
// offsets of tokens with leading/trailing spaces first (as ByteLevel does).
class RobertaProcessing final : public EncodingsProcessor {
 public:
  RobertaProcessing(SpecialTokenRef sep, SpecialTokenRef cls, bool trim_offsets, bool add_prefix_space)
      : sep_(std::move(sep)), cls_(std::move(cls)), trim_offsets_(trim_offsets), add_prefix_space_(add_prefix_space) {}
  size_t added_tokens(bool is_pair) const override { return is_pair ? 4 : 2; }
  Status process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const override;

 private:
  SpecialTokenRef sep_, cls_;
  bool trim_offsets_, add_prefix_space_;
};

// Only trims offsets (trim_offsets) so they exclude the spaces ('Ġ' or
// whitespace) a token starts or ends with.
class ByteLevelProcessing final : public EncodingsProcessor {
 public:
  ByteLevelProcessing(bool trim_offsets, bool add_prefix_space)
      : trim_offsets_(trim_offsets), add_prefix_space_(add_prefix_space) {}
  size_t added_tokens(bool) const override { return 0; }
  Status process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const override;

 private:
  bool trim_offsets_, add_prefix_space_;
};

// HF byte_level::process_offsets on one encoding. Like HF, the pipeline hands
// post-processors code-point offsets, and spaces ('Ġ' or Unicode whitespace)
// are counted in chars.
void trim_space_offsets(Encoding& encoding, bool add_prefix_space);

struct TemplatePiece {
  bool is_sequence = true;
  uint32_t sequence = 0;   // 0 = A, 1 = B
  std::string special;     // special token id (key into the special tokens map)
  uint32_t type_id = 0;
};

struct TemplateSpecialToken {
  std::vector<uint32_t> ids;
  std::vector<std::string> tokens;
};

class TemplateProcessing final : public EncodingsProcessor {
 public:
  TemplateProcessing(std::vector<TemplatePiece> single, std::vector<TemplatePiece> pair,
                     std::map<std::string, TemplateSpecialToken> special_tokens);
  size_t added_tokens(bool is_pair) const override { return is_pair ? added_pair_ : added_single_; }
  Status process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const override;

 private:
  std::vector<TemplatePiece> single_, pair_;
  std::map<std::string, TemplateSpecialToken> special_tokens_;
  size_t added_single_ = 0, added_pair_ = 0;
};

class SequenceProcessing final : public EncodingsProcessor {
 public:
  explicit SequenceProcessing(std::vector<std::unique_ptr<EncodingsProcessor>> processors)
      : processors_(std::move(processors)) {}
  size_t added_tokens(bool is_pair) const override;
  Status process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const override;

 private:
  std::vector<std::unique_ptr<EncodingsProcessor>> processors_;
};

}  // namespace keel::tok
