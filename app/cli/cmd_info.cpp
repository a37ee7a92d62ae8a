#include <iostream>

#include "commands.h"

namespace otfuse::cli {

int cmdInfo(Args& args) {
  std::cerr << "otfuse info: not implemented yet\n";
  return 2;
}

}  // namespace otfuse::cli
