#include <iostream>

#include "commands.h"

namespace otfuse::cli {

int cmdEval(Args& args) {
  std::cerr << "otfuse eval: not implemented yet\n";
  return 2;
}

}  // namespace otfuse::cli
