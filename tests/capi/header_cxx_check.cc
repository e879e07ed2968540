// keel.h compiles as C++ (-Wall -Wextra -Werror -pedantic) and links from C++.
#include "keel/keel.h"

#include <cstdio>

int main() {
  keel_tokenizer* tok = nullptr;
  const int status = keel_tokenizer_create(nullptr, &tok);
  std::printf("keel %s: %s\n", keel_version(), keel_status_name(status));
  return status == KEEL_ERR_INVALID_ARGUMENT && tok == nullptr ? 0 : 1;
}
