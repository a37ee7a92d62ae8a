#include <iostream>

#include "commands.h"

namespace otfuse::cli {

int cmdFuse(Args& args) {
  std::cerr << "otfuse fuse: not implemented yet\n";
  return 2;
}

}  // namespace otfuse::cli
